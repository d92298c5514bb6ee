"""API errors: one JSON shape, `{"error": {"status", "message", "fields"?}}`, for every refusal."""

from __future__ import annotations

from flask import Blueprint, Response, current_app
from sqlalchemy.orm.exc import StaleDataError

from ..errors import error_response
from ..extensions import db
from ..services import Forbidden, NotFound, ServiceError
from ..services.desk import Conflict

BEARER_CHALLENGE = 'Bearer realm="Circle API"'


class ApiError(Exception):
    """A refusal the API answers with its status, message and field messages."""

    def __init__(
        self,
        status: int,
        message: str | None = None,
        fields: dict[str, str] | None = None,
        headers: dict[str, str] | None = None,
        **extra,
    ):
        """Keep the status, message, field messages, headers and extra error members."""
        super().__init__(message or str(status))
        self.status = status
        self.message = message
        self.fields = fields or {}
        self.headers = headers or {}
        self.extra = extra


def api_error(
    status: int,
    message: str | None = None,
    fields: dict[str, str] | None = None,
    headers: dict[str, str] | None = None,
    **extra,
) -> Response:
    """Answer with the API's JSON error, adding field messages and extras to the shared shape."""
    response = current_app.make_response(error_response(status, message))
    if fields or extra:
        payload = response.get_json()
        if fields:
            payload["error"]["fields"] = fields
        payload["error"].update(extra)
        response.set_data(current_app.json.dumps(payload))
    for name, value in (headers or {}).items():
        response.headers[name] = value
    if status == 401:
        response.headers.setdefault("WWW-Authenticate", BEARER_CHALLENGE)
    return response


def unauthorized(message: str, error: str | None = None) -> ApiError:
    """A 401 with the Bearer challenge, naming the token problem when there is one."""
    challenge = BEARER_CHALLENGE + (f', error="{error}"' if error else "")
    return ApiError(401, message, headers={"WWW-Authenticate": challenge})


def from_service_error(error: ServiceError, invalid_status: int = 422) -> ApiError:
    """Turn a service's refusal into the API's: 404, 403, 409 or a field error."""
    if isinstance(error, NotFound):
        return ApiError(404, error.message)
    if isinstance(error, Forbidden):
        return ApiError(403, error.message)
    if isinstance(error, Conflict):
        return ApiError(409, error.message, current_version=error.post.version)
    fields = {error.field: error.message} if error.field else None
    return ApiError(invalid_status, error.message, fields)


def register_error_handlers(bp: Blueprint) -> None:
    """Answer the API's own errors, and the services' refusals, as JSON."""

    @bp.errorhandler(ApiError)
    def handle_api_error(error: ApiError):
        """Answer an ApiError."""
        return api_error(error.status, error.message, error.fields, error.headers, **error.extra)

    @bp.errorhandler(ServiceError)
    def handle_service_error(error: ServiceError):
        """Answer a refusal no view caught itself."""
        db.session.rollback()
        return handle_api_error(from_service_error(error))

    @bp.errorhandler(StaleDataError)
    def handle_stale_write(_error: StaleDataError):
        """Two writes raced: the later one is a conflict, never a silent overwrite."""
        db.session.rollback()
        return api_error(409, "Someone else changed this post in the meantime. Fetch it again.")
