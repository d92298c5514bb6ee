"""Two-factor authentication: the code step of signing in, and setting it up on the account.

Secrets and recovery codes appear only in answers marked `Cache-Control: no-store`,
never in flash messages (those travel in the session cookie).
"""

from __future__ import annotations

from flask import (
    abort,
    current_app,
    flash,
    g,
    make_response,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_login import current_user, login_required

from ..extensions import limiter
from ..forms import show_service_error
from ..permissions import recent_auth_required
from ..services import ServiceError
from ..services import two_factor as two_factor_service
from . import pending
from .forms import (
    ButtonForm,
    RecoveryCodeForm,
    TwoFactorCodeForm,
    TwoFactorConfirmForm,
    TwoFactorDisableForm,
)
from .views import bp, safe_next, welcome

PENDING_EXPIRED = "Your sign-in waited too long for its code. Please sign in again."
NO_STORE = {"Cache-Control": "private, no-store"}


@bp.context_processor
def two_factor_context() -> dict:
    """Give the account page its two-factor summary, loaded only when the page asks."""
    return {
        "two_factor_codes_left": lambda: two_factor_service.remaining_recovery_codes(
            current_user
        ),
    }


# --- The second step of signing in -------------------------------------------------


def _pending_key() -> str:
    """Rate-limit key for codes: the person whose sign-in waits (else the address)."""
    waiting = pending.waiting()
    if waiting is None:
        return f"2fa-address:{request.remote_addr}"
    return f"2fa:{waiting[0].id}"


def _code_failed(_response) -> bool:
    """Count only wrong codes against the limit."""
    return bool(g.get("two_factor_failed"))


def _code_page(code_form, recovery_form, status: int = 200):
    """Render the code step."""
    return (
        render_template(
            "auth/two_factor_login.html", form=code_form, recovery_form=recovery_form
        ),
        status,
        NO_STORE,
    )


@bp.route("/login/two-factor", methods=["GET", "POST"])
@limiter.limit(
    lambda: current_app.config["TWO_FACTOR_LIMIT"],
    key_func=_pending_key,
    methods=["POST"],
    deduct_when=_code_failed,
)
def two_factor_login():
    """Take the authenticator code (or a recovery code) of a sign-in that waits for it."""
    if current_user.is_authenticated:
        return redirect(url_for("public.home"))
    waiting = pending.waiting()
    if waiting is None:
        flash(PENDING_EXPIRED, "info")
        return redirect(url_for("auth.login"))
    user, remember, next_url = waiting
    with_recovery = request.method == "POST" and "recovery_code" in request.form
    code_form = TwoFactorCodeForm(formdata=None if with_recovery else request.form or None)
    recovery_form = RecoveryCodeForm(formdata=request.form if with_recovery else None)
    form = recovery_form if with_recovery else code_form
    if not form.validate_on_submit():
        return _code_page(code_form, recovery_form, 400 if form.is_submitted() else 200)
    if with_recovery:
        ok = two_factor_service.check_sign_in_recovery_code(user, form.recovery_code.data)
    else:
        ok = two_factor_service.check_sign_in_code(user, form.code.data)
    if not ok:
        g.two_factor_failed = True
        message = (
            two_factor_service.WRONG_RECOVERY_CODE if with_recovery
            else two_factor_service.WRONG_CODE
        )
        (form.recovery_code if with_recovery else form.code).errors = [message]
        return _code_page(code_form, recovery_form, 400)
    pending.clear()
    response = make_response(welcome(user, remember, safe_next(next_url)))
    if not with_recovery and code_form.remember_browser.data:
        pending.remember_browser(response, user)
    if with_recovery:
        left = two_factor_service.remaining_recovery_codes(user)
        flash(f"You used a recovery code; {left} left. Make new ones on your account page "
              "if you are running out.", "info")
    return response


# --- Setting it up, and turning it off ------------------------------------------------


def _setup_page(status: int = 200, **given):
    """Render the two-factor page of the account: set-up, or the state and its actions."""
    context = {
        "next_url": safe_next(request.args.get("next")),
        "confirm_form": given.get("confirm_form") or TwoFactorConfirmForm(formdata=None),
        "disable_form": given.get("disable_form")
        or TwoFactorDisableForm(formdata=None, prefix="disable"),
        "regenerate_form": given.get("regenerate_form")
        or TwoFactorConfirmForm(formdata=None, prefix="regenerate"),
        "codes_left": None,
    }
    if current_user.has_two_factor:
        context["codes_left"] = two_factor_service.remaining_recovery_codes(current_user)
    else:
        secret = two_factor_service.start_setup(current_user)
        uri = two_factor_service.provisioning_uri(current_user, secret)
        context["secret"] = secret
        context["secret_groups"] = " ".join(secret[i:i + 4] for i in range(0, len(secret), 4))
        context["qr_code"] = two_factor_service.qr_code_data_uri(uri)
    return render_template("auth/two_factor_setup.html", **context), status, NO_STORE


def _codes_page(codes: list[str], heading: str):
    """Show new recovery codes, this once."""
    return (
        render_template(
            "auth/two_factor_codes.html",
            codes=codes,
            heading=heading,
            next_url=safe_next(request.args.get("next")),
        ),
        200,
        NO_STORE,
    )


@bp.route("/account/two-factor")
@login_required
@recent_auth_required(back="auth.two_factor_setup")
def two_factor_setup():
    """Set up two-factor with a QR code, or see its state and change it."""
    return _setup_page()


@bp.route("/account/two-factor/enable", methods=["POST"])
@login_required
@recent_auth_required(back="auth.two_factor_setup")
@limiter.limit("10 per 10 minutes")
def enable_two_factor():
    """Turn two-factor on after a right code from the newly scanned secret."""
    form = TwoFactorConfirmForm()
    if form.validate_on_submit():
        try:
            codes = two_factor_service.enable(current_user, form.code.data)
        except ServiceError as error:
            show_service_error(form, error)
        else:
            return _codes_page(codes, "Two-factor authentication is on")
    return _setup_page(400, confirm_form=form)


@bp.route("/account/two-factor/recovery-codes", methods=["POST"])
@login_required
@recent_auth_required(back="auth.two_factor_setup")
@limiter.limit("10 per 10 minutes")
def regenerate_recovery_codes():
    """Replace the recovery codes (the old ones stop working)."""
    form = TwoFactorConfirmForm(prefix="regenerate")
    if form.validate_on_submit():
        try:
            codes = two_factor_service.regenerate_recovery_codes(current_user, form.code.data)
        except ServiceError as error:
            show_service_error(form, error)
        else:
            return _codes_page(codes, "Your new recovery codes")
    return _setup_page(400, regenerate_form=form)


@bp.route("/account/two-factor/disable", methods=["POST"])
@login_required
@recent_auth_required(back="auth.two_factor_setup")
@limiter.limit("10 per 10 minutes")
def disable_two_factor():
    """Turn two-factor off with a code from the app or a recovery code."""
    form = TwoFactorDisableForm(prefix="disable")
    if form.validate_on_submit():
        try:
            two_factor_service.disable(current_user, form.code.data)
        except ServiceError as error:
            show_service_error(form, error)
        else:
            flash("Two-factor authentication is off. Signing in needs only your password.",
                  "success")
            response = redirect(url_for("auth.account"))
            pending.forget_browser(response)
            return response
    return _setup_page(400, disable_form=form)


@bp.route("/account/two-factor/forget-browsers", methods=["POST"])
@login_required
@recent_auth_required(back="auth.two_factor_setup")
def forget_trusted_browsers():
    """Ask for a code again on every browser that was trusted."""
    if not ButtonForm().validate_on_submit():
        abort(400)
    two_factor_service.forget_browsers(current_user)
    flash("Every trusted browser will ask for a code at the next sign-in.", "success")
    response = redirect(url_for("auth.two_factor_setup"))
    pending.forget_browser(response)
    return response
