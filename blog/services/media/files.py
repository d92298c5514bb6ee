"""Writing an image's sizes to disk, and the addresses they are served from.

Files are written under temporary names and renamed into place only once all of
them exist, so a failed upload leaves nothing behind.
"""

from __future__ import annotations

import contextlib
import logging
import os
import secrets
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import NoReturn

from flask import current_app
from PIL import Image

from ...extensions import db
from ...models import Media, User, utcnow
from ...models.media import height_for
from .. import ServiceError, StorageFull, is_storage_full, unit_of_work

log = logging.getLogger(__name__)

JPEG_OPTIONS = {"quality": 85, "optimize": True, "progressive": True}
PNG_OPTIONS = {"optimize": False, "compress_level": 6}
WEBP_OPTIONS = {"quality": 80, "method": 4}
STORE_FAILED = "The image could not be stored. Please try again."
STORAGE_FULL = (
    "The server could not store the image (storage is full). "
    "Your text is kept; try again later."
)

# Where uploads are served; stored post bodies hold these addresses, so they never change.
UPLOAD_URL = "/uploads"
# nginx serves uploads from disk as another user: files 0644, folders 0755.
FILE_MODE = 0o644
FOLDER_MODE = 0o755

# How wide a body image is shown: the article column, or the screen when narrower.
BODY_IMAGE_SIZES = "(max-width: 46rem) 100vw, 46rem"


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
    target = upload_root() / folder

    written: list[Path] = []
    created_dirs = _missing_dirs(target)
    try:
        make_upload_folder(target)
        temps: list[tuple[Path, Path]] = []
        for w in widths:
            sized = base if w == width else base.resize(
                (w, height_for(width, height, w)), Image.Resampling.LANCZOS, reducing_gap=3.0
            )
            # Nothing of the original's metadata may ride along into the new files.
            sized.info = {}
            for out_ext in (ext, "webp"):
                temp = _write_temp(sized, target, key, out_ext, picture.icc_profile)
                written.append(temp)
                temps.append((temp, target / f"{key}-{w}.{out_ext}"))
            if sized is not base:
                sized.close()
        for temp, final in temps:
            os.replace(temp, final)
            written.append(final)
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
        remove_files(written, created_dirs)
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


def make_upload_folder(target: Path) -> None:
    """Create target and its missing parents, readable by the web server (0755)."""
    missing = _missing_dirs(target)
    target.mkdir(parents=True, exist_ok=True)
    for folder in missing:
        folder.chmod(FOLDER_MODE)  # explicitly: a umask of 077 must not hide the images


def open_upload_file(folder: Path, prefix: str) -> tuple[int, Path]:
    """Open a hidden temporary file in folder, readable by the web server (0644).

    mkstemp makes files only their owner can read; nginx serves uploads
    straight from disk, so they must be readable by others.
    """
    fd, name = tempfile.mkstemp(prefix=prefix, suffix=".part", dir=folder)
    os.fchmod(fd, FILE_MODE)
    return fd, Path(name)


def _missing_dirs(target: Path) -> list[Path]:
    """Return target and those of its parents that do not exist yet, deepest first."""
    missing = []
    path = target
    while not path.exists() and path != path.parent:
        missing.append(path)
        path = path.parent
    return missing


def _write_temp(
    image: Image.Image, folder: Path, key: str, ext: str, icc_profile: bytes | None
) -> Path:
    """Encode image into a hidden temporary file in folder and return its path."""
    fd, path = open_upload_file(folder, f".{key}-")
    try:
        with os.fdopen(fd, "wb") as handle:
            options: dict = {}
            if icc_profile:
                options["icc_profile"] = icc_profile  # colours, not personal data
            if ext == "webp":
                image.save(handle, format="WEBP", **WEBP_OPTIONS, **options)
            elif ext == "png":
                image.save(handle, format="PNG", **PNG_OPTIONS, **options)
            else:
                image.save(handle, format="JPEG", **JPEG_OPTIONS, **options)
    except BaseException:
        path.unlink(missing_ok=True)
        raise
    return path


def remove_files(paths: list[Path], dirs: list[Path] | None = None) -> None:
    """Delete files (and then the folders made for them, when empty); never raise."""
    for path in paths:
        try:
            path.unlink(missing_ok=True)
        except OSError:
            log.warning("could not remove %s", path)
    for folder in dirs or []:
        with contextlib.suppress(OSError):  # not empty: another upload lives there
            folder.rmdir()


# -- Addresses --------------------------------------------------------------------------


def upload_root() -> Path:
    """The folder uploads are stored in."""
    return Path(current_app.config["UPLOAD_DIR"])


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
    """The address of one size of media (the largest by default)."""
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
