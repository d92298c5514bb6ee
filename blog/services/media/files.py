"""Writing an image's sizes to the media store, and the addresses they are served from.

All sizes are encoded first and put in the store (storage.py) as one group, so a
failed upload leaves nothing behind.
"""

from __future__ import annotations

import io
import logging
import secrets
from dataclasses import dataclass
from typing import NoReturn

from flask import current_app
from PIL import Image

from ...extensions import db
from ...models import Media, User, utcnow
from ...models.media import height_for
from .. import ServiceError, StorageFull, is_storage_full, unit_of_work
from .storage import UPLOAD_URL, content_type, storage

log = logging.getLogger(__name__)

JPEG_OPTIONS = {"quality": 85, "optimize": True, "progressive": True}
PNG_OPTIONS = {"optimize": False, "compress_level": 6}
WEBP_OPTIONS = {"quality": 80, "method": 4}
STORE_FAILED = "The image could not be stored. Please try again."
STORAGE_FULL = (
    "The server could not store the image (storage is full). "
    "Your text is kept; try again later."
)


# How wide a body image is shown: the article column, or the screen when narrower.
BODY_IMAGE_SIZES = "(max-width: 46rem) 100vw, 46rem"
# How wide a gallery's image is shown: two to a row on a phone, a quarter of the column at most.
GALLERY_IMAGE_SIZES = "(max-width: 46rem) 50vw, 12rem"


@dataclass
class Picture:
    """A decoded upload, upright and in RGB or RGBA, ready to be written again."""

    pixels: Image.Image
    mime: str  # what the upload is recorded as
    ext: str  # the format written beside WebP: "jpg", or "png" to keep it lossless
    icc_profile: bytes | None


# -- Writing -------------------------------------------------------------------------------


def planned_widths(original_width: int) -> list[int]:
    """Return the widths to write: the configured ones below the original, then the cap."""
    configured = sorted(int(w) for w in current_app.config["IMAGE_WIDTHS"])
    top = min(original_width, configured[-1])
    return [w for w in configured if w < top] + [top]


def store(picture: Picture, name: str, size: int, alt: str, uploader: User) -> Media:
    """Write every size of picture, then record it; on any failure keep nothing."""
    base, ext = picture.pixels, picture.ext
    width, height = base.size
    widths = planned_widths(width)
    key = secrets.token_hex(16)
    now = utcnow()
    folder = f"{now:%Y}/{now:%m}"
    store_ = storage()
    written: list[str] = []
    try:
        files = []
        for w in widths:
            sized = base if w == width else base.resize(
                (w, height_for(width, height, w)), Image.Resampling.LANCZOS, reducing_gap=3.0
            )
            # Nothing of the original's metadata may ride along into the new files.
            sized.info = {}
            for out_ext in (ext, "webp"):
                file_name = f"{folder}/{key}-{w}.{out_ext}"
                data = _encode(sized, out_ext, picture.icc_profile)
                files.append((file_name, data, content_type(file_name)))
            if sized is not base:
                sized.close()
        store_.put_all(files)  # all or nothing
        written = [file_name for file_name, _data, _type in files]
        media = Media(
            key=key,
            folder=folder,
            ext=ext,
            original_name=name,
            mime=picture.mime,
            width=width,
            height=height,
            bytes=size,
            widths=widths,
            alt=alt,
            uploader=uploader,
            created_at=now,
        )
        with unit_of_work():  # a failed commit removes the files too
            db.session.add(media)
            db.session.flush()
    except BaseException as exc:
        store_.delete(written)
        if isinstance(exc, ServiceError | KeyboardInterrupt | SystemExit):
            raise
        if isinstance(exc, Exception):
            refuse_failed_write(exc, "an upload")
        raise
    return media


def refuse_failed_write(exc: Exception, what: str) -> NoReturn:
    """Log a failed write of picture files and refuse in a person's words (disk full or not)."""
    log.exception("could not store %s", what)
    if is_storage_full(exc):
        raise StorageFull(STORAGE_FULL) from exc
    raise ServiceError(STORE_FAILED, "file") from exc


def _encode(image: Image.Image, ext: str, icc_profile: bytes | None) -> bytes:
    """Encode image in the format ext names, keeping its colour profile."""
    out = io.BytesIO()
    options: dict = {}
    if icc_profile:
        options["icc_profile"] = icc_profile  # colours, not personal data
    if ext == "webp":
        image.save(out, format="WEBP", **WEBP_OPTIONS, **options)
    elif ext == "png":
        image.save(out, format="PNG", **PNG_OPTIONS, **options)
    else:
        image.save(out, format="JPEG", **JPEG_OPTIONS, **options)
    return out.getvalue()


# -- Addresses --------------------------------------------------------------------------


def file_names(media: Media) -> list[str]:
    """Every file of media, relative to the upload folder."""
    return [
        f"{media.folder}/{media.key}-{w}.{ext}"
        for w in media.widths
        for ext in (media.ext, "webp")
    ]


def _nearest_width(media: Media, width: int | None) -> int:
    """The smallest stored width at least as wide as asked, else the largest."""
    if width is None:
        return media.largest_width
    for w in sorted(media.widths):
        if w >= width:
            return w
    return media.largest_width


def media_url(media: Media, width: int | None = None, webp: bool = False) -> str:
    """The address of one size of media (the largest by default), as pages store it
    (under /uploads; `public_address` gives where readers fetch it)."""
    w = _nearest_width(media, width)
    ext = "webp" if webp else media.ext
    return f"{UPLOAD_URL}/{media.folder}/{media.key}-{w}.{ext}"


def srcset(media: Media, webp: bool = False) -> str:
    """The srcset attribute value listing every stored width."""
    return ", ".join(f"{media_url(media, w, webp)} {w}w" for w in sorted(media.widths))


def largest_url(media: Media) -> str:
    """The address of the widest size, in the JPEG or PNG fallback format."""
    return media_url(media)


def as_json(media: Media) -> dict:
    """What the rich-text editor needs to insert media."""
    return {
        "id": media.id,
        "url": largest_url(media),
        "srcset": srcset(media, webp=True),
        "sizes": BODY_IMAGE_SIZES,
        "width": media.largest_width,
        "height": media.largest_height,
        "alt": media.alt,
    }
