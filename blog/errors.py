"""Error pages for readers and JSON errors for the API; never a stack trace.

The services' refusals are mapped here, once, for every door: `NotFound` is the
404 page, `Forbidden` the 403 page, and under /api each refusal is the API's JSON
error (a `Conflict` is a 409 with the post's current version, a refusal about a
field a 422 naming it). Views catch `ServiceError` only to show it on their form.

Scripts that ask for JSON (the desk's keeper) get JSON errors too, each with a `reason`
the script acts on: signed_out (401), csrf (400), storage_full (507), unavailable (503),
server_error (500). A form sent by a person that fails here shows what they typed on the
error page, so no text is lost with the request.
"""

from __future__ import annotations

from flask import Flask, current_app, jsonify, render_template, request, url_for
from flask_login import current_user
from flask_wtf.csrf import CSRFError
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm.exc import StaleDataError
from werkzeug import exceptions
from werkzeug.exceptions import HTTPException

from .extensions import db
from .services import (
    STORAGE_FULL,
    Forbidden,
    NotFound,
    ServiceError,
    StorageFull,
    StoreUnavailable,
    is_storage_full,
)
from .services.desk import Conflict

MESSAGES = {
    400: "The request could not be understood.",
    401: "You were signed out. Sign in again in a new tab, then press Retry.",
    403: "You do not have permission to do that.",
    404: "We could not find that page.",
    405: "That action is not allowed here.",
    409: "Someone else changed this in the meantime.",
    413: "That upload is too large.",
    429: "Too many attempts. Please wait a little and try again.",
    500: "Something went wrong on our side. Please try again in a moment.",
    503: "The database is not available just now. Please try again in a moment.",
    507: STORAGE_FULL,
}
REFUSED_PAGES = {403: exceptions.Forbidden, 404: exceptions.NotFound}
STALE_WRITE = "Someone else changed this post in the meantime. Fetch it again."
FORM_EXPIRED = "Your form expired or was not sent from this site. Please try again."
# Form fields never shown back on an error page: secrets and the form's own plumbing.
UNSHOWN_FIELDS = ("csrf", "token", "password", "secret", "code", "version")


def wants_json() -> bool:
    """Return True for the JSON API and for scripts that ask for JSON rather than a page."""
    if request.path.startswith("/api/"):
        return True
    best = request.accept_mimetypes.best_match(["text/html", "application/json"])
    return best == "application/json"


def needs_sign_in() -> bool:
    """True when this request's view is for signed-in people only (see permission_required)."""
    view = current_app.view_functions.get(request.endpoint or "")
    return bool(getattr(view, "signed_in_only", False))


def kept_text() -> list[tuple[str, str]]:
    """The text fields a person sent with a form that failed, to show them back."""
    if request.method != "POST" or wants_json():
        return []
    kept = []
    for name, value in request.form.items():
        if value.strip() and not any(word in name.lower() for word in UNSHOWN_FIELDS):
            kept.append((name.replace("_", " ").capitalize(), value))
    return kept


def signed_out_response():
    """401: the session ended; a script is told how to go on, a form's text is shown back."""
    return error_response(
        401, MESSAGES[401], reason="signed_out", sign_in_url=url_for("auth.login")
    )


def error_response(
    status: int,
    message: str | None = None,
    fields: dict[str, str] | None = None,
    *,
    as_json: bool | None = None,
    **extra,
):
    """Answer with an error page, or a JSON error (with any field messages) when JSON is wanted.

    as_json: True for endpoints that only ever answer JSON; None asks `wants_json`.
    """
    message = message or MESSAGES.get(status, "Error")
    if as_json or (as_json is None and wants_json()):
        error: dict = {"status": status, "message": message}
        if fields:
            error["fields"] = fields
        error.update(extra)
        response = jsonify({"error": error})
        response.status_code = status
        return response
    template = "errors/error.html"
    page = render_template(template, status=status, message=message, kept=kept_text())
    return page, status


def refusal(error: ServiceError, invalid_status: int = 422) -> tuple[int, dict, dict]:
    """The one mapping of a service's refusal: its status, field messages and extras."""
    if isinstance(error, NotFound):
        return 404, {}, {}
    if isinstance(error, Forbidden):
        return 403, {}, {}
    if isinstance(error, Conflict):
        return 409, {}, {"current_version": error.post.version}
    if isinstance(error, StorageFull):
        return 507, {}, {"reason": "storage_full"}
    if isinstance(error, StoreUnavailable):
        return 503, {}, {"reason": "unavailable"}
    return invalid_status, ({error.field: error.message} if error.field else {}), {}


def register_errorhandlers(app: Flask) -> None:
    """Turn every HTTP error, refusal and crash into a page in the site's style."""

    @app.errorhandler(CSRFError)
    def csrf_error(error: CSRFError):
        """A missing or old token: 400, or for a script on a page that needs a session
        which has ended, 401 (a form's text is shown back either way)."""
        if wants_json() and needs_sign_in() and not current_user.is_authenticated:
            return signed_out_response()
        return error_response(400, FORM_EXPIRED, reason="csrf")

    @app.errorhandler(HTTPException)
    def http_error(error: HTTPException):
        status = error.code or 500
        message = MESSAGES.get(status) or error.description
        response = app.make_response(error_response(status, message))
        for name, value in error.get_headers():
            if name in ("Allow", "Retry-After"):
                response.headers[name] = value
        return response

    @app.errorhandler(ServiceError)
    def service_refusal(error: ServiceError):
        """A refusal no view caught: 404 or 403 page, or the API's JSON error."""
        db.session.rollback()
        status, fields, extra = refusal(error)
        if wants_json():
            return error_response(status, error.message, fields, **extra)
        if status in (403, 404):
            # The same answer as abort(403/404), old addresses' 301s included.
            return app.handle_http_exception(REFUSED_PAGES[status]())
        if status in (503, 507):
            return error_response(status, error.message)
        return unexpected_error(error)

    @app.errorhandler(StaleDataError)
    def stale_write(error: StaleDataError):
        """Two writes raced: the later one is a conflict, never a silent overwrite."""
        db.session.rollback()
        return error_response(409, STALE_WRITE, reason="conflict")

    @app.errorhandler(OperationalError)
    def database_trouble(error: OperationalError):
        """The database refused the write: full (507) or not reachable (503), never a 500."""
        db.session.rollback()
        if is_storage_full(error):
            app.logger.error("Storage full on %s %s: %s", request.method, request.path, error)
            return error_response(507, STORAGE_FULL, reason="storage_full")
        app.logger.exception("Database trouble on %s %s", request.method, request.path)
        return error_response(503, MESSAGES[503], reason="unavailable")

    @app.errorhandler(OSError)
    def os_trouble(error: OSError):
        """A full disk is a 507 that says so; any other OSError is an ordinary crash."""
        if is_storage_full(error):
            db.session.rollback()
            app.logger.error("Storage full on %s %s: %s", request.method, request.path, error)
            return error_response(507, STORAGE_FULL, reason="storage_full")
        return unexpected_error(error)

    @app.errorhandler(Exception)
    def unexpected_error(error: Exception):
        if isinstance(error, HTTPException):
            return http_error(error)
        db.session.rollback()
        app.logger.exception("Unhandled error on %s %s", request.method, request.path)
        return error_response(500, MESSAGES[500], reason="server_error")
