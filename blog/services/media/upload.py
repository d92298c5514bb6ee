"""Receiving an upload: who may upload how much, and checking that it is an image.

An upload is trusted only after Pillow has decoded every pixel of it. It is then
written again from those pixels, without EXIF, XMP or comments, in a few widths
and as WebP, under a random key (files.py).
"""

from __future__ import annotations

import logging
import re
import warnings
from datetime import timedelta
from io import BytesIO

from flask import current_app
from PIL import Image, ImageFile, ImageOps, UnidentifiedImageError
from sqlalchemy import func, select

from ...extensions import db
from ...models import Media, Permission, User, utcnow
from .. import Forbidden, ServiceError
from .files import Picture, store

log = logging.getLogger(__name__)

# Truncated files must fail to load, never be padded with grey.
ImageFile.LOAD_TRUNCATED_IMAGES = False

# The only decoders Pillow may try on an upload; nothing else is ever parsed.
DECODERS = ["JPEG", "PNG", "GIF", "WEBP"]
# What each decoded format is recorded as.
ACCEPTED_FORMATS = {
    "JPEG": "image/jpeg",
    "MPO": "image/jpeg",  # a camera's JPEG with a preview inside, read by the JPEG decoder
    "PNG": "image/png",
    "GIF": "image/gif",
    "WEBP": "image/webp",
}
# A ceiling below Pillow's own bomb limit: about a 50-megapixel photograph.
MAX_PIXELS = 50_000_000
RGB_MODES = {"RGB", "RGBA", "RGBX", "P"}
ALT_MAX_LENGTH = 300

NOT_AN_IMAGE = "That file is not an image we accept. Please upload a JPEG, PNG, GIF or WebP image."
SVG_REFUSED = (
    "SVG images are not accepted, because they can carry scripts. "
    "Please upload a JPEG, PNG, GIF or WebP image."
)
HTML_REFUSED = "That file is a web page (HTML), not an image, whatever its name says."
DAMAGED = "That image is damaged or incomplete (perhaps cut off while uploading)."
TOO_MANY_PIXELS = "That image has too many pixels to process. Please upload a smaller one."

_MARKUP_START = re.compile(rb"^\s*(?:<\?xml|<!--|<!doctype|<svg|<html|<head|<body|<script)", re.I)


class UploadTooLarge(ServiceError):
    """The upload is bigger than MAX_UPLOAD_BYTES."""


QUOTA_COUNT_REFUSED = (
    "You have uploaded {count} images in the last hour, the most allowed. "
    "Please wait a while before uploading more."
)
QUOTA_BYTES_REFUSED = (
    "This image would take your uploads past your quota of {quota}. "
    "Delete images you no longer use, or ask an admin for room."
)


class QuotaExceeded(ServiceError):
    """A person has uploaded as much as they may for now (status: 429 or 413)."""

    def __init__(self, message: str, status: int):
        super().__init__(message, "file")
        self.status = status


def is_quota_exempt(user: User) -> bool:
    """Admins run the site, so their uploads have no quota."""
    return user.can(Permission.ADMINISTER)


def _check_upload_count(user: User) -> None:
    """Refuse an upload past UPLOAD_LIMIT_PER_HOUR for this person."""
    per_hour = int(current_app.config["UPLOAD_LIMIT_PER_HOUR"])
    recent = db.session.scalar(
        select(func.count(Media.id)).where(
            Media.uploader_id == user.id, Media.created_at > utcnow() - timedelta(hours=1)
        )
    )
    if recent >= per_hour:
        raise QuotaExceeded(QUOTA_COUNT_REFUSED.format(count=per_hour), 429)


def _check_upload_bytes(user: User, incoming: int) -> None:
    """Refuse an upload that takes this person past UPLOAD_QUOTA_BYTES in all."""
    quota = int(current_app.config["UPLOAD_QUOTA_BYTES"])
    stored = db.session.scalar(
        select(func.coalesce(func.sum(Media.bytes), 0)).where(Media.uploader_id == user.id)
    )
    if stored + incoming > quota:
        raise QuotaExceeded(QUOTA_BYTES_REFUSED.format(quota=_human_size(quota)), 413)


# -- Checking ---------------------------------------------------------------------------


def save_upload(file_storage, uploader: User, alt: str = "", quota: bool = True) -> Media:
    """Check an uploaded image, write its sizes without metadata and record it.

    Inside a larger unit of work (the WordPress import) the row joins it, and that
    caller removes the files if it rolls back. quota=False skips the per-person quota
    (an admin's import, not a person uploading).
    """
    if not uploader.can(Permission.UPLOAD):
        raise Forbidden("You may not upload media.")
    alt = clean_alt(alt)
    picture, name, size = checked_picture(file_storage, uploader, quota)
    try:
        return store(picture, name, size, alt, uploader)
    finally:
        picture.pixels.close()


def checked_picture(file_storage, uploader: User, quota: bool = True) -> tuple[Picture, str, int]:
    """Every check an upload passes, in order: the person's quota, the size, no markup,
    every pixel decoded. Returns the picture, the file's name and its size in bytes.
    """
    quota = quota and not is_quota_exempt(uploader)
    if quota:
        _check_upload_count(uploader)
    data = _read_limited(file_storage)
    if quota:
        _check_upload_bytes(uploader, len(data))
    name = _original_name(getattr(file_storage, "filename", None))
    return _checked(data, name), name, len(data)


def decoded_upload(file_storage) -> Picture:
    """An upload checked like any image (size, no markup, every pixel decoded), not stored.

    The caller closes picture.pixels when done.
    """
    data = _read_limited(file_storage)
    return _checked(data, _original_name(getattr(file_storage, "filename", None)))


def _checked(data: bytes, name: str) -> Picture:
    """Refuse markup whatever its name, then decode every pixel."""
    _refuse_markup(data, name)
    return _decode(data)


def clean_alt(alt: str | None) -> str:
    """Collapse the alt text's whitespace and check its length."""
    alt = " ".join((alt or "").split())
    if len(alt) > ALT_MAX_LENGTH:
        raise ServiceError(f"Keep the alt text under {ALT_MAX_LENGTH} characters.", "alt")
    return alt


def _read_limited(file_storage) -> bytes:
    """Read the upload, never more than one byte past the limit."""
    limit = int(current_app.config["MAX_UPLOAD_BYTES"])
    stream = getattr(file_storage, "stream", None)
    if stream is None:
        raise ServiceError("Choose an image to upload.", "file")
    data = stream.read(limit + 1)
    if len(data) > limit:
        raise UploadTooLarge(
            f"That file is too large: images may be at most {_human_size(limit)}.", "file"
        )
    if not data:
        raise ServiceError("That file is empty. Please choose an image.", "file")
    return data


def upload_limit_text() -> str:
    """The largest upload allowed, as people say it ("10 MB")."""
    return _human_size(int(current_app.config["MAX_UPLOAD_BYTES"]))


def _human_size(size: int) -> str:
    """Return a byte count the way people say it."""
    if size >= 1024 * 1024:
        return f"{size / (1024 * 1024):g} MB"
    if size >= 1024:
        return f"{size / 1024:.0f} KB"
    return f"{size} bytes"


def _original_name(filename: str | None) -> str:
    """Return the last part of the browser's file name, for display only."""
    name = (filename or "").replace("\\", "/").rsplit("/", 1)[-1].strip()
    return name[:255]


def _refuse_markup(data: bytes, name: str) -> None:
    """Refuse SVG and HTML outright, with the reason, whatever the file is called."""
    if name.lower().endswith((".svg", ".svgz")):
        raise ServiceError(SVG_REFUSED, "file")
    if _MARKUP_START.match(data[:1024].lstrip(b"\xef\xbb\xbf")):
        if re.search(rb"<svg[\s>]", data[:8192], re.IGNORECASE):
            raise ServiceError(SVG_REFUSED, "file")
        raise ServiceError(HTML_REFUSED, "file")


def _decode(data: bytes) -> Picture:
    """Decode every pixel of the upload and turn it upright, or refuse it with the reason."""
    with warnings.catch_warnings():
        warnings.simplefilter("error", Image.DecompressionBombWarning)
        try:
            with Image.open(BytesIO(data), formats=DECODERS) as probe:
                _check_pixels(probe.size)
                probe.verify()
            with Image.open(BytesIO(data), formats=DECODERS) as image:
                image.load()
                source_format = image.format
                mime = ACCEPTED_FORMATS[source_format]
                upright = ImageOps.exif_transpose(image)
                has_alpha = upright.has_transparency_data
                pixels = upright.convert("RGBA" if has_alpha else "RGB")
                # A colour profile describes the original's colour space; it stays
                # true only when that space was RGB already (not CMYK or grey).
                icc_profile = image.info.get("icc_profile") if image.mode in RGB_MODES else None
                if upright is not image:
                    upright.close()
        except ServiceError:
            raise
        except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
            raise ServiceError(TOO_MANY_PIXELS, "file") from exc
        except UnidentifiedImageError as exc:
            raise ServiceError(NOT_AN_IMAGE, "file") from exc
        except Exception as exc:  # a broken file can trip any part of a decoder
            log.info("refused a damaged image: %r", exc)
            raise ServiceError(DAMAGED, "file") from exc
    lossless = has_alpha or source_format in ("PNG", "GIF")
    return Picture(pixels, mime, "png" if lossless else "jpg", icc_profile)


def _check_pixels(size: tuple[int, int]) -> None:
    """Refuse images whose pixels would not fit in memory (decompression bombs)."""
    width, height = size
    limit = min(MAX_PIXELS, Image.MAX_IMAGE_PIXELS or MAX_PIXELS)
    if width < 1 or height < 1:
        raise ServiceError(DAMAGED, "file")
    if width * height > limit:
        raise ServiceError(TOO_MANY_PIXELS, "file")
