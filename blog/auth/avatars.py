"""Your picture on the account page: upload one (cropped square), or remove it."""

from __future__ import annotations

from flask import flash, redirect, render_template, url_for
from flask_login import current_user, login_required

from ..extensions import limiter
from ..forms import show_service_error
from ..services import ServiceError
from ..services import media as media_service
from .forms import AvatarForm, PasswordChangeForm, ProfileForm
from .views import bp


@bp.context_processor
def avatar_context() -> dict:
    """Give the account page its picture form, when the person may have a picture."""
    return {
        "may_have_avatar": lambda: media_service.may_have_avatar(current_user),
        "empty_avatar_form": lambda: AvatarForm(formdata=None),
        "upload_limit": media_service.upload_limit_text,
    }


def _account_page(form: AvatarForm, status: int):
    """The account page again, with what went wrong beside the picture field."""
    return (
        render_template(
            "auth/account.html",
            profile=ProfileForm(formdata=None, obj=current_user),
            password_form=PasswordChangeForm(formdata=None),
            avatar_form_filled=form,
        ),
        status,
    )


@bp.route("/account/avatar", methods=["POST"])
@login_required
@limiter.limit("30 per hour")
def upload_avatar():
    """Check the image, crop it square and show it as your picture."""
    form = AvatarForm()
    if not form.validate_on_submit():
        return _account_page(form, 400)
    try:
        media_service.set_avatar(current_user, form.file.data)
    except ServiceError as error:
        show_service_error(form, error)  # a refusal (403) is raised again
        if isinstance(error, media_service.QuotaExceeded):
            return _account_page(form, error.status)
        return _account_page(form, 413 if isinstance(error, media_service.UploadTooLarge) else 400)
    flash("Your picture is saved.", "success")
    return redirect(url_for("auth.account"))


@bp.route("/account/avatar/remove", methods=["POST"])
@login_required
def remove_avatar():
    """Go back to initials instead of a picture (CSRFProtect has checked the token)."""
    media_service.remove_avatar(current_user)
    flash("Your picture is removed.", "success")
    return redirect(url_for("auth.account"))
