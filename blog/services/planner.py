"""The query planners' statistics, kept current after the writes that change a site at once.

An import or a restore fills tables in one go; until the database has looked at them again
its planner guesses, and a guess can turn a listing into a scan (and on PostgreSQL a
search index that was never vacuumed is read slowly). Both finish with
refresh_statistics(). SQLite connections also run PRAGMA optimize (blog/__init__.py).
"""

from __future__ import annotations

from sqlalchemy import text

from ..extensions import db
from . import unit_of_work


def refresh_statistics() -> None:
    """Bring the planner's statistics up to date after a bulk write (import, restore).

    SQLite: ANALYZE, joining an open unit of work. PostgreSQL: VACUUM ANALYZE on a
    connection of its own (VACUUM runs outside any transaction), after the writes were
    committed: besides the statistics it empties the search index's GIN pending list,
    which every search reads row by row until then (an imported site's rare word took
    160 ms instead of a tenth of a millisecond), and marks the pages all-visible.
    """
    if db.engine.dialect.name == "postgresql":
        with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.execute(text("VACUUM ANALYZE"))
        return
    with unit_of_work():
        db.session.execute(text("ANALYZE"))
