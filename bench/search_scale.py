"""Search at scale: time a common and a rare word over 100,000 posts in a scratch SQLite.

    .venv/bin/python bench/search_scale.py [--posts 100000] [--runs 50] [--keep DIR]
        [--database-url postgresql+psycopg://postgres@127.0.0.1/EMPTY_DATABASE]

The posts are written with bulk INSERTs (and the search index straight from the same
text), not through the desk: the build takes about a minute. One word ("harbour") is in
a fifth of the posts, another ("zeppelin") in one post in a thousand. Each query runs
once to warm up, then --runs times; the script prints p50 and p99 in milliseconds.
Run it from another checkout (PYTHONPATH=/path/to/it) to compare two versions.
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

_SYLLABLES = ("ka", "lo", "mi", "ne", "su", "ta", "ri", "po", "de", "va", "gu", "ble", "tor")
# A vocabulary of 2,197 made-up words, drawn with Zipf-like weights as real text is.
WORDS = [a + b + c for a in _SYLLABLES for b in _SYLLABLES for c in _SYLLABLES]
WEIGHTS = [1 / (rank + 1) for rank in range(len(WORDS))]
COMMON, RARE = "harbour", "zeppelin"
SECTIONS = ("News", "Health", "Culture", "Sport", "Travel")
BATCH = 5000


def _text(rng: random.Random, n: int, words: int) -> str:
    """A post's plain text: paragraphs of generated words, with the common or rare word."""
    body = rng.choices(WORDS, WEIGHTS, k=words)
    if n % 5 == 0:
        body.insert(rng.randrange(len(body)), COMMON)
    if n % 1000 == 7:
        body.insert(rng.randrange(len(body)), RARE)
    return " ".join(body)


def build(app, posts: int) -> None:
    """Fill the site's database with sections, one author and `posts` published posts."""
    from sqlalchemy import insert, text

    from blog.extensions import db
    from blog.models import Category, Post, Role, User
    from blog.services.search import write_index_entries
    from blog.services.users import ensure_roles

    rng = random.Random(14)
    now = datetime.now(UTC)
    with app.test_request_context():
        ensure_roles()
        db.session.commit()
        role = db.session.scalar(db.select(Role.id).where(Role.name == "author"))
        db.session.execute(
            insert(Category),
            [{"name": s, "slug": s.lower(), "position": i} for i, s in enumerate(SECTIONS)],
        )
        db.session.execute(
            insert(User),
            [
                {
                    "email": "bench@example.com",
                    "username": "bench",
                    "display_name": "Bench",
                    "password_hash": "x",
                    "role_id": role,
                }
            ],
        )
        db.session.commit()
        sections = [c.id for c in db.session.scalars(db.select(Category))]
        author = db.session.scalar(db.select(User.id))
        db.session.rollback()
        connection = db.session.connection()
        for start in range(0, posts, BATCH):
            rows, entries = [], []
            for n in range(start, min(start + BATCH, posts)):
                body = _text(rng, n, 150)
                published = now - timedelta(minutes=posts - n)
                rows.append(
                    {
                        "id": n + 1,
                        "title": f"Story {n} about {rng.choice(WORDS)}",
                        "slug": f"story-{n}",
                        "excerpt": "",
                        "excerpt_written": False,
                        "body": f"<p>{body}</p>",
                        "category_id": sections[n % len(sections)],
                        "author_id": author,
                        "status": "published",
                        "published_at": published,
                        "created_at": published,
                        "updated_at": published,
                        "version": 1,
                        "featured": False,
                        "seo_title": "",
                        "seo_description": "",
                        "reading_time": 1,
                        "review_note": "",
                        "cover_alt": "",
                    }
                )
                entry = {
                    "id": n + 1,
                    "title": rows[-1]["title"],
                    "excerpt": "",
                    "body": body,
                    "category_id": rows[-1]["category_id"],
                    "published_at": published,
                }
                entries.append(entry)
            connection.execute(insert(Post), rows)
            write_index_entries(connection, entries)
            print(f"  {start + len(rows)} posts", file=sys.stderr, end="\r")
        db.session.commit()
        if db.engine.dialect.name == "postgresql":
            # VACUUM also moves GIN's pending list into the index proper, as autovacuum
            # would soon: left there, every search reads the whole list.
            with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as raw:
                raw.execute(text("VACUUM ANALYZE"))
        else:
            db.session.execute(text("ANALYZE"))
            db.session.commit()
    print(file=sys.stderr)


def timed(app, word: str, runs: int, section: str | None = None) -> tuple[float, float, int]:
    """p50 and p99 (ms) of `runs` searches for word, and how many stories it said it found."""
    from sqlalchemy import select

    from blog.extensions import db
    from blog.models import Category
    from blog.services.search import search_posts

    with app.app_context():
        where = (
            db.session.scalar(select(Category).where(Category.slug == section)) if section else None
        )
        found = search_posts(word, section=where).total  # warm-up
        times = []
        for _ in range(runs):
            begin = time.perf_counter()
            search_posts(word, section=where)
            times.append((time.perf_counter() - begin) * 1000)
            db.session.remove()
        times.sort()
        p99 = times[min(len(times) - 1, round(len(times) * 0.99) - 1)]
        return statistics.median(times), p99, found


def main() -> None:
    """Build the scratch site and print the timings."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--posts", type=int, default=100_000)
    parser.add_argument("--runs", type=int, default=50)
    parser.add_argument("--keep", type=Path, help="Build in this folder and leave it there.")
    parser.add_argument(
        "--database-url",
        help="Build in this (empty) database instead, e.g. postgresql+psycopg://postgres@"
        "127.0.0.1/circle_search; it is filled once and left there.",
    )
    args = parser.parse_args()
    folder = args.keep or Path(tempfile.mkdtemp(prefix="circle-search-"))
    folder.mkdir(parents=True, exist_ok=True)
    database = folder / "search.sqlite"
    url = args.database_url or f"sqlite:///{database}"

    from flask_migrate import upgrade
    from sqlalchemy import func, select

    from blog import create_app
    from blog.extensions import db
    from blog.models import Post

    app = create_app(
        {
            "CIRCLE_ENV": "testing",
            "SQLALCHEMY_DATABASE_URI": url,
            "UPLOAD_DIR": str(folder / "uploads"),
            "CACHE_GENERATION_DIR": str(folder),
            "SERVER_NAME_FOR_LINKS": "http://localhost",
        }
    )
    with app.app_context():
        upgrade()
        fresh = not db.session.scalar(select(func.count()).select_from(Post))
        db.session.remove()
    if fresh:
        begin = time.perf_counter()
        build(app, args.posts)
        print(f"built {args.posts} posts in {time.perf_counter() - begin:.0f} s", file=sys.stderr)
    for label, word, section in (
        ("common", COMMON, None),
        ("rare", RARE, None),
        ("common in a section", COMMON, "news"),
    ):
        p50, p99, found = timed(app, word, args.runs, section)
        print(f"{label:>20} ({word!r}, {found} found): p50 {p50:7.1f} ms  p99 {p99:7.1f} ms")
    if not args.keep:
        for path in sorted(folder.rglob("*"), reverse=True):
            path.unlink() if path.is_file() else path.rmdir()
        folder.rmdir()


if __name__ == "__main__":
    main()
