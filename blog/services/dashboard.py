"""What the writing desk's front page shows each person."""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import func, or_, select
from sqlalchemy.orm import defer, joinedload, selectinload

from ..extensions import db
from ..models import Category, Permission, Post, PostStatus, Tag, User
from ..permissions import in_sections, section_ids_for, visible_to
from . import search
from .reading import Page

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
        .where(Post.articles(), *conditions)
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


# -- All posts: every post the person may see, searched, filtered, sorted and paged ---------

STATUS_TABS = (
    ("", "All"),
    (PostStatus.DRAFT.value, "Drafts"),
    (PostStatus.PENDING.value, "In review"),
    (PostStatus.SCHEDULED.value, "Scheduled"),
    (PostStatus.PUBLISHED.value, "Published"),
    (PostStatus.TRASH.value, "Trash"),
)
SORTS = {
    "updated": (Post.updated_at.desc(), Post.id.desc()),
    "published": (Post.published_at.desc().nulls_last(), Post.id.desc()),
    "title": (func.lower(Post.title), Post.id),
}


@dataclass
class PostQuery:
    """What All posts was asked for: words, filters (slugs and a username) and an order."""

    q: str = ""
    status: str = ""
    section: str = ""
    author: str = ""
    tag: str = ""
    sort: str = "updated"


@dataclass
class PostList(Page):
    """One page of All posts with the count of each status tab (the filters applied)."""

    counts: dict[str, int] = field(default_factory=dict)

    @property
    def prev_num(self) -> int:
        """The number of the page before."""
        return self.page - 1

    @property
    def next_num(self) -> int:
        """The number of the page after."""
        return self.page + 1

    def iter_pages(self, left_edge=1, left_current=2, right_current=3, right_edge=1):
        """Page numbers for a pager, None where a run is left out (as Flask-SQLAlchemy's)."""
        last = 0
        for number in range(1, self.pages + 1):
            near = self.page - left_current <= number < self.page + right_current
            if number <= left_edge or number > self.pages - right_edge or near:
                if last and number - last > 1:
                    yield None
                yield number
                last = number


def _search(q: str) -> list:
    """Every word of q in the title or the body (any status: the reader index holds live
    posts only, so this is a plain LIKE that SQLite and PostgreSQL read alike)."""
    return [
        or_(
            func.lower(Post.title).contains(term, autoescape=True),
            func.lower(Post.body).contains(term, autoescape=True),
        )
        for term in search.search_terms(q)
    ]


def _filters(query: PostQuery) -> list:
    """The WHERE clauses of the filters and the search, without the status."""
    conditions = _search(query.q)
    if query.section:
        conditions.append(
            Post.category_id.in_(select(Category.id).where(Category.slug == query.section))
        )
    if query.author:
        conditions.append(
            Post.author_id.in_(
                select(User.id).where(func.lower(User.username) == query.author.lower())
            )
        )
    if query.tag:
        conditions.append(Post.tags.any(Tag.slug == query.tag))
    return conditions


def all_posts(user: User, query: PostQuery, page: int, per_page: int) -> PostList:
    """The posts user may see (their own; editors their sections'; admins all) matching query.

    Three statements whatever the page holds: the status counts, the page, its tags.
    "All" leaves the trash out, as its own tab holds it.
    """
    shown = [Post.articles(), _scope(user), visible_to(user), *_filters(query)]
    counts = {
        status: number
        for status, number in db.session.execute(
            select(Post.status, func.count(Post.id)).where(*shown).group_by(Post.status)
        )
    }
    counts[""] = sum(n for s, n in counts.items() if s != PostStatus.TRASH.value)
    if query.status:
        shown.append(Post.status == query.status)
    else:
        shown.append(Post.status != PostStatus.TRASH.value)
    total = counts.get(query.status, 0)
    items: list[Post] = []
    if (page - 1) * per_page < total:
        items = list(
            db.session.scalars(
                select(Post)
                .where(*shown)
                .options(
                    defer(Post.body),
                    joinedload(Post.category),
                    joinedload(Post.author),
                    selectinload(Post.tags),
                )
                .order_by(*SORTS.get(query.sort, SORTS["updated"]))
                .limit(per_page)
                .offset((page - 1) * per_page)
            )
        )
    return PostList(items, total, page, per_page, counts)
