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


def digits_at_most(limit: int) -> str:
    """A regular expression matching the decimal numbers from 0 to limit, and no others."""
    text = str(limit)
    options = [rf"\d{{1,{len(text) - 1}}}"] if len(text) > 1 else []
    for i, digit in enumerate(text):
        if digit != "0":
            rest = len(text) - i - 1
            low = "1" if i == 0 and len(text) > 1 else "0"
            if int(digit) - 1 >= int(low):
                tail = rf"\d{{{rest}}}" if rest else ""
                options.append(f"{text[:i]}[{low}-{int(digit) - 1}]{tail}")
    options.append(text)
    return "(?:" + "|".join(options) + ")"


class BoundedIntConverter(IntegerConverter):
    """`<int:…>` in a route, matching only what an integer column can hold (else a 404).

    The bound is in the pattern itself, not only in the conversion: werkzeug answers
    405 rather than 404 when a path matches another method's rule before conversion.
    """

    regex = digits_at_most(MAX_ID)

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


def is_usable_address(raw: str | None) -> bool:
    """Return True when raw is set and safe to put in an href or src (a template test)."""
    return bool((raw or "").strip()) and url_problem(raw) is None
