"""API tokens on the account page: make one (shown once), see them, revoke them.

The new secret is rendered in the answer to the POST itself, never put in a flash
message: flashes travel in the session cookie, which is signed but not encrypted.
"""

from __future__ import annotations

from flask import abort, flash, redirect, render_template, url_for
from flask_login import current_user, login_required
from flask_wtf import FlaskForm
from wtforms import StringField
from wtforms.validators import DataRequired, Length

from ..extensions import limiter
from ..models import Permission
from ..permissions import recent_auth_required
from ..services import Forbidden, ServiceError
from ..services import tokens as token_service
from .forms import PasswordChangeForm, ProfileForm
from .views import bp


class TokenForm(FlaskForm):
    """Name a new API token."""

    name = StringField(
        "Token name",
        validators=[DataRequired(), Length(max=token_service.MAX_NAME)],
        description="What will use it, like “newsroom script”.",
        id="token-name",
    )


class RevokeTokenForm(FlaskForm):
    """Revoke a token (the CSRF token is all it sends)."""


@bp.context_processor
def api_token_context() -> dict:
    """Give the account pages their token section, loaded only when the page asks."""
    return {
        "api_tokens": lambda: token_service.list_tokens(current_user),
        "empty_token_form": lambda: TokenForm(formdata=None),
    }


def _account_page(token_form: TokenForm | None = None, new_secret: str | None = None, status=200):
    """Render the account page, with the token form and any secret just made."""
    page = render_template(
        "auth/account.html",
        profile=ProfileForm(formdata=None, obj=current_user),
        password_form=PasswordChangeForm(formdata=None),
        token_form_filled=token_form,
        new_secret=new_secret,
    )
    headers = {"Cache-Control": "no-store"} if new_secret else {}
    return page, status, headers


@bp.route("/account/tokens", methods=["POST"])
@login_required
@recent_auth_required(back="auth.account")
@limiter.limit("20 per hour")
def create_api_token():
    """Make a personal API token and show its secret, this once."""
    if not current_user.can(Permission.WRITE):
        flash(token_service.ONLY_WRITERS, "error")
        return _account_page(status=403)
    form = TokenForm()
    if not form.validate_on_submit():
        return _account_page(form, status=400)
    try:
        _token, secret = token_service.create_token(current_user, form.name.data)
    except Forbidden as error:
        flash(error.message, "error")
        return _account_page(status=403)
    except ServiceError as error:
        form.name.errors = [*form.name.errors, error.message]
        return _account_page(form, status=400)
    return _account_page(new_secret=secret)


@bp.route("/account/tokens/<int:token_id>/revoke", methods=["POST"])
@login_required
@recent_auth_required(back="auth.account")
def revoke_api_token(token_id: int):
    """Revoke one of the signed-in person's tokens."""
    form = RevokeTokenForm()
    if not form.validate_on_submit():
        abort(400)
    token = token_service.revoke_token(current_user, token_id)
    flash(f"The token “{token.name}” is revoked: programs using it are refused from now on.",
          "success")
    return redirect(url_for("auth.account"))
