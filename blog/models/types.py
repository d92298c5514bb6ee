"""Column types shared by the models."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import Column, DateTime, ForeignKey, Table
from sqlalchemy.types import TypeDecorator


def utcnow() -> datetime:
    """Return the current time, timezone-aware in UTC."""
    return datetime.now(UTC)


class UTCDateTime(TypeDecorator):
    """A timezone-aware timestamp, stored in UTC on every engine.

    SQLite keeps no zone, so values read back are marked as UTC again.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect) -> datetime | None:
        """Store aware datetimes in UTC; refuse naive ones."""
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a timezone-aware column")
        value = value.astimezone(UTC)
        if dialect.name == "sqlite":
            return value.replace(tzinfo=None)
        return value

    def process_result_value(self, value: datetime | None, dialect) -> datetime | None:
        """Return aware datetimes in UTC."""
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


def render_migration_type(type_: str, obj, autogen_context) -> str | bool:
    """Write UTCDateTime into migrations as a plain timezone-aware DateTime."""
    if type_ == "type" and isinstance(obj, UTCDateTime):
        return "sa.DateTime(timezone=True)"
    return False


# The full-text search tables differ by engine (FTS5 on SQLite, tsvector on
# PostgreSQL); migrations create them by hand and autogenerate leaves them be.
SEARCH_TABLE_PREFIX = "post_search"


def include_in_autogenerate(name: str | None, type_: str, parent_names) -> bool:
    """Leave the engine-specific search tables out of model comparisons."""
    return not (type_ == "table" and name and name.startswith(SEARCH_TABLE_PREFIX))


def link_table(name: str, left: str, right: str, *, index_right: bool = False) -> Table:
    """A many-to-many table of (left_id, right_id) pairs; a pair goes when either end does.

    left and right are "column:table" (say "post_id:posts"); index_right adds an index for
    lookups from the right-hand side.
    """
    from ..extensions import db

    columns = []
    for spec, indexed in ((left, False), (right, index_right)):
        column, table = spec.split(":")
        key = ForeignKey(f"{table}.id", ondelete="CASCADE")
        columns.append(Column(column, key, primary_key=True, index=indexed or None))
    return Table(name, db.metadata, *columns)
