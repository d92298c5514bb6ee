"""The media library: listing it, finding where an image is used, changing and deleting."""

from __future__ import annotations

from flask_sqlalchemy.pagination import Pagination
from sqlalchemy import or_, select
from sqlalchemy.orm import defer, joinedload

from ...extensions import db
from ...models import Category, Media, Permission, Post, User
from .. import Forbidden, NotFound, ServiceError, audit, unit_of_work
from .. import settings as site_settings
from .files import file_names
from .storage import storage
from .upload import clean_alt

MEDIA_PER_PAGE = 24


# -- Finding -----------------------------------------------------------------------------


def get_media(media_id: int) -> Media:
    """Return the media with this id or raise NotFound."""
    media = db.session.get(Media, media_id, options=[joinedload(Media.uploader)])
    if media is None:
        raise NotFound("No such image.")
    return media


def list_media(page: int = 1, per_page: int = MEDIA_PER_PAGE) -> Pagination:
    """The library, newest first, with uploaders; a page past the end is a 404."""
    query = (
        select(Media)
        .options(joinedload(Media.uploader))
        .order_by(Media.created_at.desc(), Media.id.desc())
    )
    return db.paginate(query, page=page, per_page=per_page, error_out=True)


def library_page(page: int = 1) -> tuple[Pagination, dict[int, list[Post]]]:
    """One page of the library and, for each image on it, the posts that use it."""
    pagination = list_media(page)
    return pagination, usage_by_media(list(pagination.items))


def _mentions(column, key: str):
    """The condition that a text column mentions key."""
    return column.contains(key, autoescape=True)


def _used_by_post(media: Media):
    """The condition that a post's body shows media or media is its cover."""
    return or_(_mentions(Post.body, media.key), Post.cover_media_id == media.id)


def usage(media: Media) -> list[Post]:
    """The posts (in any status, even in the trash) whose body or cover use media."""
    return list(
        db.session.scalars(
            select(Post)
            .where(_used_by_post(media))
            .options(defer(Post.body), joinedload(Post.category))
            .order_by(Post.updated_at.desc())
        )
    )


def usage_by_media(items: list[Media]) -> dict[int, list[Post]]:
    """The posts using each media of a page, in one query."""
    found: dict[int, list[Post]] = {media.id: [] for media in items}
    if not items:
        return found
    flags = [
        _used_by_post(m).label(f"m{i}")
        for i, m in enumerate(items)
    ]
    rows = db.session.execute(
        select(Post, *flags)
        .where(or_(*(flag.element for flag in flags)))
        .options(defer(Post.body), joinedload(Post.category))
        .order_by(Post.updated_at.desc())
    ).all()
    for row in rows:
        for i, media in enumerate(items):
            if row[i + 1]:
                found[media.id].append(row[0])
    return found


def other_uses(media: Media) -> list[str]:
    """Where media serves outside posts: section covers, avatars and the default share
    image, described."""
    uses = [
        f"the cover of the {name} section"
        for name in db.session.scalars(
            select(Category.name).where(Category.cover_media_id == media.id)
        )
    ]
    uses += [
        f"the picture of {user.name}"
        for user in db.session.scalars(select(User).where(_mentions(User.avatar_image, media.key)))
    ]
    if site_settings.current().default_share_image == media.id:
        uses.append("the site's default share image")
    return uses


# -- Changing ----------------------------------------------------------------------------


def can_manage(actor: User, media: Media) -> bool:
    """Return True when actor may change or delete media: their own, or anyone's for editors."""
    if not actor.is_authenticated or not actor.can(Permission.UPLOAD):
        return False
    return media.uploader_id == actor.id or actor.can(Permission.EDIT_ANY)


@unit_of_work()
def update_alt(media: Media, alt: str, actor: User) -> Media:
    """Change the alt text of media."""
    if not can_manage(actor, media):
        raise Forbidden("You may change only the images you uploaded.")
    alt = clean_alt(alt)
    if not alt:
        raise ServiceError("Describe the image for people who cannot see it.", "alt")
    media.alt = alt
    return media


@unit_of_work()
def delete_media(media: Media, actor: User) -> None:
    """Delete media that nothing uses, with its files."""
    if not can_manage(actor, media):
        raise Forbidden("You may delete only the images you uploaded.")
    posts = usage(media)
    if posts:
        count = "a post" if len(posts) == 1 else f"{len(posts)} posts"
        raise ServiceError(
            f"This image is still used in {count}; take it out of them before deleting it."
        )
    elsewhere = other_uses(media)
    if elsewhere:
        raise ServiceError(f"This image is still used as {elsewhere[0]}; it was not deleted.")
    names = file_names(media)
    audit.record(actor, "media.delete", media, details=media.original_name)
    db.session.delete(media)
    # The row is gone first: a file left by a failed unlink is harmless, a row without files is not.
    storage().delete(names)
