"""API errors: one JSON shape, `{"error": {"status", "message", "fields"?}}`, for every refusal."""

from __future__ import annotations

from flask import Blueprint, Response, current_app

from ..errors import error_response, refusal
from ..services import ServiceError

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
    """Answer with the API's JSON error (the shared shape), with its headers."""
    response = current_app.make_response(error_response(status, message, fields, **extra))
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
    """Turn a service's refusal into the API's, by the app's one mapping (404, 403, 409, 4xx)."""
    status, fields, extra = refusal(error, invalid_status)
    return ApiError(status, error.message, fields, **extra)


def register_error_handlers(bp: Blueprint) -> None:
    """Answer the API's own errors as JSON (the app maps the services' refusals)."""

    @bp.errorhandler(ApiError)
    def handle_api_error(error: ApiError):
        """Answer an ApiError."""
        return api_error(error.status, error.message, error.fields, error.headers, **error.extra)
