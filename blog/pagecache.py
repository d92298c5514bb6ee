"""The page cache: readers get finished pages without the database.

A page is kept under its host and full path with the surrogate keys of what it shows
(blog/services/surrogate.py: ``post-7``, ``section-2``, ``home``, ``all``…) and the mark
taken before it was built. A hit is one cache read plus one check that none of its keys
was purged since (one Redis MGET, or a few stat calls without Redis), so a change purges
exactly the pages that show it, on every worker at once. A hit runs no SQL and renders
no template. GET requests for reader pages, feeds and API reads are served from it,
and a response that sets a cookie is never stored (it is someone's own).

A reader page is the same for everyone: a signed-in person gets the shared page, and on
a miss it is built as for a guest (signin.read_as_guest), so what is stored holds
nothing of theirs. Their own parts (who is signed in, the comment form with its token,
their comments waiting for moderation) come from one uncached request,
public.personal_parts, that static/js/personal.js makes. Still built for one person and
never stored: a request with messages waiting in the session (a flash), one with an
Authorization header (an API token), and views marked `headers.personal`.
A stored page goes out with its keys in an ``xkey`` header for Varnish
(deploy/varnish/circle.vcl), which Circle purges with the same keys.

Request plumbing, so it sits beside the app factory: `init_app(app)` registers its
hooks before the others (only the Host check and the rate limits come first; the
security headers are added after the cache has answered or stored the page).
"""

from __future__ import annotations

import gzip
import hashlib

from flask import Flask, current_app, g, request, session

from . import signin
from .extensions import cache
from .headers import personal_view
from .services import surrogate

CACHEABLE_BLUEPRINTS = ("public", "api")
NEVER_CACHED = {"public.healthz"}
STORED_STATUSES = {200, 301}
STORED_HEADERS = ("Content-Type", "Location", "Link", "X-Robots-Tag", "Cache-Control", "Vary")
COMPRESSIBLE = ("text/", "application/json", "application/xml", "application/atom+xml")
MIN_COMPRESS_BYTES = 500


def enabled() -> bool:
    """Whether the page cache is on (CIRCLE_PAGE_CACHE=off turns it off)."""
    return bool(current_app.config.get("PAGE_CACHE", True))


def _personal_request() -> bool:
    """True when this request must be answered for its sender alone (no database).

    Messages waiting in the session (Flask's signed cookie) are shown once, to their
    owner; an API token's answers are that token's. A sign-in alone changes nothing.
    """
    if request.headers.get("Authorization"):
        return True
    return "_flashes" in session


def cacheable_request() -> bool:
    """Whether this request may get the shared page: be answered from the cache, or build
    the page as for a guest and store it. The one rule, cheap: no database query."""
    if not enabled() or request.method not in ("GET", "HEAD"):
        return False
    endpoint = request.endpoint or ""
    if endpoint in NEVER_CACHED or endpoint.split(".", 1)[0] not in CACHEABLE_BLUEPRINTS:
        return False
    return not personal_view() and not _personal_request()


def _key() -> str:
    """The cache key of this request."""
    path = request.full_path if request.query_string else request.path
    return f"page:{request.host}{path}"


def _wants_gzip() -> bool:
    """Whether the client takes gzip."""
    return "gzip" in (request.headers.get("Accept-Encoding") or "").lower()


def _respond(entry: dict):
    """Build a response from a stored entry, compressed and conditional as asked."""
    use_gzip = entry.get("gzip") is not None and _wants_gzip()
    body = entry["gzip"] if use_gzip else entry["body"]
    response = current_app.response_class(body, status=entry["status"])
    for name, value in entry["headers"]:
        response.headers[name] = value
    if use_gzip:
        response.headers["Content-Encoding"] = "gzip"
    if entry.get("gzip") is not None:
        vary = {v.strip() for v in response.headers.get("Vary", "").split(",") if v.strip()}
        response.headers["Vary"] = ", ".join(sorted(vary | {"Accept-Encoding", "Cookie"}))
    response.set_etag(entry["etag"])
    # The API says how long readers may keep its answers; pages are revalidated.
    response.headers.setdefault("Cache-Control", "public, max-age=0, must-revalidate")
    response.headers["xkey"] = " ".join(entry["keys"])
    response.headers["X-Cache"] = "HIT"
    return response.make_conditional(request)


def serve_from_cache():
    """before_request: answer from the cache when possible; else build the shared page."""
    if not cacheable_request():
        return None
    key = _key()
    entry = cache.get(key)
    if entry is None or not surrogate.fresh(entry["keys"], entry["mark"]):
        signin.read_as_guest()  # whoever asks, the page is built as every reader gets it
        g.page_cache_key = key
        g.page_cache_mark = surrogate.mark()  # before anything is read
        surrogate.collect()
        return None
    return _respond(entry)


def finish_response(response):
    """after_request: set validators, store cacheable pages, and compress."""
    key = g.pop("page_cache_key", None)
    if response.headers.get("X-Cache") == "HIT":
        return response
    if request.method not in ("GET", "HEAD") or response.direct_passthrough:
        return response
    reader_page = (request.endpoint or "").split(".", 1)[0] in CACHEABLE_BLUEPRINTS
    if not reader_page:
        return response
    if response.status_code == 200 and not response.get_etag()[0]:
        response.set_etag(hashlib.sha1(response.get_data()).hexdigest())
    if key is None or not cacheable_request():
        response.headers.setdefault("Cache-Control", "private, no-cache")
        return response.make_conditional(request)
    if response.status_code not in STORED_STATUSES or "Set-Cookie" in response.headers:
        return response.make_conditional(request)
    keys, taken = sorted(surrogate.collected()), g.pop("page_cache_mark")
    if not surrogate.fresh(keys, taken):
        # A change to what it shows was committed while it was built: neither this cache
        # nor Varnish (no xkey header) keeps it; the next reader gets a fresh one.
        return response.make_conditional(request)
    body = response.get_data()
    compressible = response.mimetype.startswith(COMPRESSIBLE) and len(body) >= MIN_COMPRESS_BYTES
    entry = {
        "status": response.status_code,
        "headers": [(n, v) for n, v in response.headers.items() if n in STORED_HEADERS],
        "body": body,
        "gzip": gzip.compress(body, compresslevel=6, mtime=0) if compressible else None,
        "etag": response.get_etag()[0] or hashlib.sha1(body).hexdigest(),
        "keys": keys,
        "mark": taken,
    }
    cache.set(key, entry)
    fresh = _respond(entry)
    fresh.headers["X-Cache"] = "MISS"
    return fresh


def init_app(app: Flask) -> None:
    """Serve readers from the page cache, and store the shared pages they are given."""
    app.before_request(serve_from_cache)
    app.after_request(finish_response)
