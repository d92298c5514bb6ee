"""Read endpoints of the content API."""

from __future__ import annotations

from flask import Blueprint, jsonify

from ..services import posts as post_service
from .serializers import section_json

bp = Blueprint("api", __name__)


@bp.route("/categories")
def categories():
    """The sections, in navigation order."""
    return jsonify({"data": [section_json(s) for s in post_service.navigation_sections()]})
