"""The moderation queue: posts in review, held comments and open reports."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_login import current_user

from ..forms import id_from, show_service_error
from ..models import Permission
from ..permissions import permission_required
from ..services import ServiceError, moderation
from ..services import comments as comment_service
from ..services import reports as report_service
from .queue_forms import BulkCommentsForm, ResolveReportForm

bp = Blueprint("admin", __name__)

QUEUE_LIMIT = 50


@bp.route("/")
@permission_required(Permission.REVIEW)
def index():
    """Everything waiting for this editor or admin, in their sections."""
    queue = moderation.queue_for(current_user, QUEUE_LIMIT)
    return render_template(
        "admin/index.html",
        posts=queue.posts,
        held=queue.held,
        reports=queue.reports,
        counts=moderation.counts_for(current_user),
        bulk_form=BulkCommentsForm(formdata=None),
        resolve_form=ResolveReportForm(formdata=None),
    )


@bp.route("/comments/moderate", methods=["POST"])
@permission_required(Permission.MODERATE)
def moderate_comments():
    """Approve, mark as spam or trash one or many held comments."""
    form = BulkCommentsForm()
    ids = [n for n in map(id_from, request.form.getlist("ids")) if n is not None][:200]
    if not form.validate_on_submit() or not ids:
        flash("Choose at least one comment and an action.", "error")
        return redirect(url_for("admin.index"))
    try:
        done = comment_service.bulk_moderate(current_user, ids, form.action.data)
    except ServiceError as error:
        show_service_error(None, error)
    else:
        flash(f"{done} comment{'s' if done != 1 else ''}: {form.action.data} done.", "success")
    return redirect(url_for("admin.index"))


@bp.route("/reports/<int:report_id>/resolve", methods=["POST"])
@permission_required(Permission.MODERATE)
def resolve_report(report_id: int):
    """Close a report, with the action taken."""
    report = report_service.get_report(report_id)
    form = ResolveReportForm()
    if not form.validate_on_submit():
        flash("Choose what to do about the report.", "error")
        return redirect(url_for("admin.index"))
    try:
        report_service.resolve(current_user, report, form.action.data, form.note.data or "")
    except ServiceError as error:
        show_service_error(None, error)
    else:
        flash("Report resolved.", "success")
    return redirect(url_for("admin.index"))
