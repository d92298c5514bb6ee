"""Media: images uploaded to the library, re-encoded in several widths."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy import JSON, ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import db
from .types import UTCDateTime, utcnow

if TYPE_CHECKING:
    from .user import User


class Media(db.Model):
    """An uploaded image: its random key, its stored sizes and its alt text.

    Its files are <folder>/<key>-<width>.<ext> and <folder>/<key>-<width>.webp in the
    media store (under UPLOAD_DIR, or in the S3 bucket), one pair for each width listed.
    """

    __tablename__ = "media"

    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(32), unique=True)
    folder: Mapped[str] = mapped_column(String(16))  # "yyyy/mm", fixed at upload
    ext: Mapped[str] = mapped_column(String(8))  # "jpg" or "png", beside the WebP files
    original_name: Mapped[str] = mapped_column(String(255), default="")
    mime: Mapped[str] = mapped_column(String(32))  # what the upload really was
    width: Mapped[int] = mapped_column(Integer)  # after EXIF orientation
    height: Mapped[int] = mapped_column(Integer)
    bytes: Mapped[int] = mapped_column(Integer)  # size of the upload
    widths: Mapped[list[int]] = mapped_column(JSON, default=list)  # ascending
    alt: Mapped[str] = mapped_column(String(300), default="")
    uploader_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), index=True
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    # The attachment's id on the WordPress site it was imported from.
    wp_attachment_id: Mapped[int | None] = mapped_column(Integer, unique=True)

    uploader: Mapped[User | None] = relationship()

    @property
    def largest_width(self) -> int:
        """The widest size written to disk."""
        return max(self.widths) if self.widths else self.width

    @property
    def largest_height(self) -> int:
        """The height of the widest size, keeping the aspect ratio."""
        return height_for(self.width, self.height, self.largest_width)

    def __repr__(self) -> str:
        return f"<Media {self.key}>"


def height_for(width: int, height: int, target_width: int) -> int:
    """Return the height of a width x height image scaled to target_width."""
    if width <= 0:
        return height
    return max(1, round(height * target_width / width))
