"""Pages in the content API (About, Contact…): read them, and with a token write them.

Pages are kept apart from /posts: /posts never lists or serves one, and these endpoints
serve nothing else. Writing goes through the desk, as on the writing desk's Pages screen:
only admins and editors of every section may write pages (and publish them when they may
publish).
"""

from __future__ import annotations

from dataclasses import replace

from ..hosts import absolute_url
from ..models import Permission, Post
from ..services import NotFound, desk, publishing
from ..services import pages as page_service
from . import params
from .auth import api_user, read_limit, token_required, write_limit
from .errors import ApiError, unauthorized
from .serializers import page_json
from .views import bp, envelope, is_staff, page_links, page_meta
from .writes import ACTION_SCHEMA, _move, _post_body, _sent_version

PAGE_CREATE_SCHEMA = params.body_schema(params.PAGE_PROPERTIES, required=("title",))
PAGE_UPDATE_SCHEMA = params.body_schema(
    {**params.PAGE_PROPERTIES, "version": params.VERSION_PROPERTY}
)
_PAGE_FIELDS = (
    "title", "body", "excerpt", "cover_media_id", "cover_alt", "seo_title", "seo_description",
)


@bp.get("/pages")
@read_limit
def pages():
    """Published pages by title; staff with a token may list by status."""
    actor = api_user()
    page_number = params.query_value(params.PAGE)
    per_page = params.query_value(params.PER_PAGE)
    statuses = params.query_value(params.PAGE_STATUS) or []
    if statuses and not actor.is_authenticated:
        raise unauthorized("Listing pages by status needs an API token.")
    if statuses and not actor.can(Permission.WRITE):
        raise ApiError(403, "Only people who write may list pages by status.")
    listing = page_service.page_listing(actor, statuses, page_number, per_page)
    staff = is_staff(actor)
    return envelope(
        [page_json(page, staff, with_body=False) for page in listing.items],
        page_meta(listing),
        page_links(listing, {"status": statuses}),
    )


def _one(page: Post, status: int = 200, staff: bool | None = None):
    """Answer with the whole page."""
    response = envelope(
        page_json(page, is_staff(api_user()) if staff is None else staff),
        links={"self": absolute_url("api.page", page_id=page.id)},
    )
    response.status_code = status
    return response


@bp.get("/pages/<int:page_id>")
@read_limit
def page(page_id: int):
    """One page by id: published, or one the token's owner may see."""
    return _one(page_service.page_by_id(api_user(), params.path_id(page_id)))


def _draft(data: dict, page: Post | None = None) -> desk.PostDraft:
    """The desk's draft: the fields sent, over the page's current ones when updating."""
    draft = desk.draft_of(page) if page is not None else desk.PostDraft(title="")
    sent = {name: data[name] for name in _PAGE_FIELDS if name in data}
    if "parent" in data:
        sent["parent_id"] = data["parent"]
    return replace(draft, slug=data.get("slug", ""), **sent)


def _visible_page(page_id: int, edit: bool = False) -> Post:
    """The page, as the desk would find it for the token's owner (404, or 403 for edit)."""
    found = desk.get_post_for(api_user(), params.path_id(page_id), edit=edit)
    if not found.is_page:
        raise NotFound("No such page.")
    return found


@bp.post("/pages")
@write_limit
@token_required(Permission.WRITE)
def create_page():
    """Start a page as a draft (admins and editors of every section)."""
    data = _post_body(PAGE_CREATE_SCHEMA)
    made = desk.create_page(api_user(), _draft(data))
    response = _one(made, 201, staff=True)
    response.headers["Location"] = absolute_url("api.page", page_id=made.id)
    return response


@bp.patch("/pages/<int:page_id>")
@write_limit
@token_required(Permission.WRITE)
def update_page(page_id: int):
    """Change some fields of a page, unless someone saved a newer version first (409)."""
    data = _post_body(PAGE_UPDATE_SCHEMA)
    found = _visible_page(page_id, edit=True)
    version = _sent_version(data, found, required=True)
    desk.save_post(api_user(), found, _draft(data, found), version, note="Saved through the API")
    return _one(found, staff=True)


def _page_action(name: str, action, summary: str) -> None:
    """Add POST /pages/<id>/<name>, a rate-limited run of a publishing action on a page."""

    def view(page_id: int):
        """Run the action (the summary below replaces this line)."""
        return _move(
            page_id, action, ACTION_SCHEMA, find=_visible_page,
            answer=lambda found: _one(found, staff=True),
        )

    view.__name__ = f"{name}_page"  # the endpoint: api.publish_page, …
    view.__doc__ = summary
    bp.post(f"/pages/<int:page_id>/{name}")(write_limit(token_required(Permission.WRITE)(view)))


_page_action("publish", publishing.publish_now, "Publish a page now (admins, editors of all).")
_page_action("unpublish", publishing.unpublish, "Take a published page back to draft.")
_page_action("trash", publishing.move_to_trash, "Move a page to the trash.")
