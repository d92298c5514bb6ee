"""Forgotten passwords: ask for a reset link by mail, then choose a new password with it.

The link is signed, works once (it carries a digest of the password it replaces) and
for PASSWORD_RESET_MAX_AGE seconds; its address is built from SITE_URL only, never
from the request. Asking gives the same answer whether or not the address is known.
"""

from __future__ import annotations

import hashlib

from flask import current_app
from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer

from ..extensions import db
from ..hosts import absolute_url
from ..models import User
from . import ServiceError, mail, unit_of_work
from . import users as user_service


def _reset_serializer() -> URLSafeTimedSerializer:
    """Return the signer for password reset links."""
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt="circle-password-reset")


def _password_fingerprint(user: User) -> str:
    """Digest of the current password hash: it changes once the link is used."""
    return hashlib.sha256((user.password_hash or "unset").encode()).hexdigest()[:16]


def make_reset_token(user: User) -> str:
    """Return a signed token for a one-time password reset link."""
    return _reset_serializer().dumps({"u": user.id, "f": _password_fingerprint(user)})


def request_reset(email: str) -> None:
    """Mail a reset link to the active account that uses this address, if there is one.

    Nothing tells the caller whether one was sent: the answer is the same either way.
    """
    user = user_service.find_by_login(email)
    if user is None or not user.is_active or "@" not in (email or ""):
        return
    link = absolute_url("auth.reset_password", token=make_reset_token(user))
    # Sent now, not through the queue: the person is waiting for it.
    mail.send(
        mail.compose(
            user.email,
            f"Choose a new password for {current_app.config['SITE_NAME']}",
            "reset_password",
            name=user.name,
            link=link,
        )
    )


def user_for_reset_token(token: str) -> User:
    """Return the user a valid, unused, unexpired reset token belongs to."""
    max_age = current_app.config["PASSWORD_RESET_MAX_AGE"]
    try:
        data = _reset_serializer().loads(token, max_age=max_age)
    except SignatureExpired as exc:
        raise ServiceError("This reset link has expired. Ask for a new one.") from exc
    except BadSignature as exc:
        raise ServiceError("This reset link is not valid. Ask for a new one.") from exc
    user = db.session.get(User, data.get("u")) if isinstance(data, dict) else None
    if user is None or data.get("f") != _password_fingerprint(user) or not user.is_active:
        raise ServiceError("This reset link has already been used or is no longer valid.")
    return user


@unit_of_work()
def reset_password(token: str, new: str) -> User:
    """Set a new password through a reset link; the link then stops working."""
    user = user_for_reset_token(token)
    user_service.set_password(user, new)
    return user
