"""Circle: a Flask CMS for multi-category magazines."""

from __future__ import annotations

import contextlib
import hashlib
import sqlite3
from pathlib import Path

from flask import Flask, g, request
from sqlalchemy.exc import SQLAlchemyError
from werkzeug.middleware.proxy_fix import ProxyFix

from . import errors, headers, hosts, pagecache, signin, staff_gate
from .config import BaseConfig, engine_options, load_config
from .extensions import cache, compress, csrf, db, limiter, migrate
from .sanitize import has_embed, scrollable_tables
from .services import clock, content_generation, search
from .services import media as media_service
from .validators import BoundedIntConverter, is_usable_address


def create_app(config: type[BaseConfig] | str | dict | None = None) -> Flask:
    """Build the Circle application.

    config may be a config class, the name of one ("testing"), or a dict of
    overrides applied on top of the configuration chosen by CIRCLE_ENV.
    """
    app = Flask(
        __name__,
        instance_relative_config=True,
        template_folder="../templates",
        static_folder="../static",
    )
    configure(app, config)
    hosts.init_app(app)
    register_client_address(app)
    headers.register_response_headers(app)
    register_extensions(app)
    register_caching(app)
    register_proxies(app)  # outside the page cache's early hits, which read the Host
    signin.init_app(app)  # sign-in over server-side sessions; foreign origins refused
    register_url_converters(app)
    register_blueprints(app)
    staff_gate.init_app(app)
    errors.register_errorhandlers(app)
    register_template_context(app)
    register_commands(app)
    register_jobs(app)
    return app


def configure(app: Flask, config: type[BaseConfig] | str | dict | None) -> None:
    """Load the configuration class, then any overrides."""
    instance = Path(app.instance_path)
    instance.mkdir(parents=True, exist_ok=True)
    overrides: dict = {}
    if isinstance(config, dict):
        overrides = config
        config = overrides.pop("CIRCLE_ENV", None)
    if config is None or isinstance(config, str):
        config = load_config(instance, config)
    app.config.from_object(config)
    app.config.update(overrides)
    app.config.setdefault("SQLALCHEMY_ENGINE_OPTIONS", {})
    if not app.config["SQLALCHEMY_ENGINE_OPTIONS"]:
        app.config["SQLALCHEMY_ENGINE_OPTIONS"] = engine_options(app.config)


def register_proxies(app: Flask) -> None:
    """Trust PROXY_COUNT proxies' X-Forwarded-* headers: the outermost WSGI layer."""
    if app.config.get("PROXY_COUNT"):
        count = app.config["PROXY_COUNT"]
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=count, x_proto=count, x_host=count)


def register_client_address(app: Flask) -> None:
    """Note the client's address for the services (the audit log, lock-outs), first thing.

    Registered before the rate limits, whose refusals write lock-outs to the log.
    """

    @app.before_request
    def note_client_address() -> None:
        g.client_address = request.remote_addr or ""


def register_extensions(app: Flask) -> None:
    """Bind the unbound extensions to this app."""
    from . import models

    db.init_app(app)
    migrate.init_app(
        app,
        db,
        directory=str(Path(app.root_path).parent / "migrations"),
        render_as_batch=True,
        compare_type=True,
        render_item=models.types.render_migration_type,
        include_name=models.types.include_in_autogenerate,
    )
    csrf.init_app(app)
    cache.init_app(app)
    compress.init_app(app)
    limiter.init_app(app)

    search.install_index_hooks()
    content_generation.install_generation_hooks()

    if app.config["SQLALCHEMY_DATABASE_URI"].startswith("sqlite"):
        with app.app_context():
            _configure_sqlite(db.engine)


# SQLite's recommended use of PRAGMA optimize (sqlite.org/lang_analyze.html): a light
# pass when a connection opens, then one every OPTIMIZE_EVERY uses and when it closes.
OPTIMIZE_EVERY = 1000

# At most this many static files keep their hash for the life of a process.
MAX_SETTLED_ASSETS = 1000


def _configure_sqlite(engine) -> None:
    """Turn on WAL and foreign keys on every SQLite connection; keep its statistics current."""
    from sqlalchemy import event

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection, _record):
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute("PRAGMA busy_timeout=5000")
        cursor.execute("PRAGMA optimize=0x10002")
        cursor.close()

    @event.listens_for(engine, "checkin")
    def _now_and_then(dbapi_connection, record):
        if dbapi_connection is None or record is None:
            return
        uses = record.info.get("circle_uses", 0) + 1
        record.info["circle_uses"] = uses
        if uses % OPTIMIZE_EVERY == 0:
            _optimize(dbapi_connection)

    @event.listens_for(engine, "close")
    def _on_close(dbapi_connection, _record):
        _optimize(dbapi_connection)


def _optimize(dbapi_connection) -> None:
    """Let SQLite refresh the statistics this connection's queries would have used."""
    with contextlib.suppress(sqlite3.Error):  # busy or read-only: next time
        dbapi_connection.execute("PRAGMA optimize")


def register_caching(app: Flask) -> None:
    """Serve anonymous readers from the page cache; give our assets hashed URLs.

    Registered before the other request hooks, so a cache hit touches nothing else
    (only the Host check and the rate limits come first; the security headers are
    added after the cache has answered or stored the page).
    """
    pagecache.init_app(app)
    hashes: dict[tuple[str, int], str] = {}
    settled: dict[str, str] = {}

    @app.url_defaults
    def hashed_static_url(endpoint: str, values: dict) -> None:
        """Add ?v=<content hash> to static URLs so they can be cached for a year.

        Outside debug mode a file's hash is found once per process (a deploy restarts
        the workers); in debug mode the file is looked at each time, so edits show.
        """
        if endpoint != "static" or "filename" not in values or "v" in values:
            return
        name = values["filename"]
        if name in settled:
            values["v"] = settled[name]
            return
        path = Path(app.static_folder) / name
        try:
            stamp = path.stat().st_mtime_ns
        except OSError:
            return
        key = (name, stamp)
        if key not in hashes:
            hashes[key] = hashlib.sha256(path.read_bytes()).hexdigest()[:12]
        values["v"] = hashes[key]
        if not app.debug and len(settled) < MAX_SETTLED_ASSETS:
            settled[name] = hashes[key]


def register_url_converters(app: Flask) -> None:
    """Make every `<int:…>` in a route match only ids a database column can hold."""
    app.url_map.converters["int"] = BoundedIntConverter


def register_blueprints(app: Flask) -> None:
    """Attach each door of the site."""
    from .admin import bp as admin_bp
    from .api import bp as api_bp
    from .auth import bp as auth_bp
    from .editor import bp as editor_bp
    from .media import bp as media_bp
    from .public import bp as public_bp

    app.register_blueprint(auth_bp)
    app.register_blueprint(editor_bp, url_prefix="/editor")
    app.register_blueprint(admin_bp, url_prefix="/admin")
    app.register_blueprint(api_bp, url_prefix="/api/v1")
    app.register_blueprint(media_bp)
    # The public blueprint owns the catch-all /<section>/<slug>, so it goes last.
    app.register_blueprint(public_bp)


def register_template_context(app: Flask) -> None:
    """Give every template the site's name and sections."""
    from flask_login import current_user

    from .models import Permission
    from .services import moderation
    from .services import settings as site_settings
    from .services.media import site_icon
    from .services.navigation import reader_menu

    def _site_identity() -> dict:
        """The site's name, slogan and tagline as the admins set them."""
        try:
            current = site_settings.current()
        except SQLAlchemyError:
            db.session.rollback()
            current = None
        return {
            "name": current.site_name if current else app.config["SITE_NAME"],
            "slogan": current.site_slogan if current else app.config["SITE_SLOGAN"],
            "tagline": current.site_tagline if current else app.config["SITE_TAGLINE"],
            "icons": site_icon.links(current.site_icon if current else ""),
        }

    def _safe_menu(name: str) -> list[dict]:
        """The header or footer menu as readers get it; empty when the database is down."""
        try:
            return reader_menu(name)
        except SQLAlchemyError:
            db.session.rollback()
            return []

    def menu_href(item: dict) -> str:
        """Where a menu item leads: its link, or the address of its section, tag or page."""
        if not item["endpoint"]:
            return item["href"]
        return hosts.remembered_url(item["endpoint"], **item["args"])

    def canonical_url() -> str | None:
        """The absolute address of this page, with ?page=N beyond the first."""
        if request.endpoint is None or request.url_rule is None:
            return None
        args = dict(request.view_args or {})
        page = request.args.get("page")
        if page and page != "1":
            args["page"] = page
        if request.endpoint == "public.search":
            for key in ("q", "category"):
                if request.args.get(key):
                    args[key] = request.args[key]
        return hosts.absolute_url(request.endpoint, **args)

    # {{ url_for(...) }} in templates: each address built once per process.
    app.jinja_env.globals["url_for"] = hosts.remembered_url
    # {% if x is usable_address %}: stored addresses are shown only when safe.
    app.jinja_env.tests["usable_address"] = is_usable_address
    # A post's body as readers get it: tables scroll inside their own region.
    app.jinja_env.filters["scrollable_tables"] = scrollable_tables
    # {{ post.body | public_media }}, {{ post.cover_image | media_address }}: stored /uploads
    # addresses as readers fetch them (under S3_PUBLIC_URL when media is served from there).
    app.jinja_env.filters["public_media"] = media_service.public_media
    app.jinja_env.filters["media_address"] = media_service.public_address
    # {{ cover(post, ...) }} in _macros.html: a cover's sizes, room and alt text.
    app.jinja_env.globals["cover_picture"] = media_service.cover_picture
    app.jinja_env.tests["holding_embeds"] = has_embed
    # {{ moment | sitetime }}: a stored (UTC) time written in the site's time zone.
    app.jinja_env.filters["sitetime"] = clock.show

    @app.context_processor
    def site_context():
        return {
            "site": _site_identity(),
            "site_menu": _safe_menu,
            "menu_href": menu_href,
            "Permission": Permission,
            "site_zone": clock.site_zone,
            "canonical_url": canonical_url,
            "has_endpoint": lambda name: name in app.view_functions,
            "queue_counts": lambda: moderation.counts_for(current_user),
        }


def register_jobs(app: Flask) -> None:
    """Give the app its job queue, with every job the services declare."""
    from . import queue

    # Each of these modules declares its jobs and listeners.
    from .services import maintenance, newsletter, notifications, webhooks  # noqa: F401

    queue.init_app(app)


def register_commands(app: Flask) -> None:
    """Add Circle's flask commands."""
    from .cli import commands

    for command in commands:
        app.cli.add_command(command)
