"""Security headers on every response, and style nonces for the pages that need one.

The headers are set by one after_request function that runs after every other
one (the page cache included), on every response: pages fresh or from the
cache, JSON, feeds, errors, redirects, static files and refused hosts.
"""

from __future__ import annotations

from flask import Flask, current_app, g, request

# The players a reader may start by clicking an embed's poster (static/js/embeds.js); frames
# appear only after that click, so the policy can name them on every page and stay cacheable.
EMBED_FRAME_ORIGINS = ("https://www.youtube-nocookie.com", "https://player.vimeo.com")
POLICY = {
    "default-src": "'self'",
    "script-src": "'self'",
    "style-src": "'self'",
    "img-src": "'self' data: https:",
    "font-src": "'self'",
    "connect-src": "'self'",
    "frame-src": " ".join(EMBED_FRAME_ORIGINS),
    "object-src": "'none'",
    "base-uri": "'self'",
    "form-action": "'self'",
    "frame-ancestors": "'none'",
}
CONTENT_SECURITY_POLICY = "; ".join(f"{name} {value}" for name, value in POLICY.items())
SECURITY_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "strict-origin-when-cross-origin",
    "X-Frame-Options": "DENY",
    "Cross-Origin-Opener-Policy": "same-origin",
    "Permissions-Policy": "camera=(), microphone=(), geolocation=()",
}
# Headers that name the server software; nothing here may say what runs the site.
REVEALING_HEADERS = ("Server", "X-Powered-By")
PRIVATE = "private, no-store"
# Staff, account and preview pages belong to one person: no cache may keep them.
PRIVATE_BLUEPRINTS = frozenset({"auth", "editor", "admin"})
PRIVATE_PATHS = (
    "/account",
    "/admin",
    "/editor",
    "/login",
    "/logout",
    "/register",
    "/reset-password",
)
# Where a signed-in person still gets the reader's page (marked private by the page cache).
READER_BLUEPRINTS = frozenset({"public", "api", "media"})


def personal(view):
    """Mark a reader view whose answer belongs to whoever asks: private, never stored.

    The page cache neither serves nor stores it, and it goes out `private, no-store`.
    """
    view.personal_page = True
    return view


def personal_view() -> bool:
    """Whether this request goes to a view marked with `personal` (no database)."""
    view = current_app.view_functions.get(request.endpoint or "")
    return bool(getattr(view, "personal_page", False))


def personal_response() -> bool:
    """Whether this response belongs to one person, so no cache may keep it."""
    if request.blueprint in PRIVATE_BLUEPRINTS or personal_view():
        return True
    path = request.path
    if any(path == prefix or path.startswith(prefix + "/") for prefix in PRIVATE_PATHS):
        return True
    if request.headers.get("Authorization"):
        return True  # an API token's answers are that person's
    # Only a page that loaded the signed-in person can have been rendered for them.
    user = g.get("_login_user")
    signed_in = user is not None and user.is_authenticated
    return signed_in and request.blueprint not in READER_BLUEPRINTS and request.endpoint != "static"


def add_security_headers(headers, personal: bool) -> None:
    """The security and caching headers of every response (personal: no cache may keep it).

    Also called by the page cache's early hits (blog/pagecache.py), which skip Flask's hooks.
    """
    headers.setdefault("Content-Security-Policy", CONTENT_SECURITY_POLICY)
    for name, value in SECURITY_HEADERS.items():
        headers.setdefault(name, value)
    hsts = current_app.config.get("STRICT_TRANSPORT_SECURITY")
    if hsts:
        headers["Strict-Transport-Security"] = hsts
    if personal:
        headers["Cache-Control"] = PRIVATE
        headers.pop("Expires", None)
    for name in REVEALING_HEADERS:
        headers.pop(name, None)


def security_headers(response):
    """after_request, last of all: the security and caching headers of every response."""
    add_security_headers(response.headers, personal_response())
    return response


def register_response_headers(app: Flask) -> None:
    """Add the security headers to every response, after every other after_request.

    Flask runs after_request functions last-registered first, so this one goes
    to the front of the list, whatever was registered before it.
    """
    app.after_request_funcs.setdefault(None, []).insert(0, security_headers)
