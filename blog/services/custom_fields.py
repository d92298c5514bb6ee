"""A post's custom fields (WordPress's post meta): the rules they follow, and their one writer.

A post or page keeps an ordered list of (key, value) pairs; a key may come more than
once, as in WordPress. The desk's form and the WordPress importer both hand their list
to the writer (`desk.PostDraft.custom_fields`), which calls `set_fields` here. Keys that
begin with an underscore are WordPress's and its plugins' own bookkeeping (WordPress
hides them from its custom-fields box too): Circle never keeps them.
"""

from __future__ import annotations

from ..models import CustomField, Post
from . import ServiceError

MAX_KEY = 255  # WordPress's meta_key column
MAX_VALUE = 10_000  # characters: room for a paragraph of notes or an embed code
MAX_FIELDS = 100  # per post: more than a plugin-heavy WordPress post shows readers

Fields = list[tuple[str, str]]


def refusal(key: str, value: str) -> str | None:
    """Why one field cannot be kept (a sentence), or None when it can."""
    if not key:
        return "A custom field needs a name."
    if key.startswith("_"):
        return (
            f"The custom field name {key[:60]!r} begins with an underscore: such names "
            "are WordPress's own."
        )
    if len(key) > MAX_KEY:
        return f"A custom field name has at most {MAX_KEY} characters."
    if len(value) > MAX_VALUE:
        return f"The custom field {key[:60]!r} is longer than {MAX_VALUE:,} characters."
    return None


def checked(fields: Fields) -> Fields:
    """The fields tidied (names trimmed, NULs and empty rows dropped), or a ServiceError
    saying why not."""
    kept: Fields = []
    for raw_key, raw_value in fields:
        # A NUL character is nothing a person typed, and PostgreSQL's text cannot hold it.
        key = (raw_key or "").replace("\x00", "").strip()
        value = (raw_value or "").replace("\x00", "")
        if not key and not value.strip():
            continue  # an empty row of the form
        reason = refusal(key, value)
        if reason:
            raise ServiceError(reason, field="custom_fields")
        kept.append((key, value))
    if len(kept) > MAX_FIELDS:
        raise ServiceError(
            f"A post keeps at most {MAX_FIELDS} custom fields.", field="custom_fields"
        )
    return kept


def fields_of(post: Post) -> Fields:
    """The post's custom fields, in order."""
    return [(field.key, field.value) for field in post.custom_fields]


def set_fields(post: Post, fields: Fields) -> None:
    """Make the post's custom fields these (checked first), changing only rows that differ.

    Rows are reused in place, so no two ever hold the same position during the flush.
    """
    fields = checked(fields)
    if fields_of(post) == fields:
        return
    rows = list(post.custom_fields)
    for position, (key, value) in enumerate(fields):
        if position < len(rows):
            rows[position].key, rows[position].value = key, value
        else:
            post.custom_fields.append(CustomField(position=position, key=key, value=value))
    for row in rows[len(fields):]:
        post.custom_fields.remove(row)
