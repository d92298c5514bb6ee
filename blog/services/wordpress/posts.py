"""Importing posts and pages: what a WordPress item becomes, and the one place that writes it.

`import_post` decides a post's fields (status, section, tags, author, title, body,
cover) from an item; `write_post` hands them to the writer (`desk.file_post`), which
creates or changes the Post row, chooses its slug and keeps a moved post's old
address. A post is updated by a later run only when what WordPress says about it
changed: each import revision's note carries a fingerprint of what was imported,
so edits made in Circle are kept while WordPress stays the same.
"""

from __future__ import annotations

import hashlib
import json
from collections import Counter
from dataclasses import dataclass, replace
from datetime import datetime
from typing import TYPE_CHECKING
from urllib.parse import unquote

from sqlalchemy import select

from ...extensions import db
from ...models import Category, Media, Post, PostKind, PostStatus, Tag, User, utcnow
from .. import ServiceError, desk, slugs
from .. import media as media_service
from . import comments
from .links import mentions_old_posts
from .markup import has_markup, plain, title_text
from .people import author_for
from .pipeline import PreparedItem
from .postmeta import kept_fields
from .reader import wp_int
from .records import COAUTHOR_PREFIX, WxrCategory, WxrItem
from .redirects import post_redirects
from .sections import section_for_category, tags_for
from .seo import PostFacts, seo_fields

if TYPE_CHECKING:
    from .context import ImportContext

IMPORT_NOTE = "Imported from WordPress"
_STATUS = {
    "publish": PostStatus.PUBLISHED,
    "future": PostStatus.SCHEDULED,
    "draft": PostStatus.DRAFT,
    "pending": PostStatus.PENDING,
    "private": PostStatus.DRAFT,
}


@dataclass
class ImportedPost:
    """What one WordPress item becomes: the post as a draft, its state, how to note it."""

    wp_id: int
    kind: str  # "post" or "page"
    label: str  # how the report names it
    draft: desk.PostDraft  # its slug is the one WordPress gave the post
    author: User
    status: PostStatus
    published_at: datetime | None
    tags: list[Tag]
    created: datetime | None
    modified: datetime | None
    note: str  # the import revision's note, with the fingerprint


def _title(context: ImportContext, item: WxrItem, label: str) -> str:
    """A plain-text title of at most 200 characters; untitled posts get one."""
    title = title_text(item.title)
    if not title:
        words = unquote(item.name).replace("-", " ").strip()
        title = words[:1].upper() + words[1:] if words else f"Untitled {item.wp_id}"
        context.report.notes.append(f"{label} had no title; it is now {title!r}")
    elif has_markup(item.title):
        context.report.notes.append(f"{label}: markup removed from the title")
    if len(title) > 200:
        title = title[:199].rstrip() + "…"
        context.report.notes.append(f"{label}: the title was cut to 200 characters")
    return title


def _cover(context: ImportContext, item: WxrItem) -> tuple[Media | None, str]:
    """The re-hosted library image of the post's featured image, and its alt text.

    A featured image that was not re-hosted gives no cover (covers are library
    images only); the report says so.
    """
    thumbnail = wp_int(item.meta_value("_thumbnail_id"))
    if not thumbnail:
        return None, ""
    attachment = context.scan.attachments.get(thumbnail)
    if thumbnail in context.media:
        _url, alt, media_id = context.media[thumbnail]
        alt = alt or (attachment.title if attachment else "")
        return db.session.get(Media, media_id), alt[:300]
    if attachment is None:
        context.lost[f"featured image {thumbnail} (not in the export)"] += 1
    else:
        context.lost[f"featured image {thumbnail} (not re-hosted, so no cover)"] += 1
    return None, ""


def protected(item: WxrItem) -> bool:
    """Whether WordPress asked readers for a password to read the item."""
    return bool(item.password.strip())


def _status(context: ImportContext, item: WxrItem, kind: str, label: str) -> PostStatus | None:
    """The status the item is imported with, or None (reported) when it is left out."""
    if not item.wp_id:
        context.report.skip(kind, label, "it has no wp:post_id, so a later run could not find it")
        return None
    if item.status == "trash":
        context.report.skip(kind, label, "in the WordPress trash")
        return None
    if item.status not in _STATUS:
        context.report.skip(kind, label, f"WordPress status {item.status or 'none'!r}")
        return None
    status = _STATUS[item.status]
    if item.status == "private":
        context.report.notes.append(f"{label} was private: imported as a draft")
    if protected(item):
        status = PostStatus.DRAFT
        dated = f"; it keeps its date, {item.date:%Y-%m-%d %H:%M} UTC" if item.date else ""
        context.report.notes.append(
            f"{label} was password-protected: imported as a draft, since Circle has no "
            f"per-post passwords (publish it to show it to everyone){dated}"
        )
    return status


def _section_and_tags(
    context: ImportContext, item: WxrItem, kind: str
) -> tuple[Category | None, list[Tag]]:
    """The item's section (its first real category) and tags (the other categories too).

    A page has neither: it becomes a Circle page (no section, no tags).
    """
    if kind == "page":
        return None, []
    categories = [(n, name) for d, n, name in item.categories if d == "category" and n]
    if not categories:
        categories = [("uncategorized", "Uncategorized")]
    primary = next((c for c in categories if c[0] != "uncategorized"), categories[0])
    if primary[0] not in context.scan.categories:
        context.scan.categories[primary[0]] = WxrCategory(
            nicename=primary[0], name=plain(primary[1]) or primary[0]
        )
    section = section_for_category(context, primary[0])
    extra_tags = [name for n, name in categories if n not in (primary[0], "uncategorized")]
    tag_names = [name for d, _n, name in item.categories if d == "post_tag"] + extra_tags
    return section, tags_for(context, tag_names)


def _fingerprint(values: dict) -> str:
    """A short digest of what an import wrote to a post."""
    data = json.dumps(values, sort_keys=True, default=str)
    return hashlib.sha256(data.encode()).hexdigest()[:16]


def _imported(context: ImportContext, item: WxrItem, kind: str, label: str,
              status: PostStatus, prepared: PreparedItem, lost: list[str]) -> ImportedPost:
    """Everything the item says about its post, as the fields write_post sets.

    prepared: its body converted and sanitised (pipeline.py); what that lost comes first.
    """
    section, tags = _section_and_tags(context, item, kind)
    author = author_for(context, item.creator)
    coauthors = _coauthors(context, item, author)
    title = _title(context, item, label)
    lost.extend(prepared.lost)
    context.linked.update(prepared.linked)
    body = desk.sized_body(prepared.body)
    cover, cover_alt = _cover(context, item)
    excerpt_text = plain(item.excerpt)
    created = item.date
    # A password-protected post is a draft here, but keeps the date WordPress published it.
    live = status in (PostStatus.PUBLISHED, PostStatus.SCHEDULED)
    published_at = created if live or protected(item) else None
    slug_base = (
        slugs.slugify(unquote(item.name), 200)
        or slugs.readable_slug(title, 200)
        or f"post-{item.wp_id}"
    )
    values = {
        "title": title,
        "body": body,
        "excerpt": excerpt_text or desk.derive_excerpt(body),
        "excerpt_written": bool(excerpt_text),
        "status": status.value,
        "published_at": published_at,
        "category_id": section.id if section else None,
        "author_id": author.id,
        "featured": item.sticky,
        "cover_media_id": cover.id if cover else None,
        "cover_image": media_service.cover_address(cover),
        "cover_alt": cover_alt if cover else "",
        "reading_time": desk.reading_minutes(body),
    }
    seo_title, seo_description = seo_fields(
        item, PostFacts(title, values["excerpt"], section.name if section else ""), lost
    )
    fields = kept_fields(item, lost)
    if kind == "page":
        values["kind"] = "page"  # posts' fingerprints stay as they were
    if seo_title or seo_description:  # and so do those of posts without SEO fields
        values["seo"] = [seo_title, seo_description]
    if fields:  # and so do those of posts without custom fields
        values["fields"] = fields
    # What the fingerprint covers is kept as it was, so earlier imports still match.
    fingerprint = _fingerprint(
        {
            **values,
            "slug": slug_base,
            "tags": [t.slug for t in tags],
            "created": created,
            **({"coauthors": coauthors} if coauthors else {}),
        }
    )
    draft = desk.PostDraft(
        title=title,
        body=body,
        excerpt=excerpt_text,
        category_id=section.id if section else None,
        slug=slug_base,
        cover_media_id=values["cover_media_id"],
        cover_alt=values["cover_alt"],
        featured=item.sticky,
        seo_title=seo_title,
        seo_description=seo_description,
        coauthors=coauthors or None,  # none named: those added in Circle stay
        custom_fields=fields or None,  # none in the file: those added in Circle stay
    )
    return ImportedPost(
        wp_id=item.wp_id, kind=kind, label=label, draft=draft, author=author, status=status,
        published_at=published_at, tags=tags, created=created, modified=item.modified,
        note=f"{IMPORT_NOTE} ({kind} {item.wp_id}, {fingerprint})",
    )


def _coauthors(context: ImportContext, item: WxrItem, author: User) -> list[str]:
    """The usernames of the item's co-authors (Co-Authors Plus terms), in order, bar the author."""
    people: list[str] = []
    for domain, nicename, _name in item.categories:
        if domain != "author" or not nicename.startswith(COAUTHOR_PREFIX):
            continue
        person = author_for(context, nicename.removeprefix(COAUTHOR_PREFIX))
        if person.id != author.id and person.username not in people:
            people.append(person.username)
    return people


def import_post(context: ImportContext, item: WxrItem, prepared: PreparedItem) -> None:
    """Create or update one post or page, its redirects and its comments.

    prepared: its body and comments converted and sanitised (pipeline.py).
    """
    kind = "page" if item.post_type == "page" else "post"
    label = f'{kind} {item.wp_id} "{title_text(item.title)[:60] or unquote(item.name)}"'
    status = _status(context, item, kind, label)
    if status is None:
        return
    lost: list[str] = []
    fields = _imported(context, item, kind, label, status, prepared, lost)
    post = _imported_before(context, item.wp_id)
    if post is not None and context.known.notes.get(post.id) == fields.note:
        context.report.unchanged[kind] += 1
    else:
        post = write_post(context, fields, post)
        context.known.posts[item.wp_id] = post.id
        context.known.notes[post.id] = fields.note
    if any(domain == "post_format" for domain, _n, _name in item.categories):
        context.lost["post formats (Circle has none: such posts are standard posts here)"] += 1
    for entry, count in Counter(lost).items():
        times = f" ({count} times)" if count > 1 else ""
        context.report.not_brought_over.append(f"{label}: {entry}{times}")
    if kind == "page" and post.is_page and item.parent:
        context.page_parents[post.id] = item.parent
    post_redirects(context, post, item)
    if mentions_old_posts(post.body, context):
        context.internal_links.add(post.id)
    if post.is_page and item.comments:
        context.lost["comments on pages (Circle's pages take no comments)"] += len(item.comments)
        return
    comments.import_comments(context, post, item, prepared.comments)


def link_page_parents(context: ImportContext) -> None:
    """The second pass: put each imported page under its WordPress parent page.

    A parent that was not imported (or is no page here) leaves the page at the top; a
    parent that would make a loop is refused. The report says which.
    """
    for page_id, wp_parent in context.page_parents.items():
        page = db.session.get(Post, page_id)
        parent = db.session.scalar(
            select(Post).where(Post.wp_post_id == wp_parent, Post.pages())
        )
        if parent is None:
            context.report.notes.append(
                f"page {page.wp_post_id} \"{page.title[:60]}\": its parent {wp_parent} was "
                "not imported as a page; it is a top page here"
            )
            continue
        if page.parent_id == parent.id:
            continue
        try:
            desk.file_page_parent(page, parent.id)
        except ServiceError as refusal:
            context.report.notes.append(
                f"page {page.wp_post_id} \"{page.title[:60]}\": {refusal.message}"
            )


def _imported_before(context: ImportContext, wp_id: int) -> Post | None:
    """The post an earlier import (or this run) made of WordPress post wp_id, if any."""
    if wp_id not in context.known.posts:
        return None
    return db.session.scalar(select(Post).where(Post.wp_post_id == wp_id))


def write_post(context: ImportContext, fields: ImportedPost, post: Post | None) -> Post:
    """Create the post (post None) or bring it in line with fields, through the writer.

    A new post is dated as WordPress dated it; a changed one keeps the SEO fields
    written in Circle (WordPress's fill those left empty). The writer chooses the slug
    and keeps a moved post's old address.
    """
    new = post is None
    draft = fields.draft
    if not new:
        draft = replace(
            draft,
            seo_title=post.seo_title or draft.seo_title,
            seo_description=post.seo_description or draft.seo_description,
        )
    post = desk.file_post(
        draft,
        fields.author,
        status=fields.status,
        # A WordPress 'future' post without a date is due now.
        published_at=fields.published_at
        or (utcnow() if fields.status == PostStatus.SCHEDULED else None),
        written_at=(fields.modified or fields.created) if new else None,
        post=post,
        note=fields.note,
        created_at=fields.created if new else None,
        tags=fields.tags,
        wp_post_id=fields.wp_id,
        kind=PostKind.PAGE if fields.kind == "page" else PostKind.POST,
    )
    db.session.flush()
    if not new:
        context.known.posts_moved = True  # the writer may have kept or dropped old addresses
        context.report.updated[fields.kind] += 1
        return post
    context.report.created[fields.kind] += 1
    if post.slug != draft.slug and post.is_page:
        context.report.notes.append(
            f"{fields.label}: the slug {draft.slug!r} is taken here (by a section, another "
            f"page or post, or the site's own addresses); it is {post.slug!r} now (its old "
            "address redirects)"
        )
    elif post.slug != draft.slug:
        context.report.notes.append(
            f"{fields.label}: the slug {draft.slug!r} was taken here; it is {post.slug!r} now "
            "(its old address redirects)"
        )
    return post
