"""Personal API tokens: created and revoked by their owner, stored only as a hash.

A token is shown once, when it is made: `circle_<prefix>_<random>`. The database
keeps the sha256 of the whole secret (a lookup by hash needs no secret comparison
that could leak timing) and the prefix, so the owner can tell tokens apart.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from datetime import timedelta

from sqlalchemy import select, update
from sqlalchemy.orm import joinedload

from ..extensions import db
from ..models import ApiToken, Permission, User, utcnow
from . import Forbidden, NotFound, ServiceError, unit_of_work

SECRET_START = "circle_"
MAX_NAME = 80
MAX_ACTIVE_TOKENS = 20
MAX_SECRET_LENGTH = 200
# last_used_at is written at most this often, so reads do not write on every request.
LAST_USED_RESOLUTION = timedelta(minutes=1)
ONLY_WRITERS = (
    "API tokens are for authors, editors and admins: they let a program write posts "
    "as you. Readers do not need one to read the API."
)


def hash_secret(secret: str) -> str:
    """Return the sha256 hex digest the database keeps for a secret."""
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()


@unit_of_work()
def create_token(user: User, name: str) -> tuple[ApiToken, str]:
    """Make a token for user; return it and its secret, which is never shown again."""
    if not user.can(Permission.WRITE):
        raise Forbidden(ONLY_WRITERS)
    name = " ".join((name or "").split())
    if not name:
        raise ServiceError("Name the token after what will use it, like “newsroom script”.", "name")
    if len(name) > MAX_NAME:
        raise ServiceError(f"Keep the name to {MAX_NAME} characters or fewer.", "name")
    if len(list_tokens(user)) >= MAX_ACTIVE_TOKENS:
        raise ServiceError(
            f"You already have {MAX_ACTIVE_TOKENS} tokens; revoke one you no longer use first.",
            "name",
        )
    prefix = secrets.token_hex(4)
    secret = f"{SECRET_START}{prefix}_{secrets.token_urlsafe(32)}"
    token = ApiToken(user=user, name=name, prefix=prefix, token_hash=hash_secret(secret))
    db.session.add(token)
    return token, secret


def list_tokens(user: User) -> list[ApiToken]:
    """The owner's tokens that still work, newest first."""
    return list(
        db.session.scalars(
            select(ApiToken)
            .where(ApiToken.user_id == user.id, ApiToken.revoked_at.is_(None))
            .order_by(ApiToken.created_at.desc(), ApiToken.id.desc())
        )
    )


@unit_of_work()
def revoke_token(user: User, token_id: int) -> ApiToken:
    """Revoke one of the user's own tokens; it stops working at once."""
    token = db.session.get(ApiToken, token_id)
    if token is None or token.user_id != user.id or token.revoked_at is not None:
        raise NotFound("No such token.")
    token.revoked_at = utcnow()
    return token


def user_for_token(secret: str | None) -> User | None:
    """Return the active person a secret belongs to, or None; note when it was used."""
    if not secret or len(secret) > MAX_SECRET_LENGTH or not secret.startswith(SECRET_START):
        return None
    digest = hash_secret(secret)
    token = db.session.scalar(
        select(ApiToken).where(ApiToken.token_hash == digest).options(joinedload(ApiToken.user))
    )
    if token is None or not hmac.compare_digest(token.token_hash, digest):
        return None
    if token.revoked_at is not None:
        return None
    user = token.user
    if user is None or not user.is_active:
        return None
    now = utcnow()
    if token.last_used_at is None or now - token.last_used_at >= LAST_USED_RESOLUTION:
        with unit_of_work():
            db.session.execute(
                update(ApiToken).where(ApiToken.id == token.id).values(last_used_at=now)
            )
    return user
