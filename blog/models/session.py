"""Signed-in sessions, kept on the server so they can end."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import db
from .types import UTCDateTime, utcnow


class UserSession(db.Model):
    """One signed-in browser: the cookie carries a secret, the row keeps only its hash."""

    __tablename__ = "user_sessions"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)  # sha256 of the secret
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_seen_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # The last time the password (or second factor) was entered in this session.
    authenticated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    device: Mapped[str] = mapped_column(String(80), default="")
    address: Mapped[str] = mapped_column(String(64), default="")
    remember_hash: Mapped[str | None] = mapped_column(String(64), unique=True)
    remember_expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    user = relationship("User")

    def authenticated_within(self, minutes: int, now: datetime | None = None) -> bool:
        """Return True when the password was entered in this session less than minutes ago."""
        now = now or utcnow()
        return now - self.authenticated_at < timedelta(minutes=minutes)

    def __repr__(self) -> str:
        return f"<UserSession {self.id} of user {self.user_id}>"
