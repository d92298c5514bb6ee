"""What the writing desk's front page shows each person."""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import or_, select
from sqlalchemy.orm import defer, joinedload

from ..extensions import db
from ..models import Permission, Post, PostStatus, User
from ..permissions import in_sections, section_ids_for

RECENT = 10


@dataclass
class Desk:
    """The lists on a writer's dashboard."""

    drafts: list[Post] = field(default_factory=list)
    in_review: list[Post] = field(default_factory=list)
    to_review: list[Post] = field(default_factory=list)
    scheduled: list[Post] = field(default_factory=list)
    published: list[Post] = field(default_factory=list)
    sections_label: str = ""


def _listing(*conditions, order=None, limit: int | None = None) -> list[Post]:
    """Posts matching conditions with their section and author, no bodies."""
    query = (
        select(Post)
        .where(*conditions)
        .options(defer(Post.body), joinedload(Post.category), joinedload(Post.author))
        .order_by(*(order or (Post.updated_at.desc(),)))
    )
    if limit:
        query = query.limit(limit)
    return list(db.session.scalars(query))


def _scope(user: User):
    """Posts the person sees on the desk: their own, plus their sections' for editors."""
    return or_(
        Post.author_id == user.id, in_sections(Post.category_id, user, Permission.EDIT_ANY)
    )


def desk_for(user: User) -> Desk:
    """Build the dashboard of one person."""
    scope = _scope(user)
    desk = Desk()
    desk.drafts = _listing(Post.author_id == user.id, Post.status == PostStatus.DRAFT)
    desk.in_review = _listing(Post.author_id == user.id, Post.status == PostStatus.PENDING)
    if user.can(Permission.REVIEW):
        desk.to_review = _listing(
            scope,
            Post.status == PostStatus.PENDING,
            Post.author_id != user.id,
            order=(Post.updated_at.asc(),),
        )
    desk.scheduled = _listing(
        scope, Post.status == PostStatus.SCHEDULED, order=(Post.published_at.asc(),)
    )
    desk.published = _listing(
        scope,
        Post.status == PostStatus.PUBLISHED,
        order=(Post.published_at.desc(),),
        limit=RECENT,
    )
    if user.can(Permission.EDIT_ANY):
        everything = section_ids_for(user) is None
        desk.sections_label = (
            "every section" if everything else ", ".join(s.name for s in user.sections)
        )
    return desk
