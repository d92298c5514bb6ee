"""Readers' voices: comments under articles and reports about posts or comments."""

from __future__ import annotations

import enum
from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy import ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import db
from .types import UTCDateTime, utcnow

if TYPE_CHECKING:
    from .content import Post
    from .user import User


class CommentStatus(enum.StrEnum):
    """Where a comment stands in moderation."""

    PENDING = "pending"
    APPROVED = "approved"
    SPAM = "spam"
    TRASH = "trash"


class Comment(db.Model):
    """A signed-in reader's comment on a published post, with one level of replies."""

    __tablename__ = "comments"
    __table_args__ = (
        Index("ix_comments_post_listing", "post_id", "status", "created_at"),
        Index("ix_comments_status_created", "status", "created_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    post_id: Mapped[int] = mapped_column(ForeignKey("posts.id", ondelete="CASCADE"))
    author_id: Mapped[int] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), index=True
    )
    parent_id: Mapped[int | None] = mapped_column(
        ForeignKey("comments.id", ondelete="CASCADE"), index=True
    )
    body: Mapped[str] = mapped_column(Text)  # what the reader typed, plain text
    body_html: Mapped[str] = mapped_column(Text)  # sanitised rendering of body
    status: Mapped[str] = mapped_column(String(16), default=CommentStatus.PENDING)
    held_reason: Mapped[str] = mapped_column(String(200), default="")
    ip_address: Mapped[str] = mapped_column(String(45), default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)
    # The comment's id on the WordPress site it was imported from.
    wp_comment_id: Mapped[int | None] = mapped_column(unique=True)

    post: Mapped[Post] = relationship()
    author: Mapped[User] = relationship()
    parent: Mapped[Comment | None] = relationship(remote_side=[id], back_populates="replies")
    replies: Mapped[list[Comment]] = relationship(back_populates="parent", lazy="raise")

    def __repr__(self) -> str:
        return f"<Comment {self.id} on post {self.post_id}>"


class ReportStatus(enum.StrEnum):
    """Whether a report still needs someone."""

    OPEN = "open"
    RESOLVED = "resolved"


class Report(db.Model):
    """A reader's report that a post or comment needs a moderator's look."""

    __tablename__ = "reports"

    id: Mapped[int] = mapped_column(primary_key=True)
    reporter_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), index=True
    )
    post_id: Mapped[int | None] = mapped_column(
        ForeignKey("posts.id", ondelete="CASCADE"), index=True
    )
    comment_id: Mapped[int | None] = mapped_column(
        ForeignKey("comments.id", ondelete="CASCADE"), index=True
    )
    reason: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(16), default=ReportStatus.OPEN, index=True)
    resolution: Mapped[str] = mapped_column(String(500), default="")
    resolved_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    resolved_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    reporter: Mapped[User | None] = relationship(foreign_keys=[reporter_id])
    resolved_by: Mapped[User | None] = relationship(foreign_keys=[resolved_by_id])
    post: Mapped[Post | None] = relationship()
    comment: Mapped[Comment | None] = relationship()

    def __repr__(self) -> str:
        return f"<Report {self.id} {self.status}>"
