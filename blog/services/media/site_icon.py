"""The site's icon: one square upload made into a favicon (PNG and .ico) and a touch icon.

The upload is checked like every image (upload.py), then written again from its
pixels at fixed sizes under a random name in the upload folder's icons/ folder.
Which icon is in force is a site setting (`site_icon`), so changing it moves the
content generation and every cached page links the new one. Without one, Circle's
own icon in static/icons/ is used.
"""

from __future__ import annotations

import os
import secrets
from dataclasses import dataclass
from pathlib import Path

from flask import current_app, url_for
from PIL import Image

from ...models import Permission, User
from .. import Forbidden, ServiceError
from .. import settings as site_settings
from .files import (
    UPLOAD_URL,
    make_upload_folder,
    open_upload_file,
    refuse_failed_write,
    remove_files,
    upload_root,
)
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
        names = _names(key)
        return IconLinks(f"{UPLOAD_URL}/{names['favicon']}", f"{UPLOAD_URL}/{names['touch']}", True)
    return IconLinks(
        url_for("static", filename=DEFAULT_FAVICON),
        url_for("static", filename=DEFAULT_TOUCH),
        False,
    )


def file_names() -> list[str]:
    """The stored icon's files, relative to the upload folder (none for Circle's): for backups."""
    key = site_settings.current().site_icon
    return sorted(_names(key).values()) if key else []


def favicon_file() -> Path:
    """The .ico file /favicon.ico answers with: the site's, or Circle's own."""
    key = site_settings.current().site_icon
    if key:
        path = upload_root() / _names(key)["ico"]
        if path.is_file():
            return path
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
        remove_files(written)
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


def _write(image: Image.Image, key: str) -> list[Path]:
    """Write the icon's sizes under temporary names, then rename them into place."""
    folder = upload_root() / FOLDER
    make_upload_folder(folder)
    names = _names(key)
    planned = [
        (names["favicon"], "PNG", {"size": FAVICON_SIZE}),
        (names["touch"], "PNG", {"size": TOUCH_SIZE}),
        (names["ico"], "ICO", {"sizes": ICO_SIZES}),
    ]
    temps: list[Path] = []
    finals: list[Path] = []
    try:
        for _name, kind, options in planned:
            fd, temp = open_upload_file(folder, f".{key}-")
            temps.append(temp)
            with os.fdopen(fd, "wb") as handle:
                if kind == "ICO":
                    image.resize((48, 48), Image.Resampling.LANCZOS).save(
                        handle, format="ICO", sizes=options["sizes"]
                    )
                else:
                    size = options["size"]
                    image.resize((size, size), Image.Resampling.LANCZOS).save(
                        handle, format="PNG", optimize=True
                    )
        for temp, (name, _kind, _options) in zip(temps, planned, strict=True):
            final = upload_root() / name
            os.replace(temp, final)
            finals.append(final)
    except BaseException as exc:
        remove_files(temps + finals)
        if isinstance(exc, OSError):
            refuse_failed_write(exc, "the site icon")
        raise
    return finals


def _remove(key: str) -> None:
    """Delete the files of an icon no longer in force (never raises)."""
    if key:
        remove_files([upload_root() / name for name in _names(key).values()])
