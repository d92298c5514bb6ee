"""The magazine's use cases. Views and commands call these; they own the transaction."""

from __future__ import annotations

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
