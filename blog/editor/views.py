"""Writing desk views."""

from __future__ import annotations

from flask import Blueprint, render_template
from flask_login import current_user

from ..extensions import db
from ..models import Permission
from ..permissions import permission_required
from ..services import posts as post_service

bp = Blueprint("editor", __name__)


@bp.route("/")
@permission_required(Permission.WRITE)
def dashboard():
    """The desk's front page: the signed-in writer's posts."""
    posts = db.session.scalars(post_service.posts_by_author(current_user)).all()
    return render_template("editor/dashboard.html", posts=posts)
