"""The migrations build exactly the schema the models describe, on this run's engine."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from flask_migrate import downgrade, upgrade
from sqlalchemy import inspect, text

from blog import create_app
from blog.extensions import db
from blog.models.types import include_in_autogenerate, render_migration_type


def test_upgrade_from_empty_matches_the_models(empty_database_url):
    app = create_app({"CIRCLE_ENV": "testing", "SQLALCHEMY_DATABASE_URI": empty_database_url})
    with app.app_context():
        upgrade()
        with db.engine.connect() as conn:
            context = MigrationContext.configure(
                conn,
                opts={
                    "compare_type": True,
                    "render_item": render_migration_type,
                    "include_name": include_in_autogenerate,
                },
            )
            differences = compare_metadata(context, db.metadata)
        tables = set(inspect(db.engine).get_table_names())
        db.engine.dispose()
    assert differences == []
    assert {"users", "roles", "categories", "posts", "tags", "post_tags", "revisions"} <= tables


def test_downgrade_to_empty_and_back(empty_database_url):
    app = create_app({"CIRCLE_ENV": "testing", "SQLALCHEMY_DATABASE_URI": empty_database_url})
    with app.app_context():
        upgrade()
        downgrade(revision="base")
        assert set(inspect(db.engine).get_table_names()) <= {"alembic_version"}
        upgrade()
        assert "posts" in inspect(db.engine).get_table_names()
        db.engine.dispose()


def test_sqlite_runs_with_wal_and_foreign_keys(tmp_path):
    url = f"sqlite:///{tmp_path / 'pragmas.sqlite'}"
    app = create_app({"CIRCLE_ENV": "testing", "SQLALCHEMY_DATABASE_URI": url})
    with app.app_context(), db.engine.connect() as conn:
        assert conn.execute(text("PRAGMA journal_mode")).scalar() == "wal"
        assert conn.execute(text("PRAGMA foreign_keys")).scalar() == 1


def test_0011_remembers_what_trashed_posts_were_and_derives_excerpts_again(
    empty_database_url, tmp_path
):
    from blog.models import Category, Post, PostStatus
    from blog.services import audit, desk
    from blog.services import users as user_service

    app = create_app(
        {
            "CIRCLE_ENV": "testing",
            "SQLALCHEMY_DATABASE_URI": empty_database_url,
            "CACHE_GENERATION_DIR": str(tmp_path),
        }
    )
    body = "<h2>What night nurses see</h2><p>At two the ward is <em>quiet</em>.</p>"
    with app.app_context():
        upgrade()
        author = user_service.create_user("ana@example.com", "ana", "a long password", "author")
        section = Category(name="Health", slug="health")
        db.session.add(section)
        db.session.commit()

        def post(title, status, **kwargs):
            draft = desk.PostDraft(title, body, category_id=section.id, **kwargs)
            return desk.file_post(draft, author, status=status).id

        was_live = post("Was live", PostStatus.PUBLISHED)
        was_unpublished = post("Was unpublished", PostStatus.PUBLISHED)
        was_draft = post("Was a draft", PostStatus.DRAFT)
        written = post("Written", PostStatus.DRAFT, excerpt="Nurses, in their own words.")
        for action in ("post.publish", "post.unpublish", "post.trash"):
            audit.record(None, action, db.session.get(Post, was_unpublished))
        db.session.commit()
        downgrade(revision="0010")
        with db.engine.begin() as conn:
            conn.execute(
                text("UPDATE posts SET status = 'trash' WHERE id IN (:a, :b, :c)"),
                {"a": was_live, "b": was_unpublished, "c": was_draft},
            )
            # What the old desk stored: the derived excerpt, glued, marked written by a re-save.
            conn.execute(
                text("UPDATE posts SET excerpt = :old, excerpt_written = :yes WHERE id = :id"),
                {
                    "old": "What night nurses see At two the ward is quiet .",
                    "yes": True,
                    "id": was_live,
                },
            )
        upgrade()
        with db.engine.connect() as conn:
            rows = {
                row.id: row
                for row in conn.execute(
                    text("SELECT id, status_before_trash, excerpt, excerpt_written FROM posts")
                )
            }
        db.engine.dispose()
    assert rows[was_live].status_before_trash == "published"
    assert rows[was_unpublished].status_before_trash == "draft"
    assert rows[was_draft].status_before_trash is None
    assert rows[written].status_before_trash is None
    derived = "What night nurses see At two the ward is quiet."
    for post_id in (was_live, was_unpublished, was_draft):
        assert rows[post_id].excerpt == derived
        assert not rows[post_id].excerpt_written
    assert rows[written].excerpt == "Nurses, in their own words."
    assert rows[written].excerpt_written


def test_0015_keeps_every_story_findable_in_its_section_both_ways(empty_database_url, tmp_path):
    from blog.models import Category, PostStatus
    from blog.services import desk
    from blog.services import users as user_service
    from blog.services.search import search_posts

    app = create_app(
        {
            "CIRCLE_ENV": "testing",
            "SQLALCHEMY_DATABASE_URI": empty_database_url,
            "CACHE_GENERATION_DIR": str(tmp_path),
        }
    )
    with app.test_request_context():
        upgrade()
        author = user_service.create_user("ana@example.com", "ana", "a long password", "author")
        health, news = Category(name="Health", slug="health"), Category(name="News", slug="news")
        db.session.add_all([health, news])
        db.session.commit()
        news_id = news.id
        for title, section in (("Walrus clinic", health), ("Walrus sighted", news)):
            draft = desk.PostDraft(title, "<p>A walrus story.</p>", category_id=section.id)
            desk.file_post(draft, author, status=PostStatus.PUBLISHED)
        db.session.commit()
        db.session.remove()
        downgrade(revision="0014")
        upgrade()
        found = search_posts("walrus")
        in_news = search_posts("walrus", section=db.session.get(Category, news_id))
        facets = {section.slug: count for section, count in found.facets}
        titles = [hit.post.title for hit in in_news.hits]
        db.session.remove()
        db.engine.dispose()
    assert found.total == 2 and facets == {"health": 1, "news": 1}
    assert titles == ["Walrus sighted"]
