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
When a purge front is configured (PURGE_URLS), a stored page goes out with its keys in
an ``xkey`` header for Varnish (deploy/varnish/circle.vcl), which Circle purges with the
same keys; without one the header is not sent (it would tell anyone the key names).

Hits are answered twice over. `EarlyHits`, a WSGI middleware in front of Flask, answers
the hits of pages whose request needs nothing but the app-wide hooks (no blueprint
hooks) before Flask builds a request context, routes, opens the session or
runs a hook: it checks the Host, asks `shares_page` (the one rule for who gets the shared
copy), and adds the security headers itself (blog/headers.py), so its answer is the one
the hooks would give, in about a fifth of the time. Everything else goes through Flask,
where the before_request hook answers the remaining hits (the API's, whose blueprint
adds its own caching headers).

Request plumbing, so it sits beside the app factory: `init_app(app)` wraps the WSGI app
and registers its hooks before the others (only the Host check and the rate limits come
first; the security headers are added after the cache has answered or stored the page).
"""

from __future__ import annotations

import gzip
import hashlib
import logging
from collections.abc import Mapping

from flask import Flask, current_app, g, request, session
from werkzeug.http import http_date
from werkzeug.wrappers import Request

from . import headers, hosts, signin
from .extensions import cache
from .headers import personal_view
from .services import surrogate

log = logging.getLogger(__name__)

CACHEABLE_BLUEPRINTS = ("public", "api")
NEVER_CACHED = {"public.healthz"}
STORED_STATUSES = {200, 301}
STORED_HEADERS = ("Content-Type", "Location", "Link", "X-Robots-Tag", "Cache-Control", "Vary")
COMPRESSIBLE = ("text/", "application/json", "application/xml", "application/atom+xml")
MIN_COMPRESS_BYTES = 500
# Flask-Limiter settings whose limits count every request, in a before_request hook.
SITE_WIDE_LIMITS = ("RATELIMIT_DEFAULT", "RATELIMIT_APPLICATION")


def enabled() -> bool:
    """Whether the page cache is on (CIRCLE_PAGE_CACHE=off turns it off)."""
    return bool(current_app.config.get("PAGE_CACHE", True))


def shares_page(session_data: Mapping, req: Request) -> bool:
    """Whether this request may get the shared copy of a page, decided without the database.

    The one rule, asked by the Flask hooks and by the early hits alike. A sign-in alone
    changes nothing (the page is every reader's); messages waiting in the session
    (Flask's signed cookie) are shown once, to their owner; an API token's answers are
    that token's.
    """
    if req.headers.get("Authorization"):
        return False
    return "_flashes" not in session_data


def cacheable_request() -> bool:
    """Whether this request may get the shared page: be answered from the cache, or build
    the page as for a guest and store it. The one rule, cheap: no database query."""
    if not enabled() or request.method not in ("GET", "HEAD"):
        return False
    endpoint = request.endpoint or ""
    if endpoint in NEVER_CACHED or endpoint.split(".", 1)[0] not in CACHEABLE_BLUEPRINTS:
        return False
    return not personal_view() and shares_page(session, request)


def page_key(req: Request) -> str:
    """The cache key of a request: its host and full path."""
    path = req.full_path if req.query_string else req.path
    return f"page:{req.host}{path}"


def _wants_gzip(req: Request) -> bool:
    """Whether the client takes gzip."""
    return "gzip" in (req.headers.get("Accept-Encoding") or "").lower()


def _vary(stored) -> str:
    """The Vary of a stored page: what it was stored with, Accept-Encoding (it may go out
    gzipped) and Cookie (a signed-in reader's or a flash message's cookie changes it). The
    hooks would add the same two (Flask-Compress, and Flask's session when it is read)."""
    vary = {v.strip() for v in stored.get("Vary", "").split(",") if v.strip()}
    return ", ".join(sorted(vary | {"Accept-Encoding", "Cookie"}))


def _respond(entry: dict, req: Request):
    """Build a response from a stored entry, compressed and conditional as asked."""
    use_gzip = entry.get("gzip") is not None and _wants_gzip(req)
    body = entry["gzip"] if use_gzip else entry["body"]
    response = current_app.response_class(body, status=entry["status"])
    sent = response.headers
    for name, value in entry["headers"]:
        sent[name] = value
    if use_gzip:
        sent["Content-Encoding"] = "gzip"
    sent["Vary"] = _vary(sent)
    response.set_etag(entry["etag"])
    # The API says how long readers may keep its answers; pages are revalidated.
    sent.setdefault("Cache-Control", "public, max-age=0, must-revalidate")
    if current_app.config.get("PURGE_URLS"):
        sent["xkey"] = " ".join(entry["keys"])  # for Varnish only: its VCL unsets it
    sent["X-Cache"] = "HIT"
    return response.make_conditional(req)


def serve_from_cache():
    """before_request: answer from the cache when possible; else build the shared page."""
    surrogate.forget_request_version()  # this request reads the purge version afresh
    if not cacheable_request():
        return None
    key = page_key(request)
    entry = cache.get(key)
    if entry is None or not surrogate.still_fresh(key, entry["keys"], entry["mark"]):
        signin.read_as_guest()  # whoever asks, the page is built as every reader gets it
        g.page_cache_key = key
        g.page_cache_mark = surrogate.mark()  # before anything is read
        surrogate.collect()
        return None
    return _respond(entry, request)


def _answerable_early() -> bool:
    """Whether later hits on this page may skip Flask (EarlyHits): only the app-wide hooks
    touch it, and it is nobody's own (headers.personal_response).

    A view's own rate limit (search) needs no exception: Flask-Limiter counts it when the
    view runs, which a hit never does, early or not. Site-wide limits, were they ever
    configured, count every request in a hook, so they keep every hit in Flask.
    """
    app = current_app
    site_wide_limits = any(app.config.get(n) for n in SITE_WIDE_LIMITS)
    if site_wide_limits or headers.personal_response():
        return False
    hooked = (app.before_request_funcs, app.after_request_funcs, app.url_value_preprocessors)
    return not any(funcs.get(name) for funcs in hooked for name in request.blueprints)


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
        "early": _answerable_early(),
    }
    cache.set(key, entry)
    fresh = _respond(entry, request)
    fresh.headers["X-Cache"] = "MISS"
    return fresh


class EarlyHits:
    """WSGI middleware: answer hits before Flask's request machinery; pass on the rest.

    Only pages stored as answerable early (`_answerable_early`), only GET and HEAD, only
    for an allowed Host, only for whoever `shares_page` lets have the shared copy, and
    only in the encodings the stored page holds (none asked, or gzip): Flask-Compress
    decides the others. The answer carries the headers the hooks would have given it.
    """

    def __init__(self, app: Flask, wsgi_app):
        self.app = app
        self.wsgi_app = wsgi_app

    def __call__(self, environ: dict, start_response):
        """Answer a hit here, or hand the request to Flask."""
        reading = environ.get("REQUEST_METHOD") in ("GET", "HEAD")
        if reading and self.app.config.get("PAGE_CACHE", True):
            try:
                with self.app.app_context():
                    response = early_hit(self.app.request_class(environ))
            except Exception:  # noqa: BLE001 - Flask answers, with its error pages if it must
                log.warning("page cache: an early hit failed; Flask answers", exc_info=True)
                response = None
            if response is not None:
                return response(environ, start_response)
        return self.wsgi_app(environ, start_response)


def _session_of(req: Request) -> Mapping:
    """The signed cookie session a request brings (empty without one), read as Flask would."""
    app = current_app
    if app.config["SESSION_COOKIE_NAME"] not in req.cookies:
        return {}
    return app.session_interface.open_session(app, req) or {}


def early_hit(req: Request):
    """The cached answer to a request as a WSGI app, or None to let Flask answer it."""
    if not hosts.host_allowed(req.host, current_app.config.get("ALLOWED_HOSTS") or ()):
        return None  # Flask answers 400
    if not shares_page(_session_of(req), req):
        return None
    key = page_key(req)
    entry = cache.get(key)
    if entry is None or not entry.get("early"):
        return None
    asked = req.headers.get("Accept-Encoding")
    if asked and not (entry["gzip"] is not None and _wants_gzip(req)):
        return None
    if not surrogate.still_fresh(key, entry["keys"], entry["mark"]):
        return None
    if req.method != "GET" or any(name in req.environ for name in CONDITIONS):
        return _early_response(entry, req)
    return _plain_get(key, entry, req)


def _early_response(entry: dict, req: Request):
    """The hit with every header the hooks would add (HEAD and conditional requests too)."""
    response = _respond(entry, req)
    headers.add_security_headers(response.headers, personal=False)
    return response


# A request with one of these is answered by _early_response (a 304, a 412), never by a
# remembered plain answer.
CONDITIONS = (
    "HTTP_IF_NONE_MATCH",
    "HTTP_IF_MATCH",
    "HTTP_IF_MODIFIED_SINCE",
    "HTTP_IF_UNMODIFIED_SINCE",
    "HTTP_IF_RANGE",
    "HTTP_RANGE",
)
# Plain answers' headers remembered per process, then forgotten all at once.
MAX_PLAIN_ANSWERS = 2_000


def _plain_get(key: str, entry: dict, req: Request):
    """A plain GET's hit: the status and headers _early_response gives this entry are built
    once per process and encoding, then sent again with only the Date renewed."""
    config = current_app.config
    use_gzip = entry["gzip"] is not None and _wants_gzip(req)
    memo = (
        key,
        entry["etag"],
        entry["mark"],
        use_gzip,
        bool(config.get("PURGE_URLS")),
        config.get("STRICT_TRANSPORT_SECURITY"),
    )
    answers = current_app.extensions.setdefault("circle_plain_answers", {})
    known = answers.get(memo)
    if known is None:
        response = _early_response(entry, req)
        sent = response.get_wsgi_headers(req.environ)
        known = (response.status, [(n, v) for n, v in sent.to_wsgi_list() if n.lower() != "date"])
        if len(answers) >= MAX_PLAIN_ANSWERS:
            answers.clear()
        answers[memo] = known
    status, listed = known
    body = entry["gzip"] if use_gzip else entry["body"]

    def answer(environ: dict, start_response):
        start_response(status, [*listed, ("Date", http_date())])
        return [body]

    return answer


def init_app(app: Flask) -> None:
    """Serve readers from the page cache, and store the shared pages they are given."""
    app.wsgi_app = EarlyHits(app, app.wsgi_app)
    app.before_request(serve_from_cache)
    app.after_request(finish_response)
