"""Account views: thin wrappers around the users service."""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import (
    Blueprint,
    current_app,
    flash,
    g,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_limiter.util import get_remote_address
from flask_login import current_user, login_required

from .. import signin
from ..extensions import limiter
from ..forms import show_service_error
from ..permissions import recent_auth_required
from ..services import ServiceError, sign_ins
from ..services import passwords as password_service
from ..services import two_factor as two_factor_service
from ..services import users as user_service
from . import pending
from .forms import (
    LoginForm,
    PasswordChangeForm,
    ProfileForm,
    ReauthenticateForm,
    RegisterForm,
    ResetPasswordForm,
    ResetRequestForm,
)

bp = Blueprint("auth", __name__)

LOGIN_FAILED = "That email address or username and password do not match an account."
RESET_SENT = (
    "If an account uses that address, a link to choose a new password is on its way. "
    "It works once, within an hour."
)


def safe_next(target: str | None) -> str | None:
    """Return target when it is a path on this site, else None."""
    if not target:
        return None
    target = target.strip()
    if any(ch in target for ch in "\\\r\n\t") or not target.startswith("/"):
        return None
    if target.startswith("//"):
        return None
    parts = urlsplit(target)
    if parts.scheme or parts.netloc:
        return None
    return target


def _account_key() -> str:
    """Rate-limit key for sign-in attempts: the account being tried."""
    ident = (request.form.get("login") or "").strip().lower()[:254]
    return f"account:{ident}"


def _address_key() -> str:
    """Rate-limit key for failed sign-ins across accounts: the client's address.

    The address is the socket's unless CIRCLE_PROXY_COUNT names proxies to trust,
    so a made-up X-Forwarded-For header cannot give an attacker a fresh budget.
    """
    return "address:" + (get_remote_address() or "unknown")


def _login_failed(_response) -> bool:
    """Count only failed sign-ins against the limits."""
    return bool(g.get("login_failed"))


def _reauth_key() -> str:
    """Rate-limit key for re-authentication: the signed-in person."""
    return f"reauth:{getattr(current_user, 'id', None)}"


def _sign_in(user, remember: bool = False) -> None:
    """Sign in someone who has proved who they are: the one way into a session.

    A new server-side session starts, the CSRF secret is renewed, and with
    remember a rotating "keep me signed in" cookie is set.
    """
    signin.sign_in(user, remember)


def _locked_out(limit) -> None:
    """A sign-in refused by a limit (right password or wrong): write the lock-out to the log."""
    by_account = any(str(arg).startswith("account:") for arg in limit.request_args)
    kind = "account" if by_account else "address"
    sign_ins.record_lockout(kind, request.form.get("login") or "", str(limit.limit))


def _reset_key() -> str:
    """Rate-limit key for reset requests: the address asked about."""
    return "reset:" + (request.form.get("email") or "").strip().lower()[:254]


def _failed_sign_in_limit(setting: str, key_func):
    """A limit on failed sign-ins; once reached, the right password is refused too."""
    return limiter.limit(
        lambda: current_app.config[setting],
        key_func=key_func,
        methods=["POST"],
        deduct_when=_login_failed,
        on_breach=_locked_out,
    )


@bp.route("/login", methods=["GET", "POST"])
@_failed_sign_in_limit("LOGIN_LIMIT_PER_ACCOUNT", _account_key)
@_failed_sign_in_limit("LOGIN_LIMIT_PER_ADDRESS", _address_key)
def login():
    """Sign in with an email address or username."""
    next_url = safe_next(request.args.get("next"))
    if current_user.is_authenticated:
        # The shared reader pages offer "Sign in" to everyone: a signed-in reader without
        # scripts is taken to their account, where they can also sign out.
        return redirect(next_url or url_for("auth.account"))
    form = LoginForm()
    if form.validate_on_submit():
        try:
            user = user_service.authenticate(form.login.data, form.password.data)
        except user_service.AccountSuspended as suspended:
            g.login_failed = True  # counts against the limits like any refused sign-in
            flash(suspended.message, "error")
            return render_template("auth/login.html", form=form, next_url=next_url)
        if user is not None:
            return _finish_password_step(user, form.remember.data, next_url)
        g.login_failed = True
        sign_ins.record_failed_sign_in(form.login.data)
        flash(LOGIN_FAILED, "error")
    return render_template("auth/login.html", form=form, next_url=next_url)


def _finish_password_step(user, remember: bool, next_url: str | None):
    """After the right password: sign in, or ask for the second factor first."""
    if pending.needs_code(user):
        pending.begin(user, remember, next_url)
        return redirect(url_for("auth.two_factor_login"))
    return welcome(user, remember, next_url)


def welcome(user, remember: bool, next_url: str | None):
    """Sign in and go on; staff who must set up two-factor are sent to do it first."""
    _sign_in(user, remember)
    flash(f"Welcome back, {user.name}.", "success")
    if two_factor_service.setup_required(user):
        flash(two_factor_service.SETUP_REQUIRED, "info")
        return redirect(url_for("auth.two_factor_setup", next=next_url))
    return redirect(next_url or url_for("public.home"))


@bp.route("/logout", methods=["POST"])
def logout():
    """Sign out (POST only, with the CSRF token): this session ends on the server."""
    signin.sign_out()
    flash("You are signed out.", "info")
    return redirect(url_for("public.home"))


@bp.route("/register", methods=["GET", "POST"])
@limiter.limit(
    lambda: current_app.config["REGISTER_LIMIT_PER_ADDRESS"],
    key_func=lambda: "register:" + (get_remote_address() or "unknown"),
    methods=["POST"],
)
def register():
    """Open a reader account and sign in."""
    if current_user.is_authenticated:
        return redirect(url_for("public.home"))
    form = RegisterForm()
    if form.validate_on_submit():
        try:
            user = user_service.register_reader(
                form.email.data, form.username.data, form.password.data
            )
        except ServiceError as error:
            show_service_error(form, error)
        else:
            _sign_in(user)
            flash("Welcome to the circle. Your account is ready.", "success")
            return redirect(url_for("auth.account"))
    return render_template("auth/register.html", form=form)


@bp.route("/account", methods=["GET", "POST"])
@login_required
def account():
    """Show and save the profile; the password form posts elsewhere."""
    profile = ProfileForm(obj=current_user)
    if profile.validate_on_submit():
        try:
            user_service.update_profile(
                current_user, profile.display_name.data, profile.bio.data, profile.links.data
            )
        except ServiceError as error:
            show_service_error(profile, error)
        else:
            flash("Your profile is saved.", "success")
            return redirect(url_for("auth.account"))
    status = 400 if profile.is_submitted() else 200
    return render_template(
        "auth/account.html", profile=profile, password_form=PasswordChangeForm(formdata=None)
    ), status


@bp.route("/account/password", methods=["POST"])
@login_required
@recent_auth_required(back="auth.account")
@limiter.limit("10 per hour")
def change_password():
    """Change the password; other sessions end, this one carries on."""
    form = PasswordChangeForm()
    if form.validate_on_submit():
        try:
            user_service.change_password(
                current_user,
                form.current_password.data,
                form.new_password.data,
                keep=current_user.current_session,
            )
        except ServiceError as error:
            show_service_error(form, error)
        else:
            flash("Your password is changed.", "success")
            return redirect(url_for("auth.account"))
    profile = ProfileForm(formdata=None, obj=current_user)
    return render_template("auth/account.html", profile=profile, password_form=form), 400


@bp.route("/reauthenticate", methods=["GET", "POST"])
@login_required
@limiter.limit(
    "5 per minute; 20 per hour", key_func=_reauth_key, methods=["POST"], deduct_when=_login_failed
)
def reauthenticate():
    """Confirm the password before a sensitive action, then go back to it."""
    next_url = safe_next(request.args.get("next")) or url_for("auth.account")
    form = ReauthenticateForm()
    if form.validate_on_submit():
        try:
            user_service.confirm_password(
                current_user, current_user.current_session, form.password.data
            )
        except ServiceError as error:
            g.login_failed = True
            show_service_error(form, error)
        else:
            flash("Thank you. You can carry on.", "success")
            return redirect(next_url)
    return render_template("auth/reauthenticate.html", form=form, next_url=next_url)


@bp.route("/reset-password", methods=["GET", "POST"])
@limiter.limit("5 per hour", methods=["POST"], key_func=_reset_key)
@limiter.limit("20 per hour", methods=["POST"])
def reset_request():
    """Send a reset link; the answer is the same whether the address is known."""
    form = ResetRequestForm()
    if form.validate_on_submit():
        password_service.request_reset(form.email.data)
        flash(RESET_SENT, "info")
        return redirect(url_for("auth.login"))
    return render_template("auth/reset_request.html", form=form)


@bp.route("/reset-password/<token>", methods=["GET", "POST"])
@limiter.limit("20 per hour", methods=["POST"])
def reset_password(token: str):
    """Choose a new password through a signed, expiring, single-use link."""
    try:
        password_service.user_for_reset_token(token)
    except ServiceError as error:
        flash(error.message, "error")
        return redirect(url_for("auth.reset_request"))
    form = ResetPasswordForm()
    if form.validate_on_submit():
        try:
            password_service.reset_password(token, form.password.data)
        except ServiceError as error:
            show_service_error(form, error)
        else:
            flash("Your new password is set. Please sign in.", "success")
            return redirect(url_for("auth.login"))
    return render_template("auth/reset_password.html", form=form)
