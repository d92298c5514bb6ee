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
