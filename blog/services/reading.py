"""Reading: everything readers (and the API's callers) are shown, in one place.

The reader pages (home, section, tag and author listings, an article with its
previous/next and related stories) and the content API's listings all read
here. What a reader may see is Post.live (models/content.py); what a token's
owner may see besides is permissions.visible_to. Every function hands back data:
posts, lists and pages, never a query for a door to run.
"""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass, field
from datetime import datetime

from flask import g
from flask_sqlalchemy.pagination import SelectPagination
from sqlalchemy import (
    ColumnElement,
    Select,
    bindparam,
    case,
    exists,
    func,
    literal_column,
    or_,
    select,
    tuple_,
    union_all,
)
from sqlalchemy.orm import contains_eager, defer, joinedload, selectinload
from sqlalchemy.orm.attributes import set_committed_value

from ..extensions import db
from ..models import Category, Post, Tag, User, post_coauthors, post_tags, utcnow
from ..models.content import LIVE_STATUSES
from ..permissions import can_view_post, visible_to
from . import NotFound, content_generation, surrogate
from . import search as search_service

RELATED_CANDIDATES = 60
RELATED_STORIES = 3


# "Now" in the reader queries: read when a statement runs, so the condition below is
# built once per process rather than once per query.
def _now():
    """The moment a reader query runs."""
    return utcnow()


_NOW = bindparam("circle_now", callable_=_now, type_=Post.published_at.type)


@functools.cache
def _live() -> ColumnElement[bool]:
    """The condition for the articles readers may see now (pages are never listed)."""
    return Post.live_article(_NOW)


def _card_options() -> tuple:
    """What a post card shows: author, section and cover picture, never the body.

    The co-authors are joined in where the posts themselves are loaded (`_with_coauthors`):
    a few rows more, no query more. The listing's SQL stays free of them, so its id walks
    keep their plans.
    """
    return (
        defer(Post.body),
        joinedload(Post.author),
        joinedload(Post.category),
        joinedload(Post.cover_media),
    )


def _with_coauthors(query: Select) -> Select:
    """The query, loading each post's co-authors in the same round trip (call .unique())."""
    return query.options(joinedload(Post.coauthors))


def written_by(person: int | Select) -> ColumnElement[bool]:
    """SQL condition: the post is by person (an id, or a select of one), as its author or
    a co-author.

    An author listing walks the covering live index (it carries author_id) and checks
    each post against one short list of co-written ids (ix_post_coauthors_user_post):
    no posts row read, no sort, with or without planner statistics.
    """
    if isinstance(person, int):
        coauthored = select(post_coauthors.c.post_id).where(post_coauthors.c.user_id == person)
        return or_(Post.author_id == person, Post.id.in_(coauthored))
    coauthored = select(post_coauthors.c.post_id).where(post_coauthors.c.user_id.in_(person))
    return or_(Post.author_id.in_(person), Post.id.in_(coauthored))


def tagged(tag_id: int) -> ColumnElement[bool]:
    """SQL condition: the post carries tag.

    One probe of post_tags' primary key per post: a listing walks its covering live index
    newest first and stops after its page, with or without planner statistics.
    """
    return exists().where(post_tags.c.post_id == Post.id, post_tags.c.tag_id == tag_id)


def byline_pairs():
    """A subquery of (post_id, user_id): every person in every post's byline."""
    return union_all(
        select(Post.id.label("post_id"), Post.author_id.label("user_id")),
        select(post_coauthors.c.post_id, post_coauthors.c.user_id),
    ).subquery("bylines")


def _live_choice(name: str, choose, keys) -> object:
    """A choice among the live stories (ids, links), kept with the content under keys.

    Kept until a change purges one of the keys, or until the next scheduled story goes
    live (readers see it from its time on, before anything flips its status).
    """

    def build() -> dict:
        return {"choice": choose(), "until": _next_go_live()}

    def still_good(kept: dict) -> bool:
        return kept["until"] is None or utcnow() < kept["until"]

    return content_generation.cached(name, build, keys=keys, still_good=still_good)["choice"]


def _next_go_live() -> datetime | None:
    """When the next story dated in the future goes live (None: none is waiting)."""
    waiting = [literal_column(f"'{status.value}'") for status in LIVE_STATUSES]
    return db.session.scalar(
        select(func.min(Post.published_at)).where(
            Post.status.in_(waiting), Post.published_at > utcnow()
        )
    )


# -- Lookups ----------------------------------------------------------------------------


def navigation_sections() -> list[Category]:
    """Return the sections in navigation order (read once per request)."""
    if "circle_sections" not in g:
        g.circle_sections = list(
            db.session.scalars(select(Category).order_by(Category.position, Category.name))
        )
    return g.circle_sections


@dataclass(frozen=True)
class Section:
    """A section as readers see it, kept with the content (any change to a section
    purges ``all``, which every cached value carries)."""

    id: int
    name: str
    slug: str
    description: str
    cover_image: str | None
    cover_alt: str
    created_at: datetime
    cover_media_id: int | None = None  # for the cover's size in share tags


def reader_sections() -> list[Section]:
    """The sections in navigation order, as readers see them (one cache read per request)."""
    if "circle_reader_sections" not in g:
        g.circle_reader_sections = content_generation.cached(
            "reader-sections",
            lambda: [
                Section(
                    s.id,
                    s.name,
                    s.slug,
                    s.description,
                    s.cover_image,
                    s.cover_alt,
                    s.created_at,
                    s.cover_media_id,
                )
                for s in navigation_sections()
            ],
        )
    return g.circle_reader_sections


def section_by_slug(slug: str) -> Section:
    """Return the section with this slug or raise NotFound."""
    for section in reader_sections():
        if section.slug == slug:
            return section
    raise NotFound("No such section.")


def tag_by_slug(slug: str) -> Tag:
    """Return the tag with this slug or raise NotFound."""
    tag = db.session.scalar(select(Tag).where(Tag.slug == slug))
    if tag is None:
        raise NotFound("No such tag.")
    return tag


def author_by_username(username: str) -> User:
    """Return a person with at least one published post, or raise NotFound."""
    author = db.session.scalar(
        select(User).where(func.lower(User.username) == (username or "").lower())
    )
    if author is None or not author.is_active:
        raise NotFound("No such author.")
    has_posts = db.session.scalar(select(Post.id).where(written_by(author.id), _live()).limit(1))
    if has_posts is None:
        raise NotFound("No such author.")
    surrogate.show(surrogate.person(author.id))
    return author


# -- Reader listings ----------------------------------------------------------------------


def listing_query(
    section: Section | None = None,
    tag: Tag | None = None,
    author: User | None = None,
    exclude_id: int | None = None,
) -> Select:
    """The SQL behind a reader listing: live posts, newest first, with what a card shows.

    The listing functions below page through it; the query-plan tests read its plan.
    The statement is built once per listing and kept ("now" is bound when it runs).
    """
    return _listing_query(
        section.id if section is not None else None,
        tag.id if tag is not None else None,
        author.id if author is not None else None,
        exclude_id,
    )


@functools.lru_cache(maxsize=2048)
def _listing_query(
    section_id: int | None, tag_id: int | None, author_id: int | None, exclude_id: int | None
) -> Select:
    """listing_query's statement, by the ids of what it filters on."""
    query = (
        select(Post)
        .where(_live())
        .options(*_card_options())
        .order_by(Post.published_at.desc(), Post.id.desc())
    )
    if section_id is not None:
        query = query.where(Post.category_id == section_id)
    if tag_id is not None:
        query = query.where(tagged(tag_id))
    if author_id is not None:
        query = query.where(written_by(author_id))
    if exclude_id is not None:
        query = query.where(Post.id != exclude_id)
    return query


class ListingPage(SelectPagination):
    """A page of a reader listing: the ids of its stories, found on the index alone.

    Deep pages skip their offset inside the newest-first index (the ids are all
    it holds): page 200 costs about what page 1 does. The cards are drawn from the
    ids (card_posts, and blog/public/cards.py, which keeps each card with the content).
    """

    def _query_items(self) -> list[int]:
        """The page's ids, newest first, from the index."""
        listing = self._query_args["select"]
        return list(db.session.scalars(page_ids_query(listing, self.per_page, self._query_offset)))

    def _query_count(self) -> int:
        """How many posts the listing has, counted on the index and cached under its key."""
        listing = self._query_args["select"]
        key = self._query_args["key"]
        surrogate.show(key)
        return content_generation.cached(
            f"listing-count:{self._query_args['name']}",
            lambda: db.session.scalar(count_query(listing)) or 0,
            keys=(key,),
        )


def page_ids_query(listing: Select, per_page: int, offset: int) -> Select:
    """The ids of one page of a listing: a walk of its covering live index, no posts row."""
    return listing.with_only_columns(Post.id).limit(per_page).offset(offset)


def count_query(listing: Select) -> Select:
    """How many posts a listing has: a count over its covering live index, no posts row."""
    return listing.with_only_columns(func.count()).order_by(None)


def _listing_page(listing: Select, page: int, per_page: int, key: str, name: str) -> ListingPage:
    """Paginate a reader listing (purged with key; its count cached as name).

    A page past the end raises NotFound.
    """
    pagination = ListingPage(
        select=listing, session=db.session(), page=page, per_page=per_page, key=key, name=name
    )
    if page > 1 and not pagination.items:
        raise NotFound("No such page.")
    return pagination


def latest(page: int, per_page: int, exclude_id: int | None = None) -> ListingPage:
    """One page of the newest stories (the home page), leaving out the featured one."""
    return _listing_page(
        listing_query(exclude_id=exclude_id),
        page,
        per_page,
        surrogate.HOME,
        f"{surrogate.HOME}-without-{exclude_id or 0}",
    )


def section_listing(section: Section, page: int, per_page: int) -> ListingPage:
    """One page of a section's stories."""
    key = surrogate.section(section.id)
    return _listing_page(listing_query(section=section), page, per_page, key, key)


def tag_listing(tag: Tag, page: int, per_page: int) -> ListingPage:
    """One page of the stories with a tag."""
    key = surrogate.tag(tag.id)
    return _listing_page(listing_query(tag=tag), page, per_page, key, key)


def author_listing(author: User, page: int, per_page: int) -> ListingPage:
    """One page of an author's stories."""
    key = surrogate.author(author.id)
    return _listing_page(listing_query(author=author), page, per_page, key, key)


def featured_id() -> int | None:
    """The id of the editors' choice, else of the newest story, chosen once per change
    (kept under ``home``, which every change to a live article purges)."""

    def choose() -> int | None:
        newest_first = (Post.published_at.desc(), Post.id.desc())
        chosen = db.session.scalar(
            select(Post.id).where(Post.featured.is_(True), _live()).order_by(*newest_first).limit(1)
        )
        if chosen is None:
            chosen = db.session.scalar(listing_query().with_only_columns(Post.id).limit(1))
        return chosen

    return _live_choice("home-featured", choose, keys=(surrogate.HOME,))


def section_rows(per_section: int = 3, exclude_id: int | None = None) -> list[tuple]:
    """Return (section, ids of its newest stories) for every section that has stories.

    One small newest-first index walk per section, joined in a single UNION ALL:
    nothing scans the whole table, and no posts row is read (the cards are drawn
    from the ids). The choice is kept under the sections' listing keys (a change to a
    live story in a section purges its key).
    """
    sections = reader_sections()
    if not sections:
        return []
    ids = _live_choice(
        f"section-rows:{per_section}:{exclude_id or 0}",
        lambda: _section_row_ids(sections, per_section, exclude_id),
        keys=tuple(surrogate.section(s.id) for s in sections),
    )
    return [(s, ids[s.id]) for s in sections if s.id in ids]


def _section_row_ids(sections: list[Section], per_section: int, exclude_id: int | None) -> dict:
    """{section id: ids of its newest stories, newest first} for the sections with stories."""
    walks = [
        select(Post.id, Post.category_id, Post.published_at)
        .where(_live(), Post.category_id == section.id, Post.id != (exclude_id or 0))
        .order_by(Post.published_at.desc(), Post.id.desc())
        .limit(per_section)
        .subquery()
        .select()
        for section in sections
    ]
    rows = sorted(db.session.execute(union_all(*walks)), key=lambda r: (r[2], r[0]), reverse=True)
    by_section: dict[int, list[int]] = {}
    for post_id, section_id, _published in rows:
        by_section.setdefault(section_id, []).append(post_id)
    return by_section


def card_posts(ids) -> dict[int, Post]:
    """The live stories with these ids, with what a card shows, by id (one query)."""
    if not ids:
        return {}
    posts = db.session.scalars(
        _with_coauthors(select(Post).where(_live(), Post.id.in_(ids)).options(*_card_options()))
    ).unique()
    return {p.id: p for p in posts}


# -- An article and its neighbours ----------------------------------------------------


def published_post(section_slug: str, post_slug: str) -> Post:
    """Return the published post at /<section>/<slug> or raise NotFound.

    Built once: the co-authors are joined in (one post, a few rows), then its tags.
    """
    post = (
        db.session.scalars(_article_query(), {"section_slug": section_slug, "post_slug": post_slug})
        .unique()
        .first()
    )
    if post is None:
        raise NotFound("No such article.")
    _attach_tags(post)
    surrogate.show_posts([post])
    surrogate.show(surrogate.comments(post.id))
    return post


def live_post(post_id: int) -> Post | None:
    """Return the live article or page with this id, with its section, or None."""
    return db.session.scalar(
        select(Post)
        .where(Post.id == post_id, Post.live(utcnow()))
        .options(joinedload(Post.category))
    )


@functools.cache
def _article_query() -> Select:
    """The statement behind published_post, its slugs bound when it runs."""
    return (
        select(Post)
        .join(Post.category)
        .where(Post.slug == bindparam("post_slug"), Category.slug == bindparam("section_slug"))
        .where(_live())
        .options(
            *_byline_options(Post.author),
            *_byline_options(Post.coauthors),
            contains_eager(Post.category),
            joinedload(Post.cover_media),
        )
    )


@functools.cache
def _tags_query() -> Select:
    """An article's tags by name, its id bound when it runs."""
    return (
        select(Tag)
        .join(post_tags, post_tags.c.tag_id == Tag.id)
        .where(post_tags.c.post_id == bindparam("post_id"))
        .order_by(Tag.name)
    )


def _attach_tags(post: Post) -> None:
    """Load an article's tags with one plain query: a third of what selectinload costs
    for a single post, and joined into the article's query they would make SQLite
    read every tag (a left join of a nested join)."""
    tags = db.session.scalars(_tags_query(), {"post_id": post.id}).all()
    set_committed_value(post, "tags", list(tags))


def _byline_options(relationship) -> tuple:
    """Load the people of a byline with what readers see of them (name, bio, picture),
    not their account (no role, no sign-in columns): anything else is read when asked."""
    return (
        joinedload(relationship).load_only(
            User.id, User.username, User.display_name, User.bio, User.avatar_image
        ),
        joinedload(relationship).lazyload(User.role),
    )


def post_by_wp_id(wp_id: int) -> Post:
    """Return the published post or page imported from WordPress with this id."""
    post = db.session.scalar(
        select(Post)
        .where(Post.wp_post_id == wp_id, Post.live(utcnow()))
        .options(joinedload(Post.category))
    )
    if post is None:
        raise NotFound("No such article.")
    surrogate.show_posts([post])
    surrogate.show(surrogate.REDIRECTS)
    return post


@dataclass(frozen=True)
class Neighbour:
    """A previous or next story, as its link shows it."""

    id: int
    title: str
    section_slug: str
    slug: str


def nearby(post: Post) -> dict:
    """The post's previous and next stories (Neighbour or None) and the ids of its related
    ones, chosen once per change.

    Kept with the content under the article's own key, the nearby keys of its section
    and tags, and the keys of the two neighbours (their links show their titles): a story
    published, moved, retagged or unpublished there, or a change to the article or a
    neighbour, chooses again; a reader's view only reads the choice.
    """
    tag_ids = [tag.id for tag in post.tags]
    keys = (
        surrogate.post(post),
        surrogate.nearby_section(post.category_id),
        *(surrogate.nearby_tag(t) for t in tag_ids),
    )

    def choose() -> dict:
        older, newer = _neighbours(post)
        return {"older": older, "newer": newer, "related": _related_ids(post, tag_ids)}

    return _live_choice(f"nearby:{post.id}", choose, keys=keys)


def _neighbours(post: Post) -> tuple[Neighbour | None, Neighbour | None]:
    """The previous (older) and next (newer) live stories in the post's section, as links."""
    base = (
        select(Post.id, Post.title, Category.slug, Post.slug)
        .join(Post.category)
        .where(_live(), Post.category_id == post.category_id)
    )
    here = tuple_(Post.published_at, Post.id)
    mark = (post.published_at, post.id)
    older = db.session.execute(
        base.where(here < mark).order_by(Post.published_at.desc(), Post.id.desc()).limit(1)
    ).first()
    newer = db.session.execute(
        base.where(here > mark).order_by(Post.published_at.asc(), Post.id.asc()).limit(1)
    ).first()
    found = tuple(Neighbour(*row) if row else None for row in (older, newer))
    surrogate.show(*(surrogate.post_id(n.id) for n in found if n is not None))
    return found


def _related_ids(post: Post, tag_ids: list[int], limit: int = RELATED_STORIES) -> list[int]:
    """Live stories that share the most tags with post, then its section's newest.

    The tag overlap is counted in the tag index for a bounded set of candidates,
    so the cost does not grow with the number of posts.
    """
    chosen: list[int] = []
    if tag_ids:
        shared = (
            select(post_tags.c.post_id, func.count().label("shared"))
            .where(post_tags.c.tag_id.in_(tag_ids), post_tags.c.post_id != post.id)
            .group_by(post_tags.c.post_id)
            .order_by(func.count().desc(), post_tags.c.post_id.desc())
            .limit(RELATED_CANDIDATES)
            .subquery()
        )
        same_section = case((Post.category_id == post.category_id, 1), else_=0)
        chosen = list(
            db.session.scalars(
                select(Post.id)
                .join(shared, shared.c.post_id == Post.id)
                .where(_live())
                .order_by(shared.c.shared.desc(), same_section.desc(), Post.published_at.desc())
                .limit(limit)
            )
        )
    if len(chosen) < limit:
        chosen += db.session.scalars(
            select(Post.id)
            .where(
                _live(), Post.category_id == post.category_id, Post.id.not_in([post.id, *chosen])
            )
            .order_by(Post.published_at.desc(), Post.id.desc())
            .limit(limit - len(chosen))
        )
    return chosen


def adjacent_posts(post: Post) -> tuple[Neighbour | None, Neighbour | None]:
    """Return the previous (older) and next (newer) story in the post's section, as links."""
    found = nearby(post)
    return found["older"], found["newer"]


def related_ids(post: Post) -> list[int]:
    """The ids of the live stories related to post, best first (nearby)."""
    return list(nearby(post)["related"])


# -- The content API's listings ----------------------------------------------------------
# A fixed number of queries whatever the page holds. Readers see live posts only; a
# token's owner may also ask for posts by status and then sees what the desk would
# show them (permissions.visible_to): their own posts, and for editors their sections'.


@dataclass
class Page:
    """One page of an API listing and how many there are in all."""

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
    """The filters an API post listing takes; statuses only for staff."""

    section: str | None = None
    tag: str | None = None
    author: str | None = None
    statuses: list[str] = field(default_factory=list)
    with_body: bool = False


def _post_conditions(actor, filters: PostFilter) -> list:
    """The WHERE clauses of an API post listing."""
    if filters.statuses:
        conditions = [Post.status.in_(filters.statuses), visible_to(actor), Post.articles()]
    else:
        conditions = [_live()]
    if filters.section:
        conditions.append(
            Post.category_id.in_(select(Category.id).where(Category.slug == filters.section))
        )
    if filters.tag:
        conditions.append(Post.tags.any(Tag.slug == filters.tag))
    if filters.author:
        conditions.append(
            written_by(select(User.id).where(func.lower(User.username) == filters.author.lower()))
        )
    return conditions


def _post_options(with_body: bool) -> tuple:
    """Load the authors (co-authors joined in: call .unique()), section and tags with the
    posts; the body only when shown."""
    options = (
        joinedload(Post.author),
        joinedload(Post.coauthors),
        joinedload(Post.category),
        selectinload(Post.tags),
    )
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
    surrogate.show(surrogate.API)
    surrogate.show_posts(items)
    return Page(items, total, page, per_page)


def _shown_to(actor, post: Post | None) -> Post:
    """Return post when actor may read it through the API, else raise NotFound."""
    if post is None or not can_view_post(actor, post):
        raise NotFound("No such post.")
    surrogate.show_posts([post])
    return post


def post_by_id(actor, post_id: int) -> Post:
    """Return the article with this id if actor may see it (pages: see pages.page_by_id)."""
    post = (
        db.session.scalars(
            select(Post)
            .where(Post.id == post_id, Post.articles())
            .options(*_post_options(with_body=True))
        )
        .unique()
        .first()
    )
    return _shown_to(actor, post)


def post_by_path(actor, section_slug: str, post_slug: str) -> Post:
    """Return the post at /<section>/<slug> if actor may see it."""
    post = (
        db.session.scalars(
            select(Post)
            .join(Post.category)
            .where(Category.slug == section_slug, Post.slug == post_slug)
            .options(*_post_options(with_body=True))
        )
        .unique()
        .first()
    )
    return _shown_to(actor, post)


def _paged_rows(query: Select, count_query: Select, page: int, per_page: int) -> Page:
    """Run a count and one page of a listing of rows (an API listing: purged with the API)."""
    surrogate.show(surrogate.API)
    total = db.session.scalar(count_query) or 0
    rows: list = []
    if (page - 1) * per_page < total:
        rows = list(db.session.execute(query.limit(per_page).offset((page - 1) * per_page)))
    return Page(rows, total, page, per_page)


def tag_counts(page: int, per_page: int) -> Page:
    """Tags on at least one live post, by name, each with (tag, how many live posts)."""
    counts = (
        select(post_tags.c.tag_id, func.count().label("posts"))
        .join(Post, Post.id == post_tags.c.post_id)
        .where(_live())
        .group_by(post_tags.c.tag_id)
        .subquery()
    )
    query = (
        select(Tag, counts.c.posts)
        .join(counts, counts.c.tag_id == Tag.id)
        .order_by(Tag.name, Tag.id)
    )
    return _paged_rows(query, select(func.count()).select_from(counts), page, per_page)


def author_counts(page: int, per_page: int) -> Page:
    """People with at least one live post (written or co-written), by name, each with
    (user, how many live posts)."""
    pairs = byline_pairs()
    counts = (
        select(pairs.c.user_id.label("author_id"), func.count().label("posts"))
        .join(Post, Post.id == pairs.c.post_id)
        .where(_live())
        .group_by(pairs.c.user_id)
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


def search_in_section(query: str, section_slug: str | None, page: int, per_page: int):
    """Search live posts, in one section when its slug is given (unknown: no results)."""
    section = None
    if section_slug:
        section = db.session.scalar(select(Category).where(Category.slug == section_slug))
        if section is None:
            return search_service.SearchResults(
                query=query, terms=search_service.search_terms(query), page=page, per_page=per_page
            )
    return search_service.search_posts(query, section=section, page=page, per_page=per_page)
