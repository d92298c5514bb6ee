"""The newsletter: subscribers (double opt-in), the sends, and one delivery per recipient."""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import db
from .content import Category
from .types import UTCDateTime, link_table, utcnow


class SubscriberStatus(enum.StrEnum):
    """Where a subscriber stands: waiting to confirm, receiving, gone, or bouncing."""

    PENDING = "pending"
    ACTIVE = "active"
    UNSUBSCRIBED = "unsubscribed"
    BOUNCED = "bounced"


class IssueKind(enum.StrEnum):
    """What a send carries: one published post, or a section's week."""

    POST = "post"
    DIGEST = "digest"


class IssueStatus(enum.StrEnum):
    """Where a send stands."""

    QUEUED = "queued"
    SENDING = "sending"
    SENT = "sent"


class RecipientStatus(enum.StrEnum):
    """What became of one recipient's mail."""

    PENDING = "pending"
    SENT = "sent"
    BOUNCED = "bounced"
    FAILED = "failed"


subscriber_sections = link_table(
    "subscriber_sections", "subscriber_id:subscribers", "category_id:categories", index_right=True
)


class Subscriber(db.Model):
    """A reader who asked for the newsletter by address (no account needed)."""

    __tablename__ = "subscribers"
    __table_args__ = (Index("ix_subscribers_status", "status"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(254), unique=True)
    status: Mapped[str] = mapped_column(String(12), default=SubscriberStatus.PENDING)
    # True: every section, now and later; False: only the sections chosen.
    all_sections: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    confirmed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    unsubscribed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # When the last confirmation mail was asked for (one per address per few minutes).
    confirmation_sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    bounce_note: Mapped[str] = mapped_column(Text, default="")

    sections: Mapped[list[Category]] = relationship(
        secondary=subscriber_sections, lazy="selectin", order_by=Category.position
    )

    def __repr__(self) -> str:
        return f"<Subscriber {self.status}>"


class NewsletterIssue(db.Model):
    """One send to the subscribers: a post, or a digest of a section's week."""

    __tablename__ = "newsletter_issues"
    __table_args__ = (Index("ix_newsletter_issues_status", "status"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(10), default=IssueKind.POST)
    # A post goes out once: the unique key refuses a second send of it.
    post_id: Mapped[int | None] = mapped_column(
        ForeignKey("posts.id", ondelete="SET NULL"), unique=True
    )
    category_id: Mapped[int | None] = mapped_column(
        ForeignKey("categories.id", ondelete="SET NULL"), index=True
    )
    subject: Mapped[str] = mapped_column(String(300))
    created_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), index=True
    )
    status: Mapped[str] = mapped_column(String(10), default=IssueStatus.QUEUED)
    total: Mapped[int] = mapped_column(Integer, default=0)
    sent_count: Mapped[int] = mapped_column(Integer, default=0)
    bounced_count: Mapped[int] = mapped_column(Integer, default=0)
    failed_count: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # Last sign of a worker at work on it: a send quiet for long is handed out again.
    progress_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    category: Mapped[Category | None] = relationship(lazy="joined")

    def __repr__(self) -> str:
        return f"<NewsletterIssue {self.id} {self.status}>"


class NewsletterDelivery(db.Model):
    """One recipient of one send; "sent" is committed just before the server takes it."""

    __tablename__ = "newsletter_deliveries"
    __table_args__ = (
        UniqueConstraint("issue_id", "subscriber_id"),
        Index("ix_newsletter_deliveries_issue_status", "issue_id", "status"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    issue_id: Mapped[int] = mapped_column(ForeignKey("newsletter_issues.id", ondelete="CASCADE"))
    subscriber_id: Mapped[int] = mapped_column(
        ForeignKey("subscribers.id", ondelete="CASCADE"), index=True
    )
    status: Mapped[str] = mapped_column(String(10), default=RecipientStatus.PENDING)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    note: Mapped[str] = mapped_column(Text, default="")
