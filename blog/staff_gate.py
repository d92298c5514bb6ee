"""The staff gate: editors and admins who must use two-factor set it up before any staff page.

Plumbing beside the app factory (it reads the request); the rule itself is
`two_factor.setup_required` in the services.
"""

from __future__ import annotations

from flask import Flask, flash, redirect, request, url_for
from flask_login import current_user

from .services import two_factor as two_factor_service

# The blueprints whose pages are for staff only.
STAFF_BLUEPRINTS = frozenset({"editor", "admin"})


def require_two_factor_setup():
    """before_request: send staff without a required second factor to set it up."""
    if request.blueprint not in STAFF_BLUEPRINTS or not current_user.is_authenticated:
        return None
    if not two_factor_service.setup_required(current_user):
        return None
    flash(two_factor_service.SETUP_REQUIRED, "info")
    next_url = request.full_path.rstrip("?") if request.method == "GET" else None
    return redirect(url_for("auth.two_factor_setup", next=next_url))


def init_app(app: Flask) -> None:
    """Install the gate."""
    app.before_request(require_two_factor_setup)
