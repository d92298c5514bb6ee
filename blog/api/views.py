"""Read endpoints of the content API: published posts, sections, tags, authors and search.

Every answer has one shape, `{"data": …, "meta": {…}, "links": {…}}`, an ETag, and a 304
when the caller already has it. Anonymous answers may be cached for a minute by anyone;
answers to a token are private.
"""

from __future__ import annotations

from flask import Blueprint, current_app, jsonify, request

from ..extensions import csrf, limiter
from ..hosts import absolute_url
from ..models import Permission
from ..services import reading
from ..services.reading import Page, PostFilter
from . import params
from .auth import api_user, is_authenticated, read_limit
from .errors import ApiError, register_error_handlers, unauthorized
from .openapi import build_document
from .serializers import (
    SUMMARY_FIELDS,
    author_json,
    post_json,
    search_hit_json,
    section_json,
    tag_json,
)

bp = Blueprint("api", __name__)
# The API takes tokens, not cookies, so a forged cross-site form cannot act through it.
csrf.exempt(bp)
register_error_handlers(bp)

PUBLIC_MAX_AGE = 60


@bp.after_request
def caching_headers(response):
    """ETag and 304 on every read; public caching for readers, none for token holders."""
    if request.method not in ("GET", "HEAD"):
        response.headers["Cache-Control"] = "no-store"
        return response
    response.vary.add("Authorization")
    if is_authenticated():
        response.headers["Cache-Control"] = "private, no-store"
    elif response.status_code == 200:
        response.headers["Cache-Control"] = f"public, max-age={PUBLIC_MAX_AGE}"
    if response.status_code == 200:
        response.add_etag()
        response.make_conditional(request)
    return response


def link(**args) -> str:
    """The absolute address of this endpoint with only the parameters it understood."""
    kept = {name: value for name, value in args.items() if value not in (None, "", [])}
    kept = {name: ",".join(v) if isinstance(v, list) else v for name, v in kept.items()}
    return absolute_url(request.endpoint, **(request.view_args or {}), **kept)


def envelope(data, meta: dict | None = None, links: dict | None = None):
    """The one shape of every successful answer."""
    return jsonify({"data": data, "meta": meta or {}, "links": links or {"self": link()}})


def page_meta(page: Page) -> dict:
    """The counts of a paged listing."""
    return {"total": page.total, "page": page.page, "per_page": page.per_page, "pages": page.pages}


def page_links(page: Page, args: dict) -> dict:
    """Absolute links to this, the first, last, next and previous pages."""

    def at(number: int) -> str:
        """The address of page number, with the same filters."""
        return link(**args, page=number, per_page=page.per_page)

    return {
        "self": at(page.page),
        "first": at(1),
        "last": at(page.pages),
        "next": at(page.page + 1) if page.has_next else None,
        "prev": at(min(page.page - 1, page.pages)) if page.has_prev else None,
    }


def wanted_fields(default) -> list[str]:
    """The post fields asked for with `fields=`, or the default ones."""
    asked = params.query_value(params.FIELDS)
    return list(asked) if asked else list(default)


def is_staff(actor) -> bool:
    """Return True for token holders who write (they see statuses)."""
    return actor.is_authenticated and actor.can(Permission.WRITE)


@bp.get("/posts")
@read_limit
def posts():
    """Published posts, newest first; staff may list by status."""
    actor = api_user()
    page_number = params.query_value(params.PAGE)
    per_page = params.query_value(params.PER_PAGE)
    fields = wanted_fields(SUMMARY_FIELDS)
    filters = PostFilter(
        section=params.query_value(params.SECTION),
        tag=params.query_value(params.TAG),
        author=params.query_value(params.AUTHOR),
        statuses=params.query_value(params.STATUS) or [],
        with_body="body" in fields,
    )
    if filters.statuses and not actor.is_authenticated:
        raise unauthorized("Listing posts by status needs an API token.")
    if filters.statuses and not actor.can(Permission.WRITE):
        raise ApiError(403, "Only people who write may list posts by status.")
    page = reading.post_page(actor, filters, page_number, per_page)
    staff = is_staff(actor)
    args = {
        "section": filters.section,
        "tag": filters.tag,
        "author": filters.author,
        "status": filters.statuses,
        "fields": fields if params.query_value(params.FIELDS) else None,
    }
    return envelope(
        [post_json(post, fields, staff) for post in page.items],
        page_meta(page),
        page_links(page, args),
    )


def _one_post(find, *args):
    """Answer with the post find(actor, *args) returns, with the fields asked for."""
    asked = params.query_value(params.FIELDS)  # checked before looking: a bad one is a 400
    actor = api_user()
    post = find(actor, *args)
    fields = asked or params.POST_FIELDS
    return envelope(post_json(post, fields, is_staff(actor)), links={"self": link(fields=asked)})


@bp.get("/posts/<int:post_id>")
@read_limit
def post(post_id: int):
    """One post by id: published, or one the token's owner may see."""
    return _one_post(reading.post_by_id, params.path_id(post_id))


@bp.get("/sections/<section_slug>/posts/<post_slug>")
@read_limit
def post_at(section_slug: str, post_slug: str):
    """One post by its section and slug, as in its address on the site."""
    return _one_post(reading.post_by_path, section_slug, post_slug)


@bp.get("/sections")
@read_limit
def sections():
    """The sections, in navigation order."""
    api_user()
    found = reading.navigation_sections()
    return envelope([section_json(s) for s in found], {"total": len(found)})


@bp.get("/categories")
@read_limit
def categories():
    """The sections under their older name (kept for existing clients)."""
    return sections()


def _counted_listing(counts, to_json):
    """One page of things with how many published posts each has (tags, authors)."""
    api_user()
    page = counts(params.query_value(params.PAGE), params.query_value(params.PER_PAGE))
    data = [to_json(thing, count) for thing, count in page.items]
    return envelope(data, page_meta(page), page_links(page, {}))


@bp.get("/tags")
@read_limit
def tags():
    """Tags on published posts, by name, with how many posts carry each."""
    return _counted_listing(reading.tag_counts, tag_json)


@bp.get("/authors")
@read_limit
def authors():
    """People with published posts, by username, with how many each has."""
    return _counted_listing(reading.author_counts, author_json)


@bp.get("/search")
@read_limit
@limiter.shared_limit(lambda: current_app.config["SEARCH_LIMIT_PER_ADDRESS"], scope="search")
def search():
    """Published posts matching the words, best first, with highlighted snippets."""
    actor = api_user()
    query = params.query_value(params.QUERY)
    section = params.query_value(params.SECTION)
    page_number = params.query_value(params.PAGE)
    per_page = params.query_value(params.PER_PAGE)
    results = reading.search_in_section(query, section, page_number, per_page)
    # Search ranks at most results.bound matches: total counts those; "more" says others
    # matched too, and "sections_at_least" that the section counts are floors.
    page = Page(results.hits, results.ranked, page_number, per_page)
    meta = {
        **page_meta(page),
        "more": results.bounded,
        "sections": [
            {"slug": s.slug, "name": s.name, "count": count} for s, count in results.facets
        ],
        "sections_at_least": results.facets_bounded,
    }
    staff = is_staff(actor)
    return envelope(
        [search_hit_json(hit, staff) for hit in results.hits],
        meta,
        page_links(page, {"q": query, "section": section}),
    )


@bp.get("/openapi.json")
@read_limit
def openapi():
    """The OpenAPI document that describes every endpoint of this API."""
    api_user()
    return jsonify(build_document())
