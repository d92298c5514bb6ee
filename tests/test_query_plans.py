"""The database answers reader listings and article lookups from indexes.

On PostgreSQL the test reads EXPLAIN; on SQLite, EXPLAIN QUERY PLAN. Both run
against a few thousand posts so the planner's choice is the real one.
"""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from sqlalchemy import insert, select, text

from blog.extensions import db
from blog.models import Category, Post, PostStatus, Tag, User, post_coauthors, post_tags, utcnow
from blog.services import reading

POSTS = 6000


def _insert_posts(make) -> list[Category]:
    """Insert thousands of posts over three sections in one statement; return the sections."""
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
    return sections


@pytest.fixture
def many_posts(make):
    """Thousands of posts over three sections, most of them published, then ANALYZE."""
    sections = _insert_posts(make)
    if db.engine.dialect.name == "sqlite":
        # Created anew, so that every pooled connection reloads the statistics (SQLite
        # keeps them in memory until its schema changes).
        db.session.execute(text("DROP TABLE IF EXISTS sqlite_stat1"))
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


# -- Without planner statistics: what a site looks like right after an import ----------------


@pytest.fixture
def imported_posts(make):
    """Thousands of posts with a tag and co-authors, and no planner statistics (SQLite)."""
    sections = _insert_posts(make)
    ids = list(db.session.scalars(select(Post.id).order_by(Post.id)))
    tag = Tag(name="Recipes", slug="recipes")
    db.session.add(tag)
    helper = make.user("author", username="helper")
    db.session.flush()
    db.session.execute(insert(post_tags), [{"post_id": i, "tag_id": tag.id} for i in ids[::3]])
    db.session.execute(
        insert(post_coauthors),
        [{"post_id": i, "user_id": helper.id, "position": 0} for i in ids[::5]],
    )
    db.session.commit()
    if db.engine.dialect.name == "sqlite":
        db.session.execute(text("DROP TABLE IF EXISTS sqlite_stat1"))
        db.session.execute(text("DROP TABLE IF EXISTS sqlite_stat4"))
        # Forget the statistics this connection holds in memory too (the others reload
        # theirs with the schema): ANALYZE of sqlite_schema only reloads them, from nothing.
        db.session.execute(text("ANALYZE sqlite_schema"))
        db.session.commit()
        assert not db.session.scalar(text("SELECT count(*) FROM sqlite_stat1"))
    prolific = db.session.scalar(select(User).where(User.username == "prolific"))
    return {"sections": sections, "tag": tag, "authors": (prolific, helper)}


_FULL_SCAN = re.compile(r"^SCAN posts(?! USING)", re.MULTILINE)


def _assert_walks_an_index(what: str, plan: str) -> None:
    """The plan reads posts through an index only: no full scan, no sort of every row."""
    if db.engine.dialect.name == "postgresql":
        # PostgreSQL always knows a table's size; it may drive a tag page from post_tags.
        assert "Seq Scan on posts" not in plan, (what, plan)
        assert re.search(r"Index (Only )?Scan (Backward )?using \w+ on posts", plan), (what, plan)
    else:
        assert not _FULL_SCAN.search(plan), (what, plan)
        assert "USE TEMP B-TREE FOR ORDER BY" not in plan, (what, plan)
        covering = [f"USING COVERING INDEX {name} " for name in LISTING_INDEXES]
        assert any(index in plan for index in covering), (what, plan)


def test_listings_and_counts_use_an_index_without_statistics(imported_posts):
    section = imported_posts["sections"][1]
    prolific, helper = imported_posts["authors"]
    listings = {
        "home": reading.listing_query(),
        "section": reading.listing_query(section=section),
        "tag": reading.listing_query(tag=imported_posts["tag"]),
        "author": reading.listing_query(author=prolific),
        "co-author": reading.listing_query(author=helper),
    }
    for name, listing in listings.items():
        for offset in (0, 400):  # page 1 and page 41
            plan = _plan(reading.page_ids_query(listing, 10, offset))
            _assert_walks_an_index(f"{name} at {offset}", plan)
        if db.engine.dialect.name == "sqlite":
            # PostgreSQL counts most of a freshly written table fastest with a sequential
            # scan (no visibility map yet for an index-only one), and its autovacuum
            # analyzes an imported table by itself; SQLite would guess, and never learns.
            _assert_walks_an_index(f"{name} count", _plan(reading.count_query(listing)))


def test_listing_counts_are_right_without_statistics(imported_posts):
    """The covering walks count what readers see: live articles, by author or co-author."""
    published = len([n for n in range(POSTS) if n % 7])
    assert db.session.scalar(reading.count_query(reading.listing_query())) == published
    prolific, helper = imported_posts["authors"]
    count = reading.count_query(reading.listing_query(author=helper))
    assert db.session.scalar(count) == len([n for n in range(0, POSTS, 5) if n % 7])
    tagged = reading.count_query(reading.listing_query(tag=imported_posts["tag"]))
    assert db.session.scalar(tagged) == len([n for n in range(0, POSTS, 3) if n % 7])
    assert db.session.scalar(reading.count_query(reading.listing_query(author=prolific))) == (
        published
    )
