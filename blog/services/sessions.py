"""Signed-in sessions on the server: start, check, resume, list and end them.

The browser's signed cookie holds only a random secret (under Flask-Login's
`_user_id` key); the `user_sessions` row holds its sha256. A "keep me signed in"
browser also has a second secret in its own cookie, which restores the session
after the browser restarts and is replaced each time it is used. Ending a
session (sign-out, password change, suspension, a role change, expiry) sets
`revoked_at`, after which neither secret opens anything.
"""

from __future__ import annotations

import hashlib
import re
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import delete, or_, select, update

from ..extensions import db
from ..models import Permission, User, UserSession, utcnow
from . import NotFound, unit_of_work

# Where the session's secret lives in the signed cookie (Flask-Login's key), and the
# name of our own remember-me cookie (Flask-Login's own one is never set).
SESSION_KEY = "_user_id"
REMEMBER_COOKIE = "circle_remember"
# last_seen_at is written at most this often, so ordinary requests only read.
TOUCH_EVERY = timedelta(minutes=1)


@dataclass
class Found:
    """What a session secret leads to: a person and their session, or why it ended."""

    user: User | None = None
    row: UserSession | None = None
    ended: str | None = None  # a message for the person when it expired just now


def _digest(secret: str) -> str:
    """Return the stored form of a secret."""
    return hashlib.sha256(secret.encode()).hexdigest()


_BROWSERS = (
    ("Edg/", "Edge"),
    ("OPR/", "Opera"),
    ("Firefox/", "Firefox"),
    ("HeadlessChrome/", "Chrome"),
    ("Chromium/", "Chromium"),
    ("Chrome/", "Chrome"),
    ("CriOS/", "Chrome"),
    ("FxiOS/", "Firefox"),
    ("Safari/", "Safari"),
)
_SYSTEMS = (
    ("iPhone", "iOS"),
    ("iPad", "iPadOS"),
    ("Android", "Android"),
    ("CrOS", "ChromeOS"),
    ("Windows", "Windows"),
    ("Mac OS X", "macOS"),
    ("Macintosh", "macOS"),
    ("Linux", "Linux"),
)


def describe_device(user_agent: str | None) -> str:
    """Summarise a User-Agent as "Browser on System", or the program's own name."""
    agent = (user_agent or "").strip()
    browser = next((name for mark, name in _BROWSERS if mark in agent), None)
    system = next((name for mark, name in _SYSTEMS if mark in agent), None)
    if browser and system:
        return f"{browser} on {system}"
    if browser or system:
        return browser or f"A browser on {system}"
    product = re.match(r"[A-Za-z0-9._+-]{1,40}", agent)
    return product.group(0) if product else "Unknown device"


def idle_minutes(user: User) -> int:
    """How long this person's sessions last without a request (staff are shorter)."""
    config = current_app.config
    if user.can(Permission.WRITE):
        return config["SESSION_IDLE_MINUTES_STAFF"]
    return config["SESSION_IDLE_MINUTES_READER"]


def _absolute() -> timedelta:
    """How long any session lasts after signing in."""
    return timedelta(days=current_app.config["SESSION_ABSOLUTE_DAYS"])


def _duration(minutes: int) -> str:
    """Say a number of minutes the way a person would."""
    for size, unit in ((24 * 60, "day"), (60, "hour"), (1, "minute")):
        if minutes >= size and minutes % size == 0:
            count = minutes // size
            return f"{count} {unit}{'s' if count != 1 else ''}"
    return f"{minutes} minutes"


def expiry_message(row: UserSession, user: User, now: datetime) -> str | None:
    """Why this session has run out by now, or None while it is live."""
    if now - row.created_at >= _absolute():
        days = current_app.config["SESSION_ABSOLUTE_DAYS"]
        return (
            f"For your safety you are signed out {_duration(days * 24 * 60)} after signing in. "
            "Please sign in again."
        )
    idle = idle_minutes(user)
    if now - row.last_seen_at >= timedelta(minutes=idle):
        return (
            f"You were signed out after {_duration(idle)} without activity. Please sign in again."
        )
    return None


def _ended(now: datetime):
    """SQL: the sessions that have ended (signed out, ended by someone, or too old)."""
    return or_(UserSession.revoked_at.is_not(None), UserSession.created_at < now - _absolute())


def _purge_dead(user: User, now: datetime) -> None:
    """Delete this person's ended sessions, so the table stays small."""
    db.session.execute(delete(UserSession).where(UserSession.user_id == user.id, _ended(now)))


@unit_of_work()
def purge_ended(now: datetime | None = None) -> int:
    """Delete everyone's ended sessions (the worker's hourly clean-up); return how many."""
    result = db.session.execute(delete(UserSession).where(_ended(now or utcnow())))
    return result.rowcount or 0


@unit_of_work()
def start_session(
    user: User, remember: bool, device: str, address: str, now: datetime | None = None
) -> tuple[UserSession, str, str | None]:
    """Open a session for someone who just proved who they are.

    Returns the row, the secret for the session cookie and, when asked to keep
    them signed in, the secret for the remember-me cookie.
    """
    now = now or utcnow()
    _purge_dead(user, now)
    secret = secrets.token_urlsafe(32)
    remember_secret = secrets.token_urlsafe(32) if remember else None
    row = UserSession(
        user_id=user.id,
        token_hash=_digest(secret),
        created_at=now,
        last_seen_at=now,
        authenticated_at=now,
        device=describe_device(device)[:80],
        address=(address or "")[:64],
        remember_hash=_digest(remember_secret) if remember_secret else None,
        remember_expires_at=now + _absolute() if remember_secret else None,
    )
    db.session.add(row)
    return row, secret, remember_secret


def _live(user: User | None, row: UserSession | None, now: datetime) -> Found:
    """Check a session found by one of its secrets; end it when it has run out."""
    if user is None or row is None or row.revoked_at is not None or not user.is_active:
        return Found()
    ended = expiry_message(row, user, now)
    if ended:
        with unit_of_work():
            row.revoked_at = now
            row.remember_hash = None
        return Found(ended=ended)
    return Found(user=user, row=row)


def _person_and_session(column, secret: str | None) -> tuple[User | None, UserSession | None]:
    """The person and session whose hashed secret in column matches secret, in one query."""
    found = db.session.execute(
        select(User, UserSession)
        .join(UserSession, UserSession.user_id == User.id)
        .where(column == _digest(secret or ""))
    ).first()
    return found or (None, None)


def load_session(secret: str, address: str, now: datetime | None = None) -> Found:
    """Return the person a session cookie's secret belongs to, in one query.

    last_seen_at (and the address) are written at most once a minute.
    """
    now = now or utcnow()
    result = _live(*_person_and_session(UserSession.token_hash, secret), now)
    row = result.row
    if row is not None and now - row.last_seen_at >= TOUCH_EVERY:
        with unit_of_work():
            db.session.execute(
                update(UserSession)
                .where(UserSession.id == row.id)
                .values(last_seen_at=now, address=(address or "")[:64])
            )
    return result


@unit_of_work()
def resume_session(
    remember_secret: str, address: str, now: datetime | None = None
) -> tuple[Found, str | None, str | None]:
    """Restore a remembered session from its cookie, replacing both of its secrets.

    Returns what was found and, when it is live, the new session and remember-me
    secrets: the one just used never works again.
    """
    now = now or utcnow()
    user, row = _person_and_session(UserSession.remember_hash, remember_secret)
    if row is not None and (row.remember_expires_at is None or row.remember_expires_at <= now):
        row = None
    result = _live(user, row, now)
    if result.row is None:
        return result, None, None
    secret, new_remember = secrets.token_urlsafe(32), secrets.token_urlsafe(32)
    result.row.token_hash = _digest(secret)
    result.row.remember_hash = _digest(new_remember)
    result.row.last_seen_at = now
    result.row.address = (address or "")[:64]
    return result, secret, new_remember


def revoke_all(user: User, keep: UserSession | None = None, now: datetime | None = None) -> None:
    """End every session of a person but keep (within the caller's transaction)."""
    stmt = update(UserSession).where(
        UserSession.user_id == user.id, UserSession.revoked_at.is_(None)
    )
    if keep is not None:
        stmt = stmt.where(UserSession.id != keep.id)
    db.session.execute(
        stmt.values(revoked_at=now or utcnow(), remember_hash=None),
        execution_options={"synchronize_session": False},
    )


@unit_of_work()
def end_session(row: UserSession | None) -> None:
    """Sign out one session: its cookie and its remember-me token stop working."""
    if row is None:
        return
    row.revoked_at = utcnow()
    row.remember_hash = None


@unit_of_work()
def end_other_sessions(user: User, current: UserSession | None) -> int:
    """Sign a person out on every other device; return how many sessions ended."""
    count = len(active_sessions(user)) - (1 if current is not None else 0)
    revoke_all(user, keep=current)
    return max(count, 0)


@unit_of_work()
def end_every_session(user: User) -> None:
    """Sign a person out everywhere, this device included."""
    revoke_all(user)


@unit_of_work()
def end_session_by_id(user: User, session_id: int) -> UserSession:
    """Sign out one of a person's own live sessions, chosen from their list."""
    row = db.session.get(UserSession, session_id)
    if row is None or row.user_id != user.id or row.revoked_at is not None:
        raise NotFound("That session has already ended.")
    end_session(row)
    return row


def active_sessions(user: User, now: datetime | None = None) -> list[UserSession]:
    """Return a person's live sessions, most recently used first."""
    now = now or utcnow()
    rows = db.session.scalars(
        select(UserSession)
        .where(
            UserSession.user_id == user.id,
            UserSession.revoked_at.is_(None),
            UserSession.created_at > now - _absolute(),
        )
        .order_by(UserSession.last_seen_at.desc(), UserSession.id.desc())
    ).all()
    return [row for row in rows if expiry_message(row, user, now) is None]


@unit_of_work()
def mark_authenticated(row: UserSession, now: datetime | None = None) -> None:
    """Record that the password was just entered again in this session."""
    row.authenticated_at = now or utcnow()
