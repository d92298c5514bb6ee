"""What every door's forms share: showing a service's refusal to the person."""

from __future__ import annotations

from flask import flash

from .services import ServiceError


def show_service_error(form, error: ServiceError) -> None:
    """Show a service error beside the field it concerns, or at the top of the page."""
    field = getattr(form, error.field, None) if error.field else None
    if field is not None:
        field.errors = [*field.errors, error.message]
    else:
        flash(error.message, "error")
