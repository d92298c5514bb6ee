"""A rate-limit storage every worker on one machine shares: a small SQLite file.

`make run` starts several gunicorn workers; an in-memory storage would let each
count alone (so five wrong passwords become twenty). Without Redis, the limits
live in `instance/ratelimits.sqlite`, registered with the `limits` library under
the `circle-sqlite:///<path>` scheme. Every change runs in one `BEGIN IMMEDIATE`
transaction, so two workers never both take the last place in a window.
"""

from __future__ import annotations

import os
import random
import sqlite3
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from urllib.parse import urlsplit

from limits.storage import MovingWindowSupport, Storage

SCHEME = "circle-sqlite"

_SCHEMA = (
    "CREATE TABLE IF NOT EXISTS counters ("
    " key TEXT PRIMARY KEY, value INTEGER NOT NULL, expires_at REAL NOT NULL)",
    "CREATE TABLE IF NOT EXISTS entries (key TEXT NOT NULL, at REAL NOT NULL,"
    " expires_at REAL NOT NULL)",
    "CREATE INDEX IF NOT EXISTS ix_entries_key_at ON entries (key, at)",
    "CREATE INDEX IF NOT EXISTS ix_entries_expires ON entries (expires_at)",
)
# One write in this many also sweeps out expired rows, so the file stays small.
SWEEP_EVERY = 200


def storage_uri(path: str) -> str:
    """Return the storage URI for a SQLite file at path."""
    return f"{SCHEME}://{os.path.abspath(path)}"


class SQLiteStorage(Storage, MovingWindowSupport):
    """Fixed- and moving-window counters in a SQLite file shared by processes."""

    STORAGE_SCHEME = [SCHEME]

    def __init__(self, uri: str | None = None, wrap_exceptions: bool = False, **options) -> None:
        """Open (and create) the file named by the URI's path."""
        path = urlsplit(uri or "").path
        if not path or path == "/":
            raise ValueError(f"{SCHEME}:// needs a file path, e.g. {SCHEME}:///tmp/limits.sqlite")
        self.path = path
        self._local = threading.local()
        super().__init__(uri, wrap_exceptions=wrap_exceptions, **options)
        with self._write() as conn:
            for statement in _SCHEMA:
                conn.execute(statement)

    @property
    def base_exceptions(self) -> type[Exception]:
        """The errors this storage can raise."""
        return sqlite3.Error

    def _connection(self) -> sqlite3.Connection:
        """Return this thread's connection, opened again after a fork."""
        conn = getattr(self._local, "conn", None)
        if conn is None or self._local.pid != os.getpid():
            os.makedirs(os.path.dirname(self.path) or ".", exist_ok=True)
            conn = sqlite3.connect(self.path, timeout=10, isolation_level=None)
            conn.execute("PRAGMA journal_mode=WAL")
            conn.execute("PRAGMA synchronous=NORMAL")
            self._local.conn = conn
            self._local.pid = os.getpid()
        return conn

    @contextmanager
    def _write(self) -> Iterator[sqlite3.Connection]:
        """Run a block in one write transaction that other processes wait for."""
        conn = self._connection()
        conn.execute("BEGIN IMMEDIATE")
        try:
            yield conn
        except BaseException:
            conn.execute("ROLLBACK")
            raise
        conn.execute("COMMIT")

    def _maybe_sweep(self, conn: sqlite3.Connection, now: float) -> None:
        """Now and then, delete every expired row."""
        if random.randrange(SWEEP_EVERY) == 0:
            conn.execute("DELETE FROM counters WHERE expires_at <= ?", (now,))
            conn.execute("DELETE FROM entries WHERE expires_at <= ?", (now,))

    # --- fixed window ----------------------------------------------------------

    def incr(self, key: str, expiry: float, amount: int = 1) -> int:
        """Add amount to key's counter, starting a new one when it has expired."""
        now = time.time()
        with self._write() as conn:
            self._maybe_sweep(conn, now)
            conn.execute("DELETE FROM counters WHERE key = ? AND expires_at <= ?", (key, now))
            conn.execute(
                "INSERT INTO counters (key, value, expires_at) VALUES (?, ?, ?) "
                "ON CONFLICT (key) DO UPDATE SET value = value + excluded.value",
                (key, amount, now + expiry),
            )
            row = conn.execute("SELECT value FROM counters WHERE key = ?", (key,)).fetchone()
        return int(row[0])

    def get(self, key: str) -> int:
        """Return key's counter (0 once it has expired)."""
        row = self._connection().execute(
            "SELECT value FROM counters WHERE key = ? AND expires_at > ?", (key, time.time())
        ).fetchone()
        return int(row[0]) if row else 0

    def get_expiry(self, key: str) -> float:
        """Return when key's counter expires (now when there is none)."""
        now = time.time()
        row = self._connection().execute(
            "SELECT expires_at FROM counters WHERE key = ? AND expires_at > ?", (key, now)
        ).fetchone()
        return float(row[0]) if row else now

    # --- moving window ---------------------------------------------------------

    def acquire_entry(self, key: str, limit: int, expiry: int, amount: int = 1) -> bool:
        """Take amount places in key's window of expiry seconds if limit allows."""
        if amount > limit:
            return False
        now = time.time()
        with self._write() as conn:
            self._maybe_sweep(conn, now)
            (taken,) = conn.execute(
                "SELECT COUNT(*) FROM entries WHERE key = ? AND at > ?", (key, now - expiry)
            ).fetchone()
            if taken + amount > limit:
                return False
            conn.executemany(
                "INSERT INTO entries (key, at, expires_at) VALUES (?, ?, ?)",
                [(key, now, now + expiry)] * amount,
            )
        return True

    def get_moving_window(self, key: str, limit: int, expiry: int) -> tuple[float, int]:
        """Return (the oldest entry's time, how many entries) in key's window."""
        now = time.time()
        oldest, taken = self._connection().execute(
            "SELECT MIN(at), COUNT(*) FROM entries WHERE key = ? AND at > ?", (key, now - expiry)
        ).fetchone()
        return (float(oldest) if oldest is not None else now), int(taken)

    # --- housekeeping ----------------------------------------------------------

    def check(self) -> bool:
        """Return True when the file can be read."""
        try:
            self._connection().execute("SELECT 1").fetchone()
        except sqlite3.Error:
            return False
        return True

    def reset(self) -> int | None:
        """Forget every limit."""
        with self._write() as conn:
            removed = conn.execute("DELETE FROM counters").rowcount
            removed += conn.execute("DELETE FROM entries").rowcount
        return removed

    def clear(self, key: str) -> None:
        """Forget one key's limit."""
        with self._write() as conn:
            conn.execute("DELETE FROM counters WHERE key = ?", (key,))
            conn.execute("DELETE FROM entries WHERE key = ?", (key,))
