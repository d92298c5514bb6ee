"""Posts: writing, slugs, listings and what readers may see."""

from __future__ import annotations

import math
import re
import unicodedata
from datetime import datetime
from urllib.parse import urlsplit

from flask import current_app
from sqlalchemy import Select, select
from sqlalchemy.orm import defer, joinedload, selectinload

from ..extensions import db
from ..models import Category, Post, PostStatus, Revision, Tag, User, utcnow
from ..sanitize import clean_post_html, plain_text, word_count
from . import NotFound, ServiceError

WORDS_PER_MINUTE = 200
EXCERPT_WORDS = 40
_NON_SLUG = re.compile(r"[^a-z0-9]+")


def slugify(text: str, max_length: int = 80) -> str:
    """Turn a title into a lower-case, hyphenated, ASCII slug."""
    ascii_text = unicodedata.normalize("NFKD", text or "").encode("ascii", "ignore").decode()
    slug = _NON_SLUG.sub("-", ascii_text.lower()).strip("-")
    return slug[:max_length].rstrip("-")


def unique_post_slug(base: str, exclude_id: int | None = None) -> str:
    """Return base, or base-2, base-3 … so that no other post has it."""
    base = base or "post"
    candidate, n = base, 1
    while True:
        query = select(Post.id).where(Post.slug == candidate)
        if exclude_id is not None:
            query = query.where(Post.id != exclude_id)
        if db.session.scalar(query) is None:
            return candidate
        n += 1
        candidate = f"{base[: 200 - len(str(n)) - 1]}-{n}"


def reading_minutes(body_html: str) -> int:
    """Estimate the minutes a reader needs, at least one."""
    return max(1, math.ceil(word_count(body_html) / WORDS_PER_MINUTE))


def derive_excerpt(body_html: str, words: int = EXCERPT_WORDS) -> str:
    """Return the opening words of the body, for a post with no excerpt."""
    parts = plain_text(body_html).split()
    text = " ".join(parts[:words])
    return text + ("…" if len(parts) > words else "")


def get_or_create_tags(names: list[str]) -> list[Tag]:
    """Return tags for the given names, creating the new ones."""
    tags: dict[str, Tag] = {}
    for name in names:
        name = " ".join((name or "").split())[:80]
        slug = slugify(name)
        if not slug or slug in tags:
            continue
        tag = db.session.scalar(select(Tag).where(Tag.slug == slug))
        if tag is None:
            tag = Tag(name=name, slug=slug)
            db.session.add(tag)
        tags[slug] = tag
    return list(tags.values())


def _site_host() -> str | None:
    """Return the host name of the site, for telling internal links apart."""
    url = current_app.config.get("SERVER_NAME_FOR_LINKS")
    if not url:
        return None
    return urlsplit(url).hostname


def create_post(
    author: User,
    title: str,
    body: str,
    category: Category,
    tags: list[str] | None = None,
    excerpt: str = "",
    status: PostStatus = PostStatus.DRAFT,
    published_at: datetime | None = None,
    featured: bool = False,
    slug: str | None = None,
    commit: bool = True,
) -> Post:
    """Write a new post, keeping its first revision."""
    title = " ".join((title or "").split())
    if not title:
        raise ServiceError("A post needs a title.", "title")
    if len(title) > 200:
        raise ServiceError("Keep the title under 200 characters.", "title")
    clean_body = clean_post_html(body, _site_host())
    post = Post(
        title=title,
        slug=unique_post_slug(slugify(slug or title)),
        body=clean_body,
        excerpt=(excerpt or "").strip() or derive_excerpt(clean_body),
        excerpt_written=bool((excerpt or "").strip()),
        category=category,
        author=author,
        status=status,
        featured=featured,
        reading_time=reading_minutes(clean_body),
        published_at=published_at
        or (utcnow() if status == PostStatus.PUBLISHED else None),
        tags=get_or_create_tags(tags or []),
    )
    db.session.add(post)
    db.session.add(
        Revision(post=post, editor=author, title=post.title, excerpt=post.excerpt, body=post.body)
    )
    if commit:
        db.session.commit()
    return post


def published() -> Select:
    """Select the posts readers may see, newest first, with what a listing shows."""
    return (
        select(Post)
        .where(Post.status == PostStatus.PUBLISHED, Post.published_at <= utcnow())
        .options(
            defer(Post.body),
            joinedload(Post.author),
            joinedload(Post.category),
            selectinload(Post.tags),
        )
        .order_by(Post.published_at.desc(), Post.id.desc())
    )


def section_by_slug(slug: str) -> Category:
    """Return the section with this slug or raise NotFound."""
    section = db.session.scalar(select(Category).where(Category.slug == slug))
    if section is None:
        raise NotFound("No such section.")
    return section


def navigation_sections() -> list[Category]:
    """Return the sections in navigation order."""
    return list(db.session.scalars(select(Category).order_by(Category.position, Category.name)))


def published_post(section_slug: str, post_slug: str) -> Post:
    """Return the published post at /<section>/<slug> or raise NotFound."""
    post = db.session.scalar(
        select(Post)
        .join(Post.category)
        .where(Post.slug == post_slug, Category.slug == section_slug)
        .where(Post.status == PostStatus.PUBLISHED, Post.published_at <= utcnow())
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
