"""The OpenAPI 3.0 document of the content API, built from the same parameter and body
descriptions that check requests (blog/api/params.py)."""

from __future__ import annotations

from ..services.search import CANDIDATES
from . import params

VERSION = "1.0.0"

_STRING = {"type": "string"}
_INT = {"type": "integer"}
_URL = {"type": "string", "format": "uri"}
_TIME = {"type": "string", "format": "date-time"}


def _ref(name: str) -> dict:
    """A reference to a schema in the components."""
    return {"$ref": f"#/components/schemas/{name}"}


def _object(properties: dict, required: list[str] | None = None, closed: bool = True) -> dict:
    """An object schema; closed ones allow no other properties."""
    schema: dict = {"type": "object", "properties": properties}
    if required is not None:
        schema["required"] = required
    if closed:
        schema["additionalProperties"] = False
    return schema


POST_PROPERTIES = {
    "id": {**_INT, "minimum": 1},
    "title": _STRING,
    "slug": _STRING,
    "url": {**_URL, "description": "The post's page for readers."},
    "section": _ref("SectionRef"),
    "author": _ref("AuthorRef"),
    "authors": {
        "type": "array",
        "items": _ref("AuthorRef"),
        "description": "Everyone the post is by, in byline order: the author, then co-authors.",
    },
    "tags": {"type": "array", "items": _ref("TagRef")},
    "excerpt": _STRING,
    "body": {**_STRING, "description": "Sanitised HTML."},
    "cover_image": {
        **_STRING,
        "nullable": True,
        "description": "The cover's address on this site (its media library image, largest size).",
    },
    "cover_media_id": {
        **_INT,
        "nullable": True,
        "description": "The cover's media library image, by id.",
    },
    "cover_alt": _STRING,
    "status": {
        "type": "string",
        "enum": list(params.STATUSES),
        "description": "Shown to token holders who write.",
    },
    "featured": {"type": "boolean"},
    "reading_time": {**_INT, "minimum": 1, "description": "Minutes."},
    "published_at": {**_TIME, "nullable": True},
    "updated_at": _TIME,
    "version": {**_INT, "minimum": 1, "description": "Send it back when changing the post."},
    "seo_title": _STRING,
    "seo_description": _STRING,
}

PAGE_PROPERTIES = {
    **{
        name: schema
        for name, schema in POST_PROPERTIES.items()
        if name not in ("section", "tags", "featured", "reading_time")
    },
    "url": {**_URL, "description": "The page's address for readers: /<slug>, at the top level."},
    "parent": {
        **_INT,
        "nullable": True,
        "description": "The id of the page this one sits under, or null.",
    },
    "body": {**_STRING, "description": "Sanitised HTML (not in lists)."},
}

_LINKS = _object(
    {
        "self": _URL,
        "first": _URL,
        "last": _URL,
        "next": {**_URL, "nullable": True},
        "prev": {**_URL, "nullable": True},
    },
    ["self", "first", "last", "next", "prev"],
)
_SELF_LINKS = _object({"self": _URL}, ["self"])
_LIST_META = _object(
    {
        "total": {**_INT, "minimum": 0},
        "page": {**_INT, "minimum": 1},
        "per_page": {**_INT, "minimum": 1},
        "pages": {**_INT, "minimum": 1},
    },
    ["total", "page", "per_page", "pages"],
)


def _envelope(data: dict, meta: dict | None = None, links: dict | None = None) -> dict:
    """The one shape of every successful answer."""
    return _object(
        {"data": data, "meta": meta or _object({}), "links": links or _SELF_LINKS},
        ["data", "meta", "links"],
    )


SCHEMAS = {
    "Error": _object(
        {
            "error": _object(
                {
                    "status": {**_INT, "minimum": 400, "maximum": 599},
                    "message": _STRING,
                    "fields": {
                        "type": "object",
                        "additionalProperties": _STRING,
                        "description": "A message for each field that was not accepted.",
                    },
                    "current_version": {
                        **_INT,
                        "description": "On a version conflict (409): the post's version now.",
                    },
                },
                ["status", "message"],
            )
        },
        ["error"],
    ),
    "SectionRef": _object({"id": _INT, "slug": _STRING, "name": _STRING}, ["id", "slug", "name"]),
    "AuthorRef": _object(
        {"username": _STRING, "name": _STRING, "url": _URL}, ["username", "name", "url"]
    ),
    "TagRef": _object({"slug": _STRING, "name": _STRING}, ["slug", "name"]),
    "Post": _object(POST_PROPERTIES, ["id"]),
    "SearchHit": _object(
        {**POST_PROPERTIES, "snippet": {**_STRING, "description": "HTML, words found in <mark>."}},
        ["id", "title", "url", "snippet"],
    ),
    "Section": _object(
        {
            "id": _INT,
            "name": _STRING,
            "slug": _STRING,
            "description": _STRING,
            "position": _INT,
            "url": _URL,
        },
        ["id", "name", "slug", "description", "position", "url"],
    ),
    "Tag": _object(
        {"slug": _STRING, "name": _STRING, "url": _URL, "post_count": {**_INT, "minimum": 1}},
        ["slug", "name", "url", "post_count"],
    ),
    "Author": _object(
        {
            "username": _STRING,
            "name": _STRING,
            "url": _URL,
            "bio": _STRING,
            "post_count": {**_INT, "minimum": 1},
        },
        ["username", "name", "url", "bio", "post_count"],
    ),
    "Media": _object(
        {
            "id": _INT,
            "url": {**_STRING, "description": "The largest size, as a path on this site."},
            "srcset": _STRING,
            "sizes": _STRING,
            "width": _INT,
            "height": _INT,
            "alt": _STRING,
        },
        ["id", "url", "srcset", "sizes", "width", "height", "alt"],
    ),
    "Page": _object(PAGE_PROPERTIES, ["id", "title", "slug", "url", "parent"]),
    "PageList": _envelope({"type": "array", "items": _ref("Page")}, _LIST_META, _LINKS),
    "PageResponse": _envelope(_ref("Page")),
    "PageCreate": {
        **params.body_schema(params.PAGE_PROPERTIES, required=("title",)),
        "example": {
            "title": "Write for us",
            "slug": "write-for-us",
            "body": "<p>Send us a story from your own corner.</p>",
        },
    },
    "PageUpdate": params.body_schema(
        {**params.PAGE_PROPERTIES, "version": params.VERSION_PROPERTY}
    ),
    "PostList": _envelope({"type": "array", "items": _ref("Post")}, _LIST_META, _LINKS),
    "PostResponse": _envelope(_ref("Post")),
    "SectionList": _envelope(
        {"type": "array", "items": _ref("Section")},
        _object({"total": {**_INT, "minimum": 0}}, ["total"]),
    ),
    "TagList": _envelope({"type": "array", "items": _ref("Tag")}, _LIST_META, _LINKS),
    "AuthorList": _envelope({"type": "array", "items": _ref("Author")}, _LIST_META, _LINKS),
    "SearchResults": _envelope(
        {"type": "array", "items": _ref("SearchHit")},
        _object(
            {
                **_LIST_META["properties"],
                "more": {
                    "type": "boolean",
                    "description": f"Search ranks the {CANDIDATES:,} most recent matches "
                    "(total counts those); true when more posts match.",
                },
                "sections": {
                    "type": "array",
                    "description": "How many results each section holds.",
                    "items": _object(
                        {"slug": _STRING, "name": _STRING, "count": {**_INT, "minimum": 1}},
                        ["slug", "name", "count"],
                    ),
                },
                "sections_at_least": {
                    "type": "boolean",
                    "description": f"True when more than {CANDIDATES:,} posts match: each "
                    f"section's count is then that of the {CANDIDATES:,} most recent matches, "
                    "a floor.",
                },
            },
            [*_LIST_META["required"], "more", "sections", "sections_at_least"],
        ),
        _LINKS,
    ),
    "MediaResponse": _envelope(_ref("Media")),
    "PostCreate": {
        **params.body_schema(params.POST_PROPERTIES, required=("title", "category")),
        "example": {
            "title": "Notes from the night ward",
            "category": "health",
            "body": "<p>At three in the morning the ward is never quiet.</p>",
            "tags": ["Nursing", "Night shifts"],
        },
    },
    "PostUpdate": params.body_schema(
        {**params.POST_PROPERTIES, "version": params.VERSION_PROPERTY}
    ),
    "StatusChange": params.body_schema({"version": params.VERSION_PROPERTY}),
    "Schedule": params.body_schema(
        {"publish_at": params.PUBLISH_AT_PROPERTY, "version": params.VERSION_PROPERTY},
        required=("publish_at",),
    ),
    "MediaUpload": _object(
        {
            "file": {
                "type": "string",
                "format": "binary",
                "description": "JPEG, PNG, GIF or WebP.",
            },
            "alt": {**_STRING, "maxLength": 300, "description": "Alt text for the image."},
        },
        ["file"],
    ),
}

_ERROR_TEXT = {
    "400": "The request is not valid: a parameter or field is wrong (see `fields`).",
    "401": "No API token, or one that is not valid (revoked, or its owner suspended).",
    "403": "The token's owner may not do this.",
    "404": "There is no such thing, or the token's owner may not see it.",
    "409": "The post changed since the version sent, or its status does not allow this.",
    "413": "The request is too large.",
    "415": "The body is not in the media type this endpoint takes.",
    "422": "The fields are well formed but the magazine's rules refuse them (see `fields`).",
    "428": "A change must say which version of the post it is based on.",
    "429": "Too many requests: wait and try again.",
}
_HEADER_TEXT = {
    "401": {
        "WWW-Authenticate": {
            "description": "The Bearer challenge.",
            "schema": _STRING,
        }
    },
    "429": {
        "Retry-After": {"description": "Seconds to wait.", "schema": _STRING},
    },
}


def _error_responses() -> dict:
    """The error answers, each with the shared error body."""
    responses = {}
    for status, text in _ERROR_TEXT.items():
        response = {
            "description": text,
            "content": {"application/json": {"schema": _ref("Error")}},
        }
        if status in _HEADER_TEXT:
            response["headers"] = _HEADER_TEXT[status]
        responses[f"Error{status}"] = response
    responses["NotModified"] = {
        "description": "Not modified: the ETag sent in If-None-Match is still current.",
        "headers": {"ETag": {"schema": _STRING}},
    }
    return responses


def _errors(*statuses: int) -> dict:
    """References to the given error answers."""
    return {str(s): {"$ref": f"#/components/responses/Error{s}"} for s in statuses}


_READ_HEADERS = {
    "ETag": {"description": "A hash of the body, for If-None-Match.", "schema": _STRING},
    "Cache-Control": {
        "description": "public, max-age=60 without a token; private, no-store with one.",
        "schema": _STRING,
    },
}
_READ_SECURITY = [{}, {"bearerAuth": []}]
_WRITE_SECURITY = [{"bearerAuth": []}]


def _read(summary: str, schema: str, parameters: list, tag: str, *statuses: int) -> dict:
    """A read operation: public, with an optional token, ETag and 304."""
    return {
        "summary": summary,
        "tags": [tag],
        "security": _READ_SECURITY,
        "parameters": [p.openapi() for p in parameters] + [params.IF_NONE_MATCH.openapi()],
        "responses": {
            "200": {
                "description": "OK",
                "headers": _READ_HEADERS,
                "content": {"application/json": {"schema": _ref(schema)}},
            },
            "304": {"$ref": "#/components/responses/NotModified"},
            **_errors(401, 429, *statuses),
        },
    }


def _json_body(schema: str, required: bool = True) -> dict:
    """A JSON request body."""
    return {
        "required": required,
        "content": {"application/json": {"schema": _ref(schema)}},
    }


def _write(
    summary: str,
    body: dict,
    parameters: list,
    statuses: tuple[int, ...],
    success: str = "200",
    result: str = "PostResponse",
    headers: dict | None = None,
    tag: str = "writing",
) -> dict:
    """A write operation: a token of an author or above, rate limited per token."""
    ok: dict = {
        "description": "Done." if success == "200" else "Created.",
        "content": {"application/json": {"schema": _ref(result)}},
    }
    if headers:
        ok["headers"] = headers
    return {
        "summary": summary,
        "tags": [tag],
        "security": _WRITE_SECURITY,
        "parameters": [p.openapi() for p in parameters],
        "requestBody": body,
        "responses": {success: ok, **_errors(401, 403, 413, 415, 429, *statuses)},
    }


def _action(summary: str, schema: str = "StatusChange", required: bool = False) -> dict:
    """A status change of one post."""
    return {
        "post": _write(
            summary,
            _json_body(schema, required),
            [params.POST_ID, params.IF_MATCH],
            (400, 404, 409, 422),
        )
    }


def _page_action(summary: str) -> dict:
    """A status change of one page."""
    return {
        "post": _write(
            summary,
            _json_body("StatusChange", False),
            [params.PAGE_ID, params.IF_MATCH],
            (400, 404, 409, 422),
            result="PageResponse",
            tag="pages",
        )
    }


def _page_paths() -> dict:
    """The pages' endpoints (About, Contact…), apart from the posts'."""
    return {
        "/pages": {
            "get": _read(
                "Published pages by title; staff with a token may list by status",
                "PageList",
                [params.PAGE, params.PER_PAGE, params.PAGE_STATUS],
                "pages",
                400,
                403,
            ),
            "post": _write(
                "Start a page as a draft (admins and editors of every section)",
                _json_body("PageCreate"),
                [],
                (400, 422),
                success="201",
                result="PageResponse",
                headers={"Location": {"description": "The new page.", "schema": _URL}},
                tag="pages",
            ),
        },
        "/pages/{page_id}": {
            "get": _read("One page by id", "PageResponse", [params.PAGE_ID], "pages", 400, 404),
            "patch": _write(
                "Change a page: send only the fields that change, and the version",
                _json_body("PageUpdate"),
                [params.PAGE_ID, params.IF_MATCH],
                (400, 404, 409, 422, 428),
                result="PageResponse",
                tag="pages",
            ),
        },
        "/pages/{page_id}/publish": _page_action("Publish a page now"),
        "/pages/{page_id}/unpublish": _page_action("Take a page back to draft"),
        "/pages/{page_id}/trash": _page_action("Move a page to the trash"),
    }


def _paths() -> dict:
    """Every endpoint of the API."""
    listing = [params.PAGE, params.PER_PAGE]
    return {
        "/posts": {
            "get": _read(
                "Published posts, newest first; staff with a token may list by status",
                "PostList",
                [*listing, params.FIELDS, params.SECTION, params.TAG, params.AUTHOR,
                 params.STATUS],
                "reading",
                400,
                403,
            ),
            "post": _write(
                "Start a draft",
                _json_body("PostCreate"),
                [],
                (400, 422),
                success="201",
                headers={"Location": {"description": "The new post.", "schema": _URL}},
            ),
        },
        "/posts/{post_id}": {
            "get": _read(
                "One post by id", "PostResponse", [params.POST_ID, params.FIELDS], "reading",
                400, 404,
            ),
            "patch": _write(
                "Change a post: send only the fields that change, and the version",
                _json_body("PostUpdate"),
                [params.POST_ID, params.IF_MATCH],
                (400, 404, 409, 422, 428),
            ),
        },
        "/posts/{post_id}/submit": _action("Submit a draft for review"),
        "/posts/{post_id}/publish": _action("Publish now (editors of the section, admins)"),
        "/posts/{post_id}/schedule": _action(
            "Schedule for a future time (editors of the section, admins)", "Schedule", True
        ),
        "/posts/{post_id}/unpublish": _action("Back to draft (editors of the section, admins)"),
        "/posts/{post_id}/trash": _action("Move to the trash"),
        "/sections/{section_slug}/posts/{post_slug}": {
            "get": _read(
                "One post by its section and slug",
                "PostResponse",
                [params.SECTION_SLUG, params.POST_SLUG, params.FIELDS],
                "reading",
                400,
                404,
            )
        },
        "/sections": {"get": _read("The sections", "SectionList", [], "reading")},
        "/categories": {
            "get": _read("The sections (older name)", "SectionList", [], "reading")
        },
        "/tags": {"get": _read("Tags on published posts", "TagList", listing, "reading", 400)},
        "/authors": {
            "get": _read("People with published posts", "AuthorList", listing, "reading", 400)
        },
        "/search": {
            "get": _read(
                "Search published posts",
                "SearchResults",
                [params.QUERY, params.SECTION, *listing],
                "reading",
                400,
            )
        },
        "/media": {
            "post": _write(
                "Upload an image",
                {
                    "required": True,
                    "content": {"multipart/form-data": {"schema": _ref("MediaUpload")}},
                },
                [],
                (400,),
                success="201",
                result="MediaResponse",
            )
        },
        "/openapi.json": {
            "get": {
                "summary": "This document",
                "tags": ["reading"],
                "security": _READ_SECURITY,
                "parameters": [params.IF_NONE_MATCH.openapi()],
                "responses": {
                    "200": {
                        "description": "The OpenAPI document.",
                        "headers": _READ_HEADERS,
                        "content": {"application/json": {"schema": {"type": "object"}}},
                    },
                    "304": {"$ref": "#/components/responses/NotModified"},
                    **_errors(401, 429),
                },
            }
        },
    }


def build_document() -> dict:
    """The whole OpenAPI document."""
    return {
        "openapi": "3.0.3",
        "info": {
            "title": "Circle content API",
            "version": VERSION,
            "description": (
                "Read the magazine's published posts, sections, tags and authors, and search "
                "them; with a personal API token (made on your account page) authors and "
                "editors write posts, move them through review and publishing, and upload "
                "images, with the same rules as the writing desk. Successful answers have "
                "the shape {data, meta, links}; errors {error: {status, message, fields?}}. "
                "Times are ISO 8601 with their offset."
            ),
        },
        "servers": [{"url": "/api/v1"}],
        "tags": [
            {"name": "reading", "description": "Public; a token shows what its owner may see."},
            {"name": "writing", "description": "Needs a token of an author or above."},
            {
                "name": "pages",
                "description": (
                    "Pages (About, Contact…) at their own top-level address, kept out of "
                    "/posts, sections and feeds. Reading is public; writing needs a token of "
                    "an admin or an editor of every section."
                ),
            },
        ],
        "paths": {**_paths(), **_page_paths()},
        "components": {
            "schemas": SCHEMAS,
            "responses": _error_responses(),
            "securitySchemes": {
                "bearerAuth": {
                    "type": "http",
                    "scheme": "bearer",
                    "bearerFormat": "circle_<prefix>_<secret>",
                    "description": "A personal API token from your account page.",
                }
            },
        },
    }
