"""The sanitiser: the only module that imports bleach, and its allowlist."""

from __future__ import annotations

import html
import re
from functools import lru_cache, partial
from urllib.parse import urlsplit

import bleach
from bleach.html5lib_shim import Filter
from bleach.linkifier import LinkifyFilter

# What the rich-text editor produces, and nothing more (the desk contract of issue 12).
ALLOWED_TAGS = frozenset(
    {
        "a", "p", "div", "br", "strong", "b", "em", "i", "u", "del", "s", "sub", "sup",
        "h2", "h3", "h4", "blockquote", "pre", "code", "ul", "ol", "li", "hr",
        "figure", "figcaption", "img", "span",
        "table", "caption", "thead", "tbody", "tfoot", "tr", "th", "td",
    }
)
# Headings outside h2-h4 are kept as the nearest one the page can hold: the article's
# title is its only h1, and a WordPress body's h1 or h5 must not melt into plain text.
RENAMED_HEADINGS = {"h1": "h2", "h5": "h4", "h6": "h4"}
# The elements whose markup survives cleaning, under their own name or another.
KEPT_TAGS = ALLOWED_TAGS | RENAMED_HEADINGS.keys()
EMBED_PROVIDERS = {
    "youtube": re.compile(r"[A-Za-z0-9_-]{11}"),
    "vimeo": re.compile(r"[0-9]{1,20}"),
}
_SPAN = re.compile(r"[1-9][0-9]{0,2}")
_DIMENSION = re.compile(r"[1-9][0-9]{0,4}")
_INTEGER = re.compile(r"-?[0-9]{1,9}")
_SIZES = re.compile(r"[A-Za-z0-9\s(),.:%+-]*")
_DESCRIPTOR = re.compile(r"[0-9]+(\.[0-9]+)?[wx]")
ALLOWED_PROTOCOLS = frozenset({"http", "https", "mailto"})
# <figure class="gallery">: a group of image figures, with an optional caption of its own.
GALLERY_CLASS = "gallery"


def _safe_address(url: str) -> bool:
    """Whether an address is relative or http(s), with nothing hidden in it."""
    if any(ord(c) < 33 for c in url):
        return False
    scheme = urlsplit(url).scheme.lower()
    return scheme in ("", "http", "https")


def _srcset_allowed(value: str) -> bool:
    """Whether every candidate of a srcset is a safe address with a plain descriptor."""
    for candidate in value.split(","):
        parts = candidate.split()
        if not parts or len(parts) > 2 or not _safe_address(parts[0]):
            return False
        if len(parts) == 2 and not _DESCRIPTOR.fullmatch(parts[1]):
            return False
    return True


_IMG_ATTRIBUTES = {
    "src": lambda v: True,  # bleach checks its protocol
    "alt": lambda v: True,
    "width": _DIMENSION.fullmatch,
    "height": _DIMENSION.fullmatch,
    "srcset": _srcset_allowed,
    "sizes": _SIZES.fullmatch,
    "loading": lambda v: v in ("lazy", "eager"),
}
_CELL_ATTRIBUTES = {"colspan": _SPAN.fullmatch, "rowspan": _SPAN.fullmatch}
# Per tag: attribute name -> a test of its value. Which embeds are whole is decided later.
_ATTRIBUTE_TESTS = {
    "a": {"href": lambda v: True, "title": lambda v: True, "rel": lambda v: True},
    "img": _IMG_ATTRIBUTES,
    "ol": {"start": _INTEGER.fullmatch},
    "th": _CELL_ATTRIBUTES,
    "td": _CELL_ATTRIBUTES,
    "blockquote": {"class": lambda v: v == "pullquote"},
    "figure": {
        "class": lambda v: v in ("embed", GALLERY_CLASS),
        "data-embed": lambda v: v in EMBED_PROVIDERS,
        "data-embed-id": lambda v: any(p.fullmatch(v) for p in EMBED_PROVIDERS.values()),
    },
}


def _attribute_allowed(tag: str, name: str, value: str) -> bool:
    """bleach's attribute test: a known attribute of the tag, with a value it may hold."""
    test = _ATTRIBUTE_TESTS.get(tag, {}).get(name)
    return bool(test and test(value))


ALLOWED_ATTRIBUTES = {tag: _attribute_allowed for tag in _ATTRIBUTE_TESTS}
_EMBED_ATTRIBUTES = ((None, "class"), (None, "data-embed"), (None, "data-embed-id"))


class _BodyFilter(Filter):
    """After the allowlist: rename out-of-range headings, and keep only whole embeds.

    An embed figure keeps its class and data only when all three are there and
    the id fits its provider; otherwise it becomes a plain figure with its link.
    A gallery keeps its class and nothing else.
    """

    def __iter__(self):
        for token in super().__iter__():
            if token["type"] in ("StartTag", "EndTag") and token["name"] in RENAMED_HEADINGS:
                token = dict(token, name=RENAMED_HEADINGS[token["name"]])
            if token["type"] == "StartTag" and token["name"] == "figure":
                token = dict(token, data=_whole_embed_only(token["data"]))
            yield token


def _whole_embed_only(attrs: dict) -> dict:
    """A figure's attributes, without the embed ones unless they make a valid embed."""
    if attrs.get((None, "class")) == GALLERY_CLASS:
        return {(None, "class"): GALLERY_CLASS}
    provider = attrs.get((None, "data-embed"))
    video_id = attrs.get((None, "data-embed-id"), "")
    whole = (
        attrs.get((None, "class")) == "embed"
        and provider in EMBED_PROVIDERS
        and EMBED_PROVIDERS[provider].fullmatch(video_id)
    )
    if whole:
        return attrs
    return {key: value for key, value in attrs.items() if key not in _EMBED_ATTRIBUTES}


_WORD = re.compile(r"\w+", re.UNICODE)
_TAG = re.compile(r"<[^>]*>")
# Tags that end a block (or stand for one): their text is a word apart from the next block's.
# Inline tags (em, a, strong …) join their text to what surrounds it: "<em>x</em>." is "x.".
_BLOCK_TAG = re.compile(
    r"</?(?:p|h[1-6]|li|ul|ol|dl|dt|dd|blockquote|pre|figure|figcaption|table|caption|thead"
    r"|tbody|tfoot|tr|td|th|hr|br|div|img|section|article|header|footer|aside|nav|iframe)"
    r"\b[^>]*>",
    re.IGNORECASE,
)


def _is_external(href: str, site_host: str | None) -> bool:
    """Return True when href leads off this site."""
    parts = urlsplit(href)
    if not parts.netloc:
        return False
    return site_host is None or parts.hostname != site_host


def _link_rel(site_host: str | None, attrs: dict, new: bool = False) -> dict:
    """Give every link rel=noopener, and external ones nofollow too."""
    href = attrs.get((None, "href"), "")
    rel = {"noopener"}
    if _is_external(href, site_host):
        rel.add("nofollow")
    attrs[(None, "rel")] = " ".join(sorted(rel))
    return attrs


def _comment_rel(attrs: dict, new: bool = False) -> dict:
    """Links written by readers are never endorsed."""
    attrs[(None, "rel")] = "nofollow ugc noopener"
    return attrs


def clean_post_html(raw: str, site_host: str | None = None) -> str:
    """Return post body HTML reduced to the allowlist, with safe links."""
    cleaner = bleach.Cleaner(
        tags=KEPT_TAGS,
        attributes=ALLOWED_ATTRIBUTES,
        protocols=ALLOWED_PROTOCOLS,
        strip=True,
        strip_comments=True,
        filters=[
            _BodyFilter,
            partial(
                LinkifyFilter,
                callbacks=[partial(_link_rel, site_host)],
                skip_tags=["pre", "code"],
                parse_email=False,
            )
        ],
    )
    return cleaner.clean(raw or "").strip()


# What a comment may hold. A reader's plain text only ever makes paragraphs, breaks and
# links; comments brought from WordPress keep the rest of the formatting it allows there.
COMMENT_TAGS = frozenset({"p", "br", "a", "em", "strong", "code", "blockquote"})
_COMMENT_RENAMED = {"b": "strong", "i": "em"}


class _CommentFilter(Filter):
    """After the allowlist: <b> and <i> become the <strong> and <em> comments keep."""

    def __iter__(self):
        for token in super().__iter__():
            if token["type"] in ("StartTag", "EndTag") and token["name"] in _COMMENT_RENAMED:
                token = dict(token, name=_COMMENT_RENAMED[token["name"]])
            yield token


def _clean_comment(markup: str) -> str:
    """The one cleaning every comment body gets: the comment allowlist, unendorsed links."""
    cleaner = bleach.Cleaner(
        tags=COMMENT_TAGS | _COMMENT_RENAMED.keys(),
        attributes={"a": ["href", "rel"]},
        protocols={"http", "https"},
        strip=True,
        strip_comments=True,
        filters=[
            _CommentFilter,
            partial(
                LinkifyFilter, callbacks=[_comment_rel], skip_tags=["code"], parse_email=False
            ),
        ],
    )
    return cleaner.clean(markup).strip()


def clean_comment_text(text: str) -> str:
    """Turn a reader's plain text into safe HTML: paragraphs, breaks and links."""
    escaped = html.escape((text or "").strip())
    paragraphs = [p.replace("\n", "<br>") for p in re.split(r"\n\s*\n", escaped) if p.strip()]
    return _clean_comment("".join(f"<p>{p}</p>" for p in paragraphs))


def clean_comment_html(markup: str) -> str:
    """Reduce a comment written as HTML (an imported one) to what comments may hold."""
    return _clean_comment(markup or "")


# A body's text and words are asked for several times in a row (its excerpt, its reading
# time, again when it is written): the last few answers are kept.
@lru_cache(maxsize=4)
def plain_text(markup: str) -> str:
    """Return the visible text of sanitised HTML: blocks a space apart, whitespace collapsed."""
    text = html.unescape(_TAG.sub("", _BLOCK_TAG.sub(" ", markup or "")))
    return " ".join(text.split())


@lru_cache(maxsize=4)
def word_count(markup: str) -> int:
    """Count the words a reader would read."""
    return len(_WORD.findall(plain_text(markup)))


# In sanitised HTML a "<" only ever starts a tag (bleach escapes it in text and in
# attribute values), so these patterns can only meet real elements.
_TABLE_START = re.compile(r"<table>(?:<caption>(.*?)</caption>)?", re.DOTALL)
_EMBED_FIGURE = re.compile(r'<figure\b[^>]*\sdata-embed="')


def scrollable_tables(markup: str) -> str:
    """Wrap each table of sanitised body HTML in a labelled region that scrolls sideways.

    Done when the page is rendered, so the stored body stays what the writer saved.
    The region can take focus, so a keyboard can scroll a table wider than a phone.
    """
    count = 0

    def wrap(match: re.Match) -> str:
        """Open the scrolling region before one table."""
        nonlocal count
        count += 1
        caption = plain_text(match.group(1) or "")
        label = f"Table: {caption}" if caption else f"Table {count}"
        return (
            f'<div class="table-scroll" role="region" tabindex="0"'
            f' aria-label="{html.escape(label[:120])}">{match.group(0)}'
        )

    if "<table>" not in (markup or ""):
        return markup
    return _TABLE_START.sub(wrap, markup).replace("</table>", "</table></div>")


def has_embed(markup: str) -> bool:
    """Whether sanitised body HTML holds a video embed (the page then loads its player script)."""
    return bool(_EMBED_FIGURE.search(markup or ""))


# Where a YouTube or Vimeo video is watched, as writers and WordPress paste it; the id
# is what the stored embed keeps (EMBED_PROVIDERS checks it again when it is cleaned).
_VIDEO_ADDRESSES = {
    "youtube": re.compile(
        r"https?://(?:www\.|m\.)?(?:youtube(?:-nocookie)?\.com/(?:watch\?(?:[^#\s]*&)?v=|embed/"
        rf"|shorts/|live/)|youtu\.be/)({EMBED_PROVIDERS['youtube'].pattern})(?:[?&#]\S*)?",
        re.IGNORECASE,
    ),
    "vimeo": re.compile(
        r"https?://(?:www\.|player\.)?vimeo\.com/(?:video/)?"
        rf"({EMBED_PROVIDERS['vimeo'].pattern})(?:[?#]\S*)?",
        re.IGNORECASE,
    ),
}
_WATCH = {
    "youtube": ("https://www.youtube.com/watch?v={}", "Watch on YouTube"),
    "vimeo": ("https://vimeo.com/{}", "Watch on Vimeo"),
}


def video_embed(url: str, caption: str = "") -> str | None:
    """The stored embed figure for a YouTube or Vimeo address, or None for any other address."""
    for provider, pattern in _VIDEO_ADDRESSES.items():
        match = pattern.fullmatch((url or "").strip())
        if match:
            video_id = match.group(1)
            address, words = _WATCH[provider]
            figcaption = f"<figcaption>{html.escape(caption)}</figcaption>" if caption else ""
            return (
                f'<figure class="embed" data-embed="{provider}" data-embed-id="{video_id}">'
                f'<a href="{address.format(video_id)}">{words}</a>{figcaption}</figure>'
            )
    return None
