"""The site's icon: one square upload made into a favicon (PNG and .ico) and a touch icon.

The upload is checked like every image (upload.py), then written again from its
pixels at fixed sizes under a random name in the upload folder's icons/ folder.
Which icon is in force is a site setting (`site_icon`), so changing it moves the
content generation and every cached page links the new one. Without one, Circle's
own icon in static/icons/ is used.
"""

from __future__ import annotations

import io
import secrets
from dataclasses import dataclass
from pathlib import Path

from flask import current_app, url_for
from PIL import Image

from ...models import Permission, User
from .. import Forbidden, ServiceError
from .. import settings as site_settings
from .files import refuse_failed_write
from .storage import StoredFile, content_type, storage
from .upload import decoded_upload

FOLDER = "icons"
FAVICON_SIZE = 32
TOUCH_SIZE = 180
ICO_SIZES = [(16, 16), (32, 32), (48, 48)]
SMALLEST = 48
DEFAULT_FAVICON = "icons/circle-32.png"
DEFAULT_TOUCH = "icons/circle-180.png"
DEFAULT_ICO = "icons/circle.ico"


@dataclass(frozen=True)
class IconLinks:
    """Where the pages' <link rel="icon"> and <link rel="apple-touch-icon"> point."""

    favicon: str
    touch: str
    custom: bool


def _names(key: str) -> dict[str, str]:
    """The files of the icon stored under key, relative to the upload folder."""
    return {
        "favicon": f"{FOLDER}/{key}-{FAVICON_SIZE}.png",
        "touch": f"{FOLDER}/{key}-{TOUCH_SIZE}.png",
        "ico": f"{FOLDER}/{key}.ico",
    }


def links(key: str | None = None) -> IconLinks:
    """The addresses of the icon in force (key: the stored icon's name; "" for Circle's)."""
    key = site_settings.current().site_icon if key is None else key
    if key:
        names, store = _names(key), storage()
        return IconLinks(store.url(names["favicon"]), store.url(names["touch"]), True)
    return IconLinks(
        url_for("static", filename=DEFAULT_FAVICON),
        url_for("static", filename=DEFAULT_TOUCH),
        False,
    )


def file_names() -> list[str]:
    """The stored icon's files, relative to the upload folder (none for Circle's): for backups."""
    key = site_settings.current().site_icon
    return sorted(_names(key).values()) if key else []


def open_favicon() -> StoredFile | None:
    """The site's .ico file opened for /favicon.ico, or None when Circle's own is in force."""
    key = site_settings.current().site_icon
    return storage().open(_names(key)["ico"]) if key else None


def default_favicon() -> Path:
    """Circle's own .ico file."""
    return Path(current_app.static_folder) / DEFAULT_ICO


def _may_change(actor: User) -> None:
    """Only the people who run the site's settings change its icon."""
    if not actor.can(Permission.MANAGE_SETTINGS):
        raise Forbidden("You may not change the site's icon.")


def set_icon(actor: User, file_storage) -> IconLinks:
    """Make a square image the site's icon; the one before it is deleted."""
    _may_change(actor)
    picture = decoded_upload(file_storage)
    try:
        image = picture.pixels
        width, height = image.size
        if width != height:
            raise ServiceError(
                f"The icon must be square, and this image is {width} × {height} pixels. "
                "Crop it to a square and upload it again.",
                "file",
            )
        if width < SMALLEST:
            raise ServiceError(
                f"The icon must be at least {SMALLEST} × {SMALLEST} pixels "
                f"(this one is {width} × {height}); {TOUCH_SIZE} × {TOUCH_SIZE} or more "
                "looks best on phones.",
                "file",
            )
        key = secrets.token_hex(16)
        written = _write(image.convert("RGBA"), key)
    finally:
        picture.pixels.close()
    old = site_settings.current().site_icon
    try:
        site_settings.store_site_icon(actor, key)
    except BaseException:
        storage().delete(written)
        raise
    _remove(old)
    return links(key)


def remove_icon(actor: User) -> IconLinks:
    """Go back to Circle's own icon."""
    _may_change(actor)
    old = site_settings.current().site_icon
    if old:
        site_settings.store_site_icon(actor, "")
        _remove(old)
    return links("")


def _write(image: Image.Image, key: str) -> list[str]:
    """Put the icon's sizes in the media store, all or none; return their names."""
    names = _names(key)
    files = []
    try:
        for name, size in ((names["favicon"], FAVICON_SIZE), (names["touch"], TOUCH_SIZE)):
            out = io.BytesIO()
            image.resize((size, size), Image.Resampling.LANCZOS).save(
                out, format="PNG", optimize=True
            )
            files.append((name, out.getvalue(), content_type(name)))
        out = io.BytesIO()
        image.resize((48, 48), Image.Resampling.LANCZOS).save(out, format="ICO", sizes=ICO_SIZES)
        files.append((names["ico"], out.getvalue(), content_type(names["ico"])))
        storage().put_all(files)
    except OSError as exc:
        refuse_failed_write(exc, "the site icon")
    return [name for name, _data, _type in files]


def _remove(key: str) -> None:
    """Delete the files of an icon no longer in force (never raises)."""
    if key:
        storage().delete(list(_names(key).values()))
