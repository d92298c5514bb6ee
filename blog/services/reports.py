"""Reports: a reader asks a moderator to look at a post or a comment.

Reports wait in the moderation queue of the editors of the section concerned
(every editor's when none is assigned, and always the admins').
"""

from __future__ import annotations

from sqlalchemy import Select, func, select
from sqlalchemy.orm import aliased, defer, joinedload

from ..extensions import db
from ..models import Comment, Permission, Post, Report, ReportStatus, User, utcnow
from . import Forbidden, NotFound, ServiceError, audit, publishing
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
    entry = Report(reporter_id=reporter.id, post=post, comment=comment, reason=reason)
    db.session.add(entry)
    db.session.commit()
    return entry


def open_reports_for(viewer: User) -> Select:
    """Select the open reports in the viewer's sections, oldest first."""
    if not viewer.can(Permission.MODERATE):
        raise Forbidden("You may not handle reports.")
    reported_comment = aliased(Comment, name="reported_comment")
    reported_post = aliased(Post, name="reported_post")
    query = (
        select(Report)
        .outerjoin(reported_comment, reported_comment.id == Report.comment_id)
        .join(
            reported_post,
            reported_post.id == func.coalesce(Report.post_id, reported_comment.post_id),
        )
        .where(Report.status == ReportStatus.OPEN)
        .options(
            joinedload(Report.reporter),
            joinedload(Report.post).options(defer(Post.body), joinedload(Post.category)),
            joinedload(Report.comment).options(
                joinedload(Comment.author),
                joinedload(Comment.post).options(defer(Post.body), joinedload(Post.category)),
            ),
        )
        .order_by(Report.created_at, Report.id)
    )
    if viewer.role.has(Permission.ADMINISTER) or not viewer.sections:
        return query
    return query.where(reported_post.category_id.in_([s.id for s in viewer.sections]))


def open_count_for(viewer) -> int:
    """How many open reports wait for this person (0 for those who cannot moderate)."""
    if not getattr(viewer, "is_authenticated", False) or not viewer.can(Permission.MODERATE):
        return 0
    reported_comment = aliased(Comment)
    reported_post = aliased(Post, name="reported_post")
    query = (
        select(func.count(Report.id))
        .outerjoin(reported_comment, reported_comment.id == Report.comment_id)
        .join(
            reported_post,
            reported_post.id == func.coalesce(Report.post_id, reported_comment.post_id),
        )
        .where(Report.status == ReportStatus.OPEN)
    )
    if not (viewer.role.has(Permission.ADMINISTER) or not viewer.sections):
        query = query.where(reported_post.category_id.in_([s.id for s in viewer.sections]))
    return db.session.scalar(query) or 0


def _reported_post(entry: Report) -> Post:
    """The post a report concerns, itself or the one under the reported comment."""
    return entry.post if entry.post is not None else entry.comment.post


def resolve(actor: User, entry: Report, action: str, note: str = "") -> Report:
    """Close an open report with the action taken: dismiss, trash the comment or unpublish the post.

    Other open reports about the same thing are closed with it. Everything is one
    transaction: if the action is refused, no report changes.
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
    for closing in _open_reports_like(entry):
        closing.status = ReportStatus.RESOLVED
        closing.resolution = resolution
        closing.resolved_by_id = actor.id
        closing.resolved_at = now
        details = action + (f": {note}" if note else "")
        if closing is not entry:
            details += f" (with report {entry.id})"
        audit.record(actor, "report.resolve", closing, details=details)
    try:
        if action == "trash_comment":
            comment_service.moderate(actor, entry.comment, "trash", commit=False)
        if action == "unpublish_post":
            # unpublish commits the whole transaction, report changes included.
            publishing.unpublish(actor, entry.post)
            return entry
        db.session.commit()
    except ServiceError:
        db.session.rollback()
        raise
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


def get_report(report_id: int) -> Report:
    """Return the report with this id, or raise NotFound."""
    entry = db.session.get(Report, report_id)
    if entry is None:
        raise NotFound("No such report.")
    return entry
