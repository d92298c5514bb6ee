"""Importing comments: each once (found again by Comment.wp_comment_id), one level deep.

A comment keeps the formatting WordPress allowed in it that Circle's comments hold
(links, emphasis, code, quotes, paragraphs); its plain text is what an edit starts from.

Replies deeper than one level hang from their thread's first comment; pingbacks and
trackbacks are counted as not brought over (Circle has none).
"""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from sqlalchemy import select

from ...extensions import db
from ...models import Comment, CommentStatus, Post
from .people import commenter_for
from .records import WxrComment, WxrItem

if TYPE_CHECKING:
    from .context import ImportContext

_COMMENT_STATUS = {
    "1": CommentStatus.APPROVED,
    "approve": CommentStatus.APPROVED,
    "0": CommentStatus.PENDING,
    "hold": CommentStatus.PENDING,
    "spam": CommentStatus.SPAM,
    "trash": CommentStatus.TRASH,
    "post-trashed": CommentStatus.TRASH,
}


def _thread_root(comment: WxrComment, by_id: dict[int, WxrComment]) -> int:
    """The id of the thread's first comment, however deep the reply."""
    seen = {comment.wp_id}
    current = comment
    while current.parent and current.parent in by_id and current.parent not in seen:
        seen.add(current.parent)
        current = by_id[current.parent]
    return current.wp_id if current is not comment else (comment.parent or 0)


def _imported_before(context: ImportContext, wp_id: int) -> Comment | None:
    """The comment an earlier import (or this run) made of WordPress comment wp_id, if any."""
    if wp_id not in context.known.comments:
        return None
    return db.session.scalar(select(Comment).where(Comment.wp_comment_id == wp_id))


def _parent_for(
    context: ImportContext,
    comment: WxrComment,
    by_id: dict[int, WxrComment],
    kept: dict[int, Comment],
) -> Comment | None:
    """The top-level comment a reply hangs from, or None (noted) when it was not imported."""
    root_id = _thread_root(comment, by_id)
    parent = kept.get(root_id) or _imported_before(context, root_id)
    if parent is None:
        context.report.notes.append(
            f"comment {comment.wp_id} replied to comment {comment.parent}, whose "
            "thread was not imported: it stands as a comment of its own"
        )
    elif parent.parent_id is not None:
        parent = parent.parent
    return parent


def import_comments(
    context: ImportContext, post: Post, item: WxrItem, cleaned: dict[int, tuple[str, str]]
) -> None:
    """Bring the post's comments over once, threaded one level deep.

    cleaned: each new comment's plain text and sanitised HTML by id (pipeline.py).
    """
    if not item.comments:
        return
    by_id = {c.wp_id: c for c in item.comments if c.wp_id}
    kept: dict[int, Comment] = {}
    pings = Counter(c.type for c in item.comments if c.type in ("pingback", "trackback"))
    for ping_type, count in pings.items():
        context.lost[f"{ping_type}s (Circle has none)"] += count

    ordered = sorted(
        (c for c in item.comments if c.type not in ("pingback", "trackback")),
        key=lambda c: (c.parent != 0, c.date or datetime.min.replace(tzinfo=UTC), c.wp_id),
    )
    for comment in ordered:
        if not comment.wp_id:
            context.report.fail("comment", f"a comment on post {item.wp_id}", "it has no id")
            continue
        if comment.wp_id in context.known.comments:  # loaded only if a new reply needs it
            context.report.unchanged["comment"] += 1
            continue
        parent = _parent_for(context, comment, by_id, kept) if comment.parent else None
        text, body_html = cleaned[comment.wp_id]
        if not text:
            context.report.skip("comment", f"comment {comment.wp_id}", "it is empty")
            continue
        created = comment.date or post.created_at
        row = Comment(
            post=post,
            author=commenter_for(context, comment),
            parent=parent,
            body=text,
            body_html=body_html,
            status=_COMMENT_STATUS.get(comment.approved, CommentStatus.PENDING).value,
            ip_address=(comment.ip or "")[:45],
            created_at=created,
            updated_at=created,
            wp_comment_id=comment.wp_id,
        )
        db.session.add(row)
        kept[comment.wp_id] = row
        context.known.comments.add(comment.wp_id)
        context.report.created["comment"] += 1
