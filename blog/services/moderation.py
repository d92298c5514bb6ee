"""The moderation queue: what waits for the staff, scoped to their sections."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Select, func, select
from sqlalchemy.orm import defer, joinedload

from ..extensions import db
from ..models import Permission, Post, PostStatus, User
from . import comments, reports


def _section_filter(viewer: User, column):
    """Limit a query to the viewer's sections (none assigned, or admin: every section)."""
    if viewer.role.has(Permission.ADMINISTER) or not viewer.sections:
        return None
    return column.in_([section.id for section in viewer.sections])


def posts_in_review(viewer: User) -> Select:
    """Select the posts waiting for review that the viewer may review, oldest first."""
    query = (
        select(Post)
        .where(Post.status == PostStatus.PENDING)
        .options(defer(Post.body), joinedload(Post.author), joinedload(Post.category))
        .order_by(Post.updated_at.asc())
    )
    scope = _section_filter(viewer, Post.category_id)
    return query if scope is None else query.where(scope)


def review_count(viewer: User) -> int:
    """How many posts wait for this viewer's review."""
    if not viewer.can(Permission.REVIEW):
        return 0
    query = select(func.count()).select_from(Post).where(Post.status == PostStatus.PENDING)
    scope = _section_filter(viewer, Post.category_id)
    if scope is not None:
        query = query.where(scope)
    return db.session.scalar(query) or 0


@dataclass
class QueueCounts:
    """The numbers shown beside the staff's navigation link."""

    posts: int = 0
    comments: int = 0
    reports: int = 0

    @property
    def total(self) -> int:
        """Everything waiting."""
        return self.posts + self.comments + self.reports


def counts_for(viewer: User) -> QueueCounts:
    """Count what waits for a member of staff."""
    counts = QueueCounts(posts=review_count(viewer))
    if viewer.can(Permission.MODERATE):
        counts.comments = comments.pending_count_for(viewer)
        counts.reports = reports.open_count_for(viewer)
    return counts


@dataclass
class Queue:
    """What the moderation queue page lists: posts in review, held comments, open reports."""

    posts: list
    held: list
    reports: list


def queue_for(viewer: User, limit: int) -> Queue:
    """The queue of a member of staff, as rows: at most limit comments and reports each."""
    may_moderate = viewer.can(Permission.MODERATE)
    held = (
        db.session.scalars(comments.held_comments_for(viewer).limit(limit)).unique().all()
        if may_moderate
        else []
    )
    open_reports = (
        db.session.scalars(reports.open_reports_for(viewer).limit(limit)).unique().all()
        if may_moderate
        else []
    )
    return Queue(list(db.session.scalars(posts_in_review(viewer))), list(held), list(open_reports))
