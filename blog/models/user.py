"""People: users, roles and the permissions a role carries."""

from __future__ import annotations

import enum
from datetime import datetime

from flask_login import AnonymousUserMixin, UserMixin
from sqlalchemy import BigInteger, ForeignKey, Integer, String, Text, UniqueConstraint, true
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import db
from .content import Category
from .types import UTCDateTime, link_table, utcnow


class Permission(enum.IntFlag):
    """What a role allows, as bit flags stored on the role."""

    COMMENT = 1
    REPORT = 2
    WRITE = 4  # write posts, edit own drafts, submit for review
    UPLOAD = 8
    PUBLISH = 16  # publish, schedule and unpublish (in one's sections)
    EDIT_ANY = 32  # edit other people's posts (in one's sections)
    REVIEW = 64  # approve or reject posts in review (in one's sections)
    MODERATE = 128  # moderate comments (in one's sections)
    VIEW_AUDIT = 256  # read the audit log (of one's sections)
    MANAGE_USERS = 512
    MANAGE_SECTIONS = 1024
    MANAGE_SETTINGS = 2048
    MANAGE_TRASH = 4096
    ADMINISTER = 8192  # no section limits at all


# Permissions that an editor holds only for the sections assigned to them.
SECTION_SCOPED = (
    Permission.PUBLISH
    | Permission.EDIT_ANY
    | Permission.REVIEW
    | Permission.MODERATE
    | Permission.VIEW_AUDIT
)

_READER = Permission.COMMENT | Permission.REPORT
_AUTHOR = _READER | Permission.WRITE | Permission.UPLOAD
_EDITOR = _AUTHOR | SECTION_SCOPED
_ADMIN = Permission(sum(Permission))

# The roles, least to most powerful; the data in the roles table follows this.
ROLE_PERMISSIONS: dict[str, Permission] = {
    "reader": _READER,
    "author": _AUTHOR,
    "editor": _EDITOR,
    "admin": _ADMIN,
}
DEFAULT_ROLE = "reader"


class Role(db.Model):
    """A named set of permissions."""

    __tablename__ = "roles"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(32), unique=True)
    permissions: Mapped[int] = mapped_column(Integer, default=0)
    rank: Mapped[int] = mapped_column(Integer, default=0)

    users: Mapped[list[User]] = relationship(back_populates="role")

    def has(self, perm: Permission) -> bool:
        """Return True when every flag of perm is in this role."""
        return (self.permissions & perm) == perm

    def __repr__(self) -> str:
        return f"<Role {self.name}>"


editor_sections = link_table("editor_sections", "user_id:users", "category_id:categories")


class User(UserMixin, db.Model):
    """A person with an account: reader, author, editor or admin."""

    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(254), unique=True)
    username: Mapped[str] = mapped_column(String(40), unique=True)
    display_name: Mapped[str] = mapped_column(String(80), default="")
    bio: Mapped[str] = mapped_column(Text, default="")
    # The address of the square WebP avatar (services.avatars), None: initials are shown.
    avatar_image: Mapped[str | None] = mapped_column(String(500))
    # Up to five https addresses of the person elsewhere, one a line (services.users.profile_links).
    links: Mapped[str] = mapped_column(Text, default="", server_default="")
    password_hash: Mapped[str | None] = mapped_column(String(255))
    must_set_password: Mapped[bool] = mapped_column(default=False)
    role_id: Mapped[int] = mapped_column(ForeignKey("roles.id"), index=True)
    suspended_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    suspended_reason: Mapped[str] = mapped_column(String(500), default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_login_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    # The login of the WordPress author this account was imported from.
    wp_login: Mapped[str | None] = mapped_column(String(60), unique=True)

    # Two-factor authentication: the TOTP secret, encrypted (set up but not yet
    # confirmed while two_factor_enabled_at is empty), the last time step a code
    # was accepted for (no code works twice), and a counter that, when raised,
    # forgets every remembered browser.
    totp_secret: Mapped[str | None] = mapped_column(String(255))
    two_factor_enabled_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    totp_last_step: Mapped[int | None] = mapped_column(BigInteger)
    two_factor_epoch: Mapped[int] = mapped_column(Integer, default=0, server_default="0")

    # Which mails the person receives (services.notifications.CHOICES); all on at first.
    notify_review_requests: Mapped[bool] = mapped_column(default=True, server_default=true())
    notify_post_news: Mapped[bool] = mapped_column(default=True, server_default=true())
    notify_replies: Mapped[bool] = mapped_column(default=True, server_default=true())
    notify_moderation_digest: Mapped[bool] = mapped_column(default=True, server_default=true())

    role: Mapped[Role] = relationship(back_populates="users", lazy="joined")
    sections: Mapped[list[Category]] = relationship(
        secondary=editor_sections, order_by="Category.position"
    )

    # The session this request came with and the secret its cookie carries; set when
    # signing in or when the session is loaded, never stored on the user.
    current_session = None
    session_key = None

    def get_id(self) -> str | None:
        """Identify the signed-in session (for Flask-Login) by its cookie's secret."""
        return self.session_key

    @property
    def is_active(self) -> bool:
        """A suspended person is not active and cannot sign in."""
        return self.suspended_at is None

    @property
    def name(self) -> str:
        """The name shown to readers."""
        return self.display_name or self.username

    @property
    def bio_paragraphs(self) -> list[str]:
        """The bio as paragraphs: blank lines separate them."""
        text = (self.bio or "").replace("\r\n", "\n")
        return [" ".join(part.split()) for part in text.split("\n\n") if part.strip()]

    @property
    def link_list(self) -> list[str]:
        """The person's links, in the order they gave them."""
        return [line for line in (self.links or "").splitlines() if line.strip()]

    @property
    def has_two_factor(self) -> bool:
        """Return True when signing in needs a code as well as the password."""
        return self.two_factor_enabled_at is not None

    def can(self, perm: Permission, obj: object | None = None) -> bool:
        """Return True when this person may do perm, for obj when given.

        Section-scoped permissions hold for an editor only in the sections
        assigned to them; an editor with no sections assigned has them all.
        """
        if not self.is_active or not self.role.has(perm):
            return False
        if obj is None or not (perm & SECTION_SCOPED) or self.role.has(Permission.ADMINISTER):
            return True
        return self.covers_section(_section_id_of(obj))

    @property
    def section_ids(self) -> frozenset[int] | None:
        """The sections this person's section-scoped permissions cover; None means all.

        The one rule of section scope: admins cover every section, and so does an
        editor with no sections assigned; anyone else covers the sections assigned.
        permissions.section_ids_for and permissions.in_sections build on it.
        """
        if self.role.has(Permission.ADMINISTER) or not self.sections:
            return None
        return frozenset(section.id for section in self.sections)

    def covers_section(self, category_id: int | None) -> bool:
        """Return True when category_id is among this person's sections."""
        ids = self.section_ids
        return ids is None or category_id in ids

    def __repr__(self) -> str:
        return f"<User {self.username}>"


def _section_id_of(obj: object) -> int | None:
    """Return the section id a post, comment or category belongs to."""
    if isinstance(obj, Category):
        return obj.id
    if hasattr(obj, "category_id"):
        return obj.category_id
    post = getattr(obj, "post", None)
    return getattr(post, "category_id", None)


class AnonymousUser(AnonymousUserMixin):
    """A visitor who has not signed in: can do nothing but read."""

    name = "Guest"

    def can(self, perm: Permission, obj: object | None = None) -> bool:
        """Visitors hold no permission."""
        return False


class RecoveryCode(db.Model):
    """A one-time recovery code for two-factor sign-in, stored only as a hash."""

    __tablename__ = "recovery_codes"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    code_hash: Mapped[str] = mapped_column(String(64))  # sha256 of the normalised code
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class NotificationSent(db.Model):
    """One notification mail delivered: the record that keeps each from going twice.

    key names the occasion (a day for the moderation digest, a reply's id, one
    post event), so a job run twice, or two digests on one day, find it taken.
    """

    __tablename__ = "notification_log"
    __table_args__ = (UniqueConstraint("user_id", "kind", "key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(32))
    key: Mapped[str] = mapped_column(String(64))
    sent_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)


class ApiToken(db.Model):
    """A personal API token: shown once, stored only as a hash, revocable."""

    __tablename__ = "api_tokens"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(80))
    prefix: Mapped[str] = mapped_column(String(12))  # shown in lists to tell tokens apart
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)  # sha256 of the secret
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    user: Mapped[User] = relationship()

    @property
    def is_active(self) -> bool:
        """Return True until the token is revoked."""
        return self.revoked_at is None

    def __repr__(self) -> str:
        return f"<ApiToken {self.prefix}… of user {self.user_id}>"
