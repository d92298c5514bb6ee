"""Reader pages. They only read, through the posts service."""

from __future__ import annotations

from flask import Blueprint, abort, current_app, jsonify, render_template, request
from sqlalchemy import text

from ..extensions import db
from ..services import NotFound
from ..services import posts as post_service

bp = Blueprint("public", __name__)

MAX_PAGE = 1_000_000


def page_number() -> int:
    """Return ?page=N as a positive number; anything else is a 404."""
    raw = request.args.get("page")
    if raw is None:
        return 1
    if not raw.isdigit() or not raw.isascii() or len(raw) > 7:
        abort(404)
    page = int(raw)
    if page < 1 or page > MAX_PAGE:
        abort(404)
    return page


def paginate(query):
    """Paginate a listing query; a page past the end is a 404."""
    return db.paginate(
        query,
        page=page_number(),
        per_page=current_app.config["POSTS_PER_PAGE"],
        error_out=True,
    )


@bp.route("/")
def home():
    """The front page: the newest stories from every section."""
    pagination = paginate(post_service.published())
    return render_template("public/home.html", pagination=pagination, posts=pagination.items)


@bp.route("/category/<slug>")
def category(slug: str):
    """A section's page: its description and its newest stories."""
    try:
        section = post_service.section_by_slug(slug)
    except NotFound:
        abort(404)
    query = post_service.published().where(post_service.Post.category_id == section.id)
    pagination = paginate(query)
    return render_template(
        "public/category.html", section=section, pagination=pagination, posts=pagination.items
    )


@bp.route("/healthz")
def healthz():
    """Report whether the app can reach its database."""
    try:
        db.session.execute(text("SELECT 1"))
    except Exception:  # any database failure means unhealthy
        db.session.rollback()
        return jsonify(status="error", database="unreachable"), 503
    return jsonify(status="ok", database="ok")


@bp.route("/<section_slug>/<post_slug>")
def post(section_slug: str, post_slug: str):
    """An article page."""
    try:
        article = post_service.published_post(section_slug, post_slug)
    except NotFound:
        abort(404)
    return render_template("public/post.html", post=article)
