"""Feeds and discovery: the posts an Atom feed carries and what a sitemap lists.

Every function here runs a fixed number of queries, however many posts there are.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime

from markupsafe import escape
from sqlalchemy import ColumnElement, func, select
from sqlalchemy.orm import joinedload, selectinload

from ..extensions import db
from ..models import Category, Media, Post, Tag, User, post_tags, utcnow
from . import reading, surrogate
from .media import public_address, public_media, storage
from .media.files import largest_url
from .media.storage import UPLOAD_URL, content_type

FEED_SIZE = 20

# A start tag; its attribute values may be quoted either way or bare, and a ">" inside
# a quoted value does not end the tag. _ATTRIBUTE walks one tag's attributes in turn.
_TAG = re.compile(
    r"""<[a-zA-Z][^\s/>]*(?:\s+[^\s=/>]+(?:\s*=\s*(?:"[^"]*"|'[^']*'|[^\s"'>]+))?)*\s*/?>"""
)
_ATTRIBUTE = re.compile(r"""(\s+)([^\s=/>]+)(?:(\s*=\s*)(?:"([^"]*)"|'([^']*)'|([^\s"'>]+)))?""")
# Characters XML 1.0 forbids even when escaped; a stray one makes the whole feed unreadable.
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


@dataclass(frozen=True)
class SitemapEntry:
    """One address in the sitemap: which page, the values that build its URL, when it changed."""

    kind: str  # "home", "section", "tag", "author", "post" or "page"
    values: dict[str, str]
    lastmod: datetime | None


@dataclass(frozen=True)
class FeedCover:
    """A post's cover as its feed entry carries it: where, what type, how long, how big."""

    address: str  # as readers fetch it (root-relative, or on S3_PUBLIC_URL)
    type: str
    length: int | None
    width: int
    height: int
    alt: str


def feed_covers(posts: list[Post]) -> dict[int, FeedCover]:
    """The covers of posts by post id, in one query (posts without a cover have none)."""
    wanted = {post.cover_media_id for post in posts if post.cover_media_id}
    if not wanted:
        return {}
    found = {m.id: m for m in db.session.scalars(select(Media).where(Media.id.in_(wanted)))}
    covers = {}
    for post in posts:
        media = found.get(post.cover_media_id)
        if media is None:
            continue
        address = largest_url(media)
        name = address.removeprefix(UPLOAD_URL + "/")
        covers[post.id] = FeedCover(
            public_address(address),
            content_type(name),
            storage().size(name),
            media.largest_width,
            media.largest_height,
            post.cover_alt or media.alt,
        )
    return covers


def _live() -> ColumnElement[bool]:
    """The condition for articles readers may see now (as every listing applies it)."""
    return Post.live_article(utcnow())


def _feed_posts(*conditions: ColumnElement[bool], limit: int) -> list[Post]:
    """Return the newest live posts matching conditions, bodies and all, in two queries.

    The reader listings defer the body, and SQLAlchemy 2.1 refuses undefer() on top
    of that defer(), so this builds its own query around the same condition and order.
    """
    query = (
        select(Post)
        .where(_live(), *conditions)
        .options(
            joinedload(Post.author),
            joinedload(Post.coauthors),  # joined in: no query more
            joinedload(Post.category),
            selectinload(Post.tags),
        )
        .order_by(Post.published_at.desc(), Post.id.desc())
        .limit(limit)
    )
    found = list(db.session.scalars(query).unique())
    surrogate.show(surrogate.FEED)
    surrogate.show_posts(found)
    return found


def site_feed_posts(limit: int = FEED_SIZE) -> list[Post]:
    """Return the newest published posts with their full bodies, authors, sections and tags."""
    return _feed_posts(limit=limit)


def section_feed_posts(section: Category, limit: int = FEED_SIZE) -> list[Post]:
    """Return a section's newest published posts with their full bodies."""
    return _feed_posts(Post.category_id == section.id, limit=limit)


def entry_updated(post: Post) -> datetime:
    """Return when a post last changed for readers: never before it went live."""
    if post.published_at is None:
        return post.updated_at
    return max(post.updated_at, post.published_at)


def feed_updated(posts: list[Post], fallback: datetime) -> datetime:
    """Return the newest change among a feed's entries, or fallback for an empty feed."""
    return max((entry_updated(post) for post in posts), default=fallback)


def post_tag_uri(post: Post, host: str) -> str:
    """Return a tag: URI for a post that survives changes to its slug or section."""
    return f"tag:{host},{post.created_at:%Y-%m-%d}:post-{post.id}"


def section_tag_uri(section: Category, host: str) -> str:
    """Return a tag: URI for a section's feed that survives a change to its slug."""
    return f"tag:{host},{section.created_at:%Y-%m-%d}:section-{section.id}"


def _absolute_url(url: str, base_url: str) -> str:
    """Return url made absolute when it is root-relative (/x) or scheme-relative (//host/x)."""
    if url.startswith("//"):
        return base_url.split("//", 1)[0] + url
    if url.startswith("/"):
        return base_url + url
    return url


def _absolute_srcset(srcset: str, base_url: str) -> str:
    """Return a srcset whose candidate URLs are absolute."""
    candidates = []
    for candidate in srcset.split(","):
        parts = candidate.strip().split(None, 1)
        if parts:
            parts[0] = _absolute_url(parts[0], base_url)
            candidates.append(" ".join(parts))
    return ", ".join(candidates)


def absolute_html(body_html: str, base_url: str) -> str:
    """Make root-relative href, src and srcset addresses in sanitised HTML absolute
    (images on S3_PUBLIC_URL, when media is served from there, others on base_url)."""
    base_url = base_url.rstrip("/")
    body_html = public_media(body_html or "")

    def rewrite_attribute(match: re.Match) -> str:
        """Rewrite one attribute when it holds an address; leave every other one be."""
        space, name, equals, double, single, bare = match.groups()
        value = next((v for v in (double, single, bare) if v is not None), None)
        if value is None:
            return match[0]
        name_lower = name.lower()
        if name_lower in ("href", "src"):
            value = _absolute_url(value, base_url)
        elif name_lower == "srcset":
            value = _absolute_srcset(value, base_url)
        else:
            return match[0]
        quote = "'" if single is not None else '"'
        return f"{space}{name}{equals}{quote}{value}{quote}"

    def rewrite_tag(match: re.Match) -> str:
        """Rewrite the attributes of one tag; text between tags is never touched."""
        return _ATTRIBUTE.sub(rewrite_attribute, match[0])

    return _TAG.sub(rewrite_tag, body_html or "")


def entry_html(post: Post, cover: FeedCover | None, base_url: str) -> str:
    """A feed entry's content: the cover (when there is one) above the body, addresses absolute."""
    body = post.body or ""
    if cover is not None:
        image = (
            f'<p><img src="{escape(cover.address)}" alt="{escape(cover.alt)}"'
            f' width="{cover.width}" height="{cover.height}"></p>'
        )
        body = image + body
    return absolute_html(body, base_url)


def xml_safe(document: str) -> str:
    """Remove the characters XML 1.0 cannot carry at all, escaped or not."""
    return _NOT_XML.sub("", document)


def sitemap_entries() -> list[SitemapEntry]:
    """Return every address worth crawling, with its last change, in four queries.

    Order: the home page, sections, tags, authors, pages (at their top-level address),
    then posts oldest first, so a new post lands at the end and earlier sitemap pages
    stay as they were.
    """
    surrogate.show(surrogate.SITEMAP)
    live = _live()
    # Articles and pages in one walk: a page has no section (its section slug is None).
    rows = db.session.execute(
        select(Category.slug, Post.slug, Post.updated_at, Post.published_at)
        .outerjoin(Post.category)
        .where(Post.live(utcnow()))
        .order_by(Post.id)
    ).all()
    post_rows = [row for row in rows if row[0] is not None]
    page_rows = [row[1:] for row in rows if row[0] is None]
    section_rows = db.session.execute(
        select(Category.slug, Category.created_at, func.max(Post.published_at))
        .outerjoin(Post, (Post.category_id == Category.id) & live)
        .group_by(Category.id, Category.slug, Category.created_at)
        .order_by(Category.position, Category.name)
    ).all()
    tag_rows = db.session.execute(
        select(Tag.slug, func.max(Post.published_at))
        .join(post_tags, post_tags.c.tag_id == Tag.id)
        .join(Post, Post.id == post_tags.c.post_id)
        .where(live)
        .group_by(Tag.id, Tag.slug)
        .order_by(Tag.slug)
    ).all()
    pairs = reading.byline_pairs()  # co-authors have author pages too
    author_rows = db.session.execute(
        select(User.username, func.max(Post.published_at))
        .join(pairs, pairs.c.user_id == User.id)
        .join(Post, Post.id == pairs.c.post_id)
        .where(live, User.suspended_at.is_(None))
        .group_by(User.id, User.username)
        .order_by(User.username)
    ).all()

    newest = max((row[3] for row in post_rows), default=None)
    entries = [SitemapEntry("home", {}, newest)]
    entries += [
        SitemapEntry("section", {"slug": slug}, newest_post or created)
        for slug, created, newest_post in section_rows
    ]
    entries += [SitemapEntry("tag", {"slug": slug}, lastmod) for slug, lastmod in tag_rows]
    entries += [
        SitemapEntry("author", {"username": username}, lastmod) for username, lastmod in author_rows
    ]
    entries += [
        SitemapEntry("page", {"slug": slug}, max(updated, published))
        for slug, updated, published in page_rows
    ]
    entries += [
        SitemapEntry(
            "post",
            {"section_slug": section_slug, "post_slug": post_slug},
            max(updated, published),
        )
        for section_slug, post_slug, updated, published in post_rows
    ]
    return entries
