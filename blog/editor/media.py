"""The media library on the writing desk: upload, describe, find where used, delete."""

from __future__ import annotations

from flask import abort, flash, jsonify, redirect, render_template, request, url_for
from flask_login import current_user
from werkzeug.exceptions import RequestEntityTooLarge

from ..errors import error_response
from ..forms import page_number, show_service_error, submitted
from ..models import Permission
from ..models.media import height_for
from ..permissions import can_view_post, permission_required
from ..services import Forbidden, ServiceError, StorageFull, StoreUnavailable
from ..services import media as media_service
from .media_forms import ALT_HINT, MediaAltForm, MediaDeleteForm, MediaUploadForm
from .views import bp

THUMB_WIDTH = 160  # CSS pixels; the srcset lets sharp screens take a wider file
TOO_LARGE = "That upload is too large."




def _used_in(post) -> dict:
    """How a post using an image is shown: a link when readers can see it."""
    if post.is_live() and post.is_page:
        return {"title": post.title, "url": url_for("public.page", slug=post.slug), "status": None}
    if post.is_live():
        url = url_for("public.post", section_slug=post.category.slug, post_slug=post.slug)
        return {"title": post.title, "url": url, "status": None}
    if can_view_post(current_user, post):
        return {"title": post.title, "url": None, "status": post.status}
    return {"title": None, "url": None, "status": post.status}


def _card(media, used: list, alt_form: MediaAltForm | None = None) -> dict:
    """Everything the library shows for one image."""
    shown_width = min(THUMB_WIDTH, media.width)
    return {
        "media": media,
        "thumb": media_service.public_address(media_service.media_url(media, shown_width, True)),
        "srcset": media_service.srcset(media, webp=True),
        "thumb_width": shown_width,
        "thumb_height": height_for(media.width, media.height, shown_width),
        "full": media_service.public_address(media_service.largest_url(media)),
        "used_in": [_used_in(post) for post in used],
        "may_manage": media_service.can_manage(current_user, media),
        "alt_form": alt_form or MediaAltForm(formdata=None, prefix=f"m{media.id}", alt=media.alt),
        "delete_form": MediaDeleteForm(formdata=None, prefix=f"d{media.id}"),
    }


def _render_library(
    upload_form: MediaUploadForm | None = None,
    alt_form: MediaAltForm | None = None,
    alt_form_for: int | None = None,
    status: int = 200,
):
    """Render one page of the library, with any form that came back with errors."""
    page = page_number()
    pagination, usage = media_service.library_page(page)
    cards = [
        _card(m, usage[m.id], alt_form if m.id == alt_form_for else None)
        for m in pagination.items
    ]
    upload_form = upload_form or MediaUploadForm(formdata=None)
    return (
        render_template(
            "editor/media.html",
            pagination=pagination,
            cards=cards,
            upload_form=upload_form,
            alt_hint=ALT_HINT,
            upload_limit=media_service.upload_limit_text(),
        ),
        status,
    )


@bp.route("/media", methods=["GET"])
@permission_required(Permission.UPLOAD)
def media_library():
    """The media library: every image, newest first, with where it is used."""
    return _render_library()


@bp.route("/media", methods=["POST"])
@permission_required(Permission.UPLOAD)
def media_upload():
    """Upload one image from the library's form."""
    form = MediaUploadForm()
    if submitted(
        form,
        lambda: media_service.save_upload(form.file.data, current_user, form.alt.data),
        "The image is uploaded.",
    ):
        return redirect(url_for("editor.media_library"))
    return _render_library(upload_form=form, status=400)


@bp.route("/media/<int:media_id>/alt", methods=["POST"])
@permission_required(Permission.UPLOAD)
def media_alt(media_id: int):
    """Change an image's alt text."""
    media = media_service.get_media(media_id)
    form = MediaAltForm(prefix=f"m{media.id}")
    if submitted(
        form,
        lambda: media_service.update_alt(media, form.alt.data, current_user),
        "The alt text is saved.",
    ):
        return redirect(url_for("editor.media_library", page=request.args.get("page")))
    return _render_library(alt_form=form, alt_form_for=media.id, status=400)


@bp.route("/media/<int:media_id>/delete", methods=["POST"])
@permission_required(Permission.UPLOAD)
def media_delete(media_id: int):
    """Delete an image that nothing uses."""
    media = media_service.get_media(media_id)
    form = MediaDeleteForm(prefix=f"d{media.id}")
    if not form.validate_on_submit():
        abort(400)
    try:
        media_service.delete_media(media, current_user)
    except ServiceError as error:
        show_service_error(None, error)
        return _render_library(status=409)
    flash("The image is deleted.", "success")
    return redirect(url_for("editor.media_library", page=request.args.get("page")))


def _json_error(status: int, message: str, field: str | None = None):
    """Answer the editor's script with a JSON error."""
    response = jsonify({"error": {"status": status, "message": message, "field": field}})
    response.status_code = status
    return response


@bp.route("/media/upload.json", methods=["POST"])
@permission_required(Permission.UPLOAD)
def upload_json():
    """Upload one image dropped into the rich-text editor; answer JSON."""
    upload = request.files.get("file")
    if upload is None or not upload.filename:
        return _json_error(400, "Choose an image to upload.", "file")
    try:
        media = media_service.save_upload(upload, current_user, request.form.get("alt", ""))
    except Forbidden as error:
        return _json_error(403, error.message)
    except media_service.UploadTooLarge as error:
        return _json_error(413, error.message, error.field)
    except media_service.QuotaExceeded as error:
        return _json_error(error.status, error.message, error.field)
    except StorageFull as error:
        return _json_error(507, error.message)
    except StoreUnavailable as error:
        return _json_error(503, error.message)
    except ServiceError as error:
        return _json_error(400, error.message, error.field)
    return jsonify(media_service.as_json(media))


@bp.errorhandler(RequestEntityTooLarge)
def request_too_large(error: RequestEntityTooLarge):
    """A request bigger than MAX_CONTENT_LENGTH: say so where the upload was made."""
    if request.endpoint == "editor.upload_json":
        return _json_error(413, TOO_LARGE, "file")
    if request.endpoint == "editor.media_upload" and current_user.can(Permission.UPLOAD):
        form = MediaUploadForm(formdata=None)
        form.file.errors = [TOO_LARGE]
        return _render_library(upload_form=form, status=413)
    return error_response(413)
