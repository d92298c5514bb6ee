"""Error pages for readers and JSON errors for the API; never a stack trace.

The services' refusals are mapped here, once, for every door: `NotFound` is the
404 page, `Forbidden` the 403 page, and under /api each refusal is the API's JSON
error (a `Conflict` is a 409 with the post's current version, a refusal about a
field a 422 naming it). Views catch `ServiceError` only to show it on their form.
"""

from __future__ import annotations

from flask import Flask, jsonify, render_template, request
from flask_wtf.csrf import CSRFError
from sqlalchemy.orm.exc import StaleDataError
from werkzeug import exceptions
from werkzeug.exceptions import HTTPException

from .extensions import db
from .services import Forbidden, NotFound, ServiceError
from .services.desk import Conflict

MESSAGES = {
    400: "The request could not be understood.",
    403: "You do not have permission to do that.",
    404: "We could not find that page.",
    405: "That action is not allowed here.",
    409: "Someone else changed this in the meantime.",
    413: "That upload is too large.",
    429: "Too many attempts. Please wait a little and try again.",
    500: "Something went wrong on our side. Please try again in a moment.",
}
REFUSED_PAGES = {403: exceptions.Forbidden, 404: exceptions.NotFound}
STALE_WRITE = "Someone else changed this post in the meantime. Fetch it again."


def wants_json() -> bool:
    """Return True for requests to the JSON API."""
    return request.path.startswith("/api/")


def error_response(
    status: int, message: str | None = None, fields: dict[str, str] | None = None, **extra
):
    """Answer with an error page, or a JSON error (with any field messages) under /api."""
    message = message or MESSAGES.get(status, "Error")
    if wants_json():
        error: dict = {"status": status, "message": message}
        if fields:
            error["fields"] = fields
        error.update(extra)
        response = jsonify({"error": error})
        response.status_code = status
        return response
    template = "errors/error.html"
    return render_template(template, status=status, message=message), status


def refusal(error: ServiceError, invalid_status: int = 422) -> tuple[int, dict, dict]:
    """The one mapping of a service's refusal: its status, field messages and extras."""
    if isinstance(error, NotFound):
        return 404, {}, {}
    if isinstance(error, Forbidden):
        return 403, {}, {}
    if isinstance(error, Conflict):
        return 409, {}, {"current_version": error.post.version}
    return invalid_status, ({error.field: error.message} if error.field else {}), {}


def register_errorhandlers(app: Flask) -> None:
    """Turn every HTTP error, refusal and crash into a page in the site's style."""

    @app.errorhandler(CSRFError)
    def csrf_error(error: CSRFError):
        return error_response(
            400, "Your form expired or was not sent from this site. Please try again."
        )

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
        return unexpected_error(error)

    @app.errorhandler(StaleDataError)
    def stale_write(error: StaleDataError):
        """Two writes raced: the later one is a conflict, never a silent overwrite."""
        db.session.rollback()
        if wants_json():
            return error_response(409, STALE_WRITE)
        return unexpected_error(error)

    @app.errorhandler(Exception)
    def unexpected_error(error: Exception):
        if isinstance(error, HTTPException):
            return http_error(error)
        db.session.rollback()
        app.logger.exception("Unhandled error on %s %s", request.method, request.path)
        return error_response(500, MESSAGES[500])
