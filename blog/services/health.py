"""Whether the site can do its work: the health check's one question to the database."""

from __future__ import annotations

from sqlalchemy import text

from ..extensions import db


def database_reachable() -> bool:
    """Return True when the database answers a trivial query."""
    try:
        db.session.execute(text("SELECT 1"))
    except Exception:  # any database failure means unhealthy
        db.session.rollback()
        return False
    return True
