"""The page cache: anonymous readers get finished pages without the database.

A page is kept under its host and full path with the surrogate keys of what it shows
(blog/services/surrogate.py: ``post-7``, ``section-2``, ``home``, ``all``…) and the mark
taken before it was built. A hit is one cache read plus one check that none of its keys
was purged since (one Redis MGET, or a few stat calls without Redis), so a change purges
exactly the pages that show it, on every worker at once. A hit runs no SQL and renders
no template. Only anonymous GET requests for reader pages, feeds and API reads are
served from it, and a response that sets a cookie is never stored (it is someone's own).
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

from .extensions import cache
from .services import sessions, surrogate

CACHEABLE_BLUEPRINTS = ("public", "api")
NEVER_CACHED = {"public.healthz"}
STORED_STATUSES = {200, 301}
STORED_HEADERS = ("Content-Type", "Location", "Link", "X-Robots-Tag", "Cache-Control", "Vary")
COMPRESSIBLE = ("text/", "application/json", "application/xml", "application/atom+xml")
MIN_COMPRESS_BYTES = 500


def enabled() -> bool:
    """Whether the page cache is on (CIRCLE_PAGE_CACHE=off turns it off)."""
    return bool(current_app.config.get("PAGE_CACHE", True))


def _anonymous_request() -> bool:
    """True when nobody is signed in, decided without touching the database."""
    if sessions.carries_sign_in(session, request.cookies):
        return False
    if request.headers.get("Authorization"):
        return False
    return "_flashes" not in session


def cacheable_request() -> bool:
    """Whether this request may be answered from (and stored in) the cache."""
    if not enabled() or request.method not in ("GET", "HEAD"):
        return False
    endpoint = request.endpoint or ""
    if endpoint in NEVER_CACHED or endpoint.split(".", 1)[0] not in CACHEABLE_BLUEPRINTS:
        return False
    return _anonymous_request()


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
    """before_request: answer from the cache when possible."""
    if not cacheable_request():
        return None
    key = _key()
    entry = cache.get(key)
    if entry is None or not surrogate.fresh(entry["keys"], entry["mark"]):
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
    if key is None or not _anonymous_request():
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
    """Serve anonymous readers from the page cache, and store what they are given."""
    app.before_request(serve_from_cache)
    app.after_request(finish_response)
