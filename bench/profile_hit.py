"""Profile a page-cache hit: what one cached page costs a worker's CPU, and where it goes.

    .venv/bin/python bench/profile_hit.py [--database bench/data/wxr-10000.sqlite]
        [--path / --path /category/news ...] [--hits 3000] [--profile 25] [--gzip]

The app is built as bench/run.py builds it for gunicorn (CIRCLE_ENV=production, SQLite, no
Redis: SimpleCache in this process and one key-version file per surrogate key, one proxy
trusted), on a copy of the database in a temporary folder so the bench's own is never
written. Each path is asked for once (a miss, which stores the page), then the WSGI app is
called --hits more times with the same environ (what gunicorn hands a worker) and the CPU
time per hit is printed beside a bare Flask view returning the same bytes (bench/bare.py,
the bench's ceiling). Without --path the paths are the home page, the largest section and
its newest article. --profile N prints cProfile's top N functions of the first path's hits.
"""

from __future__ import annotations

import argparse
import cProfile
import io
import os
import pstats
import sqlite3
import sys
import tempfile
import time
from pathlib import Path

from werkzeug.test import EnvironBuilder

ROOT = Path(__file__).resolve().parent.parent
HOST = "127.0.0.1"


def parse_args(argv: list[str] | None):
    """The command line."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--database", default=str(ROOT / "bench/data/wxr-10000.sqlite"))
    parser.add_argument("--path", action="append", help="a page to time (repeatable)")
    parser.add_argument("--hits", type=int, default=3000)
    parser.add_argument("--profile", type=int, default=0, help="print cProfile's top N")
    parser.add_argument("--gzip", action="store_true", help="ask with Accept-Encoding: gzip")
    return parser.parse_args(argv)


def copy_database(source: Path, folder: Path) -> Path:
    """A private copy of an SQLite database (with its write-ahead log, checkpointed)."""
    target = folder / "site.sqlite"
    with sqlite3.connect(source) as conn, sqlite3.connect(target) as copy:
        conn.backup(copy)
    return target


def default_paths(database: Path) -> list[str]:
    """The home page, the largest section, and that section's newest article."""
    with sqlite3.connect(database) as conn:
        section_id, section = conn.execute(
            "SELECT c.id, c.slug FROM categories c JOIN posts p ON p.category_id = c.id "
            "WHERE p.status = 'published' GROUP BY c.id ORDER BY count(*) DESC LIMIT 1"
        ).fetchone()
        (slug,) = conn.execute(
            "SELECT slug FROM posts WHERE category_id = ? AND status = 'published' "
            "AND kind = 'post' ORDER BY published_at DESC LIMIT 1",
            (section_id,),
        ).fetchone()
    return ["/", f"/category/{section}", f"/{section}/{slug}"]


def production_app(database: Path, folder: Path):
    """The app as a bench worker runs it."""
    os.environ.update(
        {
            "CIRCLE_ENV": "production",
            "SECRET_KEY": "profile-hit-secret-key-0123456789abcdef",
            "SITE_URL": "https://bench.circle.example",
            "ALLOWED_HOSTS": HOST,
            "DATABASE_URL": f"sqlite:///{database}",
            "UPLOAD_DIR": str(folder / "uploads"),
            "CACHE_KEY_PREFIX": "profile:",
            "RATELIMIT_STORAGE_URI": f"circle-sqlite://{folder / 'limits.sqlite'}",
            "CIRCLE_PROXY_COUNT": "1",
        }
    )
    os.environ.pop("REDIS_URL", None)
    sys.path.insert(0, str(ROOT))
    from blog import create_app

    app = create_app()
    app.config["CACHE_GENERATION_DIR"] = str(folder)
    return app


def environ_for(path: str, gzip: bool) -> dict:
    """The WSGI environ a worker gets for an anonymous GET of path."""
    headers = {"X-Forwarded-For": "10.1.2.3", "User-Agent": "wrk"}
    if gzip:
        headers["Accept-Encoding"] = "gzip"
    builder = EnvironBuilder(path=path, base_url=f"http://{HOST}", headers=headers)
    try:
        return builder.get_environ()
    finally:
        builder.close()


def call(app, environ: dict) -> tuple[str, dict, bytes]:
    """One request through the WSGI app; its status, headers and body."""
    answer = {}

    def start_response(status, headers, exc_info=None):
        answer["status"], answer["headers"] = status, dict(headers)

    chunks = app(dict(environ), start_response)
    try:
        body = b"".join(chunks)
    finally:
        getattr(chunks, "close", lambda: None)()
    return answer["status"], answer["headers"], body


def cpu_per_call(app, environ: dict, count: int) -> float:
    """CPU microseconds per request, over count requests."""
    started = time.process_time()
    for _ in range(count):
        call(app, environ)
    return (time.process_time() - started) / count * 1e6


def bare_app(body: bytes):
    """bench/bare.py's view, returning these bytes."""
    from flask import Flask, Response

    bare = Flask("bare")

    @bare.get("/")
    @bare.get("/<path:_anything>")
    def article(_anything: str = "") -> Response:
        return Response(body, mimetype="text/html")

    return bare


def main(argv: list[str] | None = None) -> None:
    """Time (and optionally profile) cache hits."""
    args = parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="circle-profile-hit-") as tmp:
        folder = Path(tmp)
        database = copy_database(Path(args.database), folder)
        app = production_app(database, folder)
        paths = args.path or default_paths(database)
        print(f"{'path':<60} {'hit µs':>8} {'bare µs':>8} {'ratio':>6}  bytes  X-Cache")
        for index, path in enumerate(paths):
            environ = environ_for(path, args.gzip)
            call(app, environ)  # the miss that stores it
            status, headers, body = call(app, environ)
            if headers.get("X-Cache") != "HIT":
                print(f"{path}: {status}, not a hit ({headers.get('X-Cache')})")
                continue
            call(app, environ)
            hit = cpu_per_call(app, environ, args.hits)
            bare = bare_app(body)
            bare_environ = environ_for(path, False)
            cpu_per_call(bare, bare_environ, 200)
            ceiling = cpu_per_call(bare, bare_environ, args.hits)
            print(
                f"{path[:60]:<60} {hit:8.1f} {ceiling:8.1f} {ceiling / hit:6.0%}"
                f"  {len(body):>6} {headers.get('X-Cache')}"
            )
            if args.profile and index == 0:
                profile(app, environ, args.hits, args.profile)


def profile(app, environ: dict, count: int, top: int) -> None:
    """Print cProfile's view of count hits."""
    profiler = cProfile.Profile()
    profiler.enable()
    for _ in range(count):
        call(app, environ)
    profiler.disable()
    out = io.StringIO()
    pstats.Stats(profiler, stream=out).sort_stats("tottime").print_stats(top)
    print(out.getvalue())
    out = io.StringIO()
    pstats.Stats(profiler, stream=out).sort_stats("cumulative").print_stats(top)
    print(out.getvalue())


if __name__ == "__main__":
    main()
