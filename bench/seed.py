"""Seed a benchmark database with N posts directly, fast (`bench/run.py --seed-direct`).

The bench's default builds its site the way a real one is built, by importing
a generated WordPress export (bench/wxr.py); this older path skips the importer.

    python bench/seed.py --database-url sqlite:///bench/data/bench-10000.sqlite --posts 10000

It runs the migrations, creates the demo magazine (sections, people, the CAR-T
feature and the sample posts), uploads a handful of real images through the
media library, then bulk-inserts N published posts with SQLAlchemy Core in
batches: bodies of 600-1,500 words with paragraphs, headings, a link and a
responsive library image; 2-5 tags each from a pool of 300; 0-5 approved
comments each; publication dates over three years. The search index is
written in the same batches, and the database is ANALYZEd at the end.

Everything is deterministic (seeded random), so two runs make the same site.
One word, RARE_WORD, is in exactly one post; COMMON_WORD is in about a fifth
of them (both from bench/wxr.py).
"""

from __future__ import annotations

import argparse
import io
import math
import os
import random
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from wxr import COMMON_SHARE, COMMON_WORD, RARE_WORD, SEED, BodyMaker  # noqa: E402

BATCH = 1000
TAG_POOL = 300
READERS = 200
AUTHORS = 20
IMAGES = 6
YEARS = 3


def _picture_bytes(n: int) -> bytes:
    """A 1600x1000 JPEG: a gradient with a few shapes, different for each n."""
    from PIL import Image, ImageDraw

    rng = random.Random(SEED + n)
    img = Image.new("RGB", (1600, 1000))
    draw = ImageDraw.Draw(img)
    base = [rng.randrange(40, 200) for _ in range(3)]
    for y in range(0, 1000, 4):
        shade = tuple(min(255, c + y // 12) for c in base)
        draw.rectangle([0, y, 1600, y + 4], fill=shade)
    for _ in range(12):
        x, y = rng.randrange(1600), rng.randrange(1000)
        r = rng.randrange(30, 200)
        draw.ellipse([x - r, y - r, x + r, y + r], fill=tuple(rng.randrange(256) for _ in range(3)))
    out = io.BytesIO()
    img.save(out, "JPEG", quality=85)
    return out.getvalue()


def _upload_images(uploader) -> list[str]:
    """Upload IMAGES pictures through the media library; return their enriched <img> tags."""
    from werkzeug.datastructures import FileStorage

    from blog.services import media as media_service

    tags = []
    for n in range(IMAGES):
        data = _picture_bytes(n)
        storage = FileStorage(
            io.BytesIO(data), filename=f"bench-{n}.jpg", content_type="image/jpeg"
        )
        media = media_service.save_upload(storage, uploader, alt=f"Bench picture {n + 1}")
        raw = f'<img src="{media_service.media_url(media)}" alt="Bench picture {n + 1}">'
        tags.append(media_service.enrich_images(raw))
    return tags


def _progress(label: str, done: int, total: int, started: float) -> None:
    rate = done / max(time.monotonic() - started, 1e-6)
    eta = (total - done) / rate if rate else 0
    print(f"\r  {label}: {done:,}/{total:,} ({rate:,.0f}/s, ~{eta:,.0f}s left)   ",
          end="", flush=True)
    if done >= total:
        print()


def seed(database_url: str, posts: int, upload_dir: str) -> dict:
    """Create and fill the bench database; return a summary."""
    os.environ["DATABASE_URL"] = database_url
    os.environ["UPLOAD_DIR"] = upload_dir
    os.environ.setdefault("CIRCLE_ENV", "development")
    os.environ.setdefault("SECRET_KEY", "bench-throwaway-secret-key-0123456789")

    from flask_migrate import upgrade
    from sqlalchemy import func, insert, select, text

    from blog import create_app
    from blog.extensions import db
    from blog.models import Category, Comment, Post, Role, Tag, User, post_tags
    from blog.services.demo import seed_demo
    from blog.services.search import write_index_entries

    app = create_app({"SQLALCHEMY_DATABASE_URI": database_url, "UPLOAD_DIR": upload_dir})
    rng = random.Random(SEED)
    started = time.monotonic()
    with app.app_context():
        print("==> migrations")
        upgrade()
        print("==> demo sections, people and articles")
        seed_demo()
        engine = db.engine
        is_pg = engine.dialect.name == "postgresql"
        admin = db.session.scalar(select(User).where(User.username == "admin"))
        print(f"==> {IMAGES} images through the media library")
        image_tags = _upload_images(admin)
        sections = list(db.session.scalars(select(Category).order_by(Category.position)))
        roles = {r.name: r.id for r in db.session.scalars(select(Role))}
        password_hash = admin.password_hash  # nobody signs in as these people
        now = datetime.now(UTC).replace(microsecond=0)
        demo_post_ids = list(db.session.scalars(select(Post.id)))
        db.session.commit()

        maker = BodyMaker(rng, image_tags)
        conn = db.session.connection()
        first_user = (conn.scalar(select(func.max(User.id))) or 0) + 1
        authors_rows, readers_rows = [], []
        for n in range(AUTHORS):
            authors_rows.append({
                "id": first_user + n, "email": f"writer{n}@bench.example", "username": f"writer{n}",
                "display_name": " ".join(w.capitalize() for w in maker.words(2)),
                "bio": maker.sentence(maker.words(14)), "password_hash": password_hash,
                "role_id": roles["author"], "created_at": now - timedelta(days=4 * 365),
            })
        for n in range(READERS):
            readers_rows.append({
                "id": first_user + AUTHORS + n, "email": f"reader{n}@bench.example",
                "username": f"reader{n}",
                "display_name": " ".join(w.capitalize() for w in maker.words(2)),
                "bio": "", "password_hash": password_hash, "role_id": roles["reader"],
                "created_at": now - timedelta(days=4 * 365),
            })
        conn.execute(insert(User), authors_rows + readers_rows)
        demo_authors = list(conn.scalars(
            select(User.id).where(User.username.in_(["admin", "editor", "author"]))))
        author_ids = [r["id"] for r in authors_rows] + demo_authors
        reader_ids = [r["id"] for r in readers_rows]

        first_tag = (conn.scalar(select(func.max(Tag.id))) or 0) + 1
        existing_tag_slugs = set(conn.scalars(select(Tag.slug)))
        tag_rows, seen = [], set(existing_tag_slugs)
        while len(tag_rows) < TAG_POOL:
            name = " ".join(maker.words(rng.choice([1, 1, 2]))).title()
            slug = name.lower().replace(" ", "-")
            if slug in seen:
                continue
            seen.add(slug)
            tag_rows.append({"id": first_tag + len(tag_rows), "name": name, "slug": slug})
        conn.execute(insert(Tag), tag_rows)
        tag_ids = [r["id"] for r in tag_rows]
        # A long tail: some tags are on many posts, most on few.
        tag_cum, acc = [], 0.0
        for i in range(len(tag_ids)):
            acc += 1.0 / (i + 1) ** 0.8
            tag_cum.append(acc)

        # The one post that holds the rare word.
        rare_index = posts // 2
        first_post = (conn.scalar(select(func.max(Post.id))) or 0) + 1
        first_comment = (conn.scalar(select(func.max(Comment.id))) or 0) + 1
        span = YEARS * 365 * 86400
        print(f"==> {posts:,} posts, their tags, comments and index entries")
        t0 = time.monotonic()
        comment_id = first_comment
        common_posts = 0
        for start in range(0, posts, BATCH):
            post_rows, tag_links, comment_rows, search_rows = [], [], [], []
            for i in range(start, min(posts, start + BATCH)):
                pid = first_post + i
                extra = []
                if i == rare_index:
                    extra.append(RARE_WORD)
                if rng.random() < COMMON_SHARE:
                    extra.append(COMMON_WORD)
                    common_posts += 1
                html, plain, count = maker.body(extra)
                title = maker.title()
                words = plain.split()
                excerpt = " ".join(words[:40]) + ("…" if len(words) > 40 else "")
                published = now - timedelta(seconds=rng.randrange(3600, span))
                post_rows.append({
                    "id": pid, "title": title,
                    "slug": f"{title.lower().replace(' ', '-')}-{pid}"[:200],
                    "excerpt": excerpt, "excerpt_written": False, "body": html,
                    "category_id": sections[i % len(sections)].id,
                    "author_id": rng.choice(author_ids), "status": "published",
                    "published_at": published, "created_at": published,
                    "updated_at": published, "version": 1, "featured": False,
                    "seo_title": "", "seo_description": "",
                    "reading_time": max(1, math.ceil(count / 200)), "review_note": "",
                    "cover_alt": "",
                })
                chosen = set()
                for _ in range(rng.randint(2, 5)):
                    chosen.add(rng.choices(tag_ids, cum_weights=tag_cum)[0])
                tag_links += [{"post_id": pid, "tag_id": t} for t in chosen]
                for _ in range(rng.randint(0, 5)):
                    text_body = maker.sentence(maker.words(rng.randint(8, 60)))
                    created = published + timedelta(seconds=rng.randrange(60, 30 * 86400))
                    comment_rows.append({
                        "id": comment_id, "post_id": pid, "author_id": rng.choice(reader_ids),
                        "body": text_body, "body_html": f"<p>{text_body}</p>",
                        "status": "approved", "held_reason": "", "ip_address": "127.0.0.1",
                        "created_at": min(created, now), "updated_at": min(created, now),
                    })
                    comment_id += 1
                search_rows.append({
                    "id": pid, "title": title, "excerpt": excerpt, "body": plain,
                    "category_id": post_rows[-1]["category_id"], "published_at": published,
                })
            conn.execute(insert(Post), post_rows)
            conn.execute(insert(post_tags), tag_links)
            if comment_rows:
                conn.execute(insert(Comment), comment_rows)
            write_index_entries(conn, search_rows)
            db.session.commit()
            conn = db.session.connection()
            _progress("posts", min(posts, start + BATCH), posts, t0)

        # A few comments on the CAR-T feature, so the benchmarked article shows a thread.
        cart = db.session.scalar(
            select(Post).where(Post.slug.like("revolutionizing-cancer-treatment%")))
        if cart is not None:
            rows = []
            for n in range(4):
                text_body = maker.sentence(maker.words(30))
                rows.append({
                    "id": comment_id, "post_id": cart.id, "author_id": reader_ids[n],
                    "body": text_body, "body_html": f"<p>{text_body}</p>", "status": "approved",
                    "held_reason": "", "ip_address": "127.0.0.1",
                    "created_at": now - timedelta(hours=5 - n), "updated_at": now,
                })
                comment_id += 1
            conn.execute(insert(Comment), rows)
        if is_pg:
            for table in ("posts", "users", "tags", "comments"):
                conn.execute(text(
                    f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                    f"(SELECT max(id) FROM {table}))"))
        db.session.commit()
        print("==> ANALYZE")
        if is_pg:
            with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as raw:
                raw.execute(text("VACUUM ANALYZE"))
        else:
            with engine.begin() as raw:
                raw.execute(text("INSERT INTO post_search(post_search) VALUES ('optimize')"))
                raw.execute(text("ANALYZE"))
        counts = {
            "posts": db.session.scalar(select(func.count()).select_from(Post)),
            "comments": db.session.scalar(select(func.count()).select_from(Comment)),
            "tags": db.session.scalar(select(func.count()).select_from(Tag)),
            "common_word_posts": common_posts,
            "demo_posts": len(demo_post_ids),
            "seconds": round(time.monotonic() - started, 1),
        }
    print(f"==> seeded {counts['posts']:,} posts, {counts['comments']:,} comments, "
          f"{counts['tags']:,} tags in {counts['seconds']}s")
    return counts


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", required=True)
    parser.add_argument("--posts", type=int, default=10_000)
    parser.add_argument("--upload-dir", default=str(ROOT / "bench" / "data" / "uploads"))
    args = parser.parse_args(argv)
    seed(args.database_url, args.posts, args.upload_dir)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
