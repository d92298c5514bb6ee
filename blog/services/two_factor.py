"""Two-factor authentication: authenticator codes (TOTP), recovery codes, remembered browsers.

The TOTP secret is stored encrypted with a key derived from SECRET_KEY (so changing
SECRET_KEY turns every second factor off in practice: an admin resets them). Recovery
codes are stored only as hashes. A code is accepted once: the last time step used is
kept, and a code from that step or an earlier one is refused.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import re
import secrets
import time
from datetime import timedelta

import pyotp
import segno
from flask import current_app
from itsdangerous import BadSignature, URLSafeSerializer
from sqlalchemy import delete, func, or_, select, update
from sqlalchemy.orm.attributes import set_committed_value

from ..extensions import db
from ..models import Permission, RecoveryCode, User, utcnow
from . import Forbidden, ServiceError, audit, sealed, sessions, unit_of_work
from . import settings as site_settings

RECOVERY_CODE_COUNT = 10
_RECOVERY_ALPHABET = "abcdefghijkmnpqrstuvwxyz23456789"  # no l, o, 0 or 1 to misread
_RECOVERY_GROUPS = 3
_RECOVERY_GROUP_LENGTH = 5
_CODE_RE = re.compile(r"^\d{6}$")

WRONG_CODE = "That code is not right, or it was already used. Try the newest code from your app."
WRONG_RECOVERY_CODE = "That recovery code is not right, or it was already used."
ALREADY_ON = "Two-factor authentication is already on."
NOT_ON = "Two-factor authentication is not on."
SETUP_REQUIRED = (
    "This site asks editors and admins to use two-factor authentication. "
    "Set it up now to reach the staff pages."
)


def clock() -> float:
    """Return the time the rules read, in seconds (tests replace this)."""
    return time.time()


# --- The secret, encrypted at rest -----------------------------------------------


_SALT, _INFO = b"circle-two-factor", b"totp secret"


def _encrypt(secret: str) -> str:
    """Encrypt a TOTP secret for the database."""
    return sealed.seal(secret, _SALT, _INFO)


def _decrypt(stored: str | None) -> str | None:
    """Return the TOTP secret, or None when there is none or it cannot be read."""
    return sealed.unseal(stored, _SALT, _INFO)


# --- Checking codes --------------------------------------------------------------


def _digits(code: str | None) -> str:
    """Return a typed code without the spaces people put in it."""
    return "".join((code or "").split())


def _accept_totp(user: User, secret: str | None, code: str | None, now: float | None) -> bool:
    """Accept a code of the previous, current or next 30 seconds, once.

    The time step is stored with a conditional UPDATE, so two requests racing
    with the same code cannot both pass.
    """
    code = _digits(code)
    if secret is None or not _CODE_RE.match(code):
        return False
    totp = pyotp.TOTP(secret)
    current = int((clock() if now is None else now) // totp.interval)
    matched = next(
        (s for s in (current - 1, current, current + 1)
         if hmac.compare_digest(totp.generate_otp(s), code)),
        None,
    )
    if matched is None:
        return False
    result = db.session.execute(
        update(User)
        .where(
            User.id == user.id,
            or_(User.totp_last_step.is_(None), User.totp_last_step < matched),
        )
        .values(totp_last_step=matched)
        .execution_options(synchronize_session=False)
    )
    if result.rowcount != 1:
        return False
    set_committed_value(user, "totp_last_step", matched)
    return True


def _normalise_recovery_code(code: str | None) -> str:
    """Return a recovery code as stored: lower case, without spaces or dashes."""
    return re.sub(r"[\s-]", "", (code or "").lower())[:64]


def _hash_recovery_code(user: User, code: str) -> str:
    """Hash a recovery code, salted with its owner so one hash cannot match two people."""
    return hashlib.sha256(f"{user.id}:{_normalise_recovery_code(code)}".encode()).hexdigest()


def _use_recovery_code(user: User, code: str | None) -> bool:
    """Spend one unused recovery code; False when it is wrong or already spent."""
    if not _normalise_recovery_code(code):
        return False
    found = db.session.scalar(
        select(RecoveryCode.id).where(
            RecoveryCode.user_id == user.id,
            RecoveryCode.code_hash == _hash_recovery_code(user, code),
            RecoveryCode.used_at.is_(None),
        )
    )
    if found is None:
        return False
    result = db.session.execute(
        update(RecoveryCode)
        .where(RecoveryCode.id == found, RecoveryCode.used_at.is_(None))
        .values(used_at=utcnow())
        .execution_options(synchronize_session=False)
    )
    return result.rowcount == 1


def _new_recovery_codes(user: User) -> list[str]:
    """Replace a person's recovery codes with ten new ones; return them (shown once)."""
    db.session.execute(delete(RecoveryCode).where(RecoveryCode.user_id == user.id))
    codes = [
        "-".join(
            "".join(secrets.choice(_RECOVERY_ALPHABET) for _ in range(_RECOVERY_GROUP_LENGTH))
            for _ in range(_RECOVERY_GROUPS)
        )
        for _ in range(RECOVERY_CODE_COUNT)
    ]
    for code in codes:
        db.session.add(RecoveryCode(user_id=user.id, code_hash=_hash_recovery_code(user, code)))
    return codes


def _check_either(user: User, code: str | None) -> bool:
    """Accept an authenticator code or, failing that, a recovery code."""
    if _CODE_RE.match(_digits(code)):
        return _accept_totp(user, _decrypt(user.totp_secret), code, None)
    return _use_recovery_code(user, code)


# --- Setting up and turning off ----------------------------------------------------


def start_setup(user: User) -> str:
    """Return the secret to set up an authenticator with, making one if needed.

    The secret waits, unconfirmed, until a code from it turns two-factor on.
    """
    if user.has_two_factor:
        raise ServiceError(ALREADY_ON)
    secret = _decrypt(user.totp_secret)
    if secret is None:
        secret = pyotp.random_base32()
        with unit_of_work():
            user.totp_secret = _encrypt(secret)
    return secret


def provisioning_uri(user: User, secret: str) -> str:
    """Return the otpauth:// address an authenticator app reads from the QR code."""
    issuer = site_settings.current().site_name
    return pyotp.TOTP(secret).provisioning_uri(name=user.email, issuer_name=issuer)


def qr_code_data_uri(uri: str) -> str:
    """Draw the QR code of uri on the server, as an SVG data: address."""
    return segno.make(uri, error="m").svg_data_uri(scale=5, light="#fff", dark="#000")


@unit_of_work()
def enable(user: User, code: str | None, now: float | None = None) -> list[str]:
    """Turn two-factor on once a code from the new secret is right; return recovery codes."""
    if user.has_two_factor:
        raise ServiceError(ALREADY_ON)
    secret = _decrypt(user.totp_secret)
    if secret is None:
        raise ServiceError("Start the set-up again: scan the new QR code.")
    if not _accept_totp(user, secret, code, now):
        raise ServiceError(WRONG_CODE, "code")
    user.two_factor_enabled_at = utcnow()
    user.two_factor_epoch = (user.two_factor_epoch or 0) + 1
    codes = _new_recovery_codes(user)
    audit.record(user, "user.2fa_enable", user)
    return codes


def _turn_off(user: User) -> None:
    """Forget the secret, the recovery codes and every remembered browser."""
    user.totp_secret = None
    user.two_factor_enabled_at = None
    user.totp_last_step = None
    user.two_factor_epoch = (user.two_factor_epoch or 0) + 1
    db.session.execute(delete(RecoveryCode).where(RecoveryCode.user_id == user.id))


@unit_of_work()
def disable(user: User, code: str | None) -> None:
    """Turn two-factor off, with an authenticator code or a recovery code."""
    if not user.has_two_factor:
        raise ServiceError(NOT_ON)
    if not _check_either(user, code):
        raise ServiceError(WRONG_CODE, "code")
    _turn_off(user)
    audit.record(user, "user.2fa_disable", user)


@unit_of_work()
def regenerate_recovery_codes(user: User, code: str | None) -> list[str]:
    """Replace the recovery codes after a right authenticator code; return the new ones."""
    if not user.has_two_factor:
        raise ServiceError(NOT_ON)
    if not _accept_totp(user, _decrypt(user.totp_secret), code, None):
        raise ServiceError(WRONG_CODE, "code")
    codes = _new_recovery_codes(user)
    user.two_factor_epoch = (user.two_factor_epoch or 0) + 1
    audit.record(user, "user.2fa_recovery_codes", user)
    return codes


@unit_of_work()
def forget_browsers(user: User) -> None:
    """Ask for a code again on every browser this person told to remember them."""
    user.two_factor_epoch = (user.two_factor_epoch or 0) + 1
    audit.record(user, "user.2fa_forget_browsers", user)


@unit_of_work()
def reset_by_admin(actor: User, user: User) -> None:
    """Turn off another person's lost second factor; they set it up again after signing in.

    Their sessions end too: whoever holds the lost device may hold a session.
    """
    if actor is None or not actor.can(Permission.MANAGE_USERS):
        raise Forbidden("You may not manage people.")
    if actor.id == user.id:
        raise ServiceError(
            "You cannot reset your own two-factor authentication. Ask another admin."
        )
    if not user.has_two_factor and not user.totp_secret:
        raise ServiceError(f"{user.username} has no two-factor authentication to reset.")
    _turn_off(user)
    sessions.revoke_all(user)
    audit.record(actor, "user.2fa_reset", user)


def remaining_recovery_codes(user: User) -> int:
    """Count the recovery codes a person has not used yet."""
    return db.session.scalar(
        select(func.count(RecoveryCode.id)).where(
            RecoveryCode.user_id == user.id, RecoveryCode.used_at.is_(None)
        )
    ) or 0


# --- Signing in ----------------------------------------------------------------------


@unit_of_work()
def check_sign_in_code(user: User, code: str | None, now: float | None = None) -> bool:
    """Check the authenticator code of a sign-in; it cannot be used again."""
    ok = user.has_two_factor and _accept_totp(user, _decrypt(user.totp_secret), code, now)
    return ok


@unit_of_work()
def check_sign_in_recovery_code(user: User, code: str | None) -> bool:
    """Spend a recovery code on a sign-in; the log records it."""
    ok = user.has_two_factor and _use_recovery_code(user, code)
    if ok:
        audit.record(user, "user.2fa_recovery_used", user)
    return ok


def setup_required(user: User) -> bool:
    """Return True when the site requires two-factor of this editor or admin and it is off."""
    if not user.is_authenticated or user.has_two_factor:
        return False
    if not user.role.has(Permission.REVIEW):
        return False
    return site_settings.current().require_staff_two_factor


# --- Remembered browsers ---------------------------------------------------------------


def _browser_signer() -> URLSafeSerializer:
    """Return the signer for remembered-browser cookies."""
    return URLSafeSerializer(current_app.config["SECRET_KEY"], salt="circle-2fa-browser")


def remember_days() -> int:
    """How many days a remembered browser skips the code."""
    return int(current_app.config["TWO_FACTOR_REMEMBER_DAYS"])


def remember_browser(user: User) -> str:
    """Return the signed cookie value that lets this browser skip the code for a while."""
    expires = int(clock() + timedelta(days=remember_days()).total_seconds())
    return _browser_signer().dumps(
        {"u": user.id, "e": user.two_factor_epoch, "x": expires, "n": secrets.token_hex(8)}
    )


def browser_remembered(user: User, cookie: str | None) -> bool:
    """Return True when cookie remembers this browser for user, unexpired and not forgotten."""
    if not cookie or not user.has_two_factor:
        return False
    try:
        data = _browser_signer().loads(cookie)
    except (BadSignature, json.JSONDecodeError, UnicodeDecodeError):
        return False
    if not isinstance(data, dict):
        return False
    return (
        data.get("u") == user.id
        and data.get("e") == user.two_factor_epoch
        and isinstance(data.get("x"), int)
        and clock() < data["x"]
    )


def needs_code(user: User, cookie: str | None) -> bool:
    """Return True when signing in needs a code from this person on this browser."""
    return user.has_two_factor and not browser_remembered(user, cookie)


# --- The sign-in waiting for its code ----------------------------------------------


def pending_fingerprint(user: User) -> str:
    """Return a digest that ties a waiting sign-in to the person's password and second factor.

    A password change or a reset of the second factor meanwhile ends the wait.
    """
    state = f"2fa-pending:{user.password_hash}:{user.two_factor_epoch}:{user.totp_secret}"
    return hashlib.sha256(state.encode()).hexdigest()[:32]


def user_for_pending(user_id: object, fingerprint: object) -> User | None:
    """Return the active person a waiting sign-in belongs to, if it still holds."""
    if not isinstance(user_id, int) or not isinstance(fingerprint, str):
        return None
    user = db.session.get(User, user_id)
    if user is None or not user.is_active or not user.has_two_factor:
        return None
    if not hmac.compare_digest(pending_fingerprint(user), fingerprint):
        return None
    return user


def pending_seconds() -> int:
    """How long the password step waits for its code."""
    return int(current_app.config["TWO_FACTOR_PENDING_SECONDS"])
