"""Moving posts through their statuses: review, publish, schedule, unpublish, trash.

Each action checks the actor's permission for the post before it changes anything, and
commits once (a unit of work) or, refused, not at all.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from flask import current_app
from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer
from sqlalchemy import select

from ..extensions import db
from ..models import Permission, Post, PostStatus, User, utcnow
from ..permissions import can_publish
from . import Forbidden, NotFound, ServiceError, audit, events, unit_of_work

PREVIEW_MAX_AGE = timedelta(days=7)


def _check_version(post: Post, version: int | None) -> None:
    """Refuse an action taken on a stale page."""
    if version is not None and version != post.version:
        raise ServiceError(
            "This post changed since you opened it. Reload the page and try again."
        )


@unit_of_work()
def submit_for_review(actor: User, post: Post, version: int | None = None) -> Post:
    """An author hands a draft to the section's editors."""
    if post.author_id != actor.id and not actor.can(Permission.EDIT_ANY, post):
        raise Forbidden("Only the author can submit this post for review.")
    if post.status != PostStatus.DRAFT:
        raise ServiceError("Only a draft can be submitted for review.")
    _check_version(post, version)
    post.status = PostStatus.PENDING
    post.review_note = ""
    audit.record(actor, "post.submit", post)
    events.emit("post.submitted", post=post, actor=actor)
    return post


@unit_of_work()
def publish_now(actor: User, post: Post, version: int | None = None) -> Post:
    """Publish a post at once.

    A post that was published before (then unpublished, or trashed and restored) keeps its
    first publication date, so it returns to its place in the listings; only scheduling
    moves the date. A new post, or a scheduled one whose time has not come, is dated now.
    """
    if not can_publish(actor, post):
        raise Forbidden("You may not publish posts in this section.")
    if post.status == PostStatus.TRASH:
        raise ServiceError("Restore the post from the trash before publishing it.")
    _check_version(post, version)
    now = utcnow()
    if post.published_at is None or post.published_at > now:
        post.published_at = now
    post.status = PostStatus.PUBLISHED
    post.review_note = ""
    audit.record(actor, "post.publish", post)
    events.emit("post.published", post=post, actor=actor)
    return post


@unit_of_work()
def schedule(actor: User, post: Post, when: datetime, version: int | None = None) -> Post:
    """Publish a post at a future time, with no job needed to make it live."""
    if not can_publish(actor, post):
        raise Forbidden("You may not schedule posts in this section.")
    if when.tzinfo is None:
        raise ServiceError("Give the time with its time zone.", "publish_at")
    if when <= utcnow() + timedelta(seconds=30):
        raise ServiceError("Choose a time in the future to schedule the post.", "publish_at")
    if post.status == PostStatus.TRASH:
        raise ServiceError("Restore the post from the trash before scheduling it.")
    _check_version(post, version)
    post.status = PostStatus.SCHEDULED
    post.published_at = when
    post.review_note = ""
    audit.record(actor, "post.schedule", post, details=f"for {when.isoformat()}")
    events.emit("post.scheduled", post=post, actor=actor, when=when)
    return post


@unit_of_work()
def unpublish(actor: User, post: Post, version: int | None = None) -> Post:
    """Take a published or scheduled post back to draft."""
    if not can_publish(actor, post):
        raise Forbidden("You may not unpublish posts in this section.")
    if post.status not in (PostStatus.PUBLISHED, PostStatus.SCHEDULED):
        raise ServiceError("Only a published or scheduled post can be unpublished.")
    _check_version(post, version)
    if post.published_at is not None and post.published_at > utcnow():
        post.published_at = None  # scheduled, never seen: publishing later dates it then
    post.status = PostStatus.DRAFT
    audit.record(actor, "post.unpublish", post)
    events.emit("post.unpublished", post=post, actor=actor)
    return post


@unit_of_work()
def send_back(actor: User, post: Post, note: str, version: int | None = None) -> Post:
    """Reject a post in review: it returns to draft with the reviewer's note."""
    if not actor.can(Permission.REVIEW, post):
        raise Forbidden("You may not review posts in this section.")
    if post.status != PostStatus.PENDING:
        raise ServiceError("Only a post in review can be sent back.")
    note = (note or "").strip()
    if not note:
        raise ServiceError("Tell the author what to change.", "note")
    _check_version(post, version)
    post.status = PostStatus.DRAFT
    post.review_note = note[:2000]
    audit.record(actor, "post.reject", post, details=post.review_note)
    events.emit("post.sent_back", post=post, actor=actor, note=post.review_note)
    return post


def may_trash(actor: User, post: Post) -> bool:
    """Whether actor may move post to the trash: an author their own draft, else a publisher."""
    own_draft = post.author_id == actor.id and post.status == PostStatus.DRAFT
    return (own_draft and actor.can(Permission.WRITE)) or can_publish(actor, post)


@unit_of_work()
def move_to_trash(actor: User, post: Post, version: int | None = None) -> Post:
    """Move a post to the trash (an admin can restore it)."""
    if not may_trash(actor, post):
        raise Forbidden("You may not delete this post.")
    if post.status == PostStatus.TRASH:
        raise ServiceError("The post is already in the trash.")
    _check_version(post, version)
    post.status_before_trash = post.status
    post.status = PostStatus.TRASH
    post.featured = False
    audit.record(actor, "post.trash", post)
    if post.status_before_trash == PostStatus.PUBLISHED:
        events.emit("post.unpublished", post=post, actor=actor)
    return post


@unit_of_work()
def publish_due(now: datetime | None = None) -> int:
    """Mark scheduled posts whose time has come as published; return how many."""
    now = now or utcnow()
    due = list(
        db.session.scalars(
            select(Post).where(Post.status == PostStatus.SCHEDULED, Post.published_at <= now)
        )
    )
    for post in due:
        post.status = PostStatus.PUBLISHED
        audit.record(None, "post.publish", post, details="scheduled time reached")
        events.emit("post.published", post=post, actor=None)
    return len(due)


def _preview_signer() -> URLSafeTimedSerializer:
    """The signer for shareable preview links."""
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt="circle-preview")


def preview_token(actor: User, post: Post) -> str:
    """Return a signed token for a preview link anyone can open for a week."""
    if post.author_id != actor.id and not actor.can(Permission.EDIT_ANY, post):
        raise Forbidden("You may not share this post.")
    return _preview_signer().dumps({"post": post.id})


def post_for_preview_token(token: str) -> Post:
    """Return the post a valid preview token names, or raise NotFound."""
    try:
        data = _preview_signer().loads(token, max_age=int(PREVIEW_MAX_AGE.total_seconds()))
    except SignatureExpired as exc:
        raise NotFound("This preview link has expired.") from exc
    except BadSignature as exc:
        raise NotFound("This preview link is not valid.") from exc
    post = db.session.get(Post, data.get("post")) if isinstance(data, dict) else None
    if post is None or post.status == PostStatus.TRASH:
        raise NotFound("This post is no longer available.")
    return post
