"""Reports: a reader asks a moderator to look at a post or a comment.

Reports wait in the moderation queue of the editors of the section concerned
(every editor's when none is assigned, and always the admins').
"""

from __future__ import annotations

from sqlalchemy import Select, func, select
from sqlalchemy.orm import aliased, defer, joinedload

from ..extensions import db
from ..models import Comment, Permission, Post, Report, ReportStatus, User, utcnow
from ..permissions import in_sections
from . import Forbidden, NotFound, ServiceError, audit, publishing, unit_of_work
from . import comments as comment_service

REASON_MIN = 3
REASON_MAX = 2000
NOTE_MAX = 450  # the action's label goes in front, in a column of 500

RESOLUTIONS = {
    "dismiss": "Dismissed",
    "trash_comment": "Comment moved to the trash",
    "unpublish_post": "Post unpublished",
}


def report(
    reporter: User, reason: str, post: Post | None = None, comment: Comment | None = None
) -> Report:
    """Report a post or comment readers can see; reporting it again returns the open report."""
    if not reporter.can(Permission.REPORT):
        raise Forbidden("You may not report posts or comments.")
    if (post is None) == (comment is None):
        raise ServiceError("Report either a post or a comment.")
    reason = (reason or "").replace("\x00", "").strip()
    if len(reason) < REASON_MIN:
        raise ServiceError("Tell the moderators what is wrong, in a few words.", "reason")
    if len(reason) > REASON_MAX:
        raise ServiceError(f"Keep the reason under {REASON_MAX:,} characters.", "reason")
    if post is not None and not post.is_published:
        raise NotFound("No such article.")
    if comment is not None and not comment_service.is_public(comment):
        raise NotFound("No such comment.")
    existing = db.session.scalar(
        select(Report).where(
            Report.reporter_id == reporter.id,
            Report.status == ReportStatus.OPEN,
            Report.post_id == post.id if post is not None else Report.comment_id == comment.id,
        )
    )
    if existing is not None:
        return existing
    with unit_of_work():
        entry = Report(reporter_id=reporter.id, post=post, comment=comment, reason=reason)
        db.session.add(entry)
    return entry


# The post a report concerns: itself, or the one under the reported comment.
_REPORTED_POST = aliased(Post, name="reported_post")


def _open_reports(*columns) -> Select:
    """Select the open reports joined to the post each concerns (as reported_post)."""
    reported_comment = aliased(Comment, name="reported_comment")
    return (
        select(*columns)
        .outerjoin(reported_comment, reported_comment.id == Report.comment_id)
        .join(
            _REPORTED_POST,
            _REPORTED_POST.id == func.coalesce(Report.post_id, reported_comment.post_id),
        )
        .where(Report.status == ReportStatus.OPEN)
    )


def open_reports_for(viewer: User, limit: int | None = None) -> list[Report]:
    """The open reports in the viewer's sections, oldest first."""
    if not viewer.can(Permission.MODERATE):
        raise Forbidden("You may not handle reports.")
    query = (
        _open_reports(Report)
        .where(in_sections(_REPORTED_POST.category_id, viewer))
        .options(
            joinedload(Report.reporter),
            joinedload(Report.post).options(defer(Post.body), joinedload(Post.category)),
            joinedload(Report.comment).options(
                joinedload(Comment.author),
                joinedload(Comment.post).options(defer(Post.body), joinedload(Post.category)),
            ),
        )
        .order_by(Report.created_at, Report.id)
        .limit(limit)
    )
    return list(db.session.scalars(query).unique())


def open_count_for(viewer) -> int:
    """How many open reports wait for this person (0 for those who cannot moderate)."""
    if not getattr(viewer, "is_authenticated", False) or not viewer.can(Permission.MODERATE):
        return 0
    query = _open_reports(func.count(Report.id)).where(
        in_sections(_REPORTED_POST.category_id, viewer)
    )
    return db.session.scalar(query) or 0


def get_report(report_id: int) -> Report:
    """Return the report with this id, or raise NotFound."""
    entry = db.session.get(Report, report_id)
    if entry is None:
        raise NotFound("No such report.")
    return entry


def _reported_post(entry: Report) -> Post:
    """The post a report concerns, itself or the one under the reported comment."""
    return entry.post if entry.post is not None else entry.comment.post


def resolve(actor: User, entry: Report, action: str, note: str = "") -> Report:
    """Close an open report with the action taken: dismiss, trash the comment or unpublish the post.

    Other open reports about the same thing are closed with it. Everything is one
    unit of work: if the action is refused, no report changes.
    """
    if action not in RESOLUTIONS:
        raise ServiceError("Choose what to do about the report.", "action")
    if entry.post is None and entry.comment is None:
        raise NotFound("The reported post or comment no longer exists.")
    if not actor.can(Permission.MODERATE, _reported_post(entry)):
        raise Forbidden("You may not handle reports in this section.")
    if entry.status != ReportStatus.OPEN:
        raise ServiceError("This report is already resolved.")
    note = (note or "").strip()
    if len(note) > NOTE_MAX:
        raise ServiceError(f"Keep the note under {NOTE_MAX} characters.", "note")
    if action == "trash_comment" and entry.comment is None:
        raise ServiceError("This report is about a post, not a comment.", "action")
    if action == "unpublish_post" and entry.post is None:
        raise ServiceError("This report is about a comment, not a post.", "action")

    resolution = RESOLUTIONS[action] + (f": {note}" if note else "")
    now = utcnow()
    with unit_of_work():
        for closing in _open_reports_like(entry):
            closing.status = ReportStatus.RESOLVED
            closing.resolution = resolution
            closing.resolved_by_id = actor.id
            closing.resolved_at = now
            details = action + (f": {note}" if note else "")
            if closing is not entry:
                details += f" (with report {entry.id})"
            audit.record(actor, "report.resolve", closing, details=details)
        if action == "trash_comment":
            comment_service.moderate(actor, entry.comment, "trash")
        if action == "unpublish_post":
            publishing.unpublish(actor, entry.post)
    return entry


def _open_reports_like(entry: Report) -> list[Report]:
    """Return entry and every other open report about the same post or comment."""
    same_target = (
        Report.post_id == entry.post_id
        if entry.post_id is not None
        else Report.comment_id == entry.comment_id
    )
    others = db.session.scalars(
        select(Report).where(
            same_target, Report.status == ReportStatus.OPEN, Report.id != entry.id
        )
    ).all()
    return [entry, *others]
