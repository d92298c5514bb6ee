"""The WordPress migration: importing a WordPress export (WXR) into the magazine.

The file is read twice, streaming, one element at a time. The first pass checks
that it is a WordPress export, counts its items and notes the people, categories
and attachments (small records). The second brings posts and pages over one
<item> at a time and frees each element once read, so memory stays flat however
large the export. Everything is written in one transaction: a file that breaks
half-way leaves nothing behind, and a dry run does the whole import, reports it
and rolls it back.

Everything imported keeps its WordPress identity (Post.wp_post_id,
Comment.wp_comment_id, Media.wp_attachment_id, User.wp_login, and a redirect
for each old address), so running the import again finds it all and changes
nothing. A post is updated by a later run only when what WordPress says about
it changed: each import revision carries a fingerprint of what was imported,
so edits made in Circle since are kept while WordPress stays the same.

Comments by people without an account: Circle comments belong to accounts, so
each distinct commenter email address gets one reader account without a
password (flagged to set one), found again by that address on the next run.
Commenters who left no email address get one account per name, at a
placeholder address under commenters.imported.invalid.
"""

from __future__ import annotations

import hashlib
import html
import json
import logging
import re
import xml.etree.ElementTree as ET
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from pathlib import Path
from urllib.parse import unquote, urlsplit

import defusedxml.ElementTree as SafeET
from defusedxml import DefusedXmlException
from sqlalchemy import func, select
from werkzeug.datastructures import FileStorage

from ..extensions import db
from ..models import (
    RESERVED_SLUGS,
    Category,
    Comment,
    CommentStatus,
    Media,
    Permission,
    Post,
    PostStatus,
    Redirect,
    Revision,
    Role,
    Tag,
    User,
    utcnow,
)
from ..sanitize import ALLOWED_TAGS, clean_comment_text
from ..validators import bounded_int
from . import ServiceError, archives, unit_of_work
from . import media as media_service
from . import posts as post_service
from . import users as user_service

log = logging.getLogger(__name__)

WP_NAMESPACE = re.compile(r"^https?://wordpress\.org/export/1\.[0-2]/$")
WP_EXCERPT_NAMESPACE = re.compile(r"^https?://wordpress\.org/export/1\.[0-2]/excerpt/$")
CONTENT_NAMESPACE = "http://purl.org/rss/1.0/modules/content/"
DC_NAMESPACE = "http://purl.org/dc/elements/1.1/"

# Placeholder addresses for people whose export carries no usable email address.
AUTHOR_EMAIL_DOMAIN = "imported.invalid"
COMMENTER_EMAIL_DOMAIN = "commenters.imported.invalid"
IMPORT_NOTE = "Imported from WordPress"
FLUSH_EVERY = 200

_STATUS = {
    "publish": PostStatus.PUBLISHED,
    "future": PostStatus.SCHEDULED,
    "draft": PostStatus.DRAFT,
    "pending": PostStatus.PENDING,
    "private": PostStatus.DRAFT,
}
_COMMENT_STATUS = {
    "1": CommentStatus.APPROVED,
    "approve": CommentStatus.APPROVED,
    "0": CommentStatus.PENDING,
    "hold": CommentStatus.PENDING,
    "spam": CommentStatus.SPAM,
    "trash": CommentStatus.TRASH,
    "post-trashed": CommentStatus.TRASH,
}
_IMAGE_EXTENSIONS = {"jpg", "jpeg", "jpe", "png", "gif", "webp"}
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
_NOT_USERNAME = re.compile(r"[^A-Za-z0-9_.-]+")
_NOT_LOGIN = re.compile(r"[^\w .@-]+")  # what WordPress allows in a login
_SIZE_SUFFIX = re.compile(r"-(?:\d+x\d+|scaled|rotated)(?=\.[A-Za-z0-9]+$)")


class WxrError(ServiceError):
    """The file is not a WordPress export, is broken, or the options do not fit."""


class _DryRun(Exception):
    """Raised at the end of a dry run to roll everything back."""


# -- Reading the file -------------------------------------------------------------------


def _short_name(tag: str) -> str:
    """Return an element's name with a short prefix for WordPress's namespaces."""
    if not tag.startswith("{"):
        return tag
    uri, _, local = tag[1:].partition("}")
    if WP_NAMESPACE.match(uri):
        return f"wp:{local}"
    if WP_EXCERPT_NAMESPACE.match(uri):
        return f"excerpt:{local}"
    if uri == CONTENT_NAMESPACE:
        return f"content:{local}"
    if uri == DC_NAMESPACE:
        return f"dc:{local}"
    return tag


def _child_text(elem: ET.Element, name: str) -> str:
    """Return the text of elem's first child called name, or ''."""
    for child in elem:
        if _short_name(child.tag) == name:
            return child.text or ""
    return ""


def _int(text: str | None) -> int | None:
    """Return text as an id a column can hold, or None (WordPress ids start at 1)."""
    return bounded_int(text)


@dataclass
class WxrAuthor:
    """A <wp:author> of the export."""

    login: str
    email: str = ""
    display_name: str = ""


@dataclass
class WxrCategory:
    """A <wp:category> of the export: its slug, name, parent and description."""

    nicename: str
    name: str
    parent: str = ""
    description: str = ""


@dataclass
class WxrAttachment:
    """An attachment item: where its file was and how to describe it."""

    wp_id: int
    url: str
    file: str = ""  # the _wp_attached_file meta: a path under wp-content/uploads
    alt: str = ""
    title: str = ""
    creator: str = ""
    date: datetime | None = None


@dataclass
class WxrComment:
    """A <wp:comment> of an item."""

    wp_id: int
    author: str
    email: str
    ip: str
    date: datetime | None
    content: str
    approved: str
    type: str
    parent: int


@dataclass
class WxrItem:
    """One <item>: a post, page, attachment or something else WordPress keeps."""

    wp_id: int
    post_type: str
    title: str
    link: str
    creator: str
    content: str
    excerpt: str
    date: datetime | None
    modified: datetime | None
    name: str
    status: str
    password: str
    sticky: bool
    attachment_url: str
    categories: list[tuple[str, str, str]] = field(default_factory=list)
    meta: dict[str, list[str]] = field(default_factory=dict)
    comments: list[WxrComment] = field(default_factory=list)

    def meta_value(self, key: str) -> str:
        """The first value of a postmeta key, or ''."""
        values = self.meta.get(key) or [""]
        return values[0] or ""


@dataclass
class WxrScan:
    """What the first, cheap pass over the file found."""

    version: str = ""
    site_url: str = ""
    items: int = 0
    types: Counter = field(default_factory=Counter)
    authors: dict[str, WxrAuthor] = field(default_factory=dict)
    categories: dict[str, WxrCategory] = field(default_factory=dict)
    attachments: dict[int, WxrAttachment] = field(default_factory=dict)


def _wp_time(text: str | None) -> datetime | None:
    """Parse WordPress's 'YYYY-MM-DD HH:MM:SS' as UTC; its zero date is None."""
    text = (text or "").strip()
    if not text or text.startswith("0000"):
        return None
    try:
        return datetime.strptime(text, "%Y-%m-%d %H:%M:%S").replace(tzinfo=UTC)
    except ValueError:
        return None


def _rss_time(text: str | None) -> datetime | None:
    """Parse an RSS pubDate, or None."""
    try:
        value = parsedate_to_datetime((text or "").strip())
    except (TypeError, ValueError, IndexError):
        return None
    if value is None or value.tzinfo is None:
        return None
    return value.astimezone(UTC)


def _read_comment(elem: ET.Element) -> WxrComment:
    """Turn a <wp:comment> element into a WxrComment."""
    fields: dict[str, str] = {}
    for child in elem:
        fields.setdefault(_short_name(child.tag), child.text or "")
    return WxrComment(
        wp_id=_int(fields.get("wp:comment_id")) or 0,
        author=fields.get("wp:comment_author", ""),
        email=fields.get("wp:comment_author_email", ""),
        ip=fields.get("wp:comment_author_IP", ""),
        date=_wp_time(fields.get("wp:comment_date_gmt")) or _wp_time(fields.get("wp:comment_date")),
        content=fields.get("wp:comment_content", ""),
        approved=(fields.get("wp:comment_approved") or "0").strip(),
        type=(fields.get("wp:comment_type") or "").strip(),
        parent=_int(fields.get("wp:comment_parent")) or 0,
    )


def read_item(elem: ET.Element) -> WxrItem:
    """Turn an <item> element into a WxrItem."""
    fields: dict[str, str] = {}
    categories: list[tuple[str, str, str]] = []
    meta: dict[str, list[str]] = {}
    comments: list[WxrComment] = []
    for child in elem:
        name = _short_name(child.tag)
        if name == "category":
            categories.append(
                (child.get("domain", ""), child.get("nicename", ""), child.text or "")
            )
        elif name == "wp:postmeta":
            key = _child_text(child, "wp:meta_key")
            meta.setdefault(key, []).append(_child_text(child, "wp:meta_value"))
        elif name == "wp:comment":
            comments.append(_read_comment(child))
        else:
            fields.setdefault(name, child.text or "")
    return WxrItem(
        wp_id=_int(fields.get("wp:post_id")) or 0,
        post_type=(fields.get("wp:post_type") or "post").strip(),
        title=fields.get("title", ""),
        link=(fields.get("link") or "").strip(),
        creator=(fields.get("dc:creator") or "").strip(),
        content=fields.get("content:encoded", ""),
        excerpt=fields.get("excerpt:encoded", ""),
        date=_wp_time(fields.get("wp:post_date_gmt"))
        or _wp_time(fields.get("wp:post_date"))
        or _rss_time(fields.get("pubDate")),
        modified=_wp_time(fields.get("wp:post_modified_gmt"))
        or _wp_time(fields.get("wp:post_modified")),
        name=(fields.get("wp:post_name") or "").strip(),
        status=(fields.get("wp:status") or "").strip(),
        password=fields.get("wp:post_password") or "",
        sticky=(fields.get("wp:is_sticky") or "0").strip() == "1",
        attachment_url=(fields.get("wp:attachment_url") or "").strip(),
        categories=categories,
        meta=meta,
        comments=comments,
    )


def _channel_children(path: Path) -> Iterator[tuple[str, ET.Element]]:
    """Yield each complete child of <channel> with its short name, then free it."""
    archives.check_file_size(path, path.name, WxrError)
    depth = 0
    root: ET.Element | None = None
    channel: ET.Element | None = None
    try:
        # defusedxml: a document that declares entities (a "billion laughs") is refused.
        for event, elem in SafeET.iterparse(path, events=("start", "end"), forbid_dtd=True):
            if event == "start":
                depth += 1
                if depth == 1:
                    if elem.tag != "rss":
                        raise WxrError(
                            f"{path.name} is not a WordPress export (WXR): its root element "
                            f"is <{_short_name(elem.tag)}>, not <rss>. Nothing was imported."
                        )
                    root = elem
                elif depth == 2 and elem.tag == "channel":
                    channel = elem
                continue
            if depth == 3 and channel is not None:
                yield _short_name(elem.tag), elem
                channel.clear()  # the element is read: let it go
            elif depth == 2 and root is not None:
                root.clear()
            depth -= 1
    except ET.ParseError as exc:
        raise WxrError(
            f"{path.name} is not well-formed XML ({exc}); nothing was imported."
        ) from exc
    except DefusedXmlException as exc:
        raise WxrError(
            f"{path.name} is refused: it declares a DTD or entities, which a WordPress export "
            "never does. Nothing was imported."
        ) from exc


def scan_wxr(path: Path) -> WxrScan:
    """Check that path is a WordPress export and note its people, categories and files."""
    scan = WxrScan()
    for name, elem in _channel_children(path):
        if name == "wp:wxr_version":
            scan.version = (elem.text or "").strip()
        elif name in ("wp:base_blog_url", "link") and not scan.site_url:
            scan.site_url = (elem.text or "").strip()
        elif name == "wp:author":
            login = _child_text(elem, "wp:author_login").strip()
            if login:
                scan.authors[login] = WxrAuthor(
                    login=login,
                    email=_child_text(elem, "wp:author_email").strip(),
                    display_name=_child_text(elem, "wp:author_display_name").strip(),
                )
        elif name == "wp:category":
            nicename = _child_text(elem, "wp:category_nicename").strip()
            if nicename:
                scan.categories[nicename] = WxrCategory(
                    nicename=nicename,
                    name=_child_text(elem, "wp:cat_name").strip() or nicename,
                    parent=_child_text(elem, "wp:category_parent").strip(),
                    description=_child_text(elem, "wp:category_description").strip(),
                )
        elif name == "item":
            if not scan.version:
                raise WxrError(
                    f"{path.name} is not a WordPress export (WXR): it has items but no "
                    "wp:wxr_version. Export the site from WordPress (Tools → Export). "
                    "Nothing was imported."
                )
            item = read_item(elem)
            scan.items += 1
            scan.types[item.post_type] += 1
            if item.post_type == "attachment":
                scan.attachments[item.wp_id] = WxrAttachment(
                    wp_id=item.wp_id,
                    url=item.attachment_url or item.link,
                    file=item.meta_value("_wp_attached_file"),
                    alt=item.meta_value("_wp_attachment_image_alt"),
                    title=_title_text(item.title),
                    creator=item.creator,
                    date=item.date,
                )
    if not scan.version:
        raise WxrError(
            f"{path.name} is not a WordPress export (WXR): it has no wp:wxr_version. "
            "Nothing was imported."
        )
    return scan


def iter_items(path: Path) -> Iterator[WxrItem]:
    """Yield the items of a WordPress export one at a time."""
    for name, elem in _channel_children(path):
        if name == "item":
            yield read_item(elem)


# -- Options and the report ---------------------------------------------------------------


@dataclass
class ImportOptions:
    """How to bring a WordPress site over."""

    uploads: Path | None = None
    section_map: dict[str, str] = field(default_factory=dict)
    unknown_section: str | None = None
    pages_section: str | None = None
    dry_run: bool = False


def parse_mappings(values: list[str] | tuple[str, ...]) -> dict[str, str]:
    """Turn repeated --map OLD=NEW values into a dict, refusing bad ones."""
    mappings: dict[str, str] = {}
    for value in values:
        old, sep, new = (value or "").partition("=")
        old, new = old.strip(), new.strip()
        if not sep or not old or not new:
            raise WxrError(f"--map takes OLD=NEW (a WordPress category slug = a section slug), "
                           f"not {value!r}.")
        mappings[old] = new
    return mappings


_KINDS = {
    "section": ("section", "sections"),
    "author": ("author", "authors"),
    "commenter": ("commenter", "commenters"),
    "tag": ("tag", "tags"),
    "post": ("post", "posts"),
    "page": ("page", "pages"),
    "comment": ("comment", "comments"),
    "image": ("image", "images"),
    "redirect": ("redirect", "redirects"),
    "attachment": ("attachment", "attachments"),
    "item": ("other item", "other items"),
}


def _counted(counter: Counter) -> str:
    """Describe counts as '3 posts, 1 page', in a stable order."""
    parts = []
    for kind, (one, many) in _KINDS.items():
        n = counter.get(kind, 0)
        if n:
            parts.append(f"{n} {one if n == 1 else many}")
    return ", ".join(parts) or "nothing"


@dataclass
class ImportReport:
    """What an import did: created, updated, unchanged, skipped and failed, with reasons."""

    source: str
    dry_run: bool = False
    created: Counter = field(default_factory=Counter)
    updated: Counter = field(default_factory=Counter)
    unchanged: Counter = field(default_factory=Counter)
    skipped: list[str] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)
    skipped_counts: Counter = field(default_factory=Counter)
    failed_counts: Counter = field(default_factory=Counter)
    not_brought_over: list[str] = field(default_factory=list)
    linked: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def skip(self, kind: str, what: str, reason: str) -> None:
        """Record something left out, with the reason."""
        self.skipped_counts[kind] += 1
        self.skipped.append(f"{what}: {reason}")

    def fail(self, kind: str, what: str, reason: str) -> None:
        """Record something that could not be brought over, with the reason."""
        self.failed_counts[kind] += 1
        self.failed.append(f"{what}: {reason}")

    def lines(self) -> list[str]:
        """The report as lines of text, for the command to print."""
        head = f"WordPress import of {self.source}"
        if self.dry_run:
            head += " (dry run: nothing was saved)"
        lines = [
            head,
            f"Created:   {_counted(self.created)}",
            f"Updated:   {_counted(self.updated)}",
            f"Skipped:   {_counted(self.skipped_counts + self.unchanged)}"
            + (f" (unchanged: {_counted(self.unchanged)})" if self.unchanged else ""),
            f"Failed:    {_counted(self.failed_counts)}",
        ]
        for title, entries in (
            ("Skipped, with reasons", self.skipped),
            ("Failed, with reasons", self.failed),
            ("Not brought over", self.not_brought_over),
            ("Kept as links to the old site (not re-hosted)", self.linked),
            ("Notes", self.notes),
        ):
            if entries:
                lines.append(f"{title}:")
                lines.extend(f"  - {entry}" for entry in entries)
        return lines

    @property
    def changed(self) -> bool:
        """True when the run created or updated anything."""
        return bool(+self.created or +self.updated)


# -- Content: WordPress HTML into Circle's body ---------------------------------------------


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
_SRC = re.compile(r"""\s(?:src|data)\s*=\s*(["'])(.*?)\1""", re.IGNORECASE | re.DOTALL)
_HEADING = re.compile(r"<(/?)h([1-6])\b", re.IGNORECASE)
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


def _plain(markup: str) -> str:
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


def convert_shortcodes(text: str, lost: list[str]) -> str:
    """Turn WordPress shortcodes into HTML where Circle can show them; note the rest."""

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
        if source.startswith(("http://", "https://")) and " " not in source:
            lost.append(f"[{name}] shortcode: kept as a link to {source}")
            return _link_paragraph(source)
        lost.append(f"[{name}] shortcode: its markers were removed, its text kept")
        return inner

    def single(match: re.Match) -> str:
        """Replace one self-closing [name …] shortcode."""
        name, attrs = match.group(1).lower(), _attributes(match.group(2))
        source = _media_source(attrs, match.group(2))
        if source:
            lost.append(f"[{name}] shortcode: kept as a link to {source}")
            return _link_paragraph(source)
        detail = f" ({match.group(2).strip()})" if match.group(2).strip() else ""
        lost.append(f"[{name}] shortcode{detail}: not brought over")
        return ""

    text = _ENCLOSED_SHORTCODE.sub(enclosed, text)
    return _SINGLE_SHORTCODE.sub(single, text)


def convert_embeds(text: str, lost: list[str]) -> str:
    """Turn frames and players into links, and drop scripts and forms with their content."""

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
        if source.startswith(("http://", "https://")):
            lost.append(f"embedded <{tag}>: kept as a link to {source}")
            return _link_paragraph(source)
        lost.append(f"embedded <{tag}> without an address: removed")
        return ""

    text = _DROP_WITH_CONTENT.sub(drop, text)
    return _EMBED_ELEMENT.sub(embed, text)


def _heading(match: re.Match) -> str:
    """Map h1 to h2 and h5/h6 to h4, the headings an article body has."""
    level = min(max(int(match.group(2)), 2), 4)
    return f"<{match.group(1)}h{level}"


def unkept_markup(markup: str) -> list[str]:
    """The tags in markup that the sanitiser will strip (their text stays)."""
    names = {name.lower() for name in _TAG_NAME.findall(markup or "")}
    return sorted(names - ALLOWED_TAGS)


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


# -- The import itself ---------------------------------------------------------------------


def _username_base(text: str) -> str:
    """A username-shaped version of a login or name."""
    name = _NOT_USERNAME.sub("-", post_service.slugify(text, 40) or text or "")
    name = name.strip("-.")[:40].strip("-.")
    if len(name) < 3:
        name = f"wp-{name or 'user'}"
    return name


def _valid_email(email: str) -> str | None:
    """The address normalised, or None when it cannot be an email address."""
    email = user_service.normalise_email(email)
    if email and len(email) <= 254 and _EMAIL.match(email):
        return email
    return None


def _fingerprint(values: dict) -> str:
    """A short digest of what an import wrote to a post."""
    data = json.dumps(values, sort_keys=True, default=str)
    return hashlib.sha256(data.encode()).hexdigest()[:16]


def _excerpt(raw: str) -> str:
    """A written WordPress excerpt as plain text."""
    return _plain(raw)


def _title_text(raw: str) -> str:
    """A WordPress title (HTML) as plain text: tags dropped without adding spaces."""
    return " ".join(html.unescape(_HTML_TAG.sub("", raw or "")).split())


@contextmanager
def _stops_at(what: str) -> Iterator[None]:
    """Turn any failure into one clear error that names the item (the caller rolls back)."""
    try:
        yield
    except WxrError:
        raise
    except ServiceError as error:
        raise WxrError(
            f"The import stopped at {what}: {error.message} Nothing was saved."
        ) from error
    except Exception as exc:
        log.exception("the WordPress import failed at %s", what)
        raise WxrError(f"The import stopped at {what}: {exc}. Nothing was saved.") from exc


class _Importer:
    """One import run: its options, what it found so far and its report."""

    def __init__(self, path: Path, scan: WxrScan, options: ImportOptions):
        """Prepare a run over a scanned file with these options."""
        self.path = path
        self.scan = scan
        self.options = options
        self.progress: Callable[[int, int], None] | None = None
        self.report = ImportReport(source=path.name, dry_run=options.dry_run)
        self.done = 0
        self.total = len(scan.attachments) + scan.items - scan.types.get("attachment", 0)
        self.sections: dict[str, Category] = {}
        self.people: dict[str, User] = {}
        # Ids rather than objects, so that a huge export does not keep them all in memory.
        self.commenters: dict[str, int] = {}
        self.tags: dict[str, int] = {}
        # attachment id → (url, alt, media id) on this site
        self.media: dict[int, tuple[str, str, int]] = {}
        self.uploads: dict[str, int] = {}  # upload_key → attachment id
        self.new_media: list[Media] = []
        self.linked: set[str] = set()
        self.section_map: dict[str, Category] = {}
        self.unknown_section: Category | None = None
        self.pages_section: Category | None = None
        self.default_pages_section_id: int | None = None
        self.lost: Counter = Counter()
        self.author_emails = {
            email: author.login
            for author in scan.authors.values()
            if (email := _valid_email(author.email))
        }
        self.not_hosted = 0
        self.site_host = urlsplit(scan.site_url).hostname
        for attachment in scan.attachments.values():
            for source in (attachment.url, f"/wp-content/uploads/{attachment.file}"):
                key = upload_key(source, self.site_host)
                if key:
                    self.uploads.setdefault(key, attachment.wp_id)

    # -- options ------------------------------------------------------------------------

    def _section_named(self, slug: str, option: str) -> Category:
        """Return the section an option names, or refuse the import."""
        section = db.session.scalar(select(Category).where(Category.slug == slug))
        if section is None:
            raise WxrError(f"{option}: there is no section {slug!r} (create it first).")
        return section

    def check_options(self) -> None:
        """Refuse options that name sections that do not exist, before anything is written."""
        options = self.options
        if options.uploads is not None and not options.uploads.is_dir():
            raise WxrError(f"--uploads: {options.uploads} is not a folder.")
        for old, new in options.section_map.items():
            self.section_map[old] = self._section_named(new, f"--map {old}={new}")
            if old not in self.scan.categories:
                self.report.notes.append(f"--map {old}={new}: the file has no category {old!r}")
        if options.unknown_section:
            self.unknown_section = self._section_named(
                options.unknown_section, "--unknown-section"
            )
        if options.pages_section:
            self.pages_section = self._section_named(options.pages_section, "--pages-section")
        else:
            # Chosen before anything is created, so that every run picks the same one.
            self.default_pages_section_id = db.session.scalar(
                select(Category.id)
                .order_by((Category.slug == "pages").desc(), Category.position, Category.id)
                .limit(1)
            )

    # -- the run ------------------------------------------------------------------------

    def tick(self) -> None:
        """Move the progress bar on by one."""
        self.done += 1
        if self.progress:
            self.progress(self.done, self.total)

    def run(self) -> None:
        """Bring everything over: attachments first, then posts and pages as they stream."""
        user_service.ensure_roles()
        self.import_attachments()
        skipped_types: Counter = Counter()
        for n, item in enumerate(iter_items(self.path), start=1):
            if item.post_type == "attachment":
                continue
            with _stops_at(f"{item.post_type} {item.wp_id} ({_title_text(item.title)[:60]!r})"):
                if item.post_type in ("post", "page"):
                    self.import_post(item)
                else:
                    skipped_types[item.post_type] += 1
                    self.report.skipped_counts["item"] += 1
            if n % FLUSH_EVERY == 0:
                db.session.flush()
            self.tick()
        for post_type, count in sorted(skipped_types.items()):
            reason = {
                "nav_menu_item": "navigation menu entries: Circle's menu is its sections",
                "revision": "WordPress revisions: only the current text is imported",
            }.get(post_type, f"WordPress {post_type} items: Circle has no such thing")
            self.report.not_brought_over.append(f"{count} {reason}")
        for what, count in sorted(self.lost.items()):
            times = f" ({count} times)" if count > 1 else ""
            self.report.not_brought_over.append(f"{what}{times}")
        self.report.linked.extend(sorted(self.linked))
        if self.report.created["commenter"]:
            self.report.notes.append(
                "people who commented without an account got a reader account each (one per "
                "email address, or per name when they left none), without a password: they "
                "can set one with 'Forgot password'"
            )

    def remove_new_files(self) -> None:
        """Delete the files of images this run stored (after a rollback)."""
        root = media_service.upload_root()
        for media in self.new_media:
            for name in media_service.file_names(media):
                (root / name).unlink(missing_ok=True)

    # -- people -------------------------------------------------------------------------

    def _free_username(self, base: str) -> str:
        """base, or base-2, base-3 … so that nobody has it yet."""
        candidate, n = base, 1
        while db.session.scalar(
            select(User.id).where(func.lower(User.username) == candidate.lower())
        ):
            n += 1
            suffix = f"-{n}"
            candidate = base[: 40 - len(suffix)] + suffix
        return candidate

    def _free_email(self, email: str | None) -> str | None:
        """The address when nobody has it yet, else None."""
        if email is None:
            return None
        if db.session.scalar(select(User.id).where(User.email == email)):
            return None
        return email

    def _placeholder_email(self, name: str, domain: str) -> str:
        """A unique address that can never receive mail, for someone who left none."""
        base = post_service.slugify(name, 60) or "anonymous"
        candidate, n = f"{base}@{domain}", 1
        while db.session.scalar(select(User.id).where(User.email == candidate)):
            n += 1
            candidate = f"{base}-{n}@{domain}"
        return candidate

    def _declared_login(self, login: str) -> str:
        """The export's own spelling of a login (stray characters in dc:creator happen)."""
        if login in self.scan.authors:
            return login
        tidy = _NOT_LOGIN.sub("", login).strip()
        if tidy in self.scan.authors:
            self.report.notes.append(f"the author {login!r} was read as {tidy!r}")
            return tidy
        return login

    def author_for(self, login: str) -> User:
        """The account for a WordPress author login, matched or created as an author."""
        login = (login or "").strip()[:60] or "wordpress"
        if login in self.people:
            return self.people[login]
        declared = self._declared_login(login)
        if declared != login:
            self.people[login] = self.author_for(declared)
            return self.people[login]
        user = db.session.scalar(select(User).where(User.wp_login == login))
        info = self.scan.authors.get(login) or WxrAuthor(login=login)
        email = _valid_email(info.email)
        if user is None and email:
            user = db.session.scalar(select(User).where(User.email == email))
            if user is not None and user.wp_login is None:
                user.wp_login = login
                self.report.notes.append(
                    f"WordPress author {login!r} matched the existing account {user.username} "
                    "by email address"
                )
                if not user.role.has(Permission.WRITE):
                    self.report.notes.append(
                        f"{user.username} is a {user.role.name}: their imported posts are "
                        "theirs, but they cannot edit them until given the author role"
                    )
            elif user is not None:
                user = None  # that address belongs to another WordPress login
        if user is None:
            email = self._free_email(email) or self._placeholder_email(login, AUTHOR_EMAIL_DOMAIN)
            user = user_service.create_user(
                email,
                self._free_username(_username_base(login)),
                None,
                role="author",
                display_name=info.display_name or login,
            )
            user.wp_login = login
            db.session.flush()
            self.report.created["author"] += 1
            if email.endswith(AUTHOR_EMAIL_DOMAIN):
                self.report.notes.append(
                    f"author {user.username} has no usable email address in the export: "
                    f"given {email}; change it before they can set a password"
                )
        self.people[login] = user
        return user

    def commenter_for(self, comment: WxrComment) -> User:
        """The account for a comment's author: an imported author, else by email or name."""
        name = " ".join(_plain(comment.author).split())[:80] or "Anonymous"
        email = _valid_email(comment.email)
        key = email or f"name:{name.lower()}"
        if key in self.commenters:
            return db.session.get(User, self.commenters[key])
        if email and email in self.author_emails:
            user = self.author_for(self.author_emails[email])
            self.commenters[key] = user.id
            return user
        if email is None:
            base = post_service.slugify(name, 60) or "anonymous"
            email = f"{base}@{COMMENTER_EMAIL_DOMAIN}"
        user = db.session.scalar(select(User).where(User.email == email))
        if user is None:
            user = user_service.create_user(
                email,
                self._free_username(_username_base(name)),
                None,
                role="reader",
                display_name=name,
            )
            db.session.flush()
            self.report.created["commenter"] += 1
        self.commenters[key] = user.id
        return user

    def uploader_for(self, login: str) -> User | None:
        """Someone who may upload, to own an imported image: its author, else an admin."""
        author = self.author_for(login)
        if author.can(Permission.UPLOAD):
            return author
        return db.session.scalar(
            select(User)
            .join(User.role)
            .where(Role.permissions.op("&")(int(Permission.UPLOAD)) != 0)
            .where(User.suspended_at.is_(None))
            .order_by(Role.rank.desc(), User.id)
            .limit(1)
        )

    # -- sections -----------------------------------------------------------------------

    def _category_chain(self, nicename: str) -> list[str]:
        """The category and its parents, up to the top-level one."""
        chain = [nicename]
        while True:
            parent = self.scan.categories.get(chain[-1])
            if parent is None or not parent.parent or parent.parent in chain:
                return chain
            chain.append(parent.parent)

    def _remembered_section(self, path: str) -> Category | None:
        """The section an earlier run sent an old category address to."""
        return db.session.scalar(
            select(Category)
            .join(Redirect, Redirect.category_id == Category.id)
            .where(Redirect.path == post_service.normalise_path(path))
        )

    def _new_section(self, category: WxrCategory) -> Category:
        """Create a section for a WordPress category, after the existing ones."""
        base = post_service.slugify(unquote(category.nicename)) or post_service.slugify(
            category.name
        ) or "section"
        slug, n = base, 1
        while slug in RESERVED_SLUGS or db.session.scalar(
            select(Category.id).where(Category.slug == slug)
        ):
            n += 1
            slug = f"{base[:76]}-{n}"
        name = " ".join(html.unescape(category.name).split())[:80] or slug
        base_name, n = name, 1
        while db.session.scalar(
            select(Category.id).where(func.lower(Category.name) == name.lower())
        ):
            n += 1
            name = f"{base_name[:74]} ({n})"
        position = (db.session.scalar(select(func.max(Category.position))) or 0) + 1
        section = Category(
            name=name,
            slug=slug,
            description=_plain(category.description),
            position=position,
        )
        db.session.add(section)
        db.session.flush()
        self.report.created["section"] += 1
        self.report.notes.append(
            f"section {name!r} (/category/{slug}) was created for the WordPress category "
            f"{category.nicename!r}"
        )
        return section

    def section_for_category(self, nicename: str) -> Category:
        """The section a WordPress category goes to, by the rules in the module notes."""
        if nicename in self.sections:
            return self.sections[nicename]
        chain = self._category_chain(nicename)
        section = next((self.section_map[c] for c in chain if c in self.section_map), None)
        top = chain[-1]
        top_slug = post_service.slugify(unquote(top))
        if section is None and top_slug:
            section = db.session.scalar(select(Category).where(Category.slug == top_slug))
        if section is None:
            section = self._remembered_section(f"category/{top}")
        if section is None:
            section = self.unknown_section
        if section is None:
            category = self.scan.categories.get(top) or WxrCategory(nicename=top, name=top)
            section = self._new_section(category)
        path = "category/" + "/".join(reversed(chain))
        if post_service.normalise_path(path) != f"category/{section.slug}":
            self.keep_redirect(path, section=section)
        self.sections[nicename] = section
        return section

    def section_for_pages(self) -> Category:
        """The section pages go to: --pages-section, 'pages', the first section, or a new one."""
        if self.pages_section is None:
            section = None
            if self.default_pages_section_id is not None:
                section = db.session.get(Category, self.default_pages_section_id)
            if section is None:
                section = self._new_section(WxrCategory(nicename="pages", name="Pages"))
            self.pages_section = section
            self.report.notes.append(
                f"WordPress pages went to the section {section.name!r} "
                "(choose another with --pages-section)"
            )
        return self.pages_section

    # -- tags and redirects ------------------------------------------------------------

    def tags_for(self, names: list[str]) -> list[Tag]:
        """The tags for these names, created when new."""
        found: dict[str, Tag] = {}
        for raw in names:
            name = " ".join(html.unescape(raw or "").split())[:80]
            slug = post_service.slugify(name)
            if not slug or slug in found:
                continue
            known = self.tags.get(slug)
            tag = db.session.get(Tag, known) if known else None
            tag = tag or db.session.scalar(select(Tag).where(Tag.slug == slug))
            if tag is None:
                tag = Tag(name=name, slug=slug)
                db.session.add(tag)
                db.session.flush()
                self.report.created["tag"] += 1
            self.tags[slug] = tag.id
            found[slug] = tag
        return sorted(found.values(), key=lambda t: t.slug)

    def keep_redirect(
        self, path: str, post: Post | None = None, section: Category | None = None
    ) -> None:
        """Make an old address answer with a 301, changing nothing when it already does."""
        path = post_service.normalise_path(path)
        if not path:
            return
        existing = db.session.scalar(select(Redirect).where(Redirect.path == path))
        if existing is not None:
            same_post = post is not None and existing.post_id == post.id and post.id is not None
            same_section = section is not None and existing.category_id == section.id
            if same_post or same_section:
                return
            if post is not None and existing.post_id is not None:
                self.report.notes.append(
                    f"the old address /{path} already leads to another post here; left as it is"
                )
                return
            existing.post, existing.category = post, section
            self.report.updated["redirect"] += 1
            return
        db.session.add(Redirect(path=path, post=post, category=section))
        self.report.created["redirect"] += 1

    # -- attachments ------------------------------------------------------------------------

    def _local_file(self, attachment: WxrAttachment) -> Path | None:
        """The attachment's file in the --uploads folder, if it is there (and inside it)."""
        root = self.options.uploads
        if root is None:
            return None
        root = root.resolve()
        candidates = []
        if attachment.file:
            candidates.append(attachment.file)
        parts = unquote(urlsplit(attachment.url).path)
        if "/wp-content/uploads/" in parts:
            candidates.append(parts.split("/wp-content/uploads/", 1)[1])
        elif parts:
            candidates.append(parts.lstrip("/"))
        for rel in candidates:
            path = (root / rel.lstrip("/")).resolve()
            if path.is_relative_to(root) and path.is_file():
                return path
        return None

    def import_attachments(self) -> None:
        """Re-host the attachments' images from --uploads; the rest stay links."""
        for attachment in self.scan.attachments.values():
            with _stops_at(f"attachment {attachment.wp_id}"):
                self.import_attachment(attachment)
            self.tick()
        if self.not_hosted:
            self.report.skipped.append(
                f"{self.not_hosted} image attachments: no --uploads folder was given, so they "
                "stay on the old site (listed below)"
            )

    def import_attachment(self, attachment: WxrAttachment) -> None:
        """Store one attachment's image in the library, or note why it stays a link."""
        label = f"attachment {attachment.wp_id} {Path(urlsplit(attachment.url).path).name!r}"
        existing = db.session.scalar(
            select(Media).where(Media.wp_attachment_id == attachment.wp_id)
        )
        if existing is not None:
            self.media[attachment.wp_id] = (
                media_service.largest_url(existing), existing.alt, existing.id
            )
            self.report.unchanged["image"] += 1
            return
        ext = Path(urlsplit(attachment.url).path or attachment.file).suffix.lower().lstrip(".")
        if ext not in _IMAGE_EXTENSIONS:
            self.report.skip(
                "attachment", label,
                "not an image (Circle's library holds images); kept as a link",
            )
            self.linked.add(attachment.url)
            return
        if self.options.uploads is None:
            self.report.skipped_counts["attachment"] += 1
            self.not_hosted += 1
            self.linked.add(attachment.url)
            return
        path = self._local_file(attachment)
        if path is None:
            self.report.fail(
                "attachment", label,
                f"no file {attachment.file or attachment.url} under --uploads; kept as a link",
            )
            self.linked.add(attachment.url)
            return
        uploader = self.uploader_for(attachment.creator)
        if uploader is None:
            self.report.fail("attachment", label, "nobody here may upload images")
            self.linked.add(attachment.url)
            return
        alt = " ".join((attachment.alt or attachment.title or "").split())
        alt = alt[: media_service.ALT_MAX_LENGTH]
        try:
            with path.open("rb") as handle:
                media = media_service.save_upload(
                    FileStorage(stream=handle, filename=path.name),
                    uploader,
                    alt,
                    quota=False,
                )
        except ServiceError as error:
            self.report.fail("attachment", label, f"{error.message} Kept as a link.")
            self.linked.add(attachment.url)
            return
        self.new_media.append(media)
        media.wp_attachment_id = attachment.wp_id
        if attachment.date is not None:
            media.created_at = attachment.date
        self.media[attachment.wp_id] = (media_service.largest_url(media), media.alt, media.id)
        self.report.created["image"] += 1

    def _rehosted(self, url: str) -> str | None:
        """This site's address for a WordPress upload, when it was imported."""
        key = upload_key(url, self.site_host)
        if key is None:
            return None
        attachment_id = self.uploads.get(key)
        if attachment_id is not None and attachment_id in self.media:
            return self.media[attachment_id][0]
        return None

    def rewrite_uploads(self, markup: str) -> str:
        """Point images and links at re-hosted files; note the ones left on the old site."""

        def attribute(match: re.Match) -> str:
            """Rewrite one src or href attribute."""
            url = match.group(3)
            if upload_key(url, self.site_host) is None:
                return match.group(0)
            local = self._rehosted(url)
            if local is None:
                self.linked.add(html.unescape(url))
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

    # -- posts and pages -------------------------------------------------------------------

    def body_for(self, item: WxrItem, lost: list[str]) -> str:
        """Circle's sanitised body for a WordPress post's content."""
        text = (item.content or "").replace("\r\n", "\n")
        text = convert_shortcodes(text, lost)
        text = convert_embeds(text, lost)
        text = autop(text)
        text = _HEADING.sub(_heading, text)
        unkept = unkept_markup(re.sub(r"<!--.*?-->", "", text, flags=re.DOTALL))
        if unkept:
            lost.append("markup Circle does not keep (its text is kept): " + ", ".join(unkept))
        text = self.rewrite_uploads(text)
        return post_service.prepare_body(text)

    def _title(self, item: WxrItem, label: str) -> str:
        """A plain-text title of at most 200 characters; untitled posts get one."""
        title = _title_text(item.title)
        if not title:
            words = unquote(item.name).replace("-", " ").strip()
            title = words[:1].upper() + words[1:] if words else f"Untitled {item.wp_id}"
            self.report.notes.append(f"{label} had no title; it is now {title!r}")
        elif _HTML_TAG.search(item.title):
            self.report.notes.append(f"{label}: markup removed from the title")
        if len(title) > 200:
            title = title[:199].rstrip() + "…"
            self.report.notes.append(f"{label}: the title was cut to 200 characters")
        return title

    def _cover(self, item: WxrItem) -> tuple[Media | None, str]:
        """The re-hosted library image of the post's featured image, and its alt text.

        A featured image that was not re-hosted gives no cover (covers are library
        images only); the report says so.
        """
        thumbnail = _int(item.meta_value("_thumbnail_id"))
        if not thumbnail:
            return None, ""
        attachment = self.scan.attachments.get(thumbnail)
        if thumbnail in self.media:
            _url, alt, media_id = self.media[thumbnail]
            alt = alt or (attachment.title if attachment else "")
            return db.session.get(Media, media_id), alt[:300]
        if attachment is None:
            self.lost[f"featured image {thumbnail} (not in the export)"] += 1
        else:
            self.lost[f"featured image {thumbnail} (not re-hosted, so no cover)"] += 1
        return None, ""

    def import_post(self, item: WxrItem) -> None:
        """Create or update one post or page, its redirects and its comments."""
        kind = "page" if item.post_type == "page" else "post"
        label = f'{kind} {item.wp_id} "{_title_text(item.title)[:60] or unquote(item.name)}"'
        if not item.wp_id:
            self.report.skip(kind, label, "it has no wp:post_id, so a later run could not find it")
            return
        if item.status == "trash":
            self.report.skip(kind, label, "in the WordPress trash")
            return
        if item.status not in _STATUS:
            self.report.skip(kind, label, f"WordPress status {item.status or 'none'!r}")
            return
        status = _STATUS[item.status]
        if item.status == "private":
            self.report.notes.append(f"{label} was private: imported as a draft")
        if item.password.strip():
            status = PostStatus.DRAFT
            self.report.notes.append(
                f"{label} was password-protected: imported as a draft (Circle has no "
                "post passwords)"
            )

        lost: list[str] = []
        categories = [(n, name) for d, n, name in item.categories if d == "category" and n]
        extra_tags: list[str] = []
        if kind == "page":
            section = self.section_for_pages()
        else:
            if not categories:
                categories = [("uncategorized", "Uncategorized")]
            primary = next((c for c in categories if c[0] != "uncategorized"), categories[0])
            if primary[0] not in self.scan.categories:
                self.scan.categories[primary[0]] = WxrCategory(
                    nicename=primary[0], name=_plain(primary[1]) or primary[0]
                )
            section = self.section_for_category(primary[0])
            extra_tags = [
                name for n, name in categories if n not in (primary[0], "uncategorized")
            ]
        tag_names = [name for d, _n, name in item.categories if d == "post_tag"] + extra_tags
        tags = self.tags_for(tag_names)
        author = self.author_for(item.creator)
        title = self._title(item, label)
        body = self.body_for(item, lost)
        cover, cover_alt = self._cover(item)
        excerpt_text = _excerpt(item.excerpt)
        created = item.date
        published_at = created if status in (PostStatus.PUBLISHED, PostStatus.SCHEDULED) else None
        slug_base = (
            post_service.slugify(unquote(item.name), 200)
            or post_service.slugify(title)
            or f"post-{item.wp_id}"
        )
        want = {
            "title": title,
            "body": body,
            "excerpt": excerpt_text or post_service.derive_excerpt(body),
            "excerpt_written": bool(excerpt_text),
            "status": status.value,
            "published_at": published_at,
            "category_id": section.id,
            "author_id": author.id,
            "featured": item.sticky,
            "cover_media_id": cover.id if cover else None,
            "cover_image": media_service.cover_address(cover),
            "cover_alt": cover_alt if cover else "",
            "reading_time": post_service.reading_minutes(body),
        }
        fingerprint = _fingerprint(
            {**want, "slug": slug_base, "tags": [t.slug for t in tags], "created": created}
        )
        note = f"{IMPORT_NOTE} ({kind} {item.wp_id}, {fingerprint})"

        post = db.session.scalar(select(Post).where(Post.wp_post_id == item.wp_id))
        if post is None:
            post = self._create_post(item, kind, label, want, slug_base, tags, created, note)
        elif self._last_import_note(post) == note:
            self.report.unchanged[kind] += 1
        else:
            self._update_post(post, item, kind, want, slug_base, tags, note)

        for entry, count in Counter(lost).items():
            times = f" ({count} times)" if count > 1 else ""
            self.report.not_brought_over.append(f"{label}: {entry}{times}")
        self._post_redirects(post, item)
        self.import_comments(post, item)

    def _last_import_note(self, post: Post) -> str | None:
        """The note of the newest revision an import wrote for post."""
        return db.session.scalar(
            select(Revision.note)
            .where(Revision.post_id == post.id, Revision.note.startswith(IMPORT_NOTE))
            .order_by(Revision.id.desc())
            .limit(1)
        )

    def _create_post(
        self, item: WxrItem, kind: str, label: str, want: dict, slug_base: str,
        tags: list[Tag], created: datetime | None, note: str,
    ) -> Post:
        """Write a new post with its first revision."""
        slug = post_service.unique_post_slug(slug_base)
        if slug != slug_base:
            self.report.notes.append(
                f"{label}: the slug {slug_base!r} was taken here; it is {slug!r} now "
                "(its old address redirects)"
            )
        now = utcnow()
        values = dict(want)
        if values["status"] in (PostStatus.PUBLISHED, PostStatus.SCHEDULED):
            values["published_at"] = values["published_at"] or now
        post = Post(
            **values,
            slug=slug,
            tags=tags,
            wp_post_id=item.wp_id,
            created_at=created or now,
            updated_at=item.modified or created or now,
        )
        db.session.add(post)
        db.session.add(
            Revision(
                post=post,
                editor_id=want["author_id"],
                title=post.title,
                excerpt=post.excerpt,
                body=post.body,
                note=note,
                created_at=item.modified or created or now,
            )
        )
        db.session.flush()
        self.report.created[kind] += 1
        return post

    def _update_post(
        self, post: Post, item: WxrItem, kind: str, want: dict, slug_base: str,
        tags: list[Tag], note: str,
    ) -> None:
        """Bring an imported post in line with a changed WordPress post, keeping a revision."""
        old_path = f"{post.category.slug}/{post.slug}"
        for key, value in want.items():
            if getattr(post, key) != value:
                setattr(post, key, value)
        if post.status in (PostStatus.PUBLISHED, PostStatus.SCHEDULED) and not post.published_at:
            post.published_at = utcnow()
        if post.slug != slug_base and not post.slug.startswith(f"{slug_base}-"):
            post.slug = post_service.unique_post_slug(slug_base, exclude_id=post.id)
        if sorted(t.slug for t in post.tags) != [t.slug for t in tags]:
            post.tags = tags
        db.session.add(
            Revision(
                post=post,
                editor_id=want["author_id"],
                title=post.title,
                excerpt=post.excerpt,
                body=post.body,
                note=note,
            )
        )
        db.session.flush()
        db.session.expire(post, ["category"])
        new_path = f"{post.category.slug}/{post.slug}"
        if new_path != old_path:
            post_service.forget_address(new_path)
            self.keep_redirect(old_path, post=post)
        self.report.updated[kind] += 1

    def _post_redirects(self, post: Post, item: WxrItem) -> None:
        """Keep the post's WordPress permalink (and any old slugs) answering with a 301."""
        parts = urlsplit(item.link)
        path = post_service.normalise_path(unquote(parts.path))
        here = f"{post.category.slug}/{post.slug}"
        paths = []
        if path and path != here:
            paths.append(path)
        for old_slug in item.meta.get("_wp_old_slug", []):
            old_slug = unquote(old_slug or "").strip("/")
            if path and old_slug:
                head = path.rsplit("/", 1)[0] if "/" in path else ""
                paths.append(f"{head}/{old_slug}" if head else old_slug)
        for old in paths:
            if old != here:
                self.keep_redirect(old, post=post)

    # -- comments ------------------------------------------------------------------------

    def import_comments(self, post: Post, item: WxrItem) -> None:
        """Bring the post's comments over once, threaded one level deep."""
        if not item.comments:
            return
        by_id = {c.wp_id: c for c in item.comments if c.wp_id}
        kept: dict[int, Comment] = {}
        pings = Counter(c.type for c in item.comments if c.type in ("pingback", "trackback"))
        for ping_type, count in pings.items():
            self.lost[f"{ping_type}s (Circle has none)"] += count

        def top_level(comment: WxrComment) -> int:
            """The id of the thread's first comment, however deep the reply."""
            seen = {comment.wp_id}
            current = comment
            while current.parent and current.parent in by_id and current.parent not in seen:
                seen.add(current.parent)
                current = by_id[current.parent]
            return current.wp_id if current is not comment else (comment.parent or 0)

        ordered = sorted(
            (c for c in item.comments if c.type not in ("pingback", "trackback")),
            key=lambda c: (c.parent != 0, c.date or datetime.min.replace(tzinfo=UTC), c.wp_id),
        )
        for comment in ordered:
            if not comment.wp_id:
                self.report.fail("comment", f"a comment on post {item.wp_id}", "it has no id")
                continue
            existing = db.session.scalar(
                select(Comment).where(Comment.wp_comment_id == comment.wp_id)
            )
            if existing is not None:
                kept[comment.wp_id] = existing
                self.report.unchanged["comment"] += 1
                continue
            parent = None
            if comment.parent:
                root_id = top_level(comment)
                parent = kept.get(root_id) or db.session.scalar(
                    select(Comment).where(Comment.wp_comment_id == root_id)
                )
                if parent is None:
                    self.report.notes.append(
                        f"comment {comment.wp_id} replied to comment {comment.parent}, whose "
                        "thread was not imported: it stands as a comment of its own"
                    )
                elif parent.parent_id is not None:
                    parent = parent.parent
            text = comment_text(comment.content)
            if not text:
                self.report.skip("comment", f"comment {comment.wp_id}", "it is empty")
                continue
            created = comment.date or post.created_at
            row = Comment(
                post=post,
                author=self.commenter_for(comment),
                parent=parent,
                body=text,
                body_html=clean_comment_text(text),
                status=_COMMENT_STATUS.get(comment.approved, CommentStatus.PENDING).value,
                ip_address=(comment.ip or "")[:45],
                created_at=created,
                updated_at=created,
                wp_comment_id=comment.wp_id,
            )
            db.session.add(row)
            kept[comment.wp_id] = row
            self.report.created["comment"] += 1
        db.session.flush()


_BREAK = re.compile(r"<br\s*/?>", re.IGNORECASE)
_PARAGRAPH_END = re.compile(r"</p\s*>", re.IGNORECASE)
_LINK = re.compile(
    r"""<a\b[^>]*?href\s*=\s*(["'])(.*?)\1[^>]*>(.*?)</a\s*>""", re.IGNORECASE | re.DOTALL
)


def comment_text(markup: str) -> str:
    """A WordPress comment's HTML as the plain text a Circle comment keeps."""

    def link(match: re.Match) -> str:
        """Keep a link's text, and its address when the text differs."""
        href, label = html.unescape(match.group(2)), _plain(match.group(3))
        return label if not label or label == href else f"{label} ({href})"

    text = (markup or "").replace("\r\n", "\n")
    text = _LINK.sub(link, text)
    text = _BREAK.sub("\n", text)
    text = _PARAGRAPH_END.sub("\n\n", text)
    text = html.unescape(_HTML_TAG.sub("", text))
    lines = [" ".join(line.split()) for line in text.split("\n")]
    return re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip()


class WordPressImport:
    """An import checked and ready to run: the file is a WordPress export, the options fit."""

    def __init__(self, path: Path | str, options: ImportOptions | None = None):
        """Scan the file and check the options; nothing is written yet."""
        path = Path(path)
        if not path.is_file():
            raise WxrError(f"No such file: {path}")
        self.scan = scan_wxr(path)
        self._importer = _Importer(path, self.scan, options or ImportOptions())
        try:
            self._importer.check_options()
        finally:
            db.session.rollback()  # only read so far

    @property
    def total(self) -> int:
        """How many steps the run takes, for a progress bar."""
        return self._importer.total

    def run(self, progress: Callable[[int, int], None] | None = None) -> ImportReport:
        """Import everything in one transaction (rolled back for a dry run); return the report."""
        importer = self._importer
        importer.progress = progress
        try:
            with unit_of_work():  # the people and images made on the way join it
                importer.run()
                if importer.options.dry_run:
                    raise _DryRun
        except _DryRun:
            importer.remove_new_files()
        except BaseException:
            importer.remove_new_files()
            raise
        return importer.report


def import_wxr(
    path: Path | str,
    options: ImportOptions | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> ImportReport:
    """Check and import a WordPress export in one go; see WordPressImport."""
    return WordPressImport(path, options).run(progress)
