"""Administration views."""

from __future__ import annotations

from flask import Blueprint, render_template

from ..models import Permission
from ..permissions import permission_required
from ..services import users as user_service

bp = Blueprint("admin", __name__)


@bp.route("/")
@permission_required(Permission.REVIEW)
def index():
    """The moderation front page for editors and admins."""
    return render_template("admin/index.html")


@bp.route("/users")
@permission_required(Permission.MANAGE_USERS)
def users():
    """Everyone with an account, by role."""
    return render_template("admin/users.html", people=user_service.list_people())
