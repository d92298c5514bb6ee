"""The query planners' statistics, kept current after the writes that change a site at once.

An import or a restore fills tables in one go; until the database has looked at them again
its planner guesses, and a guess can turn a listing into a scan. Both finish with
refresh_statistics(). SQLite connections also run PRAGMA optimize (blog/__init__.py).
"""

from __future__ import annotations

from sqlalchemy import text

from ..extensions import db
from . import unit_of_work


def refresh_statistics() -> None:
    """Run ANALYZE on the whole database (SQLite and PostgreSQL); joins an open unit of work."""
    with unit_of_work():
        db.session.execute(text("ANALYZE"))
