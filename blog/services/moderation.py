"""The moderation queue: what waits for the staff, scoped to their sections."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import defer, joinedload

from ..extensions import db
from ..models import Permission, Post, PostStatus, User
from ..permissions import in_sections
from . import comments, reports


def posts_in_review(viewer: User, limit: int | None = None) -> list[Post]:
    """The posts waiting for review that the viewer may review, oldest first."""
    query = (
        select(Post)
        .where(
            Post.status == PostStatus.PENDING,
            in_sections(Post.category_id, viewer, Permission.REVIEW),
        )
        .options(defer(Post.body), joinedload(Post.author), joinedload(Post.category))
        .order_by(Post.updated_at.asc())
        .limit(limit)
    )
    return list(db.session.scalars(query))


def review_count(viewer: User) -> int:
    """How many posts wait for this viewer's review."""
    if not viewer.can(Permission.REVIEW):
        return 0
    query = (
        select(func.count())
        .select_from(Post)
        .where(Post.status == PostStatus.PENDING, in_sections(Post.category_id, viewer))
    )
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
    held = comments.held_comments_for(viewer, limit=limit) if may_moderate else []
    open_reports = reports.open_reports_for(viewer, limit=limit) if may_moderate else []
    return Queue(posts_in_review(viewer), list(held), list(open_reports))
