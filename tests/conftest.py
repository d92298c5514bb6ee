"""Shared fixtures: one migrated database per run, emptied before every test.

The suite runs on SQLite by default and on PostgreSQL when TEST_DATABASE_URL
is set; on PostgreSQL it creates a database of its own and drops it at the end.
"""

from __future__ import annotations

import os
import re
import secrets
from contextlib import contextmanager
from pathlib import Path

import psycopg
import pytest
from flask import g
from flask.globals import _cv_app
from flask.testing import FlaskClient
from flask_migrate import upgrade
from sqlalchemy import event, make_url, text

from blog import create_app, queue
from blog.config import normalise_database_url
from blog.extensions import cache, db, limiter
from blog.services import search as search_service

from . import factories
from .mailserver import MailServer

CSRF_RE = re.compile(
    r'name="csrf_token" type="hidden" value="([^"]+)"|name="csrf_token" value="([^"]+)"'
)


def _server_dsn(url) -> str:
    """Return a libpq connection string for url's server, without the driver."""
    return url.set(drivername="postgresql").render_as_string(hide_password=False)


@pytest.fixture(scope="session")
def database_url(tmp_path_factory):
    """A fresh, empty database for this test run."""
    raw = os.environ.get("TEST_DATABASE_URL")
    if not raw:
        yield f"sqlite:///{tmp_path_factory.mktemp('db') / 'circle-test.sqlite'}"
        return
    base = make_url(normalise_database_url(raw))
    name = f"circle_test_{secrets.token_hex(4)}"
    with psycopg.connect(_server_dsn(base), autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    yield base.set(database=name).render_as_string(hide_password=False)
    with psycopg.connect(_server_dsn(base), autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


class IsolatedClient(FlaskClient):
    """A test client whose requests each get their own app context.

    The tests keep an app context open to use the database; without this,
    requests would share its `g` and database session, which never happens
    in a real server.
    """

    def open(self, *args, **kwargs):
        """Run the request outside the test's own app context."""
        token = _cv_app.set(None)
        try:
            return super().open(*args, **kwargs)
        finally:
            _cv_app.reset(token)


@pytest.fixture
def empty_database_url(tmp_path):
    """A brand-new empty database on the engine this run tests, dropped afterwards."""
    raw = os.environ.get("TEST_DATABASE_URL")
    if not raw:
        yield f"sqlite:///{tmp_path / 'empty.sqlite'}"
        return
    base = make_url(normalise_database_url(raw))
    name = f"circle_extra_{secrets.token_hex(4)}"
    with psycopg.connect(_server_dsn(base), autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    yield base.set(database=name).render_as_string(hide_password=False)
    with psycopg.connect(_server_dsn(base), autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture
def second_site(empty_database_url, tmp_path):
    """Another Circle with its own empty, upgraded database and upload folder."""
    site = create_app(
        {
            "CIRCLE_ENV": "testing",
            "SQLALCHEMY_DATABASE_URI": empty_database_url,
            "UPLOAD_DIR": str(tmp_path / "second-uploads"),
            "CACHE_GENERATION_DIR": str(tmp_path),
            "SERVER_NAME_FOR_LINKS": "http://localhost",
        }
    )
    with site.app_context():
        upgrade()
    yield site
    with site.app_context():
        db.session.remove()
        db.engine.dispose()


@pytest.fixture(scope="session")
def _app(database_url, tmp_path_factory):
    """The application, its database upgraded through the real migrations."""
    app = create_app(
        {
            "CIRCLE_ENV": "testing",
            "SQLALCHEMY_DATABASE_URI": database_url,
            "UPLOAD_DIR": str(tmp_path_factory.mktemp("uploads")),
            "CACHE_GENERATION_DIR": str(tmp_path_factory.mktemp("generation")),
            "SERVER_NAME_FOR_LINKS": "http://localhost",
        }
    )
    app.test_client_class = IsolatedClient
    # Flask-Limiter keeps its storage on the one Limiter object, so every extra app a
    # test builds (a production-configured one, a second site) re-points it; the `app`
    # fixture puts this run's storage back before each test.
    app.extensions["circle_test_limiter_storage"] = (limiter._storage, limiter._limiter)
    with app.app_context():
        upgrade()
        yield app
        db.session.remove()
        db.engine.dispose()
    _remove_limits_file(app.config.get("RATELIMIT_STORAGE_URI") or "")
    _remove_limits_file("circle-sqlite://" + app.config["JOBS_SQLITE_PATH"])  # the queue's file


def _remove_limits_file(uri: str) -> None:
    """Delete this run's own rate-limit file (and its WAL companions) from the temp folder."""
    prefix = "circle-sqlite://"
    if uri.startswith(prefix):
        for suffix in ("", "-wal", "-shm"):
            Path(uri[len(prefix):] + suffix).unlink(missing_ok=True)


def _empty_database() -> None:
    """Remove every row, keeping the schema; ids start again from 1.

    DELETE in foreign-key order is used on both engines: on PostgreSQL it takes a few
    milliseconds where TRUNCATE of every table takes a quarter of a second, which
    over a thousand tests was most of the run. The sequences are then set back.
    """
    db.session.remove()
    tables = [t.name for t in reversed(db.metadata.sorted_tables)]
    with db.engine.begin() as conn:
        for table in tables:
            conn.execute(text(f"DELETE FROM {table}"))
        # The search index is no model table; the app keeps it in step with the posts.
        search_service.clear_index(conn)
        if conn.dialect.name == "postgresql":
            sequences = conn.scalars(
                text("SELECT quote_ident(sequence_name) FROM information_schema.sequences")
            ).all()
            if sequences:
                restarts = ", ".join(f"setval('{name}', 1, false)" for name in sequences)
                conn.execute(text(f"SELECT {restarts}"))


@pytest.fixture
def app(_app):
    """The application with an empty database, fresh limits, cache and outbox."""
    _empty_database()
    limiter._storage, limiter._limiter = _app.extensions["circle_test_limiter_storage"]
    limiter.reset()
    cache.clear()
    _app.extensions["circle_outbox"] = []
    queue.empty(_app)
    for name in ("circle_settings", "circle_sections"):
        g.pop(name, None)  # the test's app context lasts the whole run
    with _app.test_request_context():
        from blog.services import content_generation
        from blog.services.users import ensure_roles

        # The rows went without a purge: purge everything, as a restore does, so what a
        # worker keeps in memory (values under the purge version) goes too.
        content_generation.bump()
        ensure_roles()
        db.session.commit()
    yield _app
    db.session.remove()


@pytest.fixture
def uploads(app, tmp_path):
    """A fresh, empty upload folder for this test."""
    folder = tmp_path / "uploads"
    folder.mkdir()
    old = app.config["UPLOAD_DIR"]
    app.config["UPLOAD_DIR"] = str(folder)
    yield folder
    app.config["UPLOAD_DIR"] = old


@pytest.fixture
def client(app):
    """A test browser for the app."""
    return app.test_client()


@pytest.fixture
def runner(app):
    """A runner for the flask commands."""
    return app.test_cli_runner()


@pytest.fixture
def run_jobs(app):
    """Run the jobs waiting in the app's queue (its real storage) here; return how many ran."""
    return lambda: queue.run_queued(app)


@pytest.fixture(scope="session")
def _mail_server():
    """One real SMTP server (aiosmtpd) for the run."""
    server = MailServer()
    server.start()
    yield server
    server.stop()


@pytest.fixture
def smtp(app, _mail_server):
    """The SMTP server, emptied, with the app sending to it for this test."""
    _mail_server.clear()
    saved = {k: app.config.get(k) for k in ("MAIL_SERVER", "MAIL_PORT", "MAIL_USE_TLS")}
    app.config.update(MAIL_SERVER="127.0.0.1", MAIL_PORT=_mail_server.port, MAIL_USE_TLS=False)
    yield _mail_server
    app.config.update(saved)
    _mail_server.clear()


@pytest.fixture
def outbox(app):
    """Mail the app sent during the test."""
    return app.extensions["circle_outbox"]


def csrf_from(html: str) -> str:
    """Return the CSRF token in a page's form."""
    match = CSRF_RE.search(html)
    assert match, "no CSRF token on the page"
    return match.group(1) or match.group(2)


class Auth:
    """Sign in and out through the real forms."""

    def __init__(self, client):
        self.client = client

    def login(self, login: str, password: str = factories.PASSWORD, next_url: str | None = None):
        """Post the login form with a valid CSRF token."""
        url = "/login" + (f"?next={next_url}" if next_url else "")
        token = csrf_from(self.client.get("/login").get_data(as_text=True))
        return self.client.post(
            url, data={"login": login, "password": password, "csrf_token": token}
        )

    def logout(self):
        """Post the sign-out form."""
        token = csrf_from(self.client.get("/account").get_data(as_text=True))
        return self.client.post("/logout", data={"csrf_token": token})


@pytest.fixture
def auth(client):
    """Sign-in helper bound to the test client."""
    return Auth(client)


@pytest.fixture
def make(app):
    """Factories that create people, sections and posts in the test database."""
    return factories.Factory()


@contextmanager
def count_queries():
    """Count the SQL statements run inside the block."""
    statements: list[str] = []

    def before(conn, cursor, statement, parameters, context, executemany):
        statements.append(statement)

    event.listen(db.engine, "before_cursor_execute", before)
    try:
        yield statements
    finally:
        event.remove(db.engine, "before_cursor_execute", before)


@pytest.fixture
def queries(app):
    """The count_queries context manager."""
    return count_queries


@pytest.fixture
def page_queries(client):
    """Return the SQL a page runs once warm (site settings cached, as in production)."""

    def measure(url: str) -> list[str]:
        assert client.get(url).status_code == 200, url
        with count_queries() as statements:
            assert client.get(url).status_code == 200, url
        return statements

    return measure


@pytest.fixture
def desk_people(make):
    """The Health section, Ana who writes for it and Hedda who edits it."""
    from blog.services.users import assign_sections

    health = make.section("Health", slug="health")
    people = {
        "health": health,
        "ana": make.user("author", username="ana"),
        "hedda": make.user("editor", username="hedda"),
    }
    assign_sections(people["hedda"], [health])
    return people


@pytest.fixture
def ana_draft(make, desk_people):
    """Ana's draft in Health, as she left it yesterday."""
    from blog.models import PostStatus

    return make.post(
        author=desk_people["ana"],
        section=desk_people["health"],
        status=PostStatus.DRAFT,
        title="Night shifts",
        body="<p>Yesterday's words.</p>",
    )


@pytest.fixture
def cached(app):
    """Turn the page cache on for one test."""
    app.config["PAGE_CACHE"] = True
    yield app
    app.config["PAGE_CACHE"] = False
