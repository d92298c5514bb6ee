"""Library images in a post's body: each gets its srcset, size and lazy loading."""

from __future__ import annotations

import html
import re
from urllib.parse import urlsplit

from sqlalchemy import select

from ...extensions import db
from ...hosts import site_netloc
from ...models import Media
from ...sanitize import GALLERY_CLASS
from .files import BODY_IMAGE_SIZES, GALLERY_IMAGE_SIZES, UPLOAD_URL, srcset
from .storage import public_base

_KEY = re.compile(r"^[0-9a-f]{32}$")
_UPLOAD_PATH = re.compile(
    re.escape(UPLOAD_URL) + r"/\d{4}/\d{2}/([0-9a-f]{32})-\d+\.(?:jpg|png|webp)$"
)
# An image's address attributes, and the stored upload addresses in them.
_ADDRESS_ATTR = re.compile(r'(\s(?:src|srcset)=")([^"]*)(")', re.IGNORECASE)
_STORED_ADDRESS = re.compile(r"(^|,\s*)" + re.escape(UPLOAD_URL) + "/")
_IMG_TAG = re.compile(r"<img\b[^>]*>", re.IGNORECASE)
_SRC_ATTR = re.compile(r'\ssrc="([^"]*)"', re.IGNORECASE)
_ENRICHED_ATTRS = re.compile(r'\s(?:srcset|sizes|width|height|loading)="[^"]*"', re.IGNORECASE)


def media_by_keys(keys: set[str]) -> dict[str, Media]:
    """Return the known media among keys, by key."""
    keys = {k for k in keys if _KEY.match(k)}
    if not keys:
        return {}
    return {m.key: m for m in db.session.scalars(select(Media).where(Media.key.in_(keys)))}


def _key_of(src: str) -> str | None:
    """Return the media key in an upload address of this site, if it is one."""
    parts = urlsplit(html.unescape(src))
    if parts.netloc and parts.netloc != site_netloc():
        return None
    match = _UPLOAD_PATH.search(parts.path)
    return match.group(1) if match else None


_ALT_ATTR = re.compile(r"\salt\s*=", re.IGNORECASE)
_FIGURE_TAG = re.compile(r"<(/?)figure\b([^>]*)>", re.IGNORECASE)
_GALLERY_OPEN = f'class="{GALLERY_CLASS}"'


def _gallery_spans(body_html: str) -> list[tuple[int, int]]:
    """Where the galleries of sanitised body HTML start and end (their images are smaller)."""
    spans, depth, start = [], 0, 0
    for tag in _FIGURE_TAG.finditer(body_html):
        if depth:
            depth += -1 if tag.group(1) else 1
            if depth == 0:
                spans.append((start, tag.end()))
        elif not tag.group(1) and _GALLERY_OPEN in tag.group(2):
            depth, start = 1, tag.start()
    return spans


def enrich_images(body_html: str) -> str:
    """Give every library image in sanitised body HTML its srcset, size and lazy loading."""
    if not body_html or "<img" not in body_html.lower():
        return body_html
    tags = _IMG_TAG.findall(body_html)
    keys = {}
    for tag in tags:
        src = _SRC_ATTR.search(tag)
        key = _key_of(src.group(1)) if src else None
        if key:
            keys[tag] = key
    known = media_by_keys(set(keys.values()))
    if not known:
        return body_html
    galleries = _gallery_spans(body_html)

    def rewrite(match: re.Match) -> str:
        """Replace one img tag, when it shows library media."""
        tag = match.group(0)
        media = known.get(keys.get(tag, ""))
        if media is None:
            return tag
        stripped = _ENRICHED_ATTRS.sub("", tag)
        closing = "/>" if stripped.endswith("/>") else ">"
        inner = stripped[: -len(closing)].rstrip()
        in_gallery = any(start < match.start() < end for start, end in galleries)
        extra = (
            f' srcset="{html.escape(srcset(media, webp=True))}"'
            f' sizes="{GALLERY_IMAGE_SIZES if in_gallery else BODY_IMAGE_SIZES}"'
            f' width="{media.largest_width}" height="{media.largest_height}"'
            ' loading="lazy"'
        )
        if not _ALT_ATTR.search(inner):
            # An image dropped into the editor has no alt yet: use the library's.
            extra += f' alt="{html.escape(media.alt or "")}"'
        return f"{inner}{extra}{closing}"

    return _IMG_TAG.sub(rewrite, body_html)


def public_media(body_html: str) -> str:
    """A stored body as readers get it: its images' /uploads addresses point at S3_PUBLIC_URL
    when media is served from there (stored bodies keep /uploads, so the base may change)."""
    base = public_base()
    if base is None or not body_html or UPLOAD_URL + "/" not in body_html:
        return body_html

    def rewrite(match: re.Match) -> str:
        """Point one src or srcset attribute's upload addresses at the public base."""
        value = _STORED_ADDRESS.sub(lambda m: f"{m.group(1)}{html.escape(base)}/", match.group(2))
        return f"{match.group(1)}{value}{match.group(3)}"

    return _ADDRESS_ATTR.sub(rewrite, body_html)
