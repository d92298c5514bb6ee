"""How the API shows the magazine's things as JSON: one shape, times in ISO 8601 with zone."""

from __future__ import annotations

from collections.abc import Iterable

from ..hosts import absolute_url, post_url
from ..models import Category, Post, Tag, User
from ..services.clock import iso

# What a list shows of each post unless `fields` asks for something else.
SUMMARY_FIELDS = frozenset(
    {
        "id", "title", "slug", "url", "section", "author", "authors",
        "tags", "excerpt", "cover_image",
        "cover_media_id", "cover_alt", "status", "featured", "reading_time", "published_at",
        "updated_at", "version", "seo_title", "seo_description",
    }
)


def section_json(section: Category) -> dict:
    """A section as JSON."""
    return {
        "id": section.id,
        "name": section.name,
        "slug": section.slug,
        "description": section.description,
        "position": section.position,
        "url": absolute_url("public.category", slug=section.slug),
    }


def section_ref(section: Category) -> dict:
    """The short form of a section, inside a post."""
    return {"id": section.id, "slug": section.slug, "name": section.name}


def author_ref(user: User) -> dict:
    """The short form of an author, inside a post."""
    return {
        "username": user.username,
        "name": user.name,
        "url": absolute_url("public.author", username=user.username),
    }


def author_json(user: User, post_count: int) -> dict:
    """An author, with how many published posts they have."""
    return {**author_ref(user), "bio": user.bio or "", "post_count": post_count}


def tag_ref(tag: Tag) -> dict:
    """The short form of a tag, inside a post."""
    return {"slug": tag.slug, "name": tag.name}


def tag_json(tag: Tag, post_count: int) -> dict:
    """A tag, with its page and how many published posts carry it."""
    return {
        **tag_ref(tag),
        "url": absolute_url("public.tag", slug=tag.slug),
        "post_count": post_count,
    }


def page_json(page: Post, staff: bool = False, with_body: bool = True) -> dict:
    """A page (About, Contact…): no section or tags, its parent page's id; the status only
    for staff, the body unless a list leaves it out."""
    data = {
        "id": page.id,
        "title": page.title,
        "slug": page.slug,
        "url": post_url(page),
        "parent": page.parent_id,
        "author": author_ref(page.author),
        "excerpt": page.excerpt,
        "cover_image": page.cover_image,
        "cover_media_id": page.cover_media_id,
        "cover_alt": page.cover_alt,
        "published_at": iso(page.published_at),
        "updated_at": iso(page.updated_at),
        "version": page.version,
        "seo_title": page.seo_title,
        "seo_description": page.seo_description,
    }
    if with_body:
        data["body"] = page.body
    if staff:
        data["status"] = str(page.status)
    return data


def post_json(post: Post, fields: Iterable[str], staff: bool = False) -> dict:
    """A post with the given fields (the id always); the status only for staff."""
    wanted = set(fields) | {"id"}
    if not staff:
        wanted.discard("status")
    makers = {
        "id": lambda: post.id,
        "title": lambda: post.title,
        "slug": lambda: post.slug,
        "url": lambda: post_url(post),
        "section": lambda: section_ref(post.category),
        "author": lambda: author_ref(post.author),
        "authors": lambda: [author_ref(person) for person in post.authors],
        "tags": lambda: [tag_ref(tag) for tag in post.tags],
        "excerpt": lambda: post.excerpt,
        "body": lambda: post.body,
        "cover_image": lambda: post.cover_image,
        "cover_media_id": lambda: post.cover_media_id,
        "cover_alt": lambda: post.cover_alt,
        "status": lambda: str(post.status),
        "featured": lambda: bool(post.featured),
        "reading_time": lambda: post.reading_time,
        "published_at": lambda: iso(post.published_at),
        "updated_at": lambda: iso(post.updated_at),
        "version": lambda: post.version,
        "seo_title": lambda: post.seo_title,
        "seo_description": lambda: post.seo_description,
    }
    return {name: make() for name, make in makers.items() if name in wanted}


def search_hit_json(hit, staff: bool = False) -> dict:
    """A search result: the post's summary and a snippet with <mark> around the words found."""
    return {**post_json(hit.post, SUMMARY_FIELDS, staff), "snippet": str(hit.snippet)}
