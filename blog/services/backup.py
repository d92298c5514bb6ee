"""Full backups: every table and every media file in one zip, and a restore that reproduces it.

The files are read from and written back to the media store in force (local disk or S3).

The zip holds `circle.json` and `uploads/…`. The JSON names its format, its
version and the database's Alembic revision, then lists every table of the
models (in the order foreign keys need: `db.metadata.sorted_tables`, so tables
added later are included without a change here) with its columns and rows in
key order; times are ISO 8601 with their zone. Two backups of the same data are
identical apart from `exported_at`.

A restore goes into an empty database (one with at most the roles the code
creates) unless forced, checks that the schema revision matches, writes
everything in one transaction with the same ids, moves PostgreSQL's sequences
past them, puts the files back and rebuilds the search index, which is
derived data and is never copied.
"""

from __future__ import annotations

import base64
import json
import os
import re
import tempfile
import zipfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path

from sqlalchemy import Date, DateTime, Integer, LargeBinary, Table, func, inspect, select, text

from ..extensions import db
from ..models import Media, utcnow
from . import ServiceError, archives, content_generation, planner, unit_of_work
from . import media as media_service
from . import search as search_service
from .media import site_icon
from .media.storage import content_type, storage

FORMAT = "circle-backup"
FORMAT_VERSION = 1
DATA_NAME = "circle.json"
UPLOADS_PREFIX = "uploads/"
# Tables the code fills by itself: a database holding only these counts as empty.
CODE_OWNED_TABLES = {"roles"}
# The job queue's record is work in flight on this site's own queue, not content: a
# restored copy would name jobs no queue holds. It is neither written nor restored.
NOT_BACKED_UP = {"jobs"}
BATCH = 500
_FILE_TIME = (1980, 1, 1, 0, 0, 0)  # media files carry no time of their own in the zip
# Media files (year/month/key-width.ext) and the site icon's (icons/key-size.png, icons/key.ico).
_UPLOAD_NAME = re.compile(
    r"^(?:\d{4}/\d{2}/[0-9a-f]{32}-\d+\.(?:jpg|png|webp)|icons/[0-9a-f]{32}(?:-\d+\.png|\.ico))$"
)


class BackupError(ServiceError):
    """A backup could not be written or restored; nothing was changed."""


@dataclass
class BackupSummary:
    """What a backup or restore held: rows per table and files."""

    rows: dict[str, int] = field(default_factory=dict)
    files: int = 0
    missing_files: list[str] = field(default_factory=list)

    def describe(self) -> str:
        """'12 posts, 3 users, … and 8 files', leaving out empty tables."""
        parts = [f"{n} {name}" for name, n in self.rows.items() if n]
        return f"{', '.join(parts) or 'no rows'} and {self.files} files"


def backup_tables() -> list[Table]:
    """Every table of the models (but NOT_BACKED_UP), parents before children."""
    return [t for t in db.metadata.sorted_tables if t.name not in NOT_BACKED_UP]


def alembic_revision() -> str | None:
    """The database's schema revision, or None before `flask db upgrade`."""
    connection = db.session.connection()
    if not inspect(connection).has_table("alembic_version"):
        return None
    heads = connection.execute(text("SELECT version_num FROM alembic_version")).scalars()
    return ",".join(sorted(heads)) or None


def encode_value(value):
    """A column value as plain JSON."""
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, bytes | bytearray | memoryview):
        return {"$base64": base64.b64encode(bytes(value)).decode()}
    return value


def decode_value(column, value):
    """A JSON value back into what the column stores."""
    if value is None:
        return None
    kind = column.type
    if isinstance(kind, DateTime) or isinstance(getattr(kind, "impl", None), DateTime):
        return datetime.fromisoformat(value)
    if isinstance(kind, Date):
        return date.fromisoformat(value)
    if isinstance(kind, LargeBinary) and isinstance(value, dict):
        return base64.b64decode(value["$base64"])
    return value


def _json(value) -> str:
    """Compact, stable JSON for one piece of the file."""
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"), default=encode_value)


def _media_files() -> list[str]:
    """Every media file and the site icon's, relative to the upload folder, in a stable order."""
    names: list[str] = []
    for media in db.session.scalars(select(Media).order_by(Media.id)):
        names.extend(media_service.file_names(media))
    return names + site_icon.file_names()


def _write_data(out, exported_at: datetime, summary: BackupSummary, files: list[str]) -> None:
    """Stream circle.json: the header, each table's rows, then the list of files."""
    out.write("{\n")
    out.write(f'"format":{_json(FORMAT)},\n"format_version":{FORMAT_VERSION},\n')
    out.write(f'"alembic_revision":{_json(alembic_revision())},\n')
    out.write(f'"exported_at":{_json(exported_at)},\n"tables":[\n')
    for index, table in enumerate(backup_tables()):
        columns = [c.name for c in table.columns]
        order = list(table.primary_key.columns) or list(table.columns)
        out.write(f'{{"name":{_json(table.name)},"columns":{_json(columns)},"rows":[')
        count = 0
        result = db.session.execute(
            select(table).order_by(*order).execution_options(yield_per=BATCH)
        )
        for row in result:
            out.write(("," if count else "") + "\n" + _json(list(row)))
            count += 1
        out.write("\n]}" + ("," if index < len(backup_tables()) - 1 else "") + "\n")
        summary.rows[table.name] = count
    out.write(f'],\n"uploads":{_json(files)}\n}}\n')


@contextmanager
def written_whole(path: Path) -> Iterator[Path]:
    """Yield a temporary file beside path that becomes path only if the block succeeds.

    A failure leaves no half-written file behind; the session, only read, is rolled back.
    """
    folder = path.parent if str(path.parent) else Path(".")
    fd, temp_name = tempfile.mkstemp(prefix=f".{path.name}-", suffix=".part", dir=folder)
    os.close(fd)
    temp = Path(temp_name)
    try:
        yield temp
        os.replace(temp, path)
    except BaseException:
        temp.unlink(missing_ok=True)
        raise
    finally:
        db.session.rollback()  # only read


def export_backup(path: Path | str) -> BackupSummary:
    """Write every table and every media file into a zip at path."""
    path = Path(path)
    summary = BackupSummary()
    store = storage()
    with written_whole(path) as temp:
        files = _media_files()
        present = [name for name in files if store.exists(name)]
        found = set(present)
        summary.missing_files = [name for name in files if name not in found]
        with zipfile.ZipFile(temp, "w", compression=zipfile.ZIP_DEFLATED) as archive:
            with archive.open(DATA_NAME, "w") as raw:
                _write_data(_TextSink(raw), utcnow(), summary, present)
            for name in present:
                data = store.get(name)
                if data is None:
                    raise BackupError(
                        f"{name} was deleted while the backup was written; make it again."
                    )
                member = zipfile.ZipInfo(UPLOADS_PREFIX + name, date_time=_FILE_TIME)
                member.external_attr = 0o644 << 16
                # Images are compressed already: store them as they are.
                archive.writestr(member, data, zipfile.ZIP_STORED)
        summary.files = len(present)
    return summary


class _TextSink:
    """A small text writer over a binary zip member."""

    def __init__(self, raw):
        """Wrap a binary stream."""
        self.raw = raw

    def write(self, text_: str) -> None:
        """Write text as UTF-8."""
        self.raw.write(text_.encode("utf-8"))


# -- Restoring ------------------------------------------------------------------------------


def read_backup(path: Path | str) -> tuple[zipfile.ZipFile, dict]:
    """Open a backup and read its data, refusing anything that is not one."""
    path = Path(path)
    if not path.is_file():
        raise BackupError(f"No such file: {path}")
    try:
        archive = zipfile.ZipFile(path)
    except zipfile.BadZipFile as exc:
        raise BackupError(f"{path.name} is not a Circle backup (not a zip file).") from exc
    try:
        archives.check_zip(archive, path.name, BackupError)
    except BackupError:
        archive.close()
        raise
    try:
        data = json.loads(archive.read(DATA_NAME).decode("utf-8"))
    except KeyError as exc:
        archive.close()
        raise BackupError(f"{path.name} is not a Circle backup (no {DATA_NAME} in it).") from exc
    except (ValueError, UnicodeDecodeError) as exc:
        archive.close()
        raise BackupError(f"{path.name} is damaged: {DATA_NAME} is not valid JSON.") from exc
    if not isinstance(data, dict) or data.get("format") != FORMAT:
        archive.close()
        raise BackupError(f"{path.name} is not a Circle backup.")
    if data.get("format_version") != FORMAT_VERSION:
        archive.close()
        raise BackupError(
            f"{path.name} is a backup of format version {data.get('format_version')}; "
            f"this Circle reads version {FORMAT_VERSION}."
        )
    return archive, data


def rows_in_use() -> dict[str, int]:
    """Rows per table, for the tables that make a database not empty."""
    counts = {}
    for table in backup_tables():
        if table.name in CODE_OWNED_TABLES:
            continue
        n = db.session.scalar(select(func.count()).select_from(table))
        if n:
            counts[table.name] = n
    return counts


def _check_tables(data: dict) -> dict[str, Table]:
    """The backup's tables must be the models' tables, column for column."""
    known = {table.name: table for table in backup_tables()}
    names = []
    for entry in data.get("tables", []):
        table = known.get(entry.get("name"))
        if table is None:
            raise BackupError(
                f"The backup has a table this Circle does not know: {entry.get('name')!r}."
            )
        if entry.get("columns") != [c.name for c in table.columns]:
            raise BackupError(
                f"The backup's {table.name} table has other columns than this schema."
            )
        names.append(table.name)
    missing = sorted(set(known) - set(names))
    if missing:
        raise BackupError(f"The backup has no {', '.join(missing)} table.")
    return known


def _parents_first(table: Table, columns: list[str], rows: list[list]) -> list[list]:
    """Order rows so that a row referring to its own table comes after what it refers to."""
    pk = [c.name for c in table.primary_key.columns]
    own = [columns.index(fk.parent.name) for fk in table.foreign_keys if fk.column.table is table]
    if not own or len(pk) != 1:
        return rows
    key = columns.index(pk[0])
    done: set = set()
    ordered: list[list] = []
    pending = rows
    while pending:
        waiting = []
        for row in pending:
            if all(row[i] is None or row[i] in done or row[i] == row[key] for i in own):
                ordered.append(row)
                done.add(row[key])
            else:
                waiting.append(row)
        if len(waiting) == len(pending):  # a broken reference: let the database say so
            ordered.extend(waiting)
            break
        pending = waiting
    return ordered


def _empty_everything() -> None:
    """Delete every row (for --force), children first, and the search index."""
    connection = db.session.connection()
    for table in reversed(backup_tables()):
        connection.execute(table.delete())
    search_service.clear_index(connection)


def _reset_sequences() -> None:
    """Move PostgreSQL's id sequences past the restored ids."""
    connection = db.session.connection()
    if connection.dialect.name != "postgresql":
        return
    for table in backup_tables():
        pk = list(table.primary_key.columns)
        if len(pk) != 1 or not isinstance(pk[0].type, Integer):
            continue
        column = pk[0].name
        connection.execute(
            text(
                f"SELECT setval(pg_get_serial_sequence(:table, :column), "
                f'COALESCE((SELECT MAX("{column}") FROM "{table.name}"), 0) + 1, false)'
            ),
            {"table": table.name, "column": column},
        )


def _restore_files(archive: zipfile.ZipFile, names: list[str], written: list[str]) -> int:
    """Put the backup's media files back in the media store."""
    store = storage()
    for name in names:
        if not isinstance(name, str) or not _UPLOAD_NAME.match(name):
            raise BackupError(
                f"The backup lists a file that is not a media file or the site icon: {name!r}."
            )
        try:
            data = archive.read(UPLOADS_PREFIX + name)
        except KeyError as exc:
            raise BackupError(f"The backup lists {name} but does not hold it.") from exc
        existing = store.get(name)
        if existing == data:
            continue
        store.put(name, data, content_type(name))
        if existing is None:  # a failed restore takes back only the files it added
            written.append(name)
    return len(names)


class BackupRestore:
    """A restore checked and ready to run: a Circle backup of this schema, a database it fits."""

    def __init__(self, path: Path | str, force: bool = False):
        """Read the backup and check that it fits this database; nothing is written yet."""
        self.path = Path(path)
        self.force = force
        archive, self.data = read_backup(self.path)
        archive.close()
        try:
            current = alembic_revision()
            if current is None:
                raise BackupError("The database has no schema yet: run `flask db upgrade` first.")
            if self.data.get("alembic_revision") != current:
                raise BackupError(
                    f"The backup was made at schema revision {self.data.get('alembic_revision')}, "
                    f"the database is at {current}: bring the database to the backup's "
                    "revision first (flask db upgrade / downgrade)."
                )
            _check_tables(self.data)
            self._check_empty()
        finally:
            db.session.rollback()  # only read so far

    def _check_empty(self) -> None:
        """Refuse a database with content, unless forced."""
        in_use = rows_in_use()
        if in_use and not self.force:
            listed = ", ".join(f"{n} {name}" for name, n in in_use.items())
            raise BackupError(
                f"The database is not empty ({listed}); restoring would mix two sites. "
                "Use --force to replace everything in it."
            )

    def run(self, progress: Callable[[int, int], None] | None = None) -> BackupSummary:
        """Replace everything with the backup in one transaction; return what it held."""
        summary = BackupSummary()
        written: list[str] = []
        try:
            with unit_of_work():
                self._check_empty()  # again: someone may have written since the check
                _empty_everything()
                entries = {entry["name"]: entry for entry in self.data["tables"]}
                total = sum(len(entry["rows"]) for entry in entries.values()) or 1
                done = 0
                connection = db.session.connection()
                for table in backup_tables():
                    entry = entries[table.name]
                    columns = entry["columns"]
                    by_name = {c.name: c for c in table.columns}
                    rows = _parents_first(table, columns, entry["rows"])
                    for start in range(0, len(rows), BATCH):
                        batch = [
                            {
                                name: decode_value(by_name[name], value)
                                for name, value in zip(columns, row, strict=True)
                            }
                            for row in rows[start : start + BATCH]
                        ]
                        connection.execute(table.insert(), batch)
                        done += len(batch)
                        if progress:
                            progress(done, total)
                    summary.rows[table.name] = len(rows)
                _reset_sequences()
                with zipfile.ZipFile(self.path) as archive:
                    summary.files = _restore_files(archive, self.data.get("uploads", []), written)
                search_service.rebuild_index()  # joins this unit: one commit
        except BaseException:
            storage().delete(written)
            raise
        planner.refresh_statistics()
        content_generation.bump()
        return summary


def import_backup(
    path: Path | str,
    force: bool = False,
    progress: Callable[[int, int], None] | None = None,
) -> BackupSummary:
    """Check and restore a backup in one go; see BackupRestore."""
    return BackupRestore(path, force).run(progress)
