"""The magazine's content: sections (categories), posts, tags and revisions."""

from __future__ import annotations

import enum
from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy import (
    Boolean,
    Column,
    ColumnElement,
    ForeignKey,
    Index,
    Integer,
    String,
    Table,
    Text,
    UniqueConstraint,
    literal_column,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import db
from .types import UTCDateTime, link_table, utcnow

if TYPE_CHECKING:
    from .media import Media
    from .user import User

# First path segments that belong to the site itself, never to a section.
RESERVED_SLUGS = frozenset(
    {
        "admin", "editor", "api", "account", "login", "logout", "register",
        "reset-password", "search", "tag", "author", "category", "feed", "feed.xml",
        "sitemap.xml", "robots.txt", "healthz", "static", "uploads", "media", "preview",
        "wp-admin", "wp-content", "wp-login.php", "page", "favicon.ico", "comments",
        "reauthenticate", "me", "subscribe", "unsubscribe",
    }
)


class PostStatus(enum.StrEnum):
    """Where a post stands in its life."""

    DRAFT = "draft"
    PENDING = "pending"
    SCHEDULED = "scheduled"
    PUBLISHED = "published"
    TRASH = "trash"


# A scheduled post is live from its publication time, whether or not anything has
# flipped its status yet: nothing waits on a cron job.
LIVE_STATUSES = (PostStatus.PUBLISHED, PostStatus.SCHEDULED)


class PostKind(enum.StrEnum):
    """What a row of posts is: an article (in a section, listed, fed) or a page (About…)."""

    POST = "post"
    PAGE = "page"


# The listing indexes hold live articles only (see Post.live_article): pages never walk them.
_LIVE_ARTICLE_SQL = "status IN ('published', 'scheduled') AND kind = 'post'"


class Category(db.Model):
    """A section of the magazine, shown in the navigation."""

    __tablename__ = "categories"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(80), unique=True)
    slug: Mapped[str] = mapped_column(String(80), unique=True)
    description: Mapped[str] = mapped_column(Text, default="")
    position: Mapped[int] = mapped_column(Integer, default=0)
    # The cover is a library image; cover_image is its address, written only by
    # services.media.set_cover so templates need no join.
    cover_media_id: Mapped[int | None] = mapped_column(
        ForeignKey("media.id", ondelete="SET NULL"), index=True
    )
    cover_image: Mapped[str | None] = mapped_column(String(500))
    cover_alt: Mapped[str] = mapped_column(String(300), default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    posts: Mapped[list[Post]] = relationship(back_populates="category", lazy="raise")

    def __repr__(self) -> str:
        return f"<Category {self.slug}>"


post_tags = link_table("post_tags", "post_id:posts", "tag_id:tags", index_right=True)


class Tag(db.Model):
    """A free label shared by posts across sections."""

    __tablename__ = "tags"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(80))
    slug: Mapped[str] = mapped_column(String(80), unique=True)

    def __repr__(self) -> str:
        return f"<Tag {self.slug}>"


# The people who wrote a post beside its author, in byline order (position 0 first). Written
# plainly, not with link_table: the order is part of the pair. The (user_id, post_id) index
# answers "the stories a person co-wrote" for author pages.
post_coauthors = Table(
    "post_coauthors",
    db.metadata,
    Column("post_id", ForeignKey("posts.id", ondelete="CASCADE"), primary_key=True),
    Column("user_id", ForeignKey("users.id", ondelete="CASCADE"), primary_key=True),
    Column("position", Integer, nullable=False, default=0),
    Index("ix_post_coauthors_user_post", "user_id", "post_id"),
)


class Post(db.Model):
    """An article in one section, by its author and any co-authors; or a page (kind "page").

    A page (About, Contact…) has no section, lives at the top level (/<slug>), may have a
    parent page, and is kept out of every listing, feed and search (Post.articles).
    """

    __tablename__ = "posts"
    __table_args__ = (
        # Readers' listings walk these newest-first and stop after a page: no sort,
        # no scan of drafts, however many posts there are. status and kind are carried
        # (though the WHERE already fixes them), and author_id for author pages, so that
        # counts and id walks are covering: SQLite reads no posts row for them. The home
        # one leads with kind: without statistics SQLite prefers an index with an equality
        # on its first column (ix_posts_status_updated, then a sort), and every listing
        # says kind = 'post' (migration 0014).
        Index(
            "ix_posts_live_listing",
            "kind",
            "published_at",
            "id",
            "status",
            "author_id",
            postgresql_where=text(_LIVE_ARTICLE_SQL),
            sqlite_where=text(_LIVE_ARTICLE_SQL),
        ),
        Index(
            "ix_posts_live_section_listing",
            "category_id",
            "published_at",
            "id",
            "status",
            "kind",
            postgresql_where=text(_LIVE_ARTICLE_SQL),
            sqlite_where=text(_LIVE_ARTICLE_SQL),
        ),
        Index("ix_posts_status_updated", "status", "updated_at"),
        Index("ix_posts_featured", "featured", "published_at"),
        Index("ix_posts_author_listing", "author_id", "status", "published_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    title: Mapped[str] = mapped_column(String(200))
    slug: Mapped[str] = mapped_column(String(200), unique=True)
    excerpt: Mapped[str] = mapped_column(Text, default="")
    # False when the excerpt was derived from the body rather than written.
    excerpt_written: Mapped[bool] = mapped_column(Boolean, default=False)
    body: Mapped[str] = mapped_column(Text, default="")  # sanitised HTML only
    # A library image, as for sections (see Category.cover_media_id).
    cover_media_id: Mapped[int | None] = mapped_column(
        ForeignKey("media.id", ondelete="SET NULL"), index=True
    )
    cover_image: Mapped[str | None] = mapped_column(String(500))
    cover_alt: Mapped[str] = mapped_column(String(300), default="")
    kind: Mapped[str] = mapped_column(String(8), default=PostKind.POST, server_default="post")
    # Articles have a section; pages have none.
    category_id: Mapped[int | None] = mapped_column(ForeignKey("categories.id"))
    # A page's parent page (pages only): the hierarchy shown in breadcrumbs and the desk.
    parent_id: Mapped[int | None] = mapped_column(
        ForeignKey("posts.id", ondelete="SET NULL"), index=True
    )
    author_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    status: Mapped[str] = mapped_column(String(16), default=PostStatus.DRAFT)
    # The status a trashed post had, offered back when it is restored (None: unknown).
    status_before_trash: Mapped[str | None] = mapped_column(String(16))
    published_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)
    version: Mapped[int] = mapped_column(Integer, default=1)
    featured: Mapped[bool] = mapped_column(Boolean, default=False)
    seo_title: Mapped[str] = mapped_column(String(200), default="")
    seo_description: Mapped[str] = mapped_column(String(300), default="")
    reading_time: Mapped[int] = mapped_column(Integer, default=1)
    review_note: Mapped[str] = mapped_column(Text, default="")
    # The post's id on the WordPress site it was imported from, for /?p=<id> links.
    wp_post_id: Mapped[int | None] = mapped_column(Integer, unique=True)

    category: Mapped[Category | None] = relationship(back_populates="posts")
    parent: Mapped[Post | None] = relationship(remote_side=[id])
    author: Mapped[User] = relationship()
    # Read-only: loaded with a listing's posts (reading._card_options) so that each card's
    # picture (services.media.cover_picture) is found in the session, with no query of its own.
    cover_media: Mapped[Media | None] = relationship(viewonly=True)
    # Read-only here: services.desk.set_people writes the rows with their positions.
    coauthors: Mapped[list[User]] = relationship(
        secondary=post_coauthors, order_by=post_coauthors.c.position, viewonly=True
    )
    tags: Mapped[list[Tag]] = relationship(secondary=post_tags, order_by="Tag.name")
    revisions: Mapped[list[Revision]] = relationship(
        back_populates="post",
        cascade="all, delete-orphan",
        order_by="Revision.id.desc()",
        lazy="raise",
    )
    # Written only by services.custom_fields (through the writer), in order.
    custom_fields: Mapped[list[CustomField]] = relationship(
        back_populates="post",
        cascade="all, delete-orphan",
        order_by="CustomField.position",
    )

    # Optimistic locking: a write based on an old version fails loudly.
    __mapper_args__ = {"version_id_col": version}

    # What a reader may see, defined once: live() in SQL and is_live() in Python.
    # tests/test_visibility.py proves the two agree on every status and time.

    @classmethod
    def live(cls, now: datetime) -> ColumnElement[bool]:
        """SQL condition: readers can see the post at time now (the twin of is_live)."""
        # The statuses are written into the SQL, not bound: only then can the
        # planners see that the partial listing indexes apply.
        live = [literal_column(f"'{status.value}'") for status in LIVE_STATUSES]
        return cls.status.in_(live) & (cls.published_at <= now)

    # What counts as an article, defined once: every reader listing, feed, search, the
    # API's post list and the desk's All posts take articles only; pages are apart.

    @classmethod
    def articles(cls) -> ColumnElement[bool]:
        """SQL condition: the row is an article, not a page (the twin of is_article)."""
        return cls.kind == literal_column(f"'{PostKind.POST.value}'")

    @classmethod
    def pages(cls) -> ColumnElement[bool]:
        """SQL condition: the row is a page (About, Contact…), not an article."""
        return cls.kind == literal_column(f"'{PostKind.PAGE.value}'")

    @classmethod
    def live_article(cls, now: datetime) -> ColumnElement[bool]:
        """SQL condition: a live article, what every reader listing shows."""
        return cls.live(now) & cls.articles()

    @property
    def is_article(self) -> bool:
        """Return True for an article (the twin of articles)."""
        return self.kind != PostKind.PAGE

    @property
    def is_page(self) -> bool:
        """Return True for a page (About, Contact…)."""
        return self.kind == PostKind.PAGE

    def is_live(self, now: datetime | None = None) -> bool:
        """Return True when readers can see this post at time now (the twin of live)."""
        return (
            self.status in LIVE_STATUSES
            and self.published_at is not None
            and self.published_at <= (now or utcnow())
        )

    @property
    def is_published(self) -> bool:
        """Return True when readers can see this post now."""
        return self.is_live()

    @property
    def authors(self) -> list[User]:
        """Everyone in the byline, in order: the author, then the co-authors."""
        return [self.author, *(p for p in self.coauthors if p.id != self.author.id)]

    @property
    def byline_parts(self) -> list[tuple[str, User]]:
        """Each person in the byline with the words before their name: "", ", " or " and "."""
        people = self.authors
        return [
            ("" if n == 0 else " and " if n == len(people) - 1 else ", ", person)
            for n, person in enumerate(people)
        ]

    @property
    def byline(self) -> str:
        """The names in the byline as a sentence: "A", "A and B", "A, B and C"."""
        return "".join(words + person.name for words, person in self.byline_parts)

    @property
    def display_title(self) -> str:
        """The title for the page head and search results."""
        return self.seo_title or self.title

    def __repr__(self) -> str:
        return f"<Post {self.slug}>"


class Revision(db.Model):
    """A saved state of a post, kept on every save."""

    __tablename__ = "revisions"

    id: Mapped[int] = mapped_column(primary_key=True)
    post_id: Mapped[int] = mapped_column(ForeignKey("posts.id", ondelete="CASCADE"), index=True)
    editor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    title: Mapped[str] = mapped_column(String(200))
    excerpt: Mapped[str] = mapped_column(Text, default="")
    body: Mapped[str] = mapped_column(Text, default="")
    note: Mapped[str] = mapped_column(String(200), default="")

    post: Mapped[Post] = relationship(back_populates="revisions")
    editor: Mapped[User | None] = relationship()

    def __repr__(self) -> str:
        return f"<Revision {self.id} of post {self.post_id}>"


class CustomField(db.Model):
    """One of a post's or page's custom fields (WordPress's post meta): a key and a value.

    A post keeps an ordered list, and a key may come more than once, as in WordPress
    (add_post_meta keeps every value it is given): an export then writes back exactly
    the fields an import brought in.
    """

    __tablename__ = "custom_fields"
    __table_args__ = (UniqueConstraint("post_id", "position"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    post_id: Mapped[int] = mapped_column(ForeignKey("posts.id", ondelete="CASCADE"))
    position: Mapped[int] = mapped_column(Integer, default=0)
    key: Mapped[str] = mapped_column(String(255))
    value: Mapped[str] = mapped_column(Text, default="")

    post: Mapped[Post] = relationship(back_populates="custom_fields")

    def __repr__(self) -> str:
        return f"<CustomField {self.key!r} of post {self.post_id}>"


class Redirect(db.Model):
    """An old address that now answers with a 301 to a post or a section.

    The target URL is built when the redirect is followed, so a post that
    moves twice never sends readers through a chain of redirects.
    """

    __tablename__ = "redirects"

    id: Mapped[int] = mapped_column(primary_key=True)
    path: Mapped[str] = mapped_column(String(500), unique=True)
    post_id: Mapped[int | None] = mapped_column(
        ForeignKey("posts.id", ondelete="CASCADE"), index=True
    )
    category_id: Mapped[int | None] = mapped_column(
        ForeignKey("categories.id", ondelete="CASCADE"), index=True
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    post: Mapped[Post | None] = relationship()
    category: Mapped[Category | None] = relationship()

    def __repr__(self) -> str:
        return f"<Redirect /{self.path}>"
