"""Profile the uncached reader pages in process: where a request's time goes.

    python bench/profile_pages.py                    # the 10,000-post bench database
    python bench/profile_pages.py --posts 100000 -n 300 --top 40
    python bench/profile_pages.py --only article --sql   # print each page's statements

It builds the app as bench/run.py serves it (CIRCLE_ENV=production, the page cache
off, SQLite, no Redis) on the database bench/run.py built in bench/data/ (run that
first), finds the same pages (home, the article's section page 1, the export's
typical article, search for its common and its rare word), warms each up once, then for each page:

- counts the SQL statements one warm request runs (and prints them with --sql);
- runs N requests through the test client under cProfile and prints the top
  functions by cumulative and by own time, and the mean wall and CPU ms per request
  (cProfile slows Python down about twofold: compare pages and runs, not with wrk).

Nothing is written to the database; the key-version folder and the rate-limit file
are temporary, so a run disturbs no bench and no site.
"""

from __future__ import annotations

import argparse
import cProfile
import io
import json
import os
import pstats
import sqlite3
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT / "bench" / "data"
SECRET = "bench-profile-throwaway-secret-key-not-for-production"


def parse_args(argv: list[str] | None):
    """The command line."""
    parser = argparse.ArgumentParser(description="cProfile the uncached reader pages.")
    parser.add_argument("--posts", type=int, default=10_000)
    parser.add_argument("-n", "--requests", type=int, default=200, help="requests per page")
    parser.add_argument("--top", type=int, default=25, help="functions shown per listing")
    parser.add_argument(
        "--only", default="", help="home,section,article,search,search-rare (default: all)"
    )
    parser.add_argument("--sql", action="store_true", help="print each page's statements")
    parser.add_argument("--no-profile", action="store_true", help="time only, no cProfile")
    return parser.parse_args(argv)


def database(posts: int) -> Path:
    """The bench database bench/run.py built for this many posts."""
    path = DATA / f"wxr-{posts}.sqlite"
    if not path.exists():
        raise SystemExit(f"{path} is missing: run bench/run.py --posts {posts} first")
    return path


def production_env(db_path: Path, scratch: Path) -> None:
    """Set the environment bench/run.py gives gunicorn, with the page cache off."""
    os.environ.update(
        {
            "CIRCLE_ENV": "production",
            "SECRET_KEY": SECRET,
            "SITE_URL": "https://bench.circle.example",
            "ALLOWED_HOSTS": "127.0.0.1",
            "DATABASE_URL": f"sqlite:///{db_path}",
            "CACHE_KEY_PREFIX": "circle-profile:",
            "RATELIMIT_STORAGE_URI": f"circle-sqlite://{scratch / 'limits.sqlite'}",
            "CIRCLE_PAGE_CACHE": "off",
            # Searches are limited per address: high enough for a run, still counted.
            "SEARCH_LIMIT_PER_ADDRESS": "1000000 per minute",
        }
    )
    os.environ.pop("REDIS_URL", None)


def pages(db_path: Path, posts: int) -> dict[str, str]:
    """The bench's pages: home, the article's section page 1, the typical article, and
    search for the export's common word (in a fifth of the posts) and its rare word."""
    manifest = json.loads((DATA / f"magazine-{posts}.wxr.json").read_text())
    with sqlite3.connect(f"file:{db_path}?mode=ro", uri=True) as conn:
        section, slug = conn.execute(
            "SELECT c.slug, p.slug FROM posts p JOIN categories c ON c.id = p.category_id "
            "WHERE p.wp_post_id = ?",
            (int(manifest["article_wp_id"]),),
        ).fetchone()
    return {
        "home": "/",
        "section": f"/category/{section}",
        "article": f"/{section}/{slug}",
        "search": f"/search?q={manifest['common_word']}",
        "search-rare": f"/search?q={manifest['rare_word']}",
    }


def statements(app, client, url: str) -> list[str]:
    """The SQL one warm request for url runs."""
    from sqlalchemy import event

    from blog.extensions import db

    seen: list[str] = []

    def before(_conn, _cursor, statement, *_args):
        seen.append(statement)

    with app.app_context():
        engine = db.engine
    event.listen(engine, "before_cursor_execute", before)
    try:
        get(client, url)
    finally:
        event.remove(engine, "before_cursor_execute", before)
    return seen


def get(client, url: str) -> None:
    """GET url as an anonymous reader behind the proxy; insist on a 200."""
    answer = client.get(url, headers={"Host": "127.0.0.1"})
    if answer.status_code != 200:
        raise SystemExit(f"{url} answered {answer.status_code}")


def run(client, url: str, count: int, profile: cProfile.Profile | None) -> tuple[float, float]:
    """GET url count times; return the mean wall and CPU milliseconds per request."""
    wall, cpu = time.perf_counter(), time.process_time()
    if profile is not None:
        profile.enable()
    for _ in range(count):
        get(client, url)
    if profile is not None:
        profile.disable()
    return (
        (time.perf_counter() - wall) * 1000 / count,
        (time.process_time() - cpu) * 1000 / count,
    )


def report(profile: cProfile.Profile, top: int) -> str:
    """The top functions by cumulative and by own time."""
    out = io.StringIO()
    stats = pstats.Stats(profile, stream=out).strip_dirs()
    stats.sort_stats("cumulative").print_stats(top)
    stats.sort_stats("tottime").print_stats(top)
    return out.getvalue()


def main(argv: list[str] | None = None) -> int:
    """Profile each page and print what it costs."""
    args = parse_args(argv)
    db_path = database(args.posts)
    targets = pages(db_path, args.posts)
    only = {n.strip() for n in args.only.split(",") if n.strip()}
    with tempfile.TemporaryDirectory(prefix="circle-profile-") as scratch:
        production_env(db_path, Path(scratch))
        sys.path.insert(0, str(ROOT))
        from blog import create_app

        app = create_app({"CACHE_GENERATION_DIR": scratch})
        client = app.test_client()
        for name, url in targets.items():
            if only and name not in only:
                continue
            get(client, url)  # warm: templates compiled, settings and menus cached
            sql = statements(app, client, url)
            profile = None if args.no_profile else cProfile.Profile()
            wall, cpu = run(client, url, args.requests, profile)
            print(
                f"\n===== {name} {url}: {len(sql)} SQL statements, "
                f"{wall:.2f} ms wall, {cpu:.2f} ms CPU per request "
                f"({'profiled' if profile else 'not profiled'}, n={args.requests})"
            )
            if args.sql:
                for statement in sql:
                    print("  --", " ".join(statement.split())[:300])
            if profile is not None:
                print(report(profile, args.top))
    return 0


if __name__ == "__main__":
    sys.exit(main())
