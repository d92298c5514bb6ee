"""Who is signed in, read from the request: Flask-Login over the server-side sessions.

The signed cookie holds only the session's secret; every request that asks who
is signed in checks it against `user_sessions` (one query). Our own remember-me
cookie restores a session after the browser restarts and is replaced on use.
Reader pages are the same for everyone (blog/pagecache.py): they are read as a
guest's, and a browser that signed in carries a marker cookie, holding no secret,
that tells static/js/personal.js to fetch the person's own parts of the page.
State-changing requests sent by another site are refused here too, before any view.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import Flask, current_app, flash, g, request, session
from flask_login import current_user, login_user, logout_user

from . import hosts
from .errors import error_response
from .extensions import login_manager
from .services import sessions

FORGET = "forget"
# Readable by scripts on purpose: "1" says this browser signed in, so the page's script
# asks for the person's own parts; guests never make that request. It opens nothing.
SIGNED_IN_MARKER = "circle_signed_in"
LEGACY_REMEMBER_COOKIE = "remember_token"  # Flask-Login's own; never set any more
STATE_CHANGING = {"POST", "PUT", "PATCH", "DELETE"}
FOREIGN_ORIGIN = "This request came from another site, so it was refused."


def init_app(app: Flask) -> None:
    """Bind Flask-Login to the sessions table and add the request checks."""
    from .models import AnonymousUser

    login_manager.init_app(app)
    login_manager.login_view = "auth.login"
    login_manager.login_message = "Please sign in to see that page."
    login_manager.login_message_category = "info"
    login_manager.anonymous_user = AnonymousUser
    # Our sessions live on the server; Flask-Login's IP/agent fingerprint adds nothing.
    login_manager.session_protection = None
    login_manager.user_loader(_load_from_session)
    login_manager.request_loader(_load_from_remember_cookie)
    app.before_request(refuse_foreign_origin)
    app.after_request(_write_cookies)
    app.jinja_env.globals["signed_in_marker"] = SIGNED_IN_MARKER


def read_as_guest() -> None:
    """Answer this request as a guest's: nobody is looked up and nothing of theirs is read.

    For the reader pages every reader shares (blog/pagecache.py); a signed-in person's
    own parts of them come from their own request (public.personal_parts).
    """
    login_manager._update_request_context_with_user()  # Flask-Login's anonymous user


def forget_marker() -> None:
    """Clear the signed-in marker at the end of this request (nobody is signed in)."""
    g.signed_in_marker = FORGET


def _attach(user, row, secret: str):
    """Give the person the session they came with, for this request."""
    user.current_session = row
    user.session_key = secret
    return user


def _client_address() -> str:
    """The client's address as the app sees it (behind configured proxies: the real one)."""
    return request.remote_addr or ""


def _load_from_session(secret: str):
    """user_loader: the person whose live session this cookie's secret opens."""
    found = sessions.load_session(secret, _client_address())
    if found.user is None:
        session.pop(sessions.SESSION_KEY, None)
        # The cookie opened a session that has ended (expired, signed out elsewhere): a
        # form sent with it is answered 401 with its text, not the sign-in redirect.
        g.session_ended = True
        forget_marker()
        if found.ended:
            flash(found.ended, "info")
            g.remember_cookie = FORGET
        return None
    if not request.cookies.get(SIGNED_IN_MARKER):
        # A session opened before the marker existed, or whose marker was lost: put it back.
        g.signed_in_marker = found.row.remember_expires_at
    return _attach(found.user, found.row, secret)


def _load_from_remember_cookie(req):
    """request_loader: restore a remembered session, replacing both of its secrets."""
    remembered = req.cookies.get(sessions.REMEMBER_COOKIE)
    if not remembered:
        return None
    found, secret, new_remember = sessions.resume_session(remembered, _client_address())
    if found.user is None:
        g.remember_cookie = FORGET
        forget_marker()
        if found.ended:
            flash(found.ended, "info")
        return None
    session[sessions.SESSION_KEY] = secret
    session["_fresh"] = False
    g.remember_cookie = (new_remember, found.row.remember_expires_at)
    g.signed_in_marker = found.row.remember_expires_at
    return _attach(found.user, found.row, secret)


def _renew_csrf() -> None:
    """Forget the CSRF secret, so a token read before this moment is refused after it."""
    field = current_app.config.get("WTF_CSRF_FIELD_NAME", "csrf_token")
    session.pop(field, None)
    g.pop(field, None)


def sign_in(user, remember: bool = False) -> None:
    """Open a server-side session for someone who proved who they are, in this browser."""
    row, secret, remember_secret = sessions.start_session(
        user, remember, request.user_agent.string, _client_address()
    )
    _renew_csrf()
    login_user(_attach(user, row, secret), remember=False)
    # The marker lasts as long as the way back in: the browser session, or remember-me.
    g.signed_in_marker = row.remember_expires_at
    if remember_secret:
        g.remember_cookie = (remember_secret, row.remember_expires_at)


def sign_out() -> None:
    """End this browser's session on the server and forget everything in its cookie."""
    if current_user.is_authenticated:
        sessions.end_session(current_user.current_session)
    logout_user()
    session.clear()
    _renew_csrf()
    g.remember_cookie = FORGET
    forget_marker()


def _write_cookies(response):
    """after_request: write the remember-me cookie and the signed-in marker as decided."""
    _write_remember_cookie(response)
    _write_marker_cookie(response)
    return response


def _write_marker_cookie(response) -> None:
    """Set the signed-in marker (a session cookie, or one that ends with remember-me)."""
    if "signed_in_marker" not in g:
        return
    wanted = g.pop("signed_in_marker")
    secure = current_app.config["SESSION_COOKIE_SECURE"]
    if wanted == FORGET:
        if request.cookies.get(SIGNED_IN_MARKER):
            response.delete_cookie(SIGNED_IN_MARKER, secure=secure, samesite="Lax")
        return
    response.set_cookie(
        SIGNED_IN_MARKER, "1", expires=wanted, secure=secure, httponly=False, samesite="Lax"
    )


def _write_remember_cookie(response):
    """Set, replace or delete the remember-me cookie as the request decided."""
    wanted = g.pop("remember_cookie", None)
    config = current_app.config
    if wanted == FORGET and request.cookies.get(sessions.REMEMBER_COOKIE):
        response.delete_cookie(
            sessions.REMEMBER_COOKIE,
            secure=config["REMEMBER_COOKIE_SECURE"],
            httponly=True,
            samesite=config["REMEMBER_COOKIE_SAMESITE"],
        )
    elif isinstance(wanted, tuple):
        secret, expires = wanted
        response.set_cookie(
            sessions.REMEMBER_COOKIE,
            secret,
            expires=expires,
            secure=config["REMEMBER_COOKIE_SECURE"],
            httponly=True,
            samesite=config["REMEMBER_COOKIE_SAMESITE"],
        )
    if LEGACY_REMEMBER_COOKIE in request.cookies:
        response.delete_cookie(LEGACY_REMEMBER_COOKIE)
    return response


# --- Requests from other sites ---------------------------------------------------


def _origin(url: str | None) -> str | None:
    """Return scheme://host[:port] of a URL, lower-case, without a default port."""
    try:
        parts = urlsplit((url or "").strip().lower())
        port = parts.port
    except ValueError:
        return None
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return None
    host = f"[{parts.hostname}]" if ":" in parts.hostname else parts.hostname
    if port is not None and port != {"http": 80, "https": 443}[parts.scheme]:
        host = f"{host}:{port}"
    return f"{parts.scheme}://{host}"


def site_origins() -> set[str]:
    """This site's own origins: the one this request was sent to, and the configured one."""
    origins = {_origin(hosts.request_origin()), _origin(hosts.links_root())}
    origins.discard(None)
    return origins


def _token_without_cookies() -> bool:
    """True for an API call with a Bearer token and no cookie that could sign anyone in."""
    if not (request.headers.get("Authorization") or "").lower().startswith("bearer "):
        return False
    cookie_names = (current_app.config["SESSION_COOKIE_NAME"], sessions.REMEMBER_COOKIE)
    return not any(name in request.cookies for name in cookie_names)


def refuse_foreign_origin():
    """before_request: answer 403 to a state-changing request another site sent."""
    if request.method not in STATE_CHANGING or _token_without_cookies():
        return None
    origin = request.headers.get("Origin")
    cross_site = (request.headers.get("Sec-Fetch-Site") or "").lower() == "cross-site"
    if cross_site or (origin is not None and _origin(origin) not in site_origins()):
        return error_response(403, FOREIGN_ORIGIN)
    return None


def sent_from_this_site() -> bool:
    """True when the request shows it was sent by one of this site's own pages.

    For the token-less forms on shared (cached) pages: a browser names the page's
    origin (Origin) or says same-origin (Sec-Fetch-Site); a request saying neither is
    not trusted to act alone.
    """
    origin = request.headers.get("Origin")
    if origin is not None and _origin(origin) in site_origins():
        return True
    return (request.headers.get("Sec-Fetch-Site") or "").lower() == "same-origin"
