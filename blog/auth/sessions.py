"""Signed-in devices on the account page: see them, sign one out, or all of them."""

from __future__ import annotations

from flask import abort, flash, redirect, url_for
from flask_login import current_user, login_required

from .. import signin
from ..services import sessions as session_service
from .forms import EndSessionForm
from .views import bp


@bp.context_processor
def sessions_context() -> dict:
    """Give the account page its list of devices, loaded only when the page asks."""
    return {"signed_in_sessions": lambda: session_service.active_sessions(current_user)}


def _checked_form() -> None:
    """Refuse a sign-out form without a valid CSRF token."""
    if not EndSessionForm().validate_on_submit():
        abort(400)


@bp.route("/account/sessions/<int:session_id>/end", methods=["POST"])
@login_required
def end_session(session_id: int):
    """Sign out one of your devices."""
    _checked_form()
    row = session_service.end_session_by_id(current_user, session_id)
    if row.id == current_user.current_session.id:
        signin.sign_out()
        flash("You are signed out.", "info")
        return redirect(url_for("public.home"))
    flash(f"The session on {row.device} is signed out.", "success")
    return redirect(url_for("auth.account") + "#sessions")


@bp.route("/account/sessions/end-others", methods=["POST"])
@login_required
def end_other_sessions():
    """Sign out on every device but this one."""
    _checked_form()
    ended = session_service.end_other_sessions(current_user, current_user.current_session)
    flash(
        f"You are signed out on every other device ({ended} "
        f"session{'s' if ended != 1 else ''}). This one stays signed in.",
        "success",
    )
    return redirect(url_for("auth.account") + "#sessions")


@bp.route("/account/sessions/end-all", methods=["POST"])
@login_required
def end_every_session():
    """Sign out everywhere, this device included."""
    _checked_form()
    session_service.end_every_session(current_user)
    signin.sign_out()
    flash("You are signed out everywhere, on this device too.", "info")
    return redirect(url_for("public.home"))
