"""Posts: writing, slugs and moved-post redirects (reading lives in services/reading.py)."""

from __future__ import annotations

import math
import re
import unicodedata
from datetime import datetime

from sqlalchemy import delete, select
from sqlalchemy.orm import joinedload

from ..extensions import db
from ..hosts import site_host
from ..models import (
    Category,
    Media,
    Post,
    PostStatus,
    Redirect,
    Revision,
    Tag,
    User,
    utcnow,
)
from ..sanitize import clean_post_html, plain_text, word_count
from . import ServiceError
from . import media as media_service

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


def prepare_body(raw: str) -> str:
    """Sanitise a body and give its uploaded images responsive sizes."""
    return media_service.enrich_images(clean_post_html(raw, site_host()))


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
    cover: Media | None = None,
    cover_alt: str = "",
    commit: bool = True,
) -> Post:
    """Write a new post, keeping its first revision."""
    title = " ".join((title or "").split())
    if not title:
        raise ServiceError("A post needs a title.", "title")
    if len(title) > 200:
        raise ServiceError("Keep the title under 200 characters.", "title")
    clean_body = prepare_body(body)
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
        published_at=published_at or (utcnow() if status == PostStatus.PUBLISHED else None),
        tags=get_or_create_tags(tags or []),
    )
    db.session.add(post)
    media_service.set_cover(post, cover, cover_alt or (cover.alt if cover else ""))
    db.session.add(
        Revision(post=post, editor=author, title=post.title, excerpt=post.excerpt, body=post.body)
    )
    if commit:
        db.session.commit()
    return post


def normalise_path(path: str) -> str:
    """Return a path in the form redirects store it: no slashes at either end."""
    return (path or "").strip().strip("/")[:500]


def redirect_for(path: str) -> Redirect | None:
    """Return the redirect kept for an old address, if any."""
    return db.session.scalar(
        select(Redirect)
        .where(Redirect.path == normalise_path(path))
        .options(joinedload(Redirect.post).joinedload(Post.category), joinedload(Redirect.category))
    )


def forget_address(path: str) -> None:
    """Drop a redirect: the address is live again (a post moved back to it)."""
    db.session.execute(delete(Redirect).where(Redirect.path == normalise_path(path)))


def remember_old_address(path: str, post: Post | None = None, section: Category | None = None):
    """Keep an old address so it answers with a 301 to the post or section."""
    path = normalise_path(path)
    existing = db.session.scalar(select(Redirect).where(Redirect.path == path))
    if existing is None:
        existing = Redirect(path=path)
        db.session.add(existing)
    existing.post, existing.category = post, section
    return existing


def move_post(post: Post, slug: str | None = None, section: Category | None = None) -> Post:
    """Change a post's slug or section; its old address keeps working (301)."""
    old_path = f"{post.category.slug}/{post.slug}"
    if slug is not None:
        new_slug = slugify(slug)
        if not new_slug:
            raise ServiceError("A slug needs letters or digits.", "slug")
        if new_slug != post.slug:
            if unique_post_slug(new_slug, exclude_id=post.id) != new_slug:
                raise ServiceError("Another post already has that slug.", "slug")
            post.slug = new_slug
    section = section or post.category
    if section.id != post.category_id:
        post.category_id = section.id
        db.session.expire(post, ["category"])
    new_path = f"{section.slug}/{post.slug}"
    if new_path != old_path:
        forget_address(new_path)
        remember_old_address(old_path, post=post)
    db.session.commit()
    return post
