"""The moderation queue: posts in review, held comments and open reports.

The comments' moderation POST is in comments.py, beside All comments."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, url_for
from flask_login import current_user

from ..forms import show_service_error
from ..models import Permission
from ..permissions import permission_required
from ..services import ServiceError, moderation
from ..services import reports as report_service
from .queue_forms import QUEUE_ACTIONS, BulkCommentsForm, ResolveReportForm

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
        bulk_form=_queue_bulk_form(),
        resolve_form=ResolveReportForm(formdata=None),
    )


def _queue_bulk_form() -> BulkCommentsForm:
    """The queue's bulk form: what a held comment may become."""
    form = BulkCommentsForm(formdata=None)
    form.action.choices = QUEUE_ACTIONS
    return form


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
