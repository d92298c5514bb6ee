"""Test data: people, sections and posts made through the real services (posts: the writer)."""

from __future__ import annotations

import itertools
from datetime import timedelta
from io import BytesIO

from PIL import Image
from werkzeug.datastructures import FileStorage

from blog.extensions import db
from blog.models import Category, Media, Post, PostKind, PostStatus, User, utcnow
from blog.services import desk, slugs
from blog.services import media as media_service
from blog.services import users as user_service

PASSWORD = "correct horse battery"
_counter = itertools.count(1)


class Factory:
    """Makes test data with sensible defaults."""

    def user(self, role: str = "reader", username: str | None = None, **kwargs) -> User:
        """Create a person with the given role and the shared test password."""
        n = next(_counter)
        username = username or f"{role}{n}"
        user = user_service.create_user(
            kwargs.pop("email", f"{username}@example.com"),
            username,
            kwargs.pop("password", PASSWORD),
            role=role,
            display_name=kwargs.pop("display_name", username.title()),
        )
        return user

    def user_named(self, username: str, role: str = "reader") -> User:
        """Return the person with this username, creating them once."""
        from sqlalchemy import select

        found = db.session.scalar(select(User).where(User.username == username))
        return found or self.user(role, username=username)

    def section(self, name: str | None = None, slug: str | None = None, **kwargs) -> Category:
        """Create a section."""
        n = next(_counter)
        name = name or f"Section {n}"
        section = Category(
            name=name,
            slug=slug or slugs.slugify(name),
            description=kwargs.get("description", f"About {name}."),
            position=kwargs.get("position", n),
        )
        db.session.add(section)
        db.session.commit()
        return section

    def image(
        self,
        uploader: User | None = None,
        alt: str = "A quiet harbour at dawn",
        size: tuple[int, int] = (320, 180),
    ) -> Media:
        """Upload a JPEG (small by default) to the media library, as someone who may upload."""
        uploader = uploader or self.user_named("image-uploader", "author")
        out = BytesIO()
        Image.new("RGB", size, (40, 90, 140)).save(out, format="JPEG")
        out.seek(0)
        return media_service.save_upload(
            FileStorage(stream=out, filename="harbour.jpg", content_type="image/jpeg"),
            uploader,
            alt,
        )

    def post(
        self,
        author: User | None = None,
        section: Category | None = None,
        status: PostStatus = PostStatus.PUBLISHED,
        **kwargs,
    ) -> Post:
        """Write a post through the writer, as the system; published ones are dated in the past."""
        n = next(_counter)
        author = author or self.user("author")
        section = section or self.section()
        published_at = kwargs.pop("published_at", None)
        if status == PostStatus.PUBLISHED and published_at is None:
            # Each post is a little newer than the one made before it.
            published_at = utcnow() - timedelta(days=1) + timedelta(seconds=n)
        cover = kwargs.pop("cover", None)
        draft = desk.PostDraft(
            title=kwargs.pop("title", f"Story number {n}"),
            body=kwargs.pop("body", f"<p>The body of story {n}, with several words in it.</p>"),
            category_id=section.id,
            tags=kwargs.pop("tags", []),
            cover_media_id=cover.id if cover else None,
            **kwargs,
        )
        return desk.file_post(draft, author, status=status, published_at=published_at)

    def page(
        self,
        author: User | None = None,
        status: PostStatus = PostStatus.PUBLISHED,
        parent: Post | None = None,
        **kwargs,
    ) -> Post:
        """Write a page (About, Contact…) through the writer, as the system."""
        n = next(_counter)
        author = author or self.user("admin")
        published_at = kwargs.pop("published_at", None)
        if status == PostStatus.PUBLISHED and published_at is None:
            published_at = utcnow() - timedelta(days=1) + timedelta(seconds=n)
        draft = desk.PostDraft(
            title=kwargs.pop("title", f"Page number {n}"),
            body=kwargs.pop("body", f"<p>The body of page {n}.</p>"),
            parent_id=parent.id if parent else None,
            **kwargs,
        )
        return desk.file_post(
            draft, author, status=status, published_at=published_at, kind=PostKind.PAGE
        )
