"""Covers: the library image a post or section shows at its top."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select

from ...extensions import db
from ...models import Category, Media, Post
from ...validators import MAX_ID, is_usable_address
from .. import ServiceError
from .files import largest_url, media_url
from .storage import public_address
from .upload import ALT_MAX_LENGTH

COVER_CHOICES = 200  # the newest library images offered as covers
NO_SUCH_COVER = "Choose a cover image from the media library."


def cover_choices(current_id: int | None = None) -> list[Media]:
    """The library images a cover may be chosen from: the newest, and the current one."""
    items = list(
        db.session.scalars(
            select(Media).order_by(Media.created_at.desc(), Media.id.desc()).limit(COVER_CHOICES)
        )
    )
    if current_id and all(m.id != current_id for m in items):
        current = db.session.get(Media, current_id)
        if current is not None:
            items.insert(0, current)
    return items


def cover_media(media_id: int | None, field: str = "cover_media_id") -> Media | None:
    """The library image with this id, for a cover; None for no cover; refuse unknown ids."""
    if media_id is None:
        return None
    media = db.session.get(Media, media_id) if 1 <= media_id <= MAX_ID else None
    if media is None:
        raise ServiceError(NO_SUCH_COVER, field)
    return media


def cover_address(media: Media | None) -> str | None:
    """The address a cover is shown from: its library image's largest size (the one rule)."""
    return largest_url(media) if media is not None else None


@dataclass(frozen=True)
class Picture:
    """A library image as readers fetch it: its fallback address, its WebP sizes for srcset,
    the size it is drawn at (its largest, so the page keeps its room) and its alt text."""

    src: str
    srcset: str  # "" when the image is not in the library (its sizes are unknown)
    width: int | None
    height: int | None
    alt: str


def library_picture(media: Media, alt: str | None = None) -> Picture:
    """media as a Picture, described by alt (the library's description by default)."""
    webp = ", ".join(
        f"{public_address(media_url(media, w, webp=True))} {w}w" for w in sorted(media.widths)
    )
    return Picture(
        public_address(largest_url(media)),
        webp,
        media.largest_width,
        media.largest_height,
        media.alt if alt is None else alt,
    )


def picture_by_id(media_id: int | None) -> Picture | None:
    """The library image with this id as a Picture, with its own alt text; None when
    there is none (no id, or an image deleted since)."""
    media = db.session.get(Media, media_id) if media_id else None
    return library_picture(media) if media is not None else None


def cover_picture(owner) -> Picture | None:
    """The cover of a post or section (anything with cover_media_id, cover_image and
    cover_alt) as a Picture, or None without a usable one.

    The listings load their posts' cover media with them, so a card asks nothing more.
    """
    if not is_usable_address(owner.cover_image):
        return None
    media = db.session.get(Media, owner.cover_media_id) if owner.cover_media_id else None
    if media is None:
        return Picture(public_address(owner.cover_image), "", None, None, owner.cover_alt or "")
    return library_picture(media, owner.cover_alt or "")


def set_cover(target: Post | Category, media: Media | None, alt: str = "") -> None:
    """Make media the cover of a post or section, keeping cover_image its address."""
    target.cover_media_id = media.id if media is not None else None
    target.cover_image = cover_address(media)
    target.cover_alt = " ".join((alt or "").split())[:ALT_MAX_LENGTH] if media else ""
