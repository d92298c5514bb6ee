"""The database answers reader listings and article lookups from indexes.

On PostgreSQL the test reads EXPLAIN; on SQLite, EXPLAIN QUERY PLAN. Both run
against a few thousand posts so the planner's choice is the real one.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import insert, select, text

from blog.extensions import db
from blog.models import Category, Post, PostStatus, utcnow
from blog.services import reading

POSTS = 6000


@pytest.fixture
def many_posts(make):
    """Thousands of posts over three sections, most of them published."""
    sections = [make.section(name) for name in ("Health", "News", "Fashion")]
    author = make.user("author", username="prolific")
    now = utcnow()
    rows = [
        {
            "title": f"Story {n}",
            "slug": f"story-{n}",
            "excerpt": "An excerpt.",
            "excerpt_written": False,
            "body": "<p>" + "words " * 200 + "</p>",
            "category_id": sections[n % 3].id,
            "author_id": author.id,
            "status": PostStatus.PUBLISHED if n % 7 else PostStatus.DRAFT,
            "published_at": now - timedelta(minutes=n),
            "created_at": now,
            "updated_at": now,
            "version": 1,
            "featured": False,
            "seo_title": "",
            "seo_description": "",
            "reading_time": 1,
            "review_note": "",
            "cover_alt": "",
        }
        for n in range(POSTS)
    ]
    db.session.execute(insert(Post), rows)
    db.session.commit()
    db.session.execute(text("ANALYZE"))
    db.session.commit()
    return sections


def _plan(query) -> str:
    """The engine's plan for a query, planned with bound values as the app sends them."""
    conn = db.session.connection()
    compiled = query.compile(dialect=conn.dialect)
    sql = str(compiled)
    if conn.dialect.name == "postgresql":
        rows = conn.exec_driver_sql("EXPLAIN " + sql, compiled.params).scalars()
        return "\n".join(rows)
    values = tuple(compiled.params[name] for name in compiled.positiontup)
    return "\n".join(row[-1] for row in conn.exec_driver_sql("EXPLAIN QUERY PLAN " + sql, values))


LISTING_INDEXES = ("ix_posts_live_section_listing", "ix_posts_live_listing")


def _assert_indexed(plan: str, index: str) -> None:
    """The plan reads posts through a listing index and never scans or sorts them all.

    PostgreSQL may walk either listing index (both are newest-first over live
    posts); what matters is an index scan in order, with no sequential scan.
    """
    if db.engine.dialect.name == "postgresql":
        assert any(f"using {name} on posts" in plan for name in LISTING_INDEXES), plan
        assert "Seq Scan on posts" not in plan, plan
        assert "Sort" not in plan, plan
    else:
        assert f"USING INDEX {index}" in plan, plan
        assert "USE TEMP B-TREE FOR ORDER BY" not in plan, plan


def test_section_listing_uses_its_index(many_posts):
    section = many_posts[0]
    for offset in (0, 400):  # page 1 and page 41
        query = reading.listing_query(section=section).limit(10).offset(offset)
        _assert_indexed(_plan(query), "ix_posts_live_section_listing")


def test_home_listing_uses_its_index(many_posts):
    _assert_indexed(_plan(reading.listing_query().limit(10)), "ix_posts_live_listing")


def test_article_lookup_uses_the_slug_index(many_posts):
    query = (
        select(Post)
        .join(Post.category)
        .where(Post.slug == "story-5", Category.slug == "health")
        .where(Post.live(utcnow()))
    )
    plan = _plan(query)
    if db.engine.dialect.name == "postgresql":
        assert "Index Scan using uq_posts_slug on posts" in plan, plan
        assert "Seq Scan on posts" not in plan, plan
    else:
        assert "sqlite_autoindex_posts" in plan or "uq_posts_slug" in plan, plan


def test_listings_never_load_bodies(many_posts, queries, client):
    with queries() as statements:
        assert client.get("/category/health?page=3").status_code == 200
    listing = [s for s in statements if "FROM posts" in s and "LIMIT" in s]
    assert listing and all("posts.body" not in s for s in listing), listing
