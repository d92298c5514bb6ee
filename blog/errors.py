"""Error pages for readers and JSON errors for the API; never a stack trace."""

from __future__ import annotations

from flask import Flask, jsonify, render_template, request
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException

from .extensions import db

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


def wants_json() -> bool:
    """Return True for requests to the JSON API."""
    return request.path.startswith("/api/")


def error_response(status: int, message: str | None = None):
    """Answer with an error page, or a JSON error under /api."""
    message = message or MESSAGES.get(status, "Error")
    if wants_json():
        response = jsonify({"error": {"status": status, "message": message}})
        response.status_code = status
        return response
    template = "errors/error.html"
    return render_template(template, status=status, message=message), status


def register_errorhandlers(app: Flask) -> None:
    """Turn every HTTP error and crash into a page in the site's style."""

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

    @app.errorhandler(Exception)
    def unexpected_error(error: Exception):
        if isinstance(error, HTTPException):
            return http_error(error)
        db.session.rollback()
        app.logger.exception("Unhandled error on %s %s", request.method, request.path)
        return error_response(500, MESSAGES[500])
