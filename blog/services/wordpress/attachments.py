"""Importing media: attachment images re-hosted from a local copy of wp-content/uploads.

An image found under --uploads goes into the library through the media service
(found again on the next run by Media.wp_attachment_id); anything else stays a
link to the old site, listed in the report. Files stored by a run that is rolled
back are removed again (`remove_new_files`).
"""

from __future__ import annotations

from pathlib import Path
from urllib.parse import unquote, urlsplit

from sqlalchemy import select
from werkzeug.datastructures import FileStorage

from ...extensions import db
from ...models import Media
from .. import ServiceError
from .. import media as media_service
from .context import ImportContext, stops_at, tick
from .gallery import GalleryImage
from .people import uploader_for
from .records import WxrAttachment

_IMAGE_EXTENSIONS = {"jpg", "jpeg", "jpe", "png", "gif", "webp"}


def _local_file(context: ImportContext, attachment: WxrAttachment) -> Path | None:
    """The attachment's file in the --uploads folder, if it is there (and inside it)."""
    root = context.options.uploads
    if root is None:
        return None
    root = root.resolve()
    candidates = []
    if attachment.file:
        candidates.append(attachment.file)
    parts = unquote(urlsplit(attachment.url).path)
    if "/wp-content/uploads/" in parts:
        candidates.append(parts.split("/wp-content/uploads/", 1)[1])
    elif parts:
        candidates.append(parts.lstrip("/"))
    for rel in candidates:
        path = (root / rel.lstrip("/")).resolve()
        if path.is_relative_to(root) and path.is_file():
            return path
    return None


def import_attachments(context: ImportContext) -> None:
    """Re-host the attachments' images from --uploads; the rest stay links."""
    for attachment in context.scan.attachments.values():
        with stops_at(f"attachment {attachment.wp_id}"):
            import_attachment(context, attachment)
        tick(context)
    if context.not_hosted:
        context.report.skipped.append(
            f"{context.not_hosted} image attachments: no --uploads folder was given, so they "
            "stay on the old site (listed below)"
        )


def _is_image(attachment: WxrAttachment) -> bool:
    """Whether the attachment's file is an image Circle's library can hold."""
    ext = Path(urlsplit(attachment.url).path or attachment.file).suffix.lower().lstrip(".")
    return ext in _IMAGE_EXTENSIONS


def gallery_pictures(
    context: ImportContext,
) -> tuple[dict[int, GalleryImage], dict[int, list[int]]]:
    """What posts' [gallery] shortcodes may show: the export's images, and each post's own.

    Returns image attachment id → picture, and post id → its images' ids in order. A
    picture keeps the old site's address (rewritten to the re-hosted copy with the rest
    of the body), its alt text (else its title, as the library does) and its caption.
    """
    images: dict[int, GalleryImage] = {}
    attached: dict[int, list[int]] = {}
    for attachment in sorted(context.scan.attachments.values(), key=lambda a: a.wp_id):
        if not _is_image(attachment):
            continue
        images[attachment.wp_id] = GalleryImage(
            src=attachment.url,
            alt=" ".join((attachment.alt or attachment.title or "").split()),
            caption=attachment.caption,
        )
        if attachment.parent:
            attached.setdefault(attachment.parent, []).append(attachment.wp_id)
    return images, attached


def import_attachment(context: ImportContext, attachment: WxrAttachment) -> None:
    """Store one attachment's image in the library, or note why it stays a link."""
    label = f"attachment {attachment.wp_id} {Path(urlsplit(attachment.url).path).name!r}"
    existing = db.session.scalar(
        select(Media).where(Media.wp_attachment_id == attachment.wp_id)
    )
    if existing is not None:
        context.media[attachment.wp_id] = (
            media_service.largest_url(existing), existing.alt, existing.id
        )
        context.report.unchanged["image"] += 1
        return
    if not _is_image(attachment):
        context.report.skip(
            "attachment", label,
            "not an image (Circle's library holds images); kept as a link",
        )
        context.linked.add(attachment.url)
        return
    if context.options.uploads is None:
        context.report.skipped_counts["attachment"] += 1
        context.not_hosted += 1
        context.linked.add(attachment.url)
        return
    path = _local_file(context, attachment)
    if path is None:
        context.report.fail(
            "attachment", label,
            f"no file {attachment.file or attachment.url} under --uploads; kept as a link",
        )
        context.linked.add(attachment.url)
        return
    uploader = uploader_for(context, attachment.creator)
    if uploader is None:
        context.report.fail("attachment", label, "nobody here may upload images")
        context.linked.add(attachment.url)
        return
    alt = " ".join((attachment.alt or attachment.title or "").split())
    alt = alt[: media_service.ALT_MAX_LENGTH]
    try:
        with path.open("rb") as handle:
            media = media_service.save_upload(
                FileStorage(stream=handle, filename=path.name),
                uploader,
                alt,
                quota=False,
            )
    except ServiceError as error:
        context.report.fail("attachment", label, f"{error.message} Kept as a link.")
        context.linked.add(attachment.url)
        return
    context.new_media.append(media)
    media.wp_attachment_id = attachment.wp_id
    if attachment.date is not None:
        media.created_at = attachment.date
    context.media[attachment.wp_id] = (media_service.largest_url(media), media.alt, media.id)
    context.report.created["image"] += 1


def remove_new_files(context: ImportContext) -> None:
    """Delete the files of images this run stored (after a rollback)."""
    media_service.storage().delete(
        [name for media in context.new_media for name in media_service.file_names(media)]
    )
