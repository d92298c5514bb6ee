"""What the API accepts: query parameters and JSON bodies, checked against one description.

Each parameter and body field is described once, as the JSON Schema that the
OpenAPI document publishes; the same description checks every request, so the
document and the server cannot disagree about what is valid.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime

from flask import request

from ..models import PostStatus
from ..validators import MAX_ID, MAX_PAGE, bounded_int
from .errors import ApiError

MAX_PER_PAGE = 100
DEFAULT_PER_PAGE = 20
_INTEGER = re.compile(r"-?[0-9]+")

# Every field a post can show; `fields=` picks among them.
POST_FIELDS = (
    "id",
    "title",
    "slug",
    "url",
    "section",
    "author",
    "authors",
    "tags",
    "excerpt",
    "body",
    "cover_image",
    "cover_media_id",
    "cover_alt",
    "status",
    "featured",
    "reading_time",
    "published_at",
    "updated_at",
    "version",
    "seo_title",
    "seo_description",
)
STATUSES = tuple(status.value for status in PostStatus)


@dataclass(frozen=True)
class Param:
    """One query, path or header parameter, as the OpenAPI document describes it."""

    name: str
    schema: dict
    description: str
    location: str = "query"
    required: bool = False
    extra: dict = field(default_factory=dict)

    def openapi(self) -> dict:
        """The parameter object for the OpenAPI document."""
        described = {
            "name": self.name,
            "in": self.location,
            "required": self.required or self.location == "path",
            "description": self.description,
            "schema": self.schema,
        }
        if self.schema.get("type") == "array":
            described.update(style="form", explode=False)
        described.update(self.extra)
        return described


PAGE = Param(
    "page",
    {"type": "integer", "minimum": 1, "maximum": MAX_PAGE, "default": 1},
    "The page of results, from 1. A page past the end is empty.",
)
PER_PAGE = Param(
    "per_page",
    {"type": "integer", "minimum": 1, "maximum": MAX_PER_PAGE, "default": DEFAULT_PER_PAGE},
    f"How many items a page holds, 1 to {MAX_PER_PAGE}.",
)
TEXT_SCHEMA = {"type": "string", "minLength": 1, "maxLength": 200}


def _words(name: str, description: str, required: bool = False) -> Param:
    """A query parameter of up to 200 characters of text (a slug, a username, search words)."""
    return Param(name, dict(TEXT_SCHEMA), description, required=required)


FIELDS = Param(
    "fields",
    {"type": "array", "items": {"type": "string", "enum": list(POST_FIELDS)}, "minItems": 1},
    "Comma-separated post fields to return (the id is always there). "
    "Lists leave out the body unless it is asked for; `status` is shown only with a token.",
)
SECTION = _words("section", "Only posts in the section with this slug.")
TAG = _words("tag", "Only posts with this tag slug.")
AUTHOR = _words("author", "Only posts by the person with this username.")
STATUS = Param(
    "status",
    {"type": "array", "items": {"type": "string", "enum": list(STATUSES)}, "minItems": 1},
    "Comma-separated statuses, for staff with a token: posts in these statuses that the "
    "token's owner may see (authors their own, editors their sections, admins all). "
    "Without it, only published posts are listed.",
)
QUERY = _words("q", "The words to look for.", required=True)
POST_ID = Param(
    "post_id",
    {"type": "integer", "minimum": 1, "maximum": MAX_ID},
    "The post's id.",
    location="path",
)
PAGE_ID = Param(
    "page_id",
    {"type": "integer", "minimum": 1, "maximum": MAX_ID},
    "The page's id.",
    location="path",
)
PAGE_STATUS = Param(
    "status",
    {"type": "array", "items": {"type": "string", "enum": list(STATUSES)}, "minItems": 1},
    "Comma-separated statuses, for staff with a token: pages in these statuses that the "
    "token's owner may see. Without it, only published pages are listed.",
)
SECTION_SLUG = Param(
    "section_slug", {"type": "string", "minLength": 1}, "The section's slug.", location="path"
)
POST_SLUG = Param(
    "post_slug", {"type": "string", "minLength": 1}, "The post's slug.", location="path"
)
IF_NONE_MATCH = Param(
    "If-None-Match",
    {"type": "string"},
    "An ETag from an earlier answer: when nothing changed the answer is 304, without a body.",
    location="header",
)
IF_MATCH = Param(
    "If-Match",
    {"type": "string", "pattern": r'^(W/)?"?[0-9]{1,10}"?$'},
    'The version the change is based on, as "<version>" (an alternative to `version` in the '
    "body). A stale version answers 409.",
    location="header",
)


def clean_text(value: str) -> str:
    """Drop characters no database column can hold (NUL, lone surrogates)."""
    value = value.replace("\x00", "")
    return value.encode("utf-8", "replace").decode("utf-8")


def _one_value(param: Param) -> str | None:
    """Return the single value sent for a query parameter, refusing repeats."""
    values = request.args.getlist(param.name)
    if not values:
        return None
    if len(values) > 1:
        raise ApiError(400, f"Give {param.name} once.", {param.name: "Given more than once."})
    return values[0]


def _integer(param: Param, raw: str) -> int:
    """Read a whole number within the parameter's bounds."""
    schema = param.schema
    if not _INTEGER.fullmatch(raw):
        raise ApiError(400, f"{param.name} must be a whole number.", {param.name: "Not a number."})
    low, high = schema.get("minimum"), schema.get("maximum")
    value = bounded_int(raw.lstrip("-"), 0, high if high is not None else MAX_ID)
    if raw.startswith("-") and value is not None:
        value = -value
    if value is None or (low is not None and value < low):
        message = f"{param.name} must be between {low} and {high}."
        raise ApiError(400, message, {param.name: message})
    return value


def _string(param: Param, raw: str) -> str:
    """Read a string within the parameter's length bounds."""
    value = clean_text(raw)
    low, high = param.schema.get("minLength", 0), param.schema.get("maxLength")
    if len(value) < low:
        raise ApiError(400, f"{param.name} may not be empty.", {param.name: "Empty."})
    if high is not None and len(value) > high:
        message = f"{param.name} may be at most {high} characters."
        raise ApiError(400, message, {param.name: message})
    return value


def _choices(param: Param, raw: str) -> list[str]:
    """Read a comma-separated list of known words, without repeats."""
    allowed = param.schema["items"]["enum"]
    words = raw.split(",")
    unknown = [word for word in words if word not in allowed]
    if unknown:
        message = f"Unknown {param.name}: {', '.join(clean_text(w)[:40] for w in unknown[:5])}."
        raise ApiError(400, message, {param.name: f"Choose among {', '.join(allowed)}."})
    if len(words) < param.schema.get("minItems", 0):
        raise ApiError(400, f"{param.name} may not be empty.", {param.name: "Empty."})
    return list(dict.fromkeys(words))


def query_value(param: Param):
    """Return one query parameter, checked against its description (None when absent)."""
    raw = _one_value(param)
    if raw is None:
        if param.required:
            raise ApiError(400, f"{param.name} is required.", {param.name: "Required."})
        return param.schema.get("default")
    kind = param.schema["type"]
    if kind == "integer":
        return _integer(param, raw)
    if kind == "array":
        return _choices(param, raw)
    return _string(param, raw)


def path_id(value: int) -> int:
    """Return a path id, or answer 404 for one no database row can have."""
    if not 1 <= value <= MAX_ID:
        raise ApiError(404, "No such post.")
    return value


# -- JSON bodies ----------------------------------------------------------------------------

_TEXT = {"type": "string"}

POST_PROPERTIES: dict[str, dict] = {
    "title": {**_TEXT, "minLength": 1, "maxLength": 200, "description": "The headline."},
    "body": {
        **_TEXT,
        "maxLength": 500_000,
        "description": "The article as HTML; it is sanitised on the way in.",
    },
    "excerpt": {
        **_TEXT,
        "maxLength": 1000,
        "description": "A short summary; derived from the body when empty.",
    },
    "category": {
        "description": "The section, by id or slug.",
        "oneOf": [
            {"type": "integer", "minimum": 1, "maximum": MAX_ID},
            {"type": "string", "minLength": 1, "maxLength": 200},
        ],
    },
    "tags": {
        "type": "array",
        "maxItems": 30,
        "items": {"type": "string", "maxLength": 80},
        "description": "Tag names; new ones are created.",
    },
    "slug": {
        **_TEXT,
        "maxLength": 200,
        "description": "The address part; made from the title when empty.",
    },
    "cover_media_id": {
        "type": "integer",
        "minimum": 1,
        "maximum": MAX_ID,
        "nullable": True,
        "description": "The cover: the id of an image in the media library (POST /media "
        "uploads one), or null for none. Cover addresses (`cover_image`) are not accepted.",
    },
    "cover_alt": {
        **_TEXT,
        "maxLength": 300,
        "description": "The cover image's alt text; the library's when empty.",
    },
    "seo_title": {**_TEXT, "maxLength": 200, "description": "A title for search engines."},
    "seo_description": {
        **_TEXT,
        "maxLength": 300,
        "description": "A description for search engines.",
    },
    "featured": {
        "type": "boolean",
        "description": "Feature on the home page (kept only for people who may publish).",
    },
}
# A page takes a post's fields but the section, tags and featuring, and has a parent page.
PAGE_PROPERTIES: dict[str, dict] = {
    **{
        name: schema
        for name, schema in POST_PROPERTIES.items()
        if name not in ("category", "tags", "featured")
    },
    "title": {**_TEXT, "minLength": 1, "maxLength": 200, "description": "The page's title."},
    "slug": {
        **_TEXT,
        "maxLength": 200,
        "description": "The page's address (/<slug>); made from the title when empty. Never a "
        "section's slug or one of the site's own addresses.",
    },
    "parent": {
        "type": "integer",
        "minimum": 1,
        "maximum": MAX_ID,
        "nullable": True,
        "description": "The page this one sits under (breadcrumbs only), or null for none.",
    },
}
VERSION_PROPERTY = {
    "type": "integer",
    "minimum": 1,
    "maximum": MAX_ID,
    "description": "The version the change is based on; a stale one answers 409.",
}
PUBLISH_AT_PROPERTY = {
    "type": "string",
    "format": "date-time",
    "description": "When the post goes live: ISO 8601 with its time zone.",
}


def body_schema(properties: Mapping[str, dict], required: Iterable[str] = ()) -> dict:
    """The JSON Schema of a request body made of these properties."""
    schema = {"type": "object", "properties": dict(properties), "additionalProperties": False}
    if required:
        schema["required"] = list(required)
    return schema


def json_body(optional: bool = False) -> dict:
    """Return the request's JSON object, or refuse anything else (415, 400)."""
    if optional and not request.get_data(cache=True) and not request.mimetype:
        return {}
    if request.mimetype != "application/json":
        raise ApiError(415, "Send the body as application/json.")
    data = request.get_json(silent=True)
    if not isinstance(data, dict):
        raise ApiError(400, "The body must be a JSON object.")
    return data


def _type_error(schema: dict, value) -> str | None:
    """Say why value does not fit schema, or return None when it does."""
    if "oneOf" in schema:
        fits = [option for option in schema["oneOf"] if _type_error(option, value) is None]
        return None if len(fits) == 1 else "Give a section id or slug."
    if value is None and schema.get("nullable"):
        return None
    kind = schema.get("type")
    if kind == "string":
        if not isinstance(value, str):
            return "Must be text."
        if len(value) < schema.get("minLength", 0):
            return "May not be empty."
        if "maxLength" in schema and len(value) > schema["maxLength"]:
            return f"At most {schema['maxLength']} characters."
    elif kind == "integer":
        if isinstance(value, bool) or not isinstance(value, int):
            return "Must be a whole number."
        if value < schema.get("minimum", value) or value > schema.get("maximum", value):
            return f"Must be between {schema.get('minimum')} and {schema.get('maximum')}."
    elif kind == "boolean":
        if not isinstance(value, bool):
            return "Must be true or false."
    elif kind == "array":
        if not isinstance(value, list):
            return "Must be a list."
        if len(value) > schema.get("maxItems", len(value)):
            return f"At most {schema['maxItems']} items."
        for item in value:
            problem = _type_error(schema["items"], item)
            if problem:
                return f"Each item: {problem[0].lower()}{problem[1:]}"
    return None


def _cleaned(value):
    """Strip characters no column can hold from strings, in lists too."""
    if isinstance(value, str):
        return clean_text(value)
    if isinstance(value, list):
        return [_cleaned(item) for item in value]
    return value


def checked_body(data: dict, schema: dict) -> dict:
    """Return data when it fits the body schema; else 400 with a message per field."""
    properties = schema["properties"]
    problems: dict[str, str] = {}
    for name in data:
        if name not in properties:
            problems[clean_text(str(name))[:80]] = "Unknown field."
    for name in schema.get("required", []):
        if name not in data:
            problems[name] = "Required."
    for name, value in data.items():
        if name in properties and name not in problems:
            problem = _type_error(properties[name], value)
            if problem:
                problems[name] = problem
    if problems:
        raise ApiError(400, "Some fields are not valid.", problems)
    return {name: _cleaned(value) for name, value in data.items()}


def parse_time(raw: str, name: str = "publish_at") -> datetime:
    """Read an ISO 8601 time with its zone, as UTC."""
    try:
        value = datetime.fromisoformat(raw)
    except ValueError as exc:
        raise ApiError(
            400, "Give the time in ISO 8601, like 2026-11-26T15:00:00+00:00.", {name: "Not a time."}
        ) from exc
    if value.tzinfo is None:
        raise ApiError(422, "Give the time with its time zone.", {name: "No time zone."})
    try:
        return value.astimezone(UTC)
    except (OverflowError, ValueError) as exc:
        raise ApiError(422, "That time is out of range.", {name: "Out of range."}) from exc
