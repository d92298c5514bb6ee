"""Reading a WordPress export (WXR): streaming, one element at a time, defused.

The file is read twice. `scan_wxr` checks that it is a WordPress export, counts
its items and notes the people, categories and attachments (small records);
`iter_items` then yields posts and pages one <item> at a time, freeing each
element once read, so memory stays flat however large the export. Archive size
limits (services/archives.py) apply before a byte is parsed.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from pathlib import Path
from urllib.parse import urlsplit

import defusedxml.ElementTree as SafeET
from defusedxml import DefusedXmlException

from ...validators import bounded_int
from .. import archives, slugs
from .markup import title_text
from .records import (
    COAUTHOR_PREFIX,
    WxrAttachment,
    WxrAuthor,
    WxrCategory,
    WxrComment,
    WxrError,
    WxrItem,
    WxrScan,
)

WP_NAMESPACE = re.compile(r"^https?://wordpress\.org/export/1\.[0-2]/$")
WP_EXCERPT_NAMESPACE = re.compile(r"^https?://wordpress\.org/export/1\.[0-2]/excerpt/$")
CONTENT_NAMESPACE = "http://purl.org/rss/1.0/modules/content/"
DC_NAMESPACE = "http://purl.org/dc/elements/1.1/"


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


def wp_int(text: str | None) -> int | None:
    """Return text as an id a column can hold, or None (WordPress ids start at 1)."""
    return bounded_int(text)


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
        wp_id=wp_int(fields.get("wp:comment_id")) or 0,
        author=fields.get("wp:comment_author", ""),
        email=fields.get("wp:comment_author_email", ""),
        ip=fields.get("wp:comment_author_IP", ""),
        date=_wp_time(fields.get("wp:comment_date_gmt")) or _wp_time(fields.get("wp:comment_date")),
        content=fields.get("wp:comment_content", ""),
        approved=(fields.get("wp:comment_approved") or "0").strip(),
        type=(fields.get("wp:comment_type") or "").strip(),
        parent=wp_int(fields.get("wp:comment_parent")) or 0,
        user_id=wp_int(fields.get("wp:comment_user_id")) or 0,
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
        wp_id=wp_int(fields.get("wp:post_id")) or 0,
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
        parent=wp_int(fields.get("wp:post_parent")) or 0,
    )


def _channel_children(path: Path, size_checked: bool = False) -> Iterator[tuple[str, ET.Element]]:
    """Yield each complete child of <channel> with its short name, then free it.

    size_checked: the file's size was checked already (a worker process has no app to ask).
    """
    if not size_checked:
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
                    wp_id=wp_int(_child_text(elem, "wp:author_id")) or 0,
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
        elif name == "wp:tag":
            tag_slug = _child_text(elem, "wp:tag_slug").strip()
            if tag_slug:
                scan.tags[tag_slug] = _child_text(elem, "wp:tag_name").strip() or tag_slug
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
            scan.creators.add(item.creator)
            scan.creators.update(
                n.removeprefix(COAUTHOR_PREFIX) for d, n, _ in item.categories if d == "author"
            )
            scan.used_categories.update(n for d, n, _ in item.categories if d == "category")
            if item.post_type in ("post", "page") and item.wp_id:
                path = urlsplit(item.link).path
                if path.strip("/"):
                    scan.permalinks.setdefault(slugs.normalise_path(path), item.wp_id)
            if item.post_type == "attachment":
                scan.attachments[item.wp_id] = WxrAttachment(
                    wp_id=item.wp_id,
                    url=item.attachment_url or item.link,
                    file=item.meta_value("_wp_attached_file"),
                    alt=item.meta_value("_wp_attachment_image_alt"),
                    title=title_text(item.title),
                    creator=item.creator,
                    date=item.date,
                    caption=item.excerpt,
                    parent=item.parent,
                )
    if not scan.version:
        raise WxrError(
            f"{path.name} is not a WordPress export (WXR): it has no wp:wxr_version. "
            "Nothing was imported."
        )
    return scan


def iter_items(path: Path, size_checked: bool = False) -> Iterator[WxrItem]:
    """Yield the items of a WordPress export one at a time (see _channel_children)."""
    for name, elem in _channel_children(path, size_checked):
        if name == "item":
            yield read_item(elem)

