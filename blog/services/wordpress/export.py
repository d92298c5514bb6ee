"""Exporting the magazine as a WordPress export (WXR 1.2) that WordPress's importer accepts.

Sections become categories, tags stay tags, the people who wrote posts become
authors, comments keep their status and threads, and library images become
attachment items whose files are addresses on this site (WordPress's importer
downloads them). The file is written as it goes, a batch of posts at a time,
into a temporary file that replaces the target only once it is complete.
"""

from __future__ import annotations

import html
import re
from collections.abc import Callable
from dataclasses import dataclass
from email.utils import format_datetime
from pathlib import Path
from typing import TextIO
from xml.sax.saxutils import escape, quoteattr
from zoneinfo import ZoneInfo

from flask import current_app
from sqlalchemy import ColumnElement, func, select
from sqlalchemy.orm import joinedload, selectinload

from ...extensions import db
from ...hosts import absolute_url, links_root
from ...models import (
    Category,
    Comment,
    Media,
    Post,
    PostStatus,
    Tag,
    User,
    post_coauthors,
)
from .. import clock, slugs
from .. import media as media_service
from ..backup import written_whole
from .export_xml import WxrOut, cdata, comment_content, element, wp_dates
from .records import COAUTHOR_PREFIX
from .seo import DESCRIPTION_KEYS, TITLE_KEYS

BATCH = 200

_STATUS = {
    PostStatus.PUBLISHED: "publish",
    PostStatus.SCHEDULED: "future",
    PostStatus.DRAFT: "draft",
    PostStatus.PENDING: "pending",
    PostStatus.TRASH: "trash",
}
_COMMENT_APPROVED = {"approved": "1", "pending": "0", "spam": "spam", "trash": "trash"}
_MEDIA_KEY = re.compile(r"/uploads/\d{4}/\d{2}/([0-9a-f]{32})-\d+\.(?:jpg|png|webp)$")


@dataclass
class ExportSummary:
    """What went into the file."""

    posts: int = 0
    pages: int = 0
    attachments: int = 0
    comments: int = 0
    authors: int = 0
    categories: int = 0
    tags: int = 0


class _Writer(WxrOut):
    """Writes the WXR elements for one export."""

    def __init__(self, out: TextIO, site: str, zone: ZoneInfo):
        """Write to out, with addresses on site and local times in zone."""
        super().__init__(out, site, zone)
        self.summary = ExportSummary()
        self.attachment_offset = 0
        self.tag_offset = 0
        self.media_by_key: dict[str, int] = {}
        self.author_ids: set[int] = set()  # the people written as wp:author

    def authors(self) -> None:
        """A wp:author for everyone who wrote or co-wrote a post, uploaded an image, or
        commented with an account of their own (see `registered`)."""
        people = db.session.scalars(
            select(User)
            .where(
                User.id.in_(select(Post.author_id))
                | User.id.in_(select(post_coauthors.c.user_id))
                | User.id.in_(select(Media.uploader_id))
                | (User.id.in_(select(Comment.author_id)) & registered())
            )
            .order_by(User.id)
        )
        for user in people:
            self.author_ids.add(user.id)
            self.line("<wp:author>", 1)
            self.line(element("wp:author_id", user.id), 2)
            self.line(element("wp:author_login", login_of(user), True), 2)
            self.line(element("wp:author_email", user.email, True), 2)
            self.line(element("wp:author_display_name", user.name, True), 2)
            self.line(element("wp:author_first_name", "", True), 2)
            self.line(element("wp:author_last_name", "", True), 2)
            self.line("</wp:author>", 1)
            self.summary.authors += 1

    def terms(self) -> None:
        """The sections as categories and every tag, those no post uses too."""
        sections = db.session.scalars(select(Category).order_by(Category.position, Category.id))
        for section in sections:
            self.line("<wp:category>", 1)
            self.line(element("wp:term_id", section.id), 2)
            self.line(element("wp:category_nicename", slugs.wordpress_form(section.slug), True), 2)
            self.line(element("wp:category_parent", "", True), 2)
            self.line(element("wp:cat_name", section.name, True), 2)
            self.line(element("wp:category_description", section.description, True), 2)
            self.line("</wp:category>", 1)
            self.summary.categories += 1
        # WordPress keeps one id space for all terms: tags come after the categories.
        self.tag_offset = db.session.scalar(select(func.max(Category.id))) or 0
        for tag in db.session.scalars(select(Tag).order_by(Tag.id)):
            self.line("<wp:tag>", 1)
            self.line(element("wp:term_id", self.tag_offset + tag.id), 2)
            self.line(element("wp:tag_slug", slugs.wordpress_form(tag.slug), True), 2)
            self.line(element("wp:tag_name", tag.name, True), 2)
            self.line("</wp:tag>", 1)
            self.summary.tags += 1

    def attachments(self) -> None:
        """An attachment item per library image, its file given as an address here."""
        # Posts and attachments share WordPress's id space: images come after the posts.
        self.attachment_offset = db.session.scalar(select(func.max(Post.id))) or 0
        query = select(Media).options(joinedload(Media.uploader)).order_by(Media.id)
        for media in db.session.scalars(query):
            wp_id = self.attachment_offset + media.id
            self.media_by_key[media.key] = wp_id
            url = self.absolute(media_service.largest_url(media))
            local, gmt = wp_dates(media.created_at, self.zone)
            name = Path(media.original_name or media.key).stem or media.key
            file_name = url.rsplit("/uploads/", 1)[-1]
            self.line("<item>", 1)
            self.line(element("title", name, True), 2)
            self.line(element("link", url), 2)
            self.line(element("pubDate", format_datetime(media.created_at)), 2)
            creator = login_of(media.uploader) if media.uploader else ""
            self.line(element("dc:creator", creator, True), 2)
            self.line(f'<guid isPermaLink="false">{escape(url)}</guid>', 2)
            self.line("<description></description>", 2)
            self.line(element("content:encoded", "", True), 2)
            self.line(element("excerpt:encoded", "", True), 2)
            self.line(element("wp:post_id", wp_id), 2)
            self.line(element("wp:post_date", local, True), 2)
            self.line(element("wp:post_date_gmt", gmt, True), 2)
            self.line(element("wp:comment_status", "closed", True), 2)
            self.line(element("wp:ping_status", "closed", True), 2)
            self.line(element("wp:post_name", media.key, True), 2)
            self.line(element("wp:status", "inherit", True), 2)
            self.line(element("wp:post_parent", 0), 2)
            self.line(element("wp:menu_order", 0), 2)
            self.line(element("wp:post_type", "attachment", True), 2)
            self.line(element("wp:post_password", "", True), 2)
            self.line(element("wp:is_sticky", 0), 2)
            self.line(element("wp:attachment_url", url, True), 2)
            self.meta("_wp_attached_file", file_name, 2)
            if media.alt:
                self.meta("_wp_attachment_image_alt", media.alt, 2)
            self.line("</item>", 1)
            self.summary.attachments += 1

    def post(self, post: Post, comments: list[Comment]) -> None:
        """One post (or page: post_type page, its parent, no terms) as an item, with its
        terms, featured image and comments."""
        if post.is_page:
            link = absolute_url("public.page", slug=post.slug, _root=self.site)
        else:
            link = absolute_url(
                "public.post", section_slug=post.category.slug, post_slug=post.slug,
                _root=self.site,
            )
        published = post.published_at or post.created_at
        local, gmt = wp_dates(post.published_at or post.created_at, self.zone)
        modified_local, modified_gmt = wp_dates(post.updated_at, self.zone)
        self.line("<item>", 1)
        # WordPress keeps titles, excerpts and comments as HTML; Circle's are plain text.
        self.line(element("title", html.escape(post.title, quote=False), True), 2)
        self.line(element("link", link), 2)
        self.line(element("pubDate", format_datetime(published)), 2)
        self.line(element("dc:creator", login_of(post.author), True), 2)
        self.line(f'<guid isPermaLink="false">{escape(self.site)}/?p={post.id}</guid>', 2)
        self.line("<description></description>", 2)
        self.line(element("content:encoded", self.absolute_html(post.body), True), 2)
        excerpt = html.escape(post.excerpt, quote=False) if post.excerpt_written else ""
        self.line(element("excerpt:encoded", excerpt, True), 2)
        self.line(element("wp:post_id", post.id), 2)
        self.line(element("wp:post_date", local, True), 2)
        self.line(element("wp:post_date_gmt", gmt, True), 2)
        self.line(element("wp:post_modified", modified_local, True), 2)
        self.line(element("wp:post_modified_gmt", modified_gmt, True), 2)
        self.line(element("wp:comment_status", "closed" if post.is_page else "open", True), 2)
        self.line(element("wp:ping_status", "closed", True), 2)
        self.line(element("wp:post_name", slugs.wordpress_form(post.slug), True), 2)
        self.line(element("wp:status", _STATUS.get(post.status, "draft"), True), 2)
        self.line(element("wp:post_parent", post.parent_id or 0), 2)
        self.line(element("wp:menu_order", 0), 2)
        self.line(element("wp:post_type", "page" if post.is_page else "post", True), 2)
        self.line(element("wp:post_password", "", True), 2)
        self.line(element("wp:is_sticky", 1 if post.featured else 0), 2)
        section = post.category
        if section is not None:
            self.line(
                f'<category domain="category" '
                f"nicename={quoteattr(slugs.wordpress_form(section.slug))}>"
                f"{cdata(section.name)}</category>",
                2,
            )
        for tag in post.tags:
            self.line(
                f'<category domain="post_tag" nicename={quoteattr(slugs.wordpress_form(tag.slug))}>'
                f"{cdata(tag.name)}</category>",
                2,
            )
        # Co-authors as the Co-Authors Plus plugin writes them (the author first, in order).
        if post.coauthors:
            for person in post.authors:
                term = quoteattr(COAUTHOR_PREFIX + login_of(person))
                self.line(
                    f'<category domain="author" nicename={term}>{cdata(person.name)}</category>', 2
                )
        found = _MEDIA_KEY.search(post.cover_image or "")
        if found and found.group(1) in self.media_by_key:
            self.meta("_thumbnail_id", str(self.media_by_key[found.group(1)]), 2)
        elif post.cover_image:
            self.meta("_circle_cover_image", self.absolute(post.cover_image), 2)
        # The SEO fields as Yoast keeps them: WordPress with Yoast, and Circle, read them back.
        if post.seo_title:
            self.meta(TITLE_KEYS[0], post.seo_title, 2)
        if post.seo_description:
            self.meta(DESCRIPTION_KEYS[0], post.seo_description, 2)
        for field in post.custom_fields:
            self.meta(field.key, field.value, 2)
        for comment in comments:
            self.comment(comment)
        self.line("</item>", 1)
        if post.is_page:
            self.summary.pages += 1
        else:
            self.summary.posts += 1

    def comment(self, comment: Comment) -> None:
        """One wp:comment."""
        local, gmt = wp_dates(comment.created_at, self.zone)
        author = comment.author
        self.line("<wp:comment>", 2)
        self.line(element("wp:comment_id", comment.id), 3)
        self.line(element("wp:comment_author", author.name if author else "", True), 3)
        self.line(element("wp:comment_author_email", author.email if author else "", True), 3)
        self.line(element("wp:comment_author_url", ""), 3)
        self.line(element("wp:comment_author_IP", comment.ip_address, True), 3)
        self.line(element("wp:comment_date", local, True), 3)
        self.line(element("wp:comment_date_gmt", gmt, True), 3)
        self.line(element("wp:comment_content", comment_content(comment.body_html), True), 3)
        self.line(
            element("wp:comment_approved", _COMMENT_APPROVED.get(comment.status, "0"), True), 3
        )
        self.line(element("wp:comment_type", "comment", True), 3)
        self.line(element("wp:comment_parent", comment.parent_id or 0), 3)
        # A commenter with an account is a user of the export; one without is a guest.
        user_id = comment.author_id if comment.author_id in self.author_ids else 0
        self.line(element("wp:comment_user_id", user_id), 3)
        self.line("</wp:comment>", 2)
        self.summary.comments += 1

    def posts(self, progress: Callable[[int, int], None] | None) -> None:
        """Every post, a batch at a time, with its comments."""
        ids = list(db.session.scalars(select(Post.id).order_by(Post.id)))
        for start in range(0, len(ids), BATCH):
            chunk = ids[start : start + BATCH]
            posts = db.session.scalars(
                select(Post)
                .where(Post.id.in_(chunk))
                .options(
                    joinedload(Post.author),
                    selectinload(Post.coauthors),
                    joinedload(Post.category),
                    selectinload(Post.tags),
                    selectinload(Post.custom_fields),
                )
                .order_by(Post.id)
            ).unique()
            by_post: dict[int, list[Comment]] = {}
            for comment in db.session.scalars(
                select(Comment)
                .where(Comment.post_id.in_(chunk))
                .options(joinedload(Comment.author))
                .order_by(Comment.id)
            ):
                by_post.setdefault(comment.post_id, []).append(comment)
            for post in posts:
                self.post(post, by_post.get(post.id, []))
            db.session.expunge_all()
            if progress:
                progress(min(start + BATCH, len(ids)), len(ids))


def registered() -> ColumnElement[bool]:
    """SQL condition: the person has an account of their own, not a guest's.

    A guest is the reader account an import made for someone who commented on WordPress
    without one: no password, never signed in, no WordPress login. A guest's comments
    export as a guest's (wp:comment_user_id 0), everyone else's under their wp:author.
    """
    return (
        User.password_hash.is_not(None)
        | User.last_login_at.is_not(None)
        | User.wp_login.is_not(None)
    )


def login_of(user: User) -> str:
    """The WordPress login a person exports under: their old one, else their username."""
    return user.wp_login or user.username


def export_wxr(
    path: Path | str,
    site_url: str | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> ExportSummary:
    """Write the whole magazine as a WordPress export at path; return what went in."""
    path = Path(path)
    site = site_url or links_root()
    zone = clock.site_zone()
    with (
        written_whole(path) as temp,
        open(temp, "w", encoding="utf-8", newline="\n") as out,
        current_app.test_request_context("/", base_url=site.rstrip("/")),
    ):
        writer = _Writer(out, site, zone)
        writer.head()
        writer.authors()
        writer.terms()
        writer.attachments()
        writer.posts(progress)
        writer.tail()
    return writer.summary
