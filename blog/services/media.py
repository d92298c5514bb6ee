"""The media library: checking, re-encoding, storing, finding and deleting images.

An upload is trusted only after Pillow has decoded every pixel of it. It is then
written again from those pixels, without EXIF, XMP or comments, in a few widths
and as WebP, under a random key. Files are written under temporary names and
renamed into place only once all of them exist, so a failed upload leaves
nothing behind.
"""

from __future__ import annotations

import contextlib
import html
import logging
import os
import re
import secrets
import tempfile
import warnings
from dataclasses import dataclass
from datetime import timedelta
from io import BytesIO
from pathlib import Path
from urllib.parse import urlsplit

from flask import current_app
from flask_sqlalchemy.pagination import Pagination
from PIL import Image, ImageFile, ImageOps, UnidentifiedImageError
from sqlalchemy import func, or_, select
from sqlalchemy.orm import defer, joinedload

from ..extensions import db
from ..hosts import site_netloc
from ..models import Category, Media, Permission, Post, User, utcnow
from ..models.media import height_for
from ..validators import MAX_ID
from . import Forbidden, NotFound, ServiceError, audit, unit_of_work

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
MEDIA_PER_PAGE = 24
RGB_MODES = {"RGB", "RGBA", "RGBX", "P"}
ALT_MAX_LENGTH = 300
# How wide a body image is shown: the article column, or the screen when narrower.
BODY_IMAGE_SIZES = "(max-width: 46rem) 100vw, 46rem"

JPEG_OPTIONS = {"quality": 85, "optimize": True, "progressive": True}
PNG_OPTIONS = {"optimize": False, "compress_level": 6}
WEBP_OPTIONS = {"quality": 80, "method": 4}

NOT_AN_IMAGE = "That file is not an image we accept. Please upload a JPEG, PNG, GIF or WebP image."
SVG_REFUSED = (
    "SVG images are not accepted, because they can carry scripts. "
    "Please upload a JPEG, PNG, GIF or WebP image."
)
HTML_REFUSED = "That file is a web page (HTML), not an image, whatever its name says."
DAMAGED = "That image is damaged or incomplete (perhaps cut off while uploading)."
TOO_MANY_PIXELS = "That image has too many pixels to process. Please upload a smaller one."
STORE_FAILED = "The image could not be stored. Please try again."

# Where uploads are served; stored post bodies hold these addresses, so they never change.
UPLOAD_URL = "/uploads"
# nginx serves uploads from disk as another user: files 0644, folders 0755.
FILE_MODE = 0o644
FOLDER_MODE = 0o755

_KEY = re.compile(r"^[0-9a-f]{32}$")
_UPLOAD_PATH = re.compile(
    re.escape(UPLOAD_URL) + r"/\d{4}/\d{2}/([0-9a-f]{32})-\d+\.(?:jpg|png|webp)$"
)
_IMG_TAG = re.compile(r"<img\b[^>]*>", re.IGNORECASE)
_SRC_ATTR = re.compile(r'\ssrc="([^"]*)"', re.IGNORECASE)
_ENRICHED_ATTRS = re.compile(r'\s(?:srcset|sizes|width|height|loading)="[^"]*"', re.IGNORECASE)
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


# -- Saving ---------------------------------------------------------------------------


def save_upload(file_storage, uploader: User, alt: str = "", quota: bool = True) -> Media:
    """Check an uploaded image, write its sizes without metadata and record it.

    Inside a larger unit of work (the WordPress import) the row joins it, and that
    caller removes the files if it rolls back. quota=False skips the per-person quota
    (an admin's import, not a person uploading).
    """
    if not uploader.can(Permission.UPLOAD):
        raise Forbidden("You may not upload media.")
    quota = quota and not is_quota_exempt(uploader)
    if quota:
        _check_upload_count(uploader)
    alt = _clean_alt(alt)
    data = _read_limited(file_storage)
    if quota:
        _check_upload_bytes(uploader, len(data))
    name = _original_name(getattr(file_storage, "filename", None))
    _refuse_markup(data, name)
    picture = _decode(data)
    try:
        return _store(picture, name, len(data), alt, uploader)
    finally:
        picture.pixels.close()


def _clean_alt(alt: str | None) -> str:
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


@dataclass
class _Picture:
    """A decoded upload, upright and in RGB or RGBA, ready to be written again."""

    pixels: Image.Image
    source_format: str
    ext: str  # the format written beside WebP: "jpg", or "png" to keep it lossless
    icc_profile: bytes | None


def _decode(data: bytes) -> _Picture:
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
    return _Picture(pixels, source_format, "png" if lossless else "jpg", icc_profile)


def _check_pixels(size: tuple[int, int]) -> None:
    """Refuse images whose pixels would not fit in memory (decompression bombs)."""
    width, height = size
    limit = min(MAX_PIXELS, Image.MAX_IMAGE_PIXELS or MAX_PIXELS)
    if width < 1 or height < 1:
        raise ServiceError(DAMAGED, "file")
    if width * height > limit:
        raise ServiceError(TOO_MANY_PIXELS, "file")


def planned_widths(original_width: int) -> list[int]:
    """Return the widths to write: the configured ones below the original, then the cap."""
    configured = sorted(int(w) for w in current_app.config["IMAGE_WIDTHS"])
    top = min(original_width, configured[-1])
    return [w for w in configured if w < top] + [top]


def _store(picture: _Picture, name: str, size: int, alt: str, uploader: User) -> Media:
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
            mime=ACCEPTED_FORMATS[picture.source_format],
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
        _remove(written, created_dirs)
        if isinstance(exc, ServiceError | KeyboardInterrupt | SystemExit):
            raise
        if isinstance(exc, Exception):
            log.exception("could not store an upload")
            raise ServiceError(STORE_FAILED, "file") from exc
        raise
    return media


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


def _remove(paths: list[Path], dirs: list[Path] | None = None) -> None:
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
    """Where media serves outside posts: section covers and avatars, described."""
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
    return uses


def media_by_keys(keys: set[str]) -> dict[str, Media]:
    """Return the known media among keys, by key."""
    keys = {k for k in keys if _KEY.match(k)}
    if not keys:
        return {}
    return {m.key: m for m in db.session.scalars(select(Media).where(Media.key.in_(keys)))}


# -- Covers ------------------------------------------------------------------------------

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


def set_cover(target: Post | Category, media: Media | None, alt: str = "") -> None:
    """Make media the cover of a post or section, keeping cover_image its address."""
    target.cover_media_id = media.id if media is not None else None
    target.cover_image = cover_address(media)
    target.cover_alt = " ".join((alt or "").split())[:ALT_MAX_LENGTH] if media else ""


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
    alt = _clean_alt(alt)
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
    paths = [upload_root() / name for name in file_names(media)]
    audit.record(actor, "media.delete", media, details=media.original_name)
    db.session.delete(media)
    # The row is gone first: a file left by a failed unlink is harmless, a row without files is not.
    _remove(paths)


# -- Body images -------------------------------------------------------------------------


def _key_of(src: str) -> str | None:
    """Return the media key in an upload address of this site, if it is one."""
    parts = urlsplit(html.unescape(src))
    if parts.netloc and parts.netloc != site_netloc():
        return None
    match = _UPLOAD_PATH.search(parts.path)
    return match.group(1) if match else None


_ALT_ATTR = re.compile(r"\salt\s*=", re.IGNORECASE)


def enrich_images(body_html: str) -> str:
    """Give every library image in sanitised body HTML its srcset, size and lazy loading."""
    if not body_html or "<img" not in body_html.lower():
        return body_html
    tags = _IMG_TAG.findall(body_html)
    keys = {}
    for tag in tags:
        src = _SRC_ATTR.search(tag)
        key = _key_of(src.group(1)) if src else None
        if key:
            keys[tag] = key
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
