"""The trash: deleted posts and comments wait here until an admin restores or empties it."""

from __future__ import annotations

import json

from sqlalchemy import delete, func, select, update
from sqlalchemy.orm import defer, joinedload

from ..extensions import db
from ..models import Comment, CommentStatus, Permission, Post, PostStatus, User, utcnow
from ..models.content import LIVE_STATUSES
from ..permissions import can_publish
from . import Forbidden, NotFound, ServiceError, audit, content_generation, unit_of_work

CONFIRM_WORD = "EMPTY"


def _check_keeper(actor: User) -> None:
    """Refuse anyone who may not manage the trash."""
    if actor is None or not actor.can(Permission.MANAGE_TRASH):
        raise Forbidden("Only an admin may manage the trash.")


def trashed_posts() -> list[Post]:
    """Return the posts in the trash, most recently changed first."""
    return list(
        db.session.scalars(
            select(Post)
            .where(Post.status == PostStatus.TRASH)
            .options(defer(Post.body), joinedload(Post.author), joinedload(Post.category))
            .order_by(Post.updated_at.desc(), Post.id.desc())
        )
    )


def trashed_comments() -> list[Comment]:
    """Return the comments in the trash, most recently changed first."""
    return list(
        db.session.scalars(
            select(Comment)
            .where(Comment.status == CommentStatus.TRASH)
            .options(
                joinedload(Comment.author),
                joinedload(Comment.post).defer(Post.body).joinedload(Post.category),
            )
            .order_by(Comment.updated_at.desc(), Comment.id.desc())
        )
    )


def trashed_post(post_id: int) -> Post:
    """Return the post with this id if it is in the trash, or raise NotFound."""
    post = db.session.get(Post, post_id)
    if post is None or post.status != PostStatus.TRASH:
        raise NotFound("That post is not in the trash.")
    return post


def trashed_comment(comment_id: int) -> Comment:
    """Return the comment with this id if it is in the trash, or raise NotFound."""
    comment = db.session.get(Comment, comment_id)
    if comment is None or comment.status != CommentStatus.TRASH:
        raise NotFound("That comment is not in the trash.")
    return comment


@unit_of_work()
def _restore(actor: User, thing: Post | Comment, trash, back, kind: str, note: str):
    """Take a post or comment out of the trash, back to the status back, and record it."""
    _check_keeper(actor)
    if thing.status != trash:
        raise ServiceError(f"That {kind} is not in the trash.")
    thing.status = back
    audit.record(actor, f"{kind}.restore", thing, note)
    return thing


def restore_choices(post: Post) -> list[PostStatus]:
    """What a trashed post may come back as: the status it had (first), and a draft."""
    before = post.status_before_trash
    if before in (None, PostStatus.TRASH, PostStatus.DRAFT):
        return [PostStatus.DRAFT]
    return [PostStatus(before), PostStatus.DRAFT]


@unit_of_work()
def restore_post(actor: User, post: Post, status: str = PostStatus.DRAFT) -> Post:
    """Take a post out of the trash, as a draft or as the status it had before.

    Restored as published (or scheduled), it keeps its publication date: it returns to its
    place in the listings. Only someone who may publish the post may restore it live.
    """
    _check_keeper(actor)
    if post.status != PostStatus.TRASH:
        raise ServiceError("That post is not in the trash.")
    if status not in restore_choices(post):
        raise ServiceError("That post cannot come back with that status.", "status")
    back = PostStatus(status)
    due = post.published_at is not None and post.published_at <= utcnow()
    if back == PostStatus.SCHEDULED and due:
        back = PostStatus.PUBLISHED  # its time came while it was in the trash
    if back in LIVE_STATUSES and not can_publish(actor, post):
        raise Forbidden("You may not publish posts in this section.")
    if back == PostStatus.PUBLISHED and post.published_at is None:
        post.published_at = utcnow()
    post.status_before_trash = None
    return _restore(actor, post, PostStatus.TRASH, back, "post", f"back to {back.value}")


def restore_comment(actor: User, comment: Comment) -> Comment:
    """Take a comment out of the trash; it comes back held for moderation."""
    return _restore(
        actor, comment, CommentStatus.TRASH, CommentStatus.PENDING, "comment", "back to pending"
    )


def _trash_counts() -> dict[str, int]:
    """How many posts and comments emptying the trash would delete."""
    trashed_post_ids = select(Post.id).where(Post.status == PostStatus.TRASH)
    return {
        "posts": db.session.scalar(select(func.count()).select_from(trashed_post_ids.subquery())),
        "comments": db.session.scalar(
            select(func.count()).select_from(Comment).where(Comment.status == CommentStatus.TRASH)
        ),
        "comments_on_deleted_posts": db.session.scalar(
            select(func.count())
            .select_from(Comment)
            .where(Comment.status != CommentStatus.TRASH, Comment.post_id.in_(trashed_post_ids))
        ),
    }


def empty_trash(actor: User, confirm: str) -> dict[str, int]:
    """Delete every trashed post and comment for good, once the word EMPTY is typed.

    Replies to a deleted comment stay, moved up to the top level, so nothing
    else a reader wrote disappears with it; comments on a deleted post go with it.
    """
    _check_keeper(actor)
    if (confirm or "").strip() != CONFIRM_WORD:
        raise ServiceError(f"Type {CONFIRM_WORD} to empty the trash.", "confirm")
    counts = _trash_counts()
    if not counts["posts"] and not counts["comments"]:
        raise ServiceError("The trash is already empty.")
    trashed_post_ids = select(Post.id).where(Post.status == PostStatus.TRASH)
    doomed_comments = select(Comment.id).where(
        (Comment.status == CommentStatus.TRASH) | Comment.post_id.in_(trashed_post_ids)
    )
    with unit_of_work():
        db.session.execute(
            update(Comment)
            .where(Comment.parent_id.in_(doomed_comments), Comment.id.not_in(doomed_comments))
            .values(parent_id=None)
            .execution_options(synchronize_session=False)
        )
        audit.record(actor, "trash.empty", None, json.dumps(counts))
        db.session.execute(
            delete(Comment)
            .where(Comment.id.in_(doomed_comments))
            .execution_options(synchronize_session=False)
        )
        db.session.execute(
            delete(Post)
            .where(Post.status == PostStatus.TRASH)
            .execution_options(synchronize_session=False)
        )
    db.session.expire_all()
    # Bulk statements skip the ORM's change tracking; replies may have moved, so refresh pages.
    content_generation.bump()
    return counts
