"""Posts: listings and what readers may see. Writing is in `desk`, slugs in `slugs`."""

from __future__ import annotations

from flask import g
from flask_sqlalchemy.pagination import SelectPagination
from sqlalchemy import Select, case, func, select, tuple_, union_all
from sqlalchemy.orm import defer, joinedload, selectinload

from ..extensions import db
from ..models import Category, Post, PostStatus, Tag, User, post_tags, utcnow
from . import NotFound

# The WordPress importer still reaches the writer's helpers through this module; the
# importer package calls `desk` and `slugs` itself once it lands (issue 11).
from .desk import derive_excerpt, prepare_body, reading_minutes  # noqa: F401
from .slugs import forget_address, normalise_path, slugify, unique_post_slug  # noqa: F401


def published() -> Select:
    """Select the posts readers may see, newest first, with what a listing shows."""
    return (
        select(Post)
        .where(_visible())
        .options(*_card_options())
        .order_by(Post.published_at.desc(), Post.id.desc())
    )


def section_by_slug(slug: str) -> Category:
    """Return the section with this slug or raise NotFound."""
    section = db.session.scalar(select(Category).where(Category.slug == slug))
    if section is None:
        raise NotFound("No such section.")
    return section


def navigation_sections() -> list[Category]:
    """Return the sections in navigation order (read once per request)."""
    if "circle_sections" not in g:
        g.circle_sections = list(
            db.session.scalars(select(Category).order_by(Category.position, Category.name))
        )
    return g.circle_sections


def published_post(section_slug: str, post_slug: str) -> Post:
    """Return the published post at /<section>/<slug> or raise NotFound."""
    post = db.session.scalar(
        select(Post)
        .join(Post.category)
        .where(Post.slug == post_slug, Category.slug == section_slug)
        .where(_visible())
        .options(
            joinedload(Post.author),
            joinedload(Post.category),
            selectinload(Post.tags),
        )
    )
    if post is None:
        raise NotFound("No such article.")
    return post


def posts_by_author(author: User) -> Select:
    """Select every post an author wrote that is not in the trash, newest change first."""
    return (
        select(Post)
        .where(Post.author_id == author.id, Post.status != PostStatus.TRASH)
        .options(defer(Post.body), joinedload(Post.category))
        .order_by(Post.updated_at.desc())
    )


def _visible():
    """The condition for posts readers may see."""
    return Post.live(utcnow())


def _card_options():
    """What a post card shows: author, section and tags, never the body."""
    return (
        defer(Post.body),
        joinedload(Post.author),
        joinedload(Post.category),
        selectinload(Post.tags),
    )


def featured_story() -> Post | None:
    """Return the editors' choice, else the newest story (each an index lookup)."""
    chosen = db.session.scalar(
        select(Post)
        .where(Post.featured.is_(True), _visible())
        .options(*_card_options())
        .order_by(Post.published_at.desc(), Post.id.desc())
        .limit(1)
    )
    if chosen is not None:
        return chosen
    return db.session.scalar(published().limit(1))


def section_rows(per_section: int = 3, exclude_id: int | None = None) -> list[tuple]:
    """Return (section, newest posts) for every section.

    One small newest-first index walk per section, joined in a single UNION ALL,
    then one query loads those few posts: nothing scans the whole table.
    """
    sections = navigation_sections()
    if not sections:
        return []
    walks = [
        select(Post.id)
        .where(_visible(), Post.category_id == section.id, Post.id != (exclude_id or 0))
        .order_by(Post.published_at.desc(), Post.id.desc())
        .limit(per_section)
        .subquery()
        .select()
        for section in sections
    ]
    ids = list(db.session.scalars(union_all(*walks)))
    if not ids:
        return []
    posts = db.session.scalars(
        select(Post)
        .where(Post.id.in_(ids))
        .options(*_card_options())
        .order_by(Post.published_at.desc(), Post.id.desc())
    ).all()
    by_section: dict[int, list[Post]] = {}
    for post in posts:
        by_section.setdefault(post.category_id, []).append(post)
    return [(s, by_section[s.id]) for s in sections if s.id in by_section]


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
    has_posts = db.session.scalar(
        select(Post.id).where(Post.author_id == author.id, _visible()).limit(1)
    )
    if has_posts is None:
        raise NotFound("No such author.")
    return author


def tagged(tag: Tag) -> Select:
    """Select the published posts with a tag."""
    return published().where(Post.tags.any(Tag.id == tag.id))


def by_author(author: User) -> Select:
    """Select an author's published posts."""
    return published().where(Post.author_id == author.id)


def in_section(section: Category) -> Select:
    """Select a section's published posts."""
    return published().where(Post.category_id == section.id)


def adjacent_posts(post: Post) -> tuple[Post | None, Post | None]:
    """Return the previous (older) and next (newer) story in the post's section."""
    base = (
        select(Post)
        .where(_visible(), Post.category_id == post.category_id)
        .options(defer(Post.body), joinedload(Post.category))
    )
    here = tuple_(Post.published_at, Post.id)
    mark = (post.published_at, post.id)
    older = db.session.scalar(
        base.where(here < mark).order_by(Post.published_at.desc(), Post.id.desc()).limit(1)
    )
    newer = db.session.scalar(
        base.where(here > mark).order_by(Post.published_at.asc(), Post.id.asc()).limit(1)
    )
    return older, newer


RELATED_CANDIDATES = 60


def related_posts(post: Post, limit: int = 3) -> list[Post]:
    """Return live stories that share the most tags with post, then its section's newest.

    The tag overlap is counted in the tag index for a bounded set of candidates,
    so the cost does not grow with the number of posts.
    """
    options = (defer(Post.body), joinedload(Post.author), joinedload(Post.category))
    tag_ids = [tag.id for tag in post.tags]
    chosen: list[Post] = []
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
                select(Post)
                .join(shared, shared.c.post_id == Post.id)
                .where(_visible())
                .options(*options)
                .order_by(shared.c.shared.desc(), same_section.desc(), Post.published_at.desc())
                .limit(limit)
            )
        )
    if len(chosen) < limit:
        taken = [post.id, *(p.id for p in chosen)]
        chosen += db.session.scalars(
            select(Post)
            .where(_visible(), Post.category_id == post.category_id, Post.id.not_in(taken))
            .options(*options)
            .order_by(Post.published_at.desc(), Post.id.desc())
            .limit(limit - len(chosen))
        ).all()
    return chosen


def post_by_wp_id(wp_id: int) -> Post:
    """Return the published post imported from WordPress with this id."""
    post = db.session.scalar(
        select(Post).where(Post.wp_post_id == wp_id, _visible()).options(joinedload(Post.category))
    )
    if post is None:
        raise NotFound("No such article.")
    return post


class ListingPage(SelectPagination):
    """A page of a reader listing, found on the index before any row is loaded.

    Deep pages skip their offset inside the newest-first index (the ids are all
    it holds), then only the page's posts are read: page 200 costs about what
    page 1 does.
    """

    def _query_items(self) -> list[Post]:
        """The page's ids from the index, then those posts with what a card shows."""
        listing = self._query_args["select"]
        ids = list(
            db.session.scalars(
                listing.with_only_columns(Post.id).limit(self.per_page).offset(self._query_offset)
            )
        )
        if not ids:
            return []
        found = {p.id: p for p in db.session.scalars(listing.where(Post.id.in_(ids))).unique()}
        return [found[i] for i in ids if i in found]

    def _query_count(self) -> int:
        """How many posts the listing has, counted on the index."""
        listing = self._query_args["select"]
        return db.session.scalar(listing.with_only_columns(func.count()).order_by(None)) or 0


def listing_page(listing: Select, page: int, per_page: int) -> ListingPage:
    """Paginate a reader listing; a page past the end raises NotFound."""
    pagination = ListingPage(select=listing, session=db.session(), page=page, per_page=per_page)
    if page > 1 and not pagination.items:
        raise NotFound("No such page.")
    return pagination
