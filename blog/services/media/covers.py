"""Covers: the library image a post or section shows at its top."""

from __future__ import annotations

from sqlalchemy import select

from ...extensions import db
from ...models import Category, Media, Post
from ...validators import MAX_ID
from .. import ServiceError
from .files import largest_url
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


def cover_size(media_id: int | None) -> tuple[int, int] | None:
    """The width and height a cover is shown at (its largest size); None when unknown."""
    media = db.session.get(Media, media_id) if media_id else None
    return (media.largest_width, media.largest_height) if media is not None else None


def set_cover(target: Post | Category, media: Media | None, alt: str = "") -> None:
    """Make media the cover of a post or section, keeping cover_image its address."""
    target.cover_media_id = media.id if media is not None else None
    target.cover_image = cover_address(media)
    target.cover_alt = " ".join((alt or "").split())[:ALT_MAX_LENGTH] if media else ""
