"""Planner statistics are current after an import or a restore, and SQLite keeps them so.

Without statistics a planner guesses; the listing tests (test_query_plans.py) prove the
reader pages hold up even then, and these prove the guessing does not last.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

import blog
from blog.extensions import db

EXPORT = Path(__file__).resolve().parent / "data" / "wordpress-export.xml"


def _forget_statistics() -> None:
    """Leave the database as if it had never been analyzed."""
    if db.engine.dialect.name == "sqlite":
        db.session.execute(text("DROP TABLE IF EXISTS sqlite_stat1"))
        db.session.execute(text("DROP TABLE IF EXISTS sqlite_stat4"))
    else:
        db.session.execute(text("SELECT pg_stat_reset_single_table_counters('posts'::regclass)"))
    db.session.commit()
    assert not _posts_analyzed()


def _posts_analyzed() -> bool:
    """True when the planner has statistics for the posts table."""
    if db.engine.dialect.name == "sqlite":
        has_table = db.session.scalar(
            text("SELECT count(*) FROM sqlite_master WHERE name = 'sqlite_stat1'")
        )
        found = has_table and db.session.scalar(
            text("SELECT count(*) FROM sqlite_stat1 WHERE tbl = 'posts'")
        )
    else:
        db.session.execute(text("SELECT pg_stat_clear_snapshot()"))
        found = db.session.scalar(
            text("SELECT last_analyze IS NOT NULL FROM pg_stat_user_tables WHERE relname = 'posts'")
        )
    db.session.rollback()
    return bool(found)


def test_import_wxr_leaves_statistics(runner, make):
    make.section("News", slug="news")
    _forget_statistics()
    result = runner.invoke(args=["import-wxr", str(EXPORT)])
    assert result.exit_code == 0, result.output
    assert _posts_analyzed()


def test_an_import_on_postgresql_vacuums_what_it_wrote(runner, make):
    if db.engine.dialect.name != "postgresql":
        pytest.skip("VACUUM is PostgreSQL's; SQLite's statistics are checked above")
    make.section("News", slug="news")
    db.session.execute(text("SELECT pg_stat_reset_single_table_counters('post_search'::regclass)"))
    db.session.commit()
    result = runner.invoke(args=["import-wxr", str(EXPORT)])
    assert result.exit_code == 0, result.output
    db.session.execute(text("SELECT pg_stat_clear_snapshot()"))
    vacuumed = db.session.scalar(
        text(
            "SELECT last_vacuum IS NOT NULL FROM pg_stat_user_tables "
            "WHERE relname = 'post_search'"
        )
    )
    db.session.rollback()
    assert vacuumed  # the search index's pending list is emptied: searches use the index


def test_a_dry_run_changes_no_statistics(runner, make):
    make.section("News", slug="news")
    _forget_statistics()
    assert runner.invoke(args=["import-wxr", str(EXPORT), "--dry-run"]).exit_code == 0
    assert not _posts_analyzed()


def test_import_json_leaves_statistics(runner, make, tmp_path):
    make.post(title="Kept in the backup")
    backup = tmp_path / "backup.zip"
    assert runner.invoke(args=["export-json", str(backup)]).exit_code == 0
    _forget_statistics()
    result = runner.invoke(args=["import-json", str(backup), "--force"])
    assert result.exit_code == 0, result.output
    assert _posts_analyzed()


def _traced_engine(path: Path, statements: list[str]):
    """A SQLite engine configured as the app's, recording every statement SQLite runs."""

    def connect():
        connection = sqlite3.connect(path)
        connection.set_trace_callback(statements.append)
        return connection

    engine = create_engine("sqlite://", creator=connect)
    blog._configure_sqlite(engine)
    return engine


@pytest.fixture
def sqlite_only(app):
    """These tests look at SQLite's own connections."""
    if db.engine.dialect.name != "sqlite":
        pytest.skip("PRAGMA optimize is SQLite's")


def test_sqlite_connections_optimize_when_opened_and_closed(sqlite_only, tmp_path):
    statements: list[str] = []
    engine = _traced_engine(tmp_path / "site.sqlite", statements)
    with engine.connect() as connection:
        connection.exec_driver_sql("SELECT 1")
    assert "PRAGMA optimize=0x10002" in statements
    assert "PRAGMA optimize" not in statements
    engine.dispose()
    assert statements[-1] == "PRAGMA optimize"


def test_long_lived_connections_optimize_now_and_then(sqlite_only, tmp_path, monkeypatch):
    monkeypatch.setattr(blog, "OPTIMIZE_EVERY", 3)
    statements: list[str] = []
    engine = _traced_engine(tmp_path / "site.sqlite", statements)
    for _ in range(2):
        with engine.connect() as connection:
            connection.exec_driver_sql("SELECT 1")
    assert "PRAGMA optimize" not in statements
    with engine.connect() as connection:
        connection.exec_driver_sql("SELECT 1")
    assert statements.count("PRAGMA optimize") == 1
    engine.dispose()


def test_closing_a_connection_analyzes_what_its_queries_needed(sqlite_only, tmp_path):
    path = tmp_path / "site.sqlite"
    engine = _traced_engine(path, [])
    with engine.begin() as connection:
        connection.exec_driver_sql("CREATE TABLE t (a INTEGER, b INTEGER)")
        connection.exec_driver_sql("CREATE INDEX ix_t_a ON t (a)")
        connection.exec_driver_sql(
            "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 5000)"
            " INSERT INTO t SELECT i % 50, i FROM n"
        )
    engine.dispose()
    engine = _traced_engine(path, [])
    with engine.connect() as connection:
        connection.exec_driver_sql("SELECT b FROM t WHERE a = 7").all()
    engine.dispose()
    with sqlite3.connect(path) as check:
        assert check.execute("SELECT tbl, idx FROM sqlite_stat1").fetchall() == [("t", "ix_t_a")]
