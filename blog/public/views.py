"""Reader pages. They only read, through the reading and search services."""

from __future__ import annotations

from flask import (
    Blueprint,
    abort,
    current_app,
    jsonify,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_login import current_user
from markupsafe import Markup
from werkzeug.routing import BaseConverter, ValidationError

from .. import pagecache
from ..errors import error_response, wants_json
from ..extensions import limiter
from ..forms import id_from, page_number
from ..models import RESERVED_SLUGS
from ..permissions import can_edit
from ..services import comments as comment_service
from ..services import content_generation, health, pages, reading, surrogate
from ..services import search as search_service
from ..services import settings as site_settings
from ..services import slugs as slug_service
from .cards import featured_card, post_cards, search_cards
from .meta import article_jsonld, site_jsonld

bp = Blueprint("public", __name__)


class PageSlugConverter(BaseConverter):
    """A top-level page slug: never one of the site's own addresses (RESERVED_SLUGS), so
    /logout and its kind keep their own answers (a GET on /logout stays a 405)."""

    def to_python(self, value: str) -> str:
        """Refuse the reserved words: the rule then does not match at all."""
        if value in RESERVED_SLUGS:
            raise ValidationError()
        return value


# Recorded before the routes below, so the converter exists when their rules are built.
bp.record_once(lambda state: state.app.url_map.converters.setdefault("page", PageSlugConverter))


def paginate(listing, *args, **kwargs):
    """One page of a reader listing (a reading function); past the end is NotFound, a 404."""
    return listing(
        *args, page=page_number(), per_page=site_settings.current().posts_per_page, **kwargs
    )


def post_url(post, **kwargs) -> str:
    """The address of an article, or of a page (/<slug>)."""
    if post.is_page:
        return url_for("public.page", slug=post.slug, **kwargs)
    return url_for("public.post", section_slug=post.category.slug, post_slug=post.slug, **kwargs)


@bp.route("/")
def home():
    """The front page: the featured story, the latest ones and a row per section."""
    wp_id = request.args.get("p")
    if wp_id is not None:
        wanted = id_from(wp_id)
        if wanted is None:
            abort(404)
        return redirect(post_url(reading.post_by_wp_id(wanted)), 301)
    page = page_number()
    featured = reading.featured_id() if page == 1 else None
    pagination = paginate(reading.latest, exclude_id=featured)
    rows = reading.section_rows(exclude_id=featured) if featured else []
    hero = featured_card(featured)
    return render_template(
        "public/home.html",
        featured=hero,
        pagination=pagination,
        # The featured story's picture leads the page; without one, the first card's does.
        cards=post_cards(pagination.items, "h3", eager=3, lead=hero is None),
        section_rows=[(s, post_cards(ids, "h3", show_section=False)) for s, ids in rows],
        subscribe_sections=reading.reader_sections(),
        jsonld=site_jsonld(),
    )


@bp.route("/category/<slug>")
def category(slug: str):
    """A section's page: its description, cover and newest stories."""
    section = reading.section_by_slug(slug)
    pagination = paginate(reading.section_listing, section)
    return render_template(
        "public/category.html",
        section=section,
        pagination=pagination,
        cards=post_cards(pagination.items, show_section=False, eager=3),
    )


@bp.route("/tag/<slug>")
def tag(slug: str):
    """Every story with a tag."""
    found = reading.tag_by_slug(slug)
    pagination = paginate(reading.tag_listing, found)
    if not pagination.items and pagination.page == 1:
        abort(404)
    return render_template(
        "public/tag.html",
        tag=found,
        pagination=pagination,
        cards=post_cards(pagination.items, eager=3),
    )


@bp.route("/author/<username>")
def author(username: str):
    """An author's page: bio, avatar and their stories."""
    person = reading.author_by_username(username)
    pagination = paginate(reading.author_listing, person)
    return render_template(
        "public/author.html",
        author=person,
        pagination=pagination,
        cards=post_cards(pagination.items, with_author=None, eager=3),
    )


@bp.route("/search")
@limiter.shared_limit(lambda: current_app.config["SEARCH_LIMIT_PER_ADDRESS"], scope="search")
def search():
    """Full-text search with a section filter, ranked, with highlighted snippets."""
    query = (request.args.get("q") or "").strip()[: search_service.MAX_QUERY_CHARS]
    section = None
    section_slug = request.args.get("category") or ""
    if section_slug:
        section = reading.section_by_slug(section_slug)
    page = page_number()
    results = search_service.search_posts(
        query,
        section=section,
        page=page,
        per_page=site_settings.current().posts_per_page,
        with_posts=False,
    )
    if page > 1 and page > results.pages:
        abort(404)
    cards = search_cards([hit.post_id for hit in results.hits])
    return render_template("public/search.html", results=results, section=section, cards=cards)


@bp.route("/healthz")
def healthz():
    """Report whether the app can reach its database."""
    if not health.database_reachable():
        return jsonify(status="error", database="unreachable"), 503
    return jsonify(status="ok", database="ok")


@bp.route("/<section_slug>/<post_slug>")
def post(section_slug: str, post_slug: str):
    """An article page; an old address of a moved article answers with a 301."""
    return render_article(reading.published_post(section_slug, post_slug))


@bp.route("/<page:slug>")
def page(slug: str):
    """A page (About, Contact…) at the top level; no section ever has its slug."""
    found = pages.live_page(slug)
    return render_template(
        "public/page.html",
        post=found,
        parents=pages.live_ancestors(found),
        edit_link=edit_link(found),
    )


def render_article(article, status: int = 200, **extra):
    """Render an article page; comment views pass back a form that has errors."""
    older, newer = reading.adjacent_posts(article)
    guest = not current_user.is_authenticated and "comment_failure" not in extra
    area = {"comments_html": guest_comments(article)} if guest else comment_area(article)
    page = render_template(
        "public/post.html",
        post=article,
        older=older,
        newer=newer,
        related=post_cards(reading.related_ids(article), "h3"),
        jsonld=article_jsonld(article),
        edit_link=edit_link(article),
        subscribe_sections=reading.reader_sections(),
        **area,
        **extra,
    )
    return page, status


def guest_comments(article) -> Markup:
    """The comment area every guest gets (the shared page's), rendered once per change.

    Kept under the article's key and its comments' key; the thread inside brings its
    commenters' keys, so an approval, an edit or a renamed commenter shows at once.
    """

    def build() -> Markup:
        thread = comment_service.comment_thread(article)
        return Markup(
            render_template("public/_comments.html", post=article, comments=thread, own_pending=[])
        )

    keys = (surrogate.post(article), surrogate.comments(article.id))
    return content_generation.cached(f"comment-area:{article.id}", build, keys=keys)


def comment_area(article) -> dict:
    """What public/_comments.html shows the person asking: the thread and their own
    comments waiting for moderation (none for a guest, and on the shared page)."""
    return {
        "comments": comment_service.comment_thread(article),
        "own_pending": comment_service.pending_comments_by(current_user, article),
    }


def edit_link(article) -> str | None:
    """The desk's editor for staff who may change this article, else None.

    Never on the shared page (the page cache's): staff get it in their own parts.
    """
    if pagecache.cacheable_request() or not can_edit(current_user, article):
        return None
    if article.is_page:
        return url_for("editor.edit_page", page_id=article.id)
    return url_for("editor.edit_post", post_id=article.id)


@bp.app_errorhandler(404)
def not_found(error):
    """Old addresses (moved posts, renamed sections, WordPress permalinks) answer 301."""
    if request.method in ("GET", "HEAD") and not wants_json():
        target = _redirect_target(request.path)
        if target:
            return redirect(target, 301)
    return error_response(404)


def _redirect_target(path: str) -> str | None:
    """Return where an old address leads now, if anywhere.

    An address whose letters came decomposed (e + ◌́ rather than é) leads to its usual form.
    """
    composed = slug_service.composed_path(path)
    if composed is not None:
        return request.script_root + composed
    section = slug_service.old_section_address(path)
    if section is not None:
        slug, feed = section
        target = url_for("public.section_feed" if feed else "public.category", slug=slug)
        return target if target != request.script_root + path else None
    kept = slug_service.redirect_for(path)
    if kept is None:
        page = pages.live_page_at(path)  # WordPress's /about/ is /about here
        return post_url(page) if page is not None else None
    if kept.post is not None and kept.post.is_published:
        return post_url(kept.post)
    if kept.category is not None:
        return url_for("public.category", slug=kept.category.slug)
    return None
