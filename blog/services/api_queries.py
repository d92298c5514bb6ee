"""What the content API reads: filtered pages of posts, tags and authors, in a fixed number
of queries whatever the page holds.

Readers see live posts only. A token's owner may also ask for posts by status and then
sees what the desk would show them: their own posts, and for editors their sections'.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

from sqlalchemy import Select, and_, false, func, or_, select, true
from sqlalchemy.orm import defer, joinedload, selectinload

from ..extensions import db
from ..models import Category, Permission, Post, PostStatus, Tag, User, post_tags, utcnow
from ..permissions import can_view_post
from . import NotFound
from . import posts as post_service
from . import search as search_service


@dataclass
class Page:
    """One page of a listing and how many there are in all."""

    items: list
    total: int
    page: int
    per_page: int

    @property
    def pages(self) -> int:
        """The number of pages, at least one."""
        return max(1, math.ceil(self.total / self.per_page))

    @property
    def has_next(self) -> bool:
        """Return True when a later page holds items."""
        return self.page * self.per_page < self.total

    @property
    def has_prev(self) -> bool:
        """Return True past the first page."""
        return self.page > 1


@dataclass
class PostFilter:
    """The filters a post listing takes; statuses only for staff."""

    section: str | None = None
    tag: str | None = None
    author: str | None = None
    statuses: list[str] = field(default_factory=list)
    with_body: bool = False


def _staff_visible(actor):
    """SQL condition: the desk would show actor this post, whatever its status."""
    if not actor.is_authenticated:
        return false()
    shown = [Post.status == PostStatus.PUBLISHED]
    if actor.can(Permission.WRITE):
        shown.append(and_(Post.author_id == actor.id, Post.status != PostStatus.TRASH))
    if actor.can(Permission.EDIT_ANY):
        if actor.can(Permission.ADMINISTER) or not actor.sections:
            return true()
        shown.append(Post.category_id.in_([section.id for section in actor.sections]))
    return or_(*shown)


def _post_conditions(actor, filters: PostFilter) -> list:
    """The WHERE clauses of a post listing."""
    if filters.statuses:
        conditions = [Post.status.in_(filters.statuses), _staff_visible(actor)]
    else:
        conditions = [Post.live(utcnow())]
    if filters.section:
        conditions.append(
            Post.category_id.in_(select(Category.id).where(Category.slug == filters.section))
        )
    if filters.tag:
        conditions.append(Post.tags.any(Tag.slug == filters.tag))
    if filters.author:
        conditions.append(
            Post.author_id.in_(
                select(User.id).where(func.lower(User.username) == filters.author.lower())
            )
        )
    return conditions


def _post_options(with_body: bool) -> tuple:
    """Load the author, section and tags with the posts; the body only when shown."""
    options = (joinedload(Post.author), joinedload(Post.category), selectinload(Post.tags))
    return options if with_body else (defer(Post.body), *options)


def post_page(actor, filters: PostFilter, page: int, per_page: int) -> Page:
    """Return one page of posts matching filters, newest first (last changed, for staff)."""
    conditions = _post_conditions(actor, filters)
    total = db.session.scalar(select(func.count(Post.id)).where(*conditions)) or 0
    if filters.statuses:
        order = (Post.updated_at.desc(), Post.id.desc())
    else:
        order = (Post.published_at.desc(), Post.id.desc())
    items: list[Post] = []
    if (page - 1) * per_page < total:
        items = list(
            db.session.scalars(
                select(Post)
                .where(*conditions)
                .options(*_post_options(filters.with_body))
                .order_by(*order)
                .limit(per_page)
                .offset((page - 1) * per_page)
            ).unique()
        )
    return Page(items, total, page, per_page)


def _shown_to(actor, post: Post | None) -> Post:
    """Return post when actor may read it through the API, else raise NotFound."""
    if post is None:
        raise NotFound("No such post.")
    if post.is_published:
        return post
    if actor.is_authenticated and can_view_post(actor, post):
        return post
    raise NotFound("No such post.")


def post_by_id(actor, post_id: int) -> Post:
    """Return the post with this id if actor may see it."""
    post = db.session.scalar(
        select(Post).where(Post.id == post_id).options(*_post_options(with_body=True))
    )
    return _shown_to(actor, post)


def post_by_path(actor, section_slug: str, post_slug: str) -> Post:
    """Return the post at /<section>/<slug> if actor may see it."""
    post = db.session.scalar(
        select(Post)
        .join(Post.category)
        .where(Category.slug == section_slug, Post.slug == post_slug)
        .options(*_post_options(with_body=True))
    )
    return _shown_to(actor, post)


def sections() -> list[Category]:
    """Every section, in navigation order."""
    return list(post_service.navigation_sections())


def _paged_rows(query: Select, count_query: Select, page: int, per_page: int) -> Page:
    """Run a count and one page of a listing of rows."""
    total = db.session.scalar(count_query) or 0
    rows: list = []
    if (page - 1) * per_page < total:
        rows = list(db.session.execute(query.limit(per_page).offset((page - 1) * per_page)))
    return Page(rows, total, page, per_page)


def tag_page(page: int, per_page: int) -> Page:
    """Tags on at least one live post, by name, each with (tag, how many live posts)."""
    counts = (
        select(post_tags.c.tag_id, func.count().label("posts"))
        .join(Post, Post.id == post_tags.c.post_id)
        .where(Post.live(utcnow()))
        .group_by(post_tags.c.tag_id)
        .subquery()
    )
    query = (
        select(Tag, counts.c.posts)
        .join(counts, counts.c.tag_id == Tag.id)
        .order_by(Tag.name, Tag.id)
    )
    return _paged_rows(query, select(func.count()).select_from(counts), page, per_page)


def author_page(page: int, per_page: int) -> Page:
    """People with at least one live post, by name, each with (user, how many live posts)."""
    counts = (
        select(Post.author_id, func.count().label("posts"))
        .where(Post.live(utcnow()))
        .group_by(Post.author_id)
        .subquery()
    )
    query = (
        select(User, counts.c.posts)
        .join(counts, counts.c.author_id == User.id)
        .where(User.suspended_at.is_(None))
        .order_by(func.lower(User.username), User.id)
    )
    count_query = (
        select(func.count())
        .select_from(User)
        .join(counts, counts.c.author_id == User.id)
        .where(User.suspended_at.is_(None))
    )
    return _paged_rows(query, count_query, page, per_page)


def search(query: str, section_slug: str | None, page: int, per_page: int):
    """Search live posts, in one section when its slug is given (unknown: no results)."""
    section = None
    if section_slug:
        section = db.session.scalar(select(Category).where(Category.slug == section_slug))
        if section is None:
            return search_service.SearchResults(
                query=query, terms=search_service.search_terms(query), page=page, per_page=per_page
            )
    return search_service.search_posts(query, section=section, page=page, per_page=per_page)
