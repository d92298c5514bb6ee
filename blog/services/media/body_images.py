"""Library images in a post's body: each gets its srcset, size and lazy loading."""

from __future__ import annotations

import html
import re
from urllib.parse import urlsplit

from sqlalchemy import select

from ...extensions import db
from ...hosts import site_netloc
from ...models import Media
from .files import BODY_IMAGE_SIZES, UPLOAD_URL, srcset
from .storage import public_address

_KEY = re.compile(r"^[0-9a-f]{32}$")
_UPLOAD_PATH = re.compile(
    re.escape(UPLOAD_URL) + r"/(\d{4}/\d{2}/([0-9a-f]{32})-\d+\.(?:jpg|png|webp))$"
)
_IMG_TAG = re.compile(r"<img\b[^>]*>", re.IGNORECASE)
_SRC_ATTR = re.compile(r'\ssrc="([^"]*)"', re.IGNORECASE)
_ENRICHED_ATTRS = re.compile(r'\s(?:srcset|sizes|width|height|loading)="[^"]*"', re.IGNORECASE)


def media_by_keys(keys: set[str]) -> dict[str, Media]:
    """Return the known media among keys, by key."""
    keys = {k for k in keys if _KEY.match(k)}
    if not keys:
        return {}
    return {m.key: m for m in db.session.scalars(select(Media).where(Media.key.in_(keys)))}


def _upload_of(src: str) -> tuple[str, str] | None:
    """Return (media key, file name) of an upload address of this site, if it is one."""
    parts = urlsplit(html.unescape(src))
    if parts.netloc and parts.netloc != site_netloc():
        return None
    match = _UPLOAD_PATH.search(parts.path)
    return (match.group(2), match.group(1)) if match else None


_ALT_ATTR = re.compile(r"\salt\s*=", re.IGNORECASE)


def enrich_images(body_html: str) -> str:
    """Give every library image in sanitised body HTML its srcset, size and lazy loading."""
    if not body_html or "<img" not in body_html.lower():
        return body_html
    tags = _IMG_TAG.findall(body_html)
    keys = {}
    names = {}
    for tag in tags:
        src = _SRC_ATTR.search(tag)
        found = _upload_of(src.group(1)) if src else None
        if found:
            keys[tag], names[tag] = found
    known = media_by_keys(set(keys.values()))
    if not known:
        return body_html

    def rewrite(match: re.Match) -> str:
        """Replace one img tag, when it shows library media."""
        tag = match.group(0)
        media = known.get(keys.get(tag, ""))
        if media is None:
            return tag
        stripped = _ENRICHED_ATTRS.sub("", tag)
        shown = public_address(f"{UPLOAD_URL}/{names[tag]}")
        if shown != f"{UPLOAD_URL}/{names[tag]}":  # media is served from S3_PUBLIC_URL
            stripped = _SRC_ATTR.sub(lambda _m: f' src="{html.escape(shown)}"', stripped, count=1)
        closing = "/>" if stripped.endswith("/>") else ">"
        inner = stripped[: -len(closing)].rstrip()
        extra = (
            f' srcset="{html.escape(srcset(media, webp=True))}"'
            f' sizes="{BODY_IMAGE_SIZES}"'
            f' width="{media.largest_width}" height="{media.largest_height}"'
            ' loading="lazy"'
        )
        if not _ALT_ATTR.search(inner):
            # An image dropped into the editor has no alt yet: use the library's.
            extra += f' alt="{html.escape(media.alt or "")}"'
        return f"{inner}{extra}{closing}"

    return _IMG_TAG.sub(rewrite, body_html)
