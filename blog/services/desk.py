"""The writing desk: drafting, saving with conflict detection, autosave and revisions."""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass, field
from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.orm import selectinload
from sqlalchemy.orm.exc import StaleDataError

from ..extensions import db
from ..models import Category, Media, Permission, Post, PostStatus, Revision, User, utcnow
from ..models.content import LIVE_STATUSES
from ..permissions import can_edit, can_publish, can_view_post
from ..sanitize import clean_post_html, plain_text
from . import Forbidden, NotFound, ServiceError
from . import media as media_service
from . import posts as post_service

SLUG_RE = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
MAX_TITLE = 200
AUTOSAVE_MERGE = timedelta(minutes=10)


@dataclass
class PostDraft:
    """What the desk's form sends: the fields a writer controls."""

    title: str
    body: str = ""
    excerpt: str = ""
    category_id: int | None = None
    tags: list[str] = field(default_factory=list)
    slug: str = ""
    cover_media_id: int | None = None  # a media library item
    cover_alt: str = ""
    seo_title: str = ""
    seo_description: str = ""
    featured: bool | None = None


class Conflict(ServiceError):
    """Someone else saved the post after this writer opened it."""

    def __init__(self, post: Post, draft: PostDraft):
        super().__init__(
            "Someone else saved this post while you were editing. Nothing was overwritten: "
            "compare the two versions below and save again."
        )
        self.post = post
        self.draft = draft


def split_tags(raw: str) -> list[str]:
    """Turn 'a, b, c' into ['a', 'b', 'c']."""
    return [part.strip() for part in (raw or "").split(",") if part.strip()][:30]


def get_post_for(actor: User, post_id: int, edit: bool = False) -> Post:
    """Return a post the actor may see (404 otherwise), and may change when edit (403)."""
    post = db.session.scalar(
        select(Post).where(Post.id == post_id).options(selectinload(Post.tags))
    )
    if post is None or not can_view_post(actor, post):
        raise NotFound("No such post.")
    if edit and not can_edit(actor, post):
        raise Forbidden("You may not change this post.")
    return post


def _section(actor: User, category_id: int | None, post: Post | None) -> Category:
    """Return the chosen section, checking it exists and the actor may use it."""
    section = db.session.get(Category, category_id) if category_id else None
    if section is None:
        raise ServiceError("Choose a section that exists.", "category")
    moving = post is not None and post.category_id != section.id
    writes_own = post is None or post.author_id == actor.id
    if moving and not writes_own and not actor.can(Permission.EDIT_ANY, section):
        raise Forbidden("You may not move posts into that section.")
    return section


def _validate(draft: PostDraft) -> tuple[str, str]:
    """Check the title and slug; return them cleaned."""
    title = " ".join((draft.title or "").split())
    if not title:
        raise ServiceError("A post needs a title.", "title")
    if len(title) > MAX_TITLE:
        raise ServiceError(f"Keep the title to {MAX_TITLE} characters or fewer.", "title")
    slug = (draft.slug or "").strip()
    if slug and not SLUG_RE.match(slug):
        raise ServiceError(
            "A slug is lower-case letters, digits and single hyphens, like my-first-story.",
            "slug",
        )
    if len(slug) > 200:
        raise ServiceError("Keep the slug to 200 characters or fewer.", "slug")
    return title, slug


def _cover(draft: PostDraft) -> tuple[Media | None, str]:
    """The chosen library image and its alt text (the library's when none is written)."""
    media = media_service.cover_media(draft.cover_media_id)
    if media is None:
        return None, ""
    alt = (draft.cover_alt or "").strip() or media.alt
    if not alt:
        raise ServiceError("Describe the cover image for readers who cannot see it.", "cover_alt")
    return media, alt


def _apply(actor: User, post: Post, draft: PostDraft, section: Category, title: str, slug: str):
    """Copy a validated draft onto a post, sanitising and deriving what is derived."""
    cover, cover_alt = _cover(draft)
    body = post_service.prepare_body(draft.body)
    excerpt = (draft.excerpt or "").strip()[:1000]
    post.title = title
    post.body = body
    post.excerpt = excerpt or post_service.derive_excerpt(body)
    post.excerpt_written = bool(excerpt)
    post.reading_time = post_service.reading_minutes(body)
    post.tags = post_service.get_or_create_tags(draft.tags)
    media_service.set_cover(post, cover, cover_alt)
    post.seo_title = (draft.seo_title or "").strip()[:200]
    post.seo_description = (draft.seo_description or "").strip()[:300]
    if draft.featured is not None and actor.can(Permission.PUBLISH, section):
        post.featured = bool(draft.featured)
    wanted = slug or post_service.slugify(title) or "post"
    old_path = f"{post.category.slug}/{post.slug}" if post.id and post.slug else None
    was_live = post.id is not None and post.status in LIVE_STATUSES
    if not post.slug or slug:
        if post_service.unique_post_slug(wanted, exclude_id=post.id) != wanted:
            if slug:
                raise ServiceError("Another post already has that slug.", "slug")
            wanted = post_service.unique_post_slug(wanted, exclude_id=post.id)
        post.slug = wanted
    if post.category_id != section.id:
        post.category_id = section.id
        if post.id:
            db.session.expire(post, ["category"])
        else:
            post.category = section
    if was_live and old_path and old_path != f"{section.slug}/{post.slug}":
        post_service.forget_address(f"{section.slug}/{post.slug}")
        post_service.remember_old_address(old_path, post=post)


def _keep_revision(post: Post, actor: User, note: str) -> Revision:
    """Record the post's current text as a revision."""
    revision = Revision(
        post=post, editor=actor, title=post.title, excerpt=post.excerpt, body=post.body, note=note
    )
    db.session.add(revision)
    return revision


def create_draft(actor: User, draft: PostDraft) -> Post:
    """Start a new post as a draft owned by the actor."""
    if not actor.can(Permission.WRITE):
        raise Forbidden("You may not write posts.")
    title, slug = _validate(draft)
    section = _section(actor, draft.category_id, None)
    post = Post(author=actor, status=PostStatus.DRAFT, slug="", category=section)
    with db.session.no_autoflush:  # the post is complete only after _apply
        _apply(actor, post, draft, section, title, slug)
    db.session.add(post)
    _keep_revision(post, actor, "First draft")
    db.session.commit()
    return post


def save_post(actor: User, post: Post, draft: PostDraft, version: int, note: str = "") -> Post:
    """Save the desk's form over a post, unless someone else saved first."""
    if not can_edit(actor, post):
        raise Forbidden("You may not change this post.")
    if version != post.version:
        raise Conflict(post, draft)
    title, slug = _validate(draft)
    section = _section(actor, draft.category_id, post)
    _apply(actor, post, draft, section, title, slug)
    _keep_revision(post, actor, note or "Saved")
    try:
        db.session.commit()
    except StaleDataError as exc:  # a save raced this one between check and write
        db.session.rollback()
        raise Conflict(db.session.get(Post, post.id), draft) from exc
    return post


def autosave(actor: User, post: Post, draft: PostDraft, version: int) -> tuple[Post, Revision]:
    """Keep unsaved work: live posts get an autosave revision only, drafts are saved.

    Repeated autosaves by one person fold into one revision, so the list stays readable.
    """
    if not can_edit(actor, post):
        raise Forbidden("You may not change this post.")
    if post.status in LIVE_STATUSES:
        if version != post.version:
            raise Conflict(post, draft)
        title, _ = _validate(draft)
        body = post_service.prepare_body(draft.body)
        revision = _recent_autosave(post, actor) or _keep_revision(post, actor, "Autosave")
        revision.title, revision.body = title, body
        revision.excerpt = (draft.excerpt or "").strip()[:1000] or post_service.derive_excerpt(body)
        revision.created_at = utcnow()
        db.session.commit()
        return post, revision
    if version != post.version:
        raise Conflict(post, draft)
    title, slug = _validate(draft)
    section = _section(actor, draft.category_id, post)
    _apply(actor, post, draft, section, title, slug)
    revision = _recent_autosave(post, actor)
    if revision is None:
        revision = _keep_revision(post, actor, "Autosave")
    else:
        revision.title, revision.excerpt, revision.body = post.title, post.excerpt, post.body
        revision.created_at = utcnow()
    try:
        db.session.commit()
    except StaleDataError as exc:
        db.session.rollback()
        raise Conflict(db.session.get(Post, post.id), draft) from exc
    return post, revision


def _recent_autosave(post: Post, actor: User) -> Revision | None:
    """Return the latest revision when it is this person's recent autosave."""
    latest = db.session.scalar(
        select(Revision).where(Revision.post_id == post.id).order_by(Revision.id.desc()).limit(1)
    )
    if (
        latest is not None
        and latest.note == "Autosave"
        and latest.editor_id == actor.id
        and utcnow() - latest.created_at < AUTOSAVE_MERGE
    ):
        return latest
    return None


def pending_autosave(post: Post, actor: User) -> Revision | None:
    """Return an autosave of a live post newer than its last save, to offer back."""
    latest = db.session.scalar(
        select(Revision).where(Revision.post_id == post.id).order_by(Revision.id.desc()).limit(1)
    )
    if (
        latest is not None
        and latest.note == "Autosave"
        and latest.editor_id == actor.id
        and (latest.body != post.body or latest.title != post.title)
    ):
        return latest
    return None


def revisions_of(post: Post) -> list[Revision]:
    """Every revision of a post, newest first, with who saved it."""
    return list(
        db.session.scalars(
            select(Revision)
            .where(Revision.post_id == post.id)
            .options(selectinload(Revision.editor))
            .order_by(Revision.id.desc())
        )
    )


def get_revision(post: Post, revision_id: int) -> Revision:
    """Return one revision of this post or raise NotFound."""
    revision = db.session.get(Revision, revision_id)
    if revision is None or revision.post_id != post.id:
        raise NotFound("No such revision.")
    return revision


def restore_revision(actor: User, post: Post, revision: Revision, version: int) -> Post:
    """Bring back a revision's text; the restore is itself a new revision."""
    draft = PostDraft(
        title=revision.title,
        body=revision.body,
        excerpt=revision.excerpt if revision.excerpt != post_service.derive_excerpt(revision.body)
        else "",
        category_id=post.category_id,
        tags=[tag.name for tag in post.tags],
        slug="",
        cover_media_id=post.cover_media_id,
        cover_alt=post.cover_alt,
        seo_title=post.seo_title,
        seo_description=post.seo_description,
    )
    return save_post(actor, post, draft, version, note=f"Restored revision {revision.id}")


@dataclass
class DiffPiece:
    """A run of words that are the same, added or removed between two texts."""

    kind: str  # "same", "added" or "removed"
    text: str


def word_diff(old: str, new: str) -> list[DiffPiece]:
    """Compare two texts word by word."""
    a, b = old.split(), new.split()
    pieces: list[DiffPiece] = []
    for op, i1, i2, j1, j2 in difflib.SequenceMatcher(a=a, b=b, autojunk=False).get_opcodes():
        if op == "equal":
            pieces.append(DiffPiece("same", " ".join(a[i1:i2])))
            continue
        if i2 > i1:
            pieces.append(DiffPiece("removed", " ".join(a[i1:i2])))
        if j2 > j1:
            pieces.append(DiffPiece("added", " ".join(b[j1:j2])))
    return pieces


def _paragraphs(markup: str) -> str:
    """The body's text with one line per paragraph or heading."""
    spaced = re.sub(r"</(p|h[1-6]|li|blockquote|pre|figcaption|div)>", "\n", markup or "")
    return "\n".join(line for line in (plain_text(x) for x in spaced.split("\n")) if line)


def compare(old: Revision | Post, new: Revision | Post) -> dict[str, list[DiffPiece]]:
    """Readable differences in title, excerpt and body between two versions."""
    return {
        "Title": word_diff(old.title, new.title),
        "Excerpt": word_diff(old.excerpt, new.excerpt),
        "Body": word_diff(_paragraphs(old.body), _paragraphs(new.body)),
    }


def draft_body_preview(draft: PostDraft) -> str:
    """The sanitised body of an unsaved draft, for the conflict page."""
    return clean_post_html(draft.body)


def can_see_publish_controls(actor: User, post: Post) -> bool:
    """Whether the desk shows publish, schedule and unpublish for this post."""
    return can_publish(actor, post)
