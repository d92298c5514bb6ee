"""Failed sign-ins and lock-outs, written to the audit log.

The sign-in limits themselves are Flask-Limiter decorators on the login view;
their counters live in a storage every worker shares (Redis, or
`instance/ratelimits.sqlite`). What the log keeps: the login tried and the
address, never the password; one row per failure (the failures per address are
limited, so the rows are too) and one per lock-out and window.
"""

from __future__ import annotations

from flask import current_app
from limits import parse
from limits.strategies import FixedWindowRateLimiter
from sqlalchemy import func, select

from ..extensions import db, limiter
from ..models import User
from . import audit, client_address, unit_of_work

MAX_LOGIN_SHOWN = 120
# A lock-out is written to the log once per key in this window, however often it refuses.
LOCKOUT_LOGGED_ONCE_PER = parse("1 per 15 minutes")


def _login_shown(login: str) -> str:
    """The login as the log shows it: trimmed, one line, bounded."""
    return " ".join((login or "").split())[:MAX_LOGIN_SHOWN]


@unit_of_work()
def record_failed_sign_in(login: str) -> None:
    """Write a failed sign-in to the audit log: the login tried and the address, no password."""
    shown = _login_shown(login)
    user = db.session.scalar(
        select(User).where(
            (User.email == shown.lower()) | (func.lower(User.username) == shown.lower())
        )
    )
    audit.record(None, "sign-in.failed", user, f"login tried: {shown}")


@unit_of_work()
def record_lockout(kind: str, login: str, limit: str) -> None:
    """Write a lock-out to the audit log, once per locked key and window."""
    shown = _login_shown(login)
    key = f"{kind}:{shown.lower() if kind == 'account' else client_address()}"
    prefix = current_app.config.get("RATELIMIT_KEY_PREFIX") or "circle-rl"
    if not FixedWindowRateLimiter(limiter.storage).hit(
        LOCKOUT_LOGGED_ONCE_PER, prefix, "lockout-logged", key
    ):
        return
    if kind == "account":
        details = f"too many failed sign-ins for the login {shown!r} (limit {limit})"
    else:
        details = f"too many failed sign-ins from this address (limit {limit})"
    audit.record(None, "sign-in.lockout", None, details)
