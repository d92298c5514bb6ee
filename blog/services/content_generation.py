"""The content generation: a shared number that moves whenever published content or settings do.

Cached things (the settings, comment threads, and whole pages in blog/pagecache.py) are
stored under keys that carry the generation, so one bump makes every worker and every
machine see fresh data at once. With Redis the number lives there; without it, in a
small file in the instance folder that every worker on this machine reads.
"""

from __future__ import annotations

import os
import time
from pathlib import Path

from flask import current_app

from ..extensions import cache

_KEY = "content-generation"


def _file() -> Path:
    """The generation file used when there is no Redis."""
    folder = current_app.config.get("CACHE_GENERATION_DIR") or current_app.instance_path
    return Path(folder) / f"{current_app.config['CACHE_KEY_PREFIX']}generation"


def _redis():
    """The Redis client behind the cache, when the cache is Redis."""
    if current_app.config.get("CACHE_TYPE") != "RedisCache":
        return None
    return cache.cache._write_client  # Flask-Caching's RedisCache keeps its client here


def current() -> str:
    """Return the current generation as a short string."""
    client = _redis()
    if client is not None:
        value = client.get(current_app.config["CACHE_KEY_PREFIX"] + _KEY)
        return value.decode() if value else "0"
    try:
        return str(_file().stat().st_mtime_ns)
    except FileNotFoundError:
        return "0"


def bump() -> None:
    """Move to a new generation: everything cached before is no longer used."""
    client = _redis()
    if client is not None:
        client.incr(current_app.config["CACHE_KEY_PREFIX"] + _KEY)
        return
    path = _file()
    path.parent.mkdir(parents=True, exist_ok=True)
    path.touch()
    now = time.time_ns()
    # Two bumps within the file system's clock tick must still differ.
    stat = path.stat()
    os.utime(path, ns=(now, max(now, stat.st_mtime_ns + 1)))


def cached(name: str, build, timeout: int | None = None):
    """Return the value cached for name in this generation, building it if needed."""
    key = f"{name}:{current()}"
    value = cache.get(key)
    if value is None:
        value = build()
        cache.set(key, value, timeout=timeout)
    return value


# Changes to these tables change what readers see.
_CONTENT_TYPES = ("Post", "Category", "Comment", "Tag", "Redirect", "SiteSetting", "User")


def _note_content_changes(session, _flush_context) -> None:
    """Remember, for the commit, that this transaction touched published content."""
    for obj in (*session.new, *session.dirty, *session.deleted):
        if type(obj).__name__ in _CONTENT_TYPES:
            session.info["circle_content_changed"] = True
            return


def _bump_after_commit(session) -> None:
    """After a commit that touched content, start a new generation."""
    if session.info.pop("circle_content_changed", False):
        bump()


def _forget_on_rollback(session, _previous_transaction) -> None:
    """A rolled-back transaction changed nothing."""
    session.info.pop("circle_content_changed", None)


def install_generation_hooks() -> None:
    """Bump the generation after every commit that changed content (once)."""
    from sqlalchemy import event

    from ..extensions import db

    for name, handler in (
        ("after_flush", _note_content_changes),
        ("after_commit", _bump_after_commit),
        ("after_soft_rollback", _forget_on_rollback),
    ):
        if not event.contains(db.session, name, handler):
            event.listen(db.session, name, handler)
