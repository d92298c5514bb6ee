"""Gunicorn settings for `make run` (gunicorn -c gunicorn.conf.py wsgi:app).

BIND (host:port) or PORT choose the address, 127.0.0.1:5000 by default;
WEB_CONCURRENCY sets the number of worker processes.
"""

from __future__ import annotations

import multiprocessing
import os


def _int_env(name: str, default: int) -> int:
    """Return a whole-number environment variable, or stop with a clear message."""
    raw = os.environ.get(name, "").strip()
    if not raw:
        return default
    try:
        return int(raw)
    except ValueError as exc:
        raise SystemExit(f"{name} must be a whole number, not {raw!r}") from exc


bind = os.environ.get("BIND", "").strip() or f"127.0.0.1:{_int_env('PORT', 5000)}"
workers = _int_env("WEB_CONCURRENCY", min(2 * multiprocessing.cpu_count() + 1, 4))
timeout = 30
# Recycle workers now and then (a guard against slow leaks), but rarely: a restart
# costs a cold start and, without Redis, an empty page cache.
max_requests = 50000
max_requests_jitter = 5000
accesslog = "-"
errorlog = "-"
