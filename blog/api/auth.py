"""Who is calling the API: a personal token in `Authorization: Bearer …`, never a cookie.

The API does not look at the session cookie at all, so a page on another site
cannot make a signed-in browser write through it (and CSRF does not apply).
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from functools import wraps

from flask import current_app, g, request
from flask_limiter.util import get_remote_address

from ..extensions import limiter
from ..models import AnonymousUser, Permission
from ..services import tokens as token_service
from .errors import ApiError, unauthorized

DEFAULT_READ_LIMIT = "300 per minute"
DEFAULT_WRITE_LIMIT = "60 per minute"


def bearer_secret() -> str | None:
    """Return the token sent in the Authorization header, or None when there is none."""
    header = request.headers.get("Authorization")
    if header is None:
        return None
    scheme, _, secret = header.strip().partition(" ")
    if scheme.lower() != "bearer" or not secret.strip():
        raise unauthorized(
            "Send your API token as Authorization: Bearer <token>.", "invalid_request"
        )
    return secret.strip()


def api_user():
    """Return the token's owner, or an anonymous visitor; a bad token is refused (401)."""
    if "api_user" not in g:
        secret = bearer_secret()
        if secret is None:
            g.api_user = AnonymousUser()
        else:
            user = token_service.user_for_token(secret)
            if user is None:
                raise unauthorized(
                    "That API token is not valid: it may have been revoked.", "invalid_token"
                )
            g.api_user = user
    return g.api_user


def is_authenticated() -> bool:
    """Return True when this request carried a valid token (without raising)."""
    user = g.get("api_user")
    return user is not None and user.is_authenticated


def token_required(perm: Permission) -> Callable:
    """Require a valid token whose owner holds perm: 401 without one, 403 without perm."""

    def decorator(view: Callable) -> Callable:
        """Wrap one view."""

        @wraps(view)
        def wrapped(*args, **kwargs):
            """Check the token and the permission, then run the view."""
            user = api_user()
            if not user.is_authenticated:
                raise unauthorized("This needs an API token: Authorization: Bearer <token>.")
            if not user.can(perm):
                raise ApiError(403, "Your role may not do this.")
            return view(*args, **kwargs)

        return wrapped

    return decorator


def _write_key() -> str:
    """Writes are counted per token (hashed), or per address when no token is sent."""
    header = request.headers.get("Authorization", "")
    if header.lower().startswith("bearer "):
        return "token:" + hashlib.sha256(header[7:].strip().encode()).hexdigest()[:32]
    return "address:" + (get_remote_address() or "unknown")


def _read_limit() -> str:
    """The reading limit in force (API_READ_LIMIT)."""
    return current_app.config.get("API_READ_LIMIT", DEFAULT_READ_LIMIT)


def _write_limit() -> str:
    """The writing limit in force (API_WRITE_LIMIT)."""
    return current_app.config.get("API_WRITE_LIMIT", DEFAULT_WRITE_LIMIT)


# One budget for all reads per address, and one for all writes per token.
read_limit = limiter.shared_limit(_read_limit, scope="api-read")
write_limit = limiter.shared_limit(_write_limit, scope="api-write", key_func=_write_key)
