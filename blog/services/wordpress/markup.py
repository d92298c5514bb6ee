"""Turning WordPress markup into Circle's: shortcodes, captions, embeds, paragraphs.

Start here to change how a WordPress post's content becomes a Circle body.
`convert_body` runs the steps in order (shortcodes, galleries (gallery.py),
embeds, auto-paragraphs, a note of markup Circle drops); `rewrite_uploads` points the old
site's images at re-hosted copies. Everything here is plain text in, text out:
no database. What is lost on the way is appended to a `lost` list for the report.
"""

from __future__ import annotations

import html
import re
from collections.abc import Callable
from urllib.parse import unquote, urlsplit

from ...sanitize import KEPT_TAGS, video_embed
from .gallery import GallerySource, convert_block_galleries, shortcode_gallery

_SIZE_SUFFIX = re.compile(r"-(?:\d+x\d+|scaled|rotated)(?=\.[A-Za-z0-9]+$)")

_BLOCK_START = re.compile(
    r"^\s*(?:<(?:p|div|h[1-6]|ul|ol|li|dl|dt|dd|blockquote|pre|table|thead|tbody|tfoot|tr|td|th|"
    r"figure|figcaption|hr|address|section|article|aside|header|footer|nav|details|summary|"
    r"iframe|video|audio|object|embed|form|fieldset|center)\b|<!--|\x00)",
    re.IGNORECASE,
)
_PRE_BLOCK = re.compile(r"<pre\b.*?</pre\s*>", re.IGNORECASE | re.DOTALL)
_DROP_WITH_CONTENT = re.compile(
    r"<(script|style|noscript|template|form|select|textarea|button)\b.*?</\1\s*>",
    re.IGNORECASE | re.DOTALL,
)
_EMBED_ELEMENT = re.compile(
    r"<(iframe|video|audio|object)\b([^>]*)>(.*?)</\1\s*>|<embed\b([^>]*)/?>",
    re.IGNORECASE | re.DOTALL,
)
# The block editor's embed: the address alone in a wrapper, maybe a caption after it.
_EMBED_BLOCK = re.compile(
    r"<figure\b[^>]*\bwp-block-embed\b[^>]*>\s*<div\b[^>]*\bwp-block-embed__wrapper\b[^>]*>"
    r"\s*(\S+)\s*</div>\s*(?:<figcaption\b[^>]*>(.*?)</figcaption>\s*)?</figure>",
    re.IGNORECASE | re.DOTALL,
)
_ADDRESS_ALONE = re.compile(r"^[ \t]*(https?://[^\s<>\"']+)[ \t]*$", re.MULTILINE)
_SRC = re.compile(r"""\s(?:src|data)\s*=\s*(["'])(.*?)\1""", re.IGNORECASE | re.DOTALL)
_TAG_NAME = re.compile(r"<([a-zA-Z][a-zA-Z0-9]*)\b")
_HTML_TAG = re.compile(r"<[^>]*>")
_IMG_TAG = re.compile(r"<img\b[^>]*>", re.IGNORECASE)
_URL_ATTR = re.compile(r"""(\s(?:src|href)\s*=\s*)(["'])(.*?)\2""", re.IGNORECASE | re.DOTALL)
_SIZING_ATTRS = re.compile(
    r"""\s(?:srcset|sizes|width|height|class)\s*=\s*(["']).*?\1""", re.IGNORECASE | re.DOTALL
)
_ATTR = re.compile(r"""([a-zA-Z_:-]+)\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s\]]+))""")
_CAPTION_MEDIA = re.compile(
    r"(<a\b[^>]*>\s*)?<img\b[^>]*>(\s*</a>)?", re.IGNORECASE | re.DOTALL
)
# WordPress's own shortcodes and the common plugins' ones; other [words] are left as text.
_SHORTCODES = (
    "caption|wp_caption|gallery|embed|audio|video|playlist|wpvideo|youtube|vimeo|soundcloud|"
    "tweet|googlemaps|slideshow|instagram|code|sourcecode|contact-form|contact-form-7|"
    "simple-payment|recipe|polldaddy|archives|blip\\.tv|dailymotion|flickr|scribd|ted"
)
_ENCLOSED_SHORTCODE = re.compile(
    rf"\[({_SHORTCODES})\b([^\]]*)\](.*?)\[/\1\]", re.IGNORECASE | re.DOTALL
)
_SINGLE_SHORTCODE = re.compile(rf"\[({_SHORTCODES})\b([^\]]*?)/?\]", re.IGNORECASE)


def plain(markup: str) -> str:
    """Visible text of a bit of HTML, entities decoded and whitespace collapsed."""
    return " ".join(html.unescape(_HTML_TAG.sub(" ", markup or "")).split())


def _attributes(text: str) -> dict[str, str]:
    """Parse shortcode or tag attributes into a dict."""
    return {
        m.group(1).lower(): html.unescape(m.group(2) or m.group(3) or m.group(4) or "")
        for m in _ATTR.finditer(text or "")
    }


def autop(text: str) -> str:
    """WordPress's auto-paragraphs, simplified: blank lines make paragraphs, newlines breaks.

    Block-editor content (marked by <!-- wp: comments) carries its own paragraphs
    and is left as it is.
    """
    text = (text or "").replace("\r\n", "\n").replace("\r", "\n")
    if "<!-- wp:" in text or not text.strip():
        return text
    kept: list[str] = []

    def protect(match: re.Match) -> str:
        """Set a <pre> block aside so its blank lines stay."""
        kept.append(match.group(0))
        return f"\x00{len(kept) - 1}\x00"

    text = _PRE_BLOCK.sub(protect, text)
    blocks = []
    for chunk in re.split(r"\n\s*\n", text):
        chunk = chunk.strip()
        if not chunk:
            continue
        if _BLOCK_START.match(chunk):
            blocks.append(chunk)
        else:
            blocks.append("<p>" + re.sub(r"\s*\n\s*", "<br>\n", chunk) + "</p>")
    joined = "\n".join(blocks)
    return re.sub(r"\x00(\d+)\x00", lambda m: kept[int(m.group(1))], joined)


def _link_paragraph(url: str) -> str:
    """A paragraph holding a plain link to url."""
    safe = html.escape(url, quote=True)
    return f'<p><a href="{safe}">{safe}</a></p>'


_BARE_URL = re.compile(r"""(?:^|\s)(https?://[^\s"'\]]+)""")


def _media_source(attrs: dict[str, str], raw: str = "") -> str:
    """The address a media shortcode or element plays, if any."""
    for key in ("src", "url", "mp3", "mp4", "m4a", "ogg", "wav", "webm", "ogv", "data", "id"):
        value = attrs.get(key, "")
        if value.startswith(("http://", "https://", "//")):
            return value
    bare = _BARE_URL.search(raw or "")
    return html.unescape(bare.group(1)) if bare else ""


def convert_shortcodes(
    text: str, lost: list[str], galleries: GallerySource | None = None
) -> str:
    """Turn WordPress shortcodes into HTML where Circle can show them; note the rest.

    A [gallery] shows the pictures galleries holds (none without it).
    """

    def enclosed(match: re.Match) -> str:
        """Replace one [name …]…[/name] shortcode."""
        name, attrs, inner = match.group(1).lower(), _attributes(match.group(2)), match.group(3)
        if name in ("caption", "wp_caption"):
            media = _CAPTION_MEDIA.search(inner)
            if media is None:
                return inner
            caption = (inner[: media.start()] + inner[media.end() :]).strip()
            caption = caption or html.escape(attrs.get("caption", ""))
            figcaption = f"<figcaption>{caption}</figcaption>" if caption else ""
            return f"<figure>{media.group(0)}{figcaption}</figure>"
        if name in ("code", "sourcecode"):
            return f"<pre><code>{html.escape(html.unescape(inner))}</code></pre>"
        source = _media_source(attrs, match.group(2)) or inner.strip()
        if video_embed(source):
            return video_embed(source)
        if source.startswith(("http://", "https://")) and " " not in source:
            lost.append(f"[{name}] shortcode: kept as a link to {source}")
            return _link_paragraph(source)
        lost.append(f"[{name}] shortcode: its markers were removed, its text kept")
        return inner

    def single(match: re.Match) -> str:
        """Replace one self-closing [name …] shortcode."""
        name, attrs = match.group(1).lower(), _attributes(match.group(2))
        if name == "gallery":
            return shortcode_gallery(attrs, galleries or GallerySource(), lost)
        source = _media_source(attrs, match.group(2))
        if video_embed(source):
            return video_embed(source)
        if source:
            lost.append(f"[{name}] shortcode: kept as a link to {source}")
            return _link_paragraph(source)
        detail = f" ({match.group(2).strip()})" if match.group(2).strip() else ""
        lost.append(f"[{name}] shortcode{detail}: not brought over")
        return ""

    text = _ENCLOSED_SHORTCODE.sub(enclosed, text)
    return _SINGLE_SHORTCODE.sub(single, text)


def convert_embeds(text: str, lost: list[str]) -> str:
    """Turn frames and players into video embeds or links; drop scripts and forms whole.

    A YouTube or Vimeo video becomes Circle's embed, whether WordPress stored it as a
    frame, an embed block or an address alone on its line (which WordPress plays).
    """

    def drop(match: re.Match) -> str:
        """Remove a script, style or form, noting it."""
        lost.append(f"<{match.group(1).lower()}> removed")
        return ""

    def embed(match: re.Match) -> str:
        """Replace an iframe, video, audio or object element with a link to what it shows."""
        tag = (match.group(1) or "embed").lower()
        attrs = match.group(2) if match.group(1) else match.group(4)
        found = _SRC.search(attrs or "") or _SRC.search(match.group(3) or "")
        source = html.unescape(found.group(2)) if found else ""
        if source.startswith("//"):
            source = "https:" + source
        if video_embed(source):
            return video_embed(source, plain(match.group(3) or ""))
        if source.startswith(("http://", "https://")):
            lost.append(f"embedded <{tag}>: kept as a link to {source}")
            return _link_paragraph(source)
        lost.append(f"embedded <{tag}> without an address: removed")
        return ""

    def block(match: re.Match) -> str:
        """Replace an embed block that shows a video; leave any other as it is."""
        caption = plain(match.group(2) or "")
        return video_embed(html.unescape(match.group(1)), caption) or match.group(0)

    def alone(match: re.Match) -> str:
        """Replace an address alone on its line when it is a video."""
        return video_embed(html.unescape(match.group(1))) or match.group(0)

    text = _DROP_WITH_CONTENT.sub(drop, text)
    text = _EMBED_BLOCK.sub(block, text)
    text = _ADDRESS_ALONE.sub(alone, text)
    return _EMBED_ELEMENT.sub(embed, text)


def unkept_markup(markup: str) -> list[str]:
    """The tags in markup that the sanitiser will strip (their text stays)."""
    names = {name.lower() for name in _TAG_NAME.findall(markup or "")}
    return sorted(names - KEPT_TAGS)


def upload_key(url: str, site_host: str | None = None) -> str | None:
    """The path of an upload of the old site (under wp-content/uploads), sizes removed, or None.

    A Circle site's own export keeps its files under /uploads/ on site_host.
    """
    parts = urlsplit(html.unescape(url or "").strip())
    path = unquote(parts.path)
    host = parts.hostname or ""
    if "/wp-content/uploads/" in path:
        rel = path.split("/wp-content/uploads/", 1)[1]
    elif host.endswith(("files.wordpress.com", ".wp.com")):
        rel = path.lstrip("/")
    elif site_host and host == site_host and path.startswith("/uploads/"):
        rel = path[len("/uploads/") :]
    else:
        return None
    rel = _SIZE_SUFFIX.sub("", rel.strip("/"))
    return rel.lower() or None


def title_text(raw: str) -> str:
    """A WordPress title (HTML) as plain text: tags dropped without adding spaces."""
    return " ".join(html.unescape(_HTML_TAG.sub("", raw or "")).split())


def has_markup(text: str) -> bool:
    """True when text holds an HTML tag."""
    return bool(_HTML_TAG.search(text or ""))


def convert_body(content: str, lost: list[str], galleries: GallerySource | None = None) -> str:
    """A WordPress post's content as Circle body HTML, before uploads and sanitising.

    galleries: the pictures its [gallery] shortcodes may show.
    """
    text = (content or "").replace("\r\n", "\n")
    text = convert_shortcodes(text, lost, galleries)
    text = convert_block_galleries(text, lost)
    text = convert_embeds(text, lost)
    text = autop(text)
    unkept = unkept_markup(re.sub(r"<!--.*?-->", "", text, flags=re.DOTALL))
    if unkept:
        lost.append("markup Circle does not keep (its text is kept): " + ", ".join(unkept))
    return text


def rewrite_uploads(
    markup: str,
    site_host: str | None,
    local_for: Callable[[str], str | None],
    linked: set[str],
) -> str:
    """Point images and links at re-hosted files; add the ones left on the old site to linked."""

    def attribute(match: re.Match) -> str:
        """Rewrite one src or href attribute."""
        url = match.group(3)
        if upload_key(url, site_host) is None:
            return match.group(0)
        local = local_for(url)
        if local is None:
            linked.add(html.unescape(url))
            return match.group(0)
        return f"{match.group(1)}{match.group(2)}{local}{match.group(2)}"

    def image(match: re.Match) -> str:
        """Rewrite an img tag; a re-hosted one loses WordPress's sizes for ours."""
        tag = match.group(0)
        new = _URL_ATTR.sub(attribute, tag)
        if new != tag:
            new = _SIZING_ATTRS.sub("", new)
        return new

    markup = _IMG_TAG.sub(image, markup)
    return _URL_ATTR.sub(attribute, markup)


_BREAK = re.compile(r"<br\s*/?>", re.IGNORECASE)
_PARAGRAPH_END = re.compile(r"</p\s*>", re.IGNORECASE)
_LINK = re.compile(
    r"""<a\b[^>]*?href\s*=\s*(["'])(.*?)\1[^>]*>(.*?)</a\s*>""", re.IGNORECASE | re.DOTALL
)


_QUOTE = re.compile(r"(<blockquote\b[^>]*>)(.*?)(</blockquote\s*>)", re.IGNORECASE | re.DOTALL)


def comment_html(markup: str) -> str:
    """A WordPress comment's content as HTML, paragraphs and breaks made as WordPress shows them
    (a quote's lines too).

    To be cleaned by the comment sanitiser, which keeps links, emphasis, code and quotes.
    """
    text = autop(_DROP_WITH_CONTENT.sub("", (markup or "").replace("\r\n", "\n")))
    return _QUOTE.sub(lambda m: m.group(1) + re.sub(r"\s*\n\s*", "<br>\n", m.group(2).strip())
                      + m.group(3), text)


def comment_text(markup: str) -> str:
    """A WordPress comment's HTML as the plain text a Circle comment keeps (to edit, search)."""

    def link(match: re.Match) -> str:
        """Keep a link's text, and its address when the text differs."""
        href, label = html.unescape(match.group(2)), plain(match.group(3))
        return label if not label or label == href else f"{label} ({href})"

    text = _DROP_WITH_CONTENT.sub("", (markup or "").replace("\r\n", "\n"))
    text = _LINK.sub(link, text)
    text = _BREAK.sub("\n", text)
    text = _PARAGRAPH_END.sub("\n\n", text)
    text = html.unescape(_HTML_TAG.sub("", text))
    lines = [" ".join(line.split()) for line in text.split("\n")]
    return re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip()

