"""Background jobs: what the queue did, what failed and why, and a retry button."""

from __future__ import annotations

from flask import abort, render_template, request, url_for
from flask_login import current_user

from ..forms import pressed
from ..models import JobStatus, Permission
from ..permissions import permission_required
from ..services import jobs as jobs_service
from .forms import ActionForm
from .views import bp


@bp.route("/jobs")
@permission_required(Permission.ADMINISTER)
def jobs():
    """The queue's record: failed jobs first, or the jobs of one status."""
    status = request.args.get("status") or JobStatus.FAILED
    if status not in set(JobStatus):
        abort(404)
    return render_template(
        "admin/jobs.html",
        rows=jobs_service.listing(current_user, status),
        counts=jobs_service.counts(current_user),
        status=status,
        statuses=list(JobStatus),
    )


@bp.route("/jobs/<job_id>/retry", methods=["POST"])
@permission_required(Permission.ADMINISTER)
def retry_job(job_id: str):
    """Send a failed job back to the queue."""
    return pressed(
        ActionForm(),
        lambda: jobs_service.retry(current_user, job_id[:32]),
        lambda row: f"“{row.name}” is back in the queue.",
        url_for("admin.jobs"),
    )
