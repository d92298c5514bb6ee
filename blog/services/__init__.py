"""The magazine's use cases. Views and commands call these; they own the transaction."""

from __future__ import annotations

import errno
from collections.abc import Iterator
from contextlib import contextmanager

from flask import g, has_app_context

from ..extensions import db


class ServiceError(Exception):
    """A use case refused: the message is safe to show to the person who asked."""

    def __init__(self, message: str, field: str | None = None):
        super().__init__(message)
        self.message = message
        self.field = field


class NotFound(ServiceError):
    """The thing asked for does not exist (or may not be seen)."""


class Forbidden(ServiceError):
    """The person may see the thing but not do this to it."""


class StorageFull(ServiceError):
    """The disk or the database is full: nothing was stored, and the person should know."""

    def __init__(self, message: str = ""):
        super().__init__(message or STORAGE_FULL)


class StoreUnavailable(ServiceError):
    """The media store (S3-compatible object storage) refused or could not be reached:
    nothing was stored, and the person is told to try again (503)."""


STORAGE_FULL = (
    "The server could not store your text (storage is full). "
    "Your text is kept in this browser; try again later."
)
_FULL_ERRNOS = {errno.ENOSPC, errno.EDQUOT}
# What SQLite and PostgreSQL say when they cannot grow a file (PostgreSQL's SQLSTATE 53100).
_FULL_WORDS = ("database or disk is full", "no space left on device", "53100")


def is_storage_full(error: BaseException | None) -> bool:
    """True when error, or anything that caused it, says the disk or database is full."""
    seen = 0
    while error is not None and seen < 10:
        if isinstance(error, StorageFull):
            return True
        if isinstance(error, OSError):
            if error.errno in _FULL_ERRNOS:
                return True
            break  # an OSError's words are not evidence: only its number is
        code = getattr(error, "sqlstate", None) or getattr(error, "pgcode", None)
        text = f"{code or ''} {error}".lower()
        if any(words in text for words in _FULL_WORDS):
            return True
        error = error.__cause__ or error.__context__ or getattr(error, "orig", None)
        seen += 1
    return False


def client_address() -> str:
    """The address of whoever asked, as the app noted it for this request ("" elsewhere).

    The app's plumbing notes it (blog/__init__.py), so no service reads the request.
    """
    return g.get("client_address", "") if has_app_context() else ""


@contextmanager
def unit_of_work() -> Iterator[None]:
    """One use case, one transaction: commit when the block ends, roll back if it raises.

    A unit inside another joins it, so a use case that calls another still commits
    once, at the end of the outermost one. Works as `with unit_of_work():` and as a
    decorator (`@unit_of_work()`).
    """
    info = db.session.info
    depth = info.get("circle_unit_depth", 0)
    info["circle_unit_depth"] = depth + 1
    try:
        yield
        if depth == 0:
            db.session.commit()
    except BaseException:
        if depth == 0:
            db.session.rollback()
        raise
    finally:
        info["circle_unit_depth"] = depth
