"""People's pictures: an upload checked like any other, cropped to a square, kept as WebP.

The picture is a media library item (uploaded by its person, described by their name), so
backups carry it and the library knows where it is used; User.avatar_image is the address of
its WebP file. A new picture or "Remove" deletes the old one, which nothing else may show.
"""

from __future__ import annotations

from PIL import Image, ImageOps

from ...extensions import db
from ...models import Media, Permission, User
from .. import Forbidden, unit_of_work
from .files import Picture, file_names, media_url, store
from .library import other_uses, usage
from .storage import storage
from .upload import checked_picture

AVATAR_SIZE = 256  # pixels, square; shown at 64 or 96 CSS pixels, sharp on dense screens


def may_have_avatar(user: User) -> bool:
    """Whether user may upload a picture: people whose name appears on stories."""
    return user.is_authenticated and user.can(Permission.WRITE)


def set_avatar(user: User, file_storage) -> User:
    """Check an uploaded image, crop it to a centred square and make it user's picture."""
    if not may_have_avatar(user):
        raise Forbidden("Only people who write for the magazine have a picture.")
    picture, name, size = checked_picture(file_storage, user)
    try:
        square = ImageOps.fit(picture.pixels, (AVATAR_SIZE, AVATAR_SIZE), Image.Resampling.LANCZOS)
    finally:
        picture.pixels.close()
    try:
        media = store(
            Picture(square, picture.mime, picture.ext, picture.icc_profile),
            name,
            size,
            user.name,
            user,
        )
    finally:
        square.close()
    with unit_of_work():
        old = _current_avatar(user)
        user.avatar_image = media_url(media, AVATAR_SIZE, webp=True)
        if old is not None:
            _forget(old, user)
    return user


@unit_of_work()
def remove_avatar(user: User) -> User:
    """Take user's picture away (initials are shown again) and delete its files."""
    old = _current_avatar(user)
    user.avatar_image = None
    if old is not None:
        _forget(old, user)
    return user


def _current_avatar(user: User) -> Media | None:
    """The library item user's picture is, when it is one they uploaded."""
    address = user.avatar_image or ""
    key = address.rsplit("/", 1)[-1].split("-", 1)[0]
    if not key:
        return None
    media = db.session.scalar(db.select(Media).where(Media.key == key))
    if media is None or media.uploader_id != user.id:
        return None
    return media


def _forget(media: Media, user: User) -> None:
    """Delete a former picture, unless a post, a section or someone else still shows it."""
    db.session.flush()  # the person no longer shows it
    if usage(media) or other_uses(media):
        return
    names = file_names(media)
    db.session.delete(media)
    db.session.flush()
    storage().delete(names)
