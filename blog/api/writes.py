"""Write endpoints of the content API: drafts, saves, status changes and uploads.

They take a personal token of an author or above and go through the same services as
the writing desk, so the same permission checks, sanitising and version conflicts apply.
"""

from __future__ import annotations

import re
from dataclasses import replace

from flask import request

from ..hosts import absolute_url
from ..models import Permission, Post
from ..services import NotFound, ServiceError, desk, publishing, reading
from ..services import media as media_service
from ..validators import bounded_int
from . import params
from .auth import api_user, token_required, write_limit
from .errors import ApiError, from_service_error
from .serializers import post_json
from .views import bp, envelope

CREATE_SCHEMA = params.body_schema(params.POST_PROPERTIES, required=("title", "category"))
UPDATE_SCHEMA = params.body_schema({**params.POST_PROPERTIES, "version": params.VERSION_PROPERTY})
ACTION_SCHEMA = params.body_schema({"version": params.VERSION_PROPERTY})
SCHEDULE_SCHEMA = params.body_schema(
    {"publish_at": params.PUBLISH_AT_PROPERTY, "version": params.VERSION_PROPERTY},
    required=("publish_at",),
)
MEDIA_FIELDS = {"file", "alt"}
_IF_MATCH = re.compile(r'(?:W/)?"?([0-9]{1,10})"?')  # as IF_MATCH's pattern says
COVER_ADDRESS_REFUSED = (
    "Covers are chosen from the media library: send cover_media_id (the id POST /media "
    "answers with), not a cover_image address."
)


def _post_body(schema: dict) -> dict:
    """The checked body of a post write; a cover given as an address is refused with 422."""
    data = params.json_body()
    if "cover_image" in data:
        raise ApiError(422, COVER_ADDRESS_REFUSED, {"cover_image": COVER_ADDRESS_REFUSED})
    return params.checked_body(data, schema)


def _section_id(value) -> int | None:
    """The id of the section given by id or slug (None when no section has that slug)."""
    if isinstance(value, int):
        return value
    try:
        return reading.section_by_slug(value).id
    except ServiceError:
        return None


_DRAFT_FIELDS = (
    "title", "body", "excerpt", "tags", "cover_media_id", "cover_alt", "seo_title",
    "seo_description", "featured",
)


def _draft(data: dict, post: Post | None = None) -> desk.PostDraft:
    """The desk's draft: the fields sent, over the post's current ones when updating.

    A slug not sent keeps the post's; an excerpt not sent that was derived from the body
    is derived again from the new body.
    """
    draft = desk.draft_of(post) if post is not None else desk.PostDraft(title="")
    sent = {name: data[name] for name in _DRAFT_FIELDS if name in data}
    if "category" in data:
        sent["category_id"] = _section_id(data["category"])
    return replace(draft, slug=data.get("slug", ""), **sent)


def _stale(post: Post) -> ApiError:
    """The conflict answer: the post changed since the version the change is based on."""
    return ApiError(
        409, "This post changed since that version. Fetch it again.",
        current_version=post.version,
    )


def _sent_version(data: dict, post: Post, required: bool) -> int | None:
    """The version a change is based on, from the body or If-Match (428 when required)."""
    header = request.headers.get("If-Match")
    from_header = None
    if header is not None:
        match = _IF_MATCH.fullmatch(header.strip())
        if match is None:
            raise ApiError(
                400, 'If-Match must be the version the change is based on, like "3".',
                {"If-Match": "Not a version."},
            )
        # At most ten digits (the pattern), compared in Python only: a version no post
        # can have (0, or past an integer column) is simply stale, a 409.
        from_header = bounded_int(match.group(1), 0, 9_999_999_999)
    from_body = data.get("version")
    if from_header is not None and from_body is not None and from_header != from_body:
        raise _stale(post)  # at most one of the two is the post's version now
    version = from_body if from_body is not None else from_header
    if version is None and required:
        raise ApiError(
            428,
            'Say which version you changed: "version" in the body, or an If-Match header.',
            {"version": "Required."},
        )
    return version


def _one(post: Post, status: int = 200):
    """Answer with the whole post, as its author or editor sees it."""
    response = envelope(
        post_json(post, params.POST_FIELDS, staff=True),
        links={"self": absolute_url("api.post", post_id=post.id)},
    )
    response.status_code = status
    return response


def _visible_post(post_id: int, edit: bool = False) -> Post:
    """The post, as the desk would find it for the token's owner (404, or 403 for edit).

    A page is no post here: it is written at /pages (blog/api/pages.py).
    """
    post = desk.get_post_for(api_user(), params.path_id(post_id), edit=edit)
    if post.is_page:
        raise NotFound("No such post.")
    return post


@bp.post("/posts")
@write_limit
@token_required(Permission.WRITE)
def create_post():
    """Start a draft owned by the token's owner."""
    data = _post_body(CREATE_SCHEMA)
    post = desk.create_draft(api_user(), _draft(data))
    response = _one(post, 201)
    response.headers["Location"] = absolute_url("api.post", post_id=post.id)
    return response


@bp.patch("/posts/<int:post_id>")
@write_limit
@token_required(Permission.WRITE)
def update_post(post_id: int):
    """Change some fields of a post, unless someone saved a newer version first (409)."""
    data = _post_body(UPDATE_SCHEMA)
    post = _visible_post(post_id, edit=True)
    version = _sent_version(data, post, required=True)
    desk.save_post(api_user(), post, _draft(data, post), version, note="Saved through the API")
    return _one(post)


def _move(post_id: int, action, schema: dict, find=None, answer=None, **arguments):
    """Run a publishing action on a post after checking the version it was based on.

    find and answer load the post and answer with it (a page's, for /pages/<id>/…).
    """
    data = params.checked_body(params.json_body(optional=True), schema)
    post = (find or _visible_post)(post_id)
    version = _sent_version(data, post, required=False)
    if version is not None and version != post.version:
        raise _stale(post)
    values = {name: read(data) for name, read in arguments.items()}
    try:
        action(api_user(), post, **values)
    except ServiceError as error:
        # A refusal without a field is about the post's status: a conflict with its state.
        raise from_service_error(error, invalid_status=422 if error.field else 409) from error
    return (answer or _one)(post)


def _action_endpoint(name: str, action, summary: str, schema: dict = ACTION_SCHEMA, **arguments):
    """Add POST /posts/<id>/<name>, a writer's rate-limited run of a publishing action."""

    def view(post_id: int):
        """Run the action (the summary below replaces this line)."""
        return _move(post_id, action, schema, **arguments)

    view.__name__ = f"{name}_post"  # the endpoint: api.submit_post, api.publish_post, ...
    view.__doc__ = summary
    bp.post(f"/posts/<int:post_id>/{name}")(write_limit(token_required(Permission.WRITE)(view)))


# The publishing workflow, one address per step.
_action_endpoint("submit", publishing.submit_for_review,
                 "Hand a draft to the section's editors for review.")
_action_endpoint("publish", publishing.publish_now,
                 "Publish a post now (editors of its section and admins).")
_action_endpoint("schedule", publishing.schedule,
                 "Publish a post at a future time (editors of its section and admins).",
                 SCHEDULE_SCHEMA, when=lambda data: params.parse_time(data["publish_at"]))
_action_endpoint("unpublish", publishing.unpublish,
                 "Take a published or scheduled post back to draft (editors and admins).")
_action_endpoint("trash", publishing.move_to_trash,
                 "Move a post to the trash: one's own draft, or any post one may publish.")


@bp.post("/media")
@write_limit
@token_required(Permission.UPLOAD)
def upload_media():
    """Upload an image to the library; it is checked, re-encoded and stored in sizes."""
    if request.mimetype != "multipart/form-data":
        raise ApiError(415, "Send the image as multipart/form-data, in a part named file.")
    unknown = (set(request.form) | set(request.files)) - MEDIA_FIELDS
    if unknown:
        # A part whose name the parser could not read comes back as None.
        fields = {params.clean_text(str(name or ""))[:80]: "Unknown field." for name in unknown}
        raise ApiError(400, "Some fields are not known.", fields)
    upload = request.files.get("file")
    if upload is None:
        raise ApiError(400, "Choose an image to upload.", {"file": "Required."})
    alt = params.clean_text(request.form.get("alt", ""))
    try:
        media = media_service.save_upload(upload, api_user(), alt)
    except media_service.UploadTooLarge as error:
        raise ApiError(413, error.message, {"file": error.message}) from error
    except media_service.QuotaExceeded as error:
        raise ApiError(error.status, error.message, {"file": error.message}) from error
    except ServiceError as error:
        raise from_service_error(error, invalid_status=400) from error
    response = envelope(media_service.as_json(media))
    response.status_code = 201
    return response
