"""Gunicorn settings for `make run` (gunicorn -c gunicorn.conf.py wsgi:app).

BIND (host:port) or PORT choose the address, 127.0.0.1:5000 by default;
WEB_CONCURRENCY sets the number of worker processes; ACCESS_LOG (- or a path) turns
the access log on.
"""

from __future__ import annotations

import os

import gunicorn.http.wsgi

from blog.config import default_workers

# Say nothing about the server software: gunicorn writes "Server: gunicorn" on every
# response from the module-level name SERVER (and SERVER_SOFTWARE, with its version,
# into the WSGI environ). This file runs in the master before the workers fork.
gunicorn.http.wsgi.SERVER = "web"
gunicorn.http.wsgi.SERVER_SOFTWARE = "web"


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
workers = _int_env("WEB_CONCURRENCY", default_workers())
timeout = 30
# Recycle workers now and then (a guard against slow leaks), but rarely: a restart
# costs a cold start and, without Redis, an empty page cache.
max_requests = 50000
max_requests_jitter = 5000
# No access log by default: writing a line per request costs the hot path, and nginx in
# front keeps one anyway. ACCESS_LOG=- writes it to stdout, or give a file's path.
accesslog = os.environ.get("ACCESS_LOG", "").strip() or None
errorlog = "-"
