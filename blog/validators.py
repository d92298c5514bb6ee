"""Bounds on what people type: whole numbers a database can hold and safe addresses.

The base floor: the doors, the services and the app factory all read numbers and
addresses through these functions, so each rule is written once.
"""

from __future__ import annotations

import re
from urllib.parse import urlsplit

from werkzeug.routing import IntegerConverter

# The largest id an integer column holds (PostgreSQL's integer; SQLite is wider).
MAX_ID = 2**31 - 1
# The furthest page number any listing answers; past it is "no such page".
MAX_PAGE = 1_000_000

_DIGITS = re.compile(r"[0-9]+")
# Characters browsers drop from an address before reading its scheme.
_IGNORED_IN_URLS = re.compile(r"[\x00-\x20\x7f]")

URL_MESSAGE = "Give an address starting with https://, http:// or / (an address on this site)."


def bounded_int(raw: object, low: int = 1, high: int = MAX_ID) -> int | None:
    """Return raw as a whole number between low and high, or None for anything else."""
    if isinstance(raw, bool):
        return None
    if isinstance(raw, int):
        value = raw
    else:
        text = str(raw if raw is not None else "").strip()
        # A length cap first, so no huge string is ever turned into a number.
        if not text.isascii() or len(text) > len(str(high)) or not _DIGITS.fullmatch(text):
            return None
        value = int(text)
    return value if low <= value <= high else None


class BoundedIntConverter(IntegerConverter):
    """`<int:…>` in a route, matching only what an integer column can hold (else a 404)."""

    def __init__(self, url_map, fixed_digits: int = 0, min: int | None = None,
                 max: int | None = MAX_ID, signed: bool = False) -> None:
        """Like werkzeug's int converter, with the database's ceiling as the default max."""
        super().__init__(url_map, fixed_digits=fixed_digits, min=min, max=max, signed=signed)


def url_problem(raw: str | None) -> str | None:
    """Say why raw is not an http(s) or site-relative address, or None when it is one.

    An empty value is no problem (the field is simply not set).
    """
    value = (raw or "").strip()
    if not value:
        return None
    if _IGNORED_IN_URLS.search(value) or "\\" in value:
        return URL_MESSAGE
    if value.startswith("/"):
        return URL_MESSAGE if value.startswith("//") else None
    try:
        parts = urlsplit(value)
    except ValueError:
        return URL_MESSAGE
    if parts.scheme.lower() not in ("http", "https") or not parts.hostname:
        return URL_MESSAGE
    return None


def is_safe_url(raw: str | None) -> bool:
    """Return True when raw is empty, an http(s) address or a site-relative one."""
    return url_problem(raw) is None
