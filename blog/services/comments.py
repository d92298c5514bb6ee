"""Readers' comments: writing them, the hold rules, what an article shows, and moderation.

A comment is plain text; it is turned into safe HTML once, when it is written.
A comment is held for a moderator when the site moderates first comments and the
reader has none approved yet, when it carries more links than the admins allow,
or when it contains a word from their blocklist. Held comments wait in the queue
of the editors of the post's section (or every editor's, when none is assigned).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import func, select, update
from sqlalchemy.orm import aliased, contains_eager, defer, joinedload
from sqlalchemy.orm.attributes import set_committed_value

from ..extensions import db
from ..models import Comment, CommentStatus, Permission, Post, User, utcnow
from ..permissions import in_sections
from ..sanitize import clean_comment_text
from ..validators import bounded_int
from . import (
    Forbidden,
    NotFound,
    ServiceError,
    audit,
    content_generation,
    events,
    surrogate,
    unit_of_work,
)
from . import settings as site_settings

MAX_CHARS = 5000
EDIT_WINDOW = timedelta(minutes=10)
BULK_LIMIT = 500
_WRITTEN_LINK = re.compile(r"(?:\bhttps?://|\bwww\.)\S+", re.IGNORECASE)

# What each moderation action makes of a comment. A restored comment goes back
# to the queue rather than straight onto the page; "hold" takes an approved one off it.
MODERATION_ACTIONS: dict[str, CommentStatus] = {
    "approve": CommentStatus.APPROVED,
    "hold": CommentStatus.PENDING,
    "spam": CommentStatus.SPAM,
    "trash": CommentStatus.TRASH,
    "restore": CommentStatus.PENDING,
}

# A comment's status in words, as in "This comment was already approved by …".
STATUS_WORDS = {
    CommentStatus.PENDING: "put back in the queue",
    CommentStatus.APPROVED: "approved",
    CommentStatus.SPAM: "marked as spam",
    CommentStatus.TRASH: "moved to the trash",
}

EMPTY_MESSAGE = "Write something before posting your comment."
TOO_LONG_MESSAGE = f"Keep your comment under {MAX_CHARS:,} characters."
WINDOW_MESSAGE = "A comment can be changed or deleted only in the ten minutes after posting it."


@dataclass(frozen=True)
class PublicComment:
    """What an article page shows of a comment: plain data, safe to cache."""

    id: int
    parent_id: int | None
    author_id: int
    author_name: str
    body: str
    body_html: str
    status: str
    created_at: datetime
    replies: tuple[PublicComment, ...] = ()

    @property
    def size(self) -> int:
        """This comment and its replies, for the count above the list."""
        return 1 + len(self.replies)

    def editable_by(self, user) -> bool:
        """Return True while user may still change or delete this comment."""
        return can_change(user, self)


def can_change(user, comment) -> bool:
    """Return True when user wrote comment, may comment, and the ten minutes are not over."""
    return (
        bool(getattr(user, "is_authenticated", False))
        and user.id == comment.author_id
        and user.can(Permission.COMMENT)
        and comment.status in (CommentStatus.PENDING, CommentStatus.APPROVED)
        and utcnow() - comment.created_at <= EDIT_WINDOW
    )


# -- Writing ------------------------------------------------------------------------


def _clean_text(text: str | None) -> str:
    """Return the comment text stripped, or raise a message a reader understands."""
    text = (text or "").replace("\x00", "").replace("\r\n", "\n").strip()
    if not text:
        raise ServiceError(EMPTY_MESSAGE, "body")
    if len(text) > MAX_CHARS:
        raise ServiceError(TOO_LONG_MESSAGE, "body")
    return text


def _blocked_word(text: str, blocklist: Iterable[str]) -> str | None:
    """Return the first blocklisted word or phrase in text (whole words, any case)."""
    words = sorted({w.strip() for w in blocklist if w and w.strip()}, key=len, reverse=True)
    if not words:
        return None
    pattern = r"(?<!\w)(?:" + "|".join(re.escape(w) for w in words) + r")(?!\w)"
    match = re.search(pattern, text, re.IGNORECASE)
    return match.group(0).lower() if match else None


def _has_approved_comment(author: User) -> bool:
    """Return True when the author has had a comment approved."""
    return (
        db.session.scalar(
            select(Comment.id)
            .where(Comment.author_id == author.id, Comment.status == CommentStatus.APPROVED)
            .limit(1)
        )
        is not None
    )


def hold_reason(author: User, post: Post, text: str, body_html: str) -> str:
    """Return why a comment must wait for a moderator, or "" when it may appear at once."""
    if post.author_id == author.id or author.can(Permission.MODERATE, post):
        return ""  # the article's own author, and the people who would approve it
    settings = site_settings.current()
    # Links as rendered, or as written when the linkifier does not know the domain.
    links = max(body_html.count("<a "), len(_WRITTEN_LINK.findall(text)))
    if links > settings.comment_link_limit:
        return f"{links} links (the limit is {settings.comment_link_limit})"
    word = _blocked_word(text, settings.comment_blocklist)
    if word:
        return f"contains the blocked word “{word}”"[:200]
    if settings.comments_moderated and not _has_approved_comment(author):
        return "first comment"
    return ""


def _reply_target(post: Post, parent_id: int) -> Comment:
    """Return the top-level comment a reply attaches to, or raise when it is not shown."""
    parent = db.session.get(Comment, parent_id)
    if parent is not None and parent.parent_id is not None:
        parent = db.session.get(Comment, parent.parent_id)  # one level of replies only
    if parent is None or parent.post_id != post.id or not is_public(parent):
        raise ServiceError("The comment you replied to is no longer shown.")
    return parent


def add_comment(
    author: User, post: Post, text: str, parent_id: int | None = None, ip: str = ""
) -> Comment:
    """A reader comments on a live post or replies to a comment; held when the rules say so."""
    if not author.can(Permission.COMMENT):
        raise Forbidden("You may not comment.")
    if not post.is_published or post.is_page:  # pages (About, Contact…) take no comments
        raise NotFound("No such article.")
    text = _clean_text(text)
    parent = _reply_target(post, parent_id) if parent_id else None
    body_html = clean_comment_text(text)
    reason = hold_reason(author, post, text, body_html)
    comment = Comment(
        post=post,
        author_id=author.id,
        parent_id=parent.id if parent else None,
        body=text,
        body_html=body_html,
        status=CommentStatus.PENDING if reason else CommentStatus.APPROVED,
        held_reason=reason,
        ip_address=(ip or "")[:45],
    )
    with unit_of_work():
        db.session.add(comment)
        if comment.status == CommentStatus.APPROVED:
            db.session.flush()
            events.emit("comment.approved", comment=comment, actor=None)
    return comment


def get_comment(comment_id: int) -> Comment:
    """Return a comment with its post and section, or raise NotFound."""
    comment = db.session.scalar(
        select(Comment)
        .where(Comment.id == comment_id)
        .options(joinedload(Comment.post).joinedload(Post.category), joinedload(Comment.author))
    )
    if comment is None:
        raise NotFound("No such comment.")
    return comment


def _check_change(actor: User, comment: Comment) -> None:
    """Refuse unless actor may still change comment (own, live post, ten minutes)."""
    if comment.author_id != actor.id:
        if is_public(comment):
            raise Forbidden("You can change only your own comments.")
        raise NotFound("No such comment.")
    if comment.status not in (CommentStatus.PENDING, CommentStatus.APPROVED):
        raise NotFound("No such comment.")
    if not comment.post.is_published:
        raise NotFound("No such article.")
    if not actor.can(Permission.COMMENT):
        raise Forbidden("You may not comment.")
    if not can_change(actor, comment):
        raise ServiceError(WINDOW_MESSAGE)


def edit_comment(actor: User, comment: Comment, text: str) -> Comment:
    """Change one's own comment within ten minutes; the new text meets the hold rules again."""
    _check_change(actor, comment)
    text = _clean_text(text)
    body_html = clean_comment_text(text)
    reason = hold_reason(actor, comment.post, text, body_html)
    with unit_of_work():
        comment.body = text
        comment.body_html = body_html
        comment.held_reason = reason
        comment.status = CommentStatus.PENDING if reason else CommentStatus.APPROVED
    return comment


def delete_comment(actor: User, comment: Comment) -> Comment:
    """Move one's own comment to the trash, within ten minutes of posting it."""
    _check_change(actor, comment)
    with unit_of_work():
        comment.status = CommentStatus.TRASH
        audit.record(actor, "comment.delete", comment, details="deleted by its author")
    return comment


# -- What readers see ---------------------------------------------------------------


def is_public(comment: Comment) -> bool:
    """Return True when readers can see comment on its article."""
    if comment.status != CommentStatus.APPROVED or comment.author.suspended_at is not None:
        return False
    if not comment.post.is_published:
        return False
    parent = comment.parent
    return parent is None or (
        parent.status == CommentStatus.APPROVED and parent.author.suspended_at is None
    )


def public_comments(post: Post) -> list[Comment]:
    """Return the approved top-level comments, oldest first, each with its shown replies.

    One query, whatever the number of comments: authors come in the same query
    and replies are attached to their parents here.
    """
    rows = db.session.scalars(
        select(Comment)
        .join(Comment.author)
        .where(
            Comment.post_id == post.id,
            Comment.status == CommentStatus.APPROVED,
            User.suspended_at.is_(None),
        )
        .options(contains_eager(Comment.author))
        .order_by(Comment.created_at, Comment.id)
    ).all()
    top = [c for c in rows if c.parent_id is None]
    replies: dict[int, list[Comment]] = {c.id: [] for c in top}
    for comment in rows:
        if comment.parent_id in replies:
            replies[comment.parent_id].append(comment)
    for comment in rows:
        # Replies of hidden comments are hidden with them; no reply has replies.
        set_committed_value(comment, "replies", replies.get(comment.id, []))
    return top


def _public_data(comment: Comment) -> PublicComment:
    """Copy what the page shows of a comment (and its replies) into plain data."""
    return PublicComment(
        id=comment.id,
        parent_id=comment.parent_id,
        author_id=comment.author_id,
        author_name=comment.author.name,
        body=comment.body,
        body_html=comment.body_html,
        status=comment.status,
        created_at=comment.created_at,
        replies=tuple(_public_data(reply) for reply in comment.replies),
    )


def comment_thread(post: Post) -> list[PublicComment]:
    """Return the article's shown comments as plain data, cached until they change.

    Kept under the article's comments key and the key of each commenter (their name
    and suspension show), so an approval, an edit or a suspension shows at once.
    """

    def build() -> list[PublicComment]:
        shown = public_comments(post)
        people = {c.author_id for top in shown for c in (top, *top.replies)}
        surrogate.show(*(surrogate.person(p) for p in people))
        return [_public_data(c) for c in shown]

    return content_generation.cached(
        f"comments:{post.id}", build, keys=(surrogate.comments(post.id),)
    )


def pending_comments_by(viewer, post: Post) -> list[PublicComment]:
    """Return the viewer's own comments on post that wait for a moderator (none for guests)."""
    if not getattr(viewer, "is_authenticated", False):
        return []
    rows = db.session.scalars(
        select(Comment)
        .where(
            Comment.post_id == post.id,
            Comment.author_id == viewer.id,
            Comment.status == CommentStatus.PENDING,
        )
        .options(joinedload(Comment.author))
        .order_by(Comment.created_at, Comment.id)
    ).all()
    for comment in rows:
        set_committed_value(comment, "replies", [])
    return [_public_data(comment) for comment in rows]


def comment_count(post: Post) -> int:
    """Count the comments readers see on post (top-level ones and their shown replies)."""
    parent = aliased(Comment)
    parent_author = aliased(User)
    return (
        db.session.scalar(
            select(func.count(Comment.id))
            .join(Comment.author)
            .outerjoin(parent, parent.id == Comment.parent_id)
            .outerjoin(parent_author, parent_author.id == parent.author_id)
            .where(
                Comment.post_id == post.id,
                Comment.status == CommentStatus.APPROVED,
                User.suspended_at.is_(None),
                Comment.parent_id.is_(None)
                | (
                    (parent.status == CommentStatus.APPROVED) & parent_author.suspended_at.is_(None)
                ),
            )
        )
        or 0
    )


# -- Moderation ---------------------------------------------------------------------


def held_comments_for(
    viewer: User, status: str = CommentStatus.PENDING, limit: int | None = None
) -> list[Comment]:
    """The comments in a status (held by default) that the viewer may moderate, oldest first."""
    if not viewer.can(Permission.MODERATE):
        raise Forbidden("You may not moderate comments.")
    query = (
        select(Comment)
        .join(Comment.post)
        .where(Comment.status == status, in_sections(Post.category_id, viewer))
        .options(
            contains_eager(Comment.post).options(defer(Post.body), joinedload(Post.category)),
            joinedload(Comment.author),
        )
        .order_by(Comment.created_at, Comment.id)
        .limit(limit)
    )
    return list(db.session.scalars(query).unique())


def pending_count_for(viewer) -> int:
    """How many held comments wait for this person (0 for those who cannot moderate)."""
    if not getattr(viewer, "is_authenticated", False) or not viewer.can(Permission.MODERATE):
        return 0
    query = (
        select(func.count(Comment.id))
        .join(Comment.post)
        .where(Comment.status == CommentStatus.PENDING, in_sections(Post.category_id, viewer))
    )
    return db.session.scalar(query) or 0


def _target_status(action: str) -> CommentStatus:
    """Return the status a moderation action leads to, or refuse an unknown action."""
    try:
        return MODERATION_ACTIONS[action]
    except KeyError:
        raise ServiceError("Choose approve, hold, spam, trash or restore.", "action") from None


def _seen_status(raw: object) -> str | None:
    """The status a moderator saw, from a form's hidden field (None when not sent)."""
    value = str(raw or "").strip()
    return value if value in set(CommentStatus) else None


def changed_meanwhile(comment: Comment) -> str:
    """Say, in words, what happened to a comment since the moderator's page was drawn."""
    entry = audit.last_entry_about(comment)
    what = STATUS_WORDS.get(comment.status, str(comment.status))
    if entry is not None and entry.actor_id is not None:
        return f"This comment was already {what} by {audit.actor_display_name(entry)}."
    return f"This comment was already {what} in the meantime."


def _apply(
    actor: User, comment: Comment, action: str, status: CommentStatus, seen: str | None = None
) -> bool:
    """Change one comment's status and log it; return False when nothing changed.

    seen is the status the moderator saw; when the comment has moved on since, the
    action is refused with who moved it. The change itself is a conditional UPDATE,
    so of two moderators racing, the second finds no row in the old status.
    """
    if not actor.can(Permission.MODERATE, comment.post):
        raise Forbidden("You may not moderate comments in this section.")
    before = comment.status
    if seen is not None and before != seen:
        raise ServiceError(changed_meanwhile(comment))
    if action == "restore" and before not in (CommentStatus.SPAM, CommentStatus.TRASH):
        return False
    if action == "hold" and before != CommentStatus.APPROVED:
        return False
    if before == status:
        return False
    values: dict = {"status": status, "updated_at": utcnow()}
    if status == CommentStatus.APPROVED:
        values["held_reason"] = ""
    moved = db.session.execute(
        update(Comment)
        .where(Comment.id == comment.id, Comment.status == before)
        .values(**values)
        .execution_options(synchronize_session=False)
    ).rowcount
    if not moved:
        db.session.refresh(comment, ["status"])
        raise ServiceError(changed_meanwhile(comment))
    # The row is ours now; changing the object too lets the caches see the change.
    for name, value in values.items():
        setattr(comment, name, value)
    audit.record(actor, f"comment.{action}", comment, details=f"{before} → {status}")
    if status == CommentStatus.APPROVED:
        events.emit("comment.approved", comment=comment, actor=actor)
    return True


def moderate(actor: User, comment: Comment, action: str, seen: object = None) -> Comment:
    """Approve, hold, mark as spam, trash or restore a comment in a section the actor moderates.

    seen (the status the moderator saw, when given) guards against a change made meanwhile.
    """
    status = _target_status(action)
    with unit_of_work():
        _apply(actor, comment, action, status, _seen_status(seen))
    return comment


@dataclass
class BulkOutcome:
    """What a bulk action did: how many comments changed, and each refusal in words."""

    changed: int = 0
    refused: list[str] = field(default_factory=list)


def bulk_moderate(
    actor: User, ids: Iterable[int | str], action: str, seen: dict | None = None
) -> BulkOutcome:
    """Apply one action to many comments, checking each one; refusals are reported per comment.

    seen maps a comment's id to the status the moderator saw. When none of the chosen
    comments is in a section the actor moderates, the whole request is refused.
    """
    status = _target_status(action)
    numbers = [bounded_int(i) for i in ids]
    if None in numbers:
        raise ServiceError("Choose comments from the list.")
    wanted = sorted(set(numbers))
    if len(wanted) > BULK_LIMIT:
        raise ServiceError(f"Choose at most {BULK_LIMIT} comments at a time.")
    comments = db.session.scalars(
        select(Comment)
        .where(Comment.id.in_(wanted or [0]))
        .options(joinedload(Comment.post).joinedload(Post.category), joinedload(Comment.author))
        .order_by(Comment.id)
    ).all()
    if comments and not any(actor.can(Permission.MODERATE, c.post) for c in comments):
        raise Forbidden("Those comments are in sections you do not moderate.")
    outcome = BulkOutcome()
    seen = seen or {}
    with unit_of_work():
        for comment in comments:
            try:
                moved = _apply(actor, comment, action, status, _seen_status(seen.get(comment.id)))
            except ServiceError as refusal:
                outcome.refused.append(f"{_named(comment)}: {refusal.message}")
            else:
                outcome.changed += moved
    return outcome


def _named(comment: Comment) -> str:
    """How a refusal names a comment: its writer and article."""
    return f"The comment by {comment.author.name} on “{comment.post.title}”"


# -- All comments (the staff's listing) ----------------------------------------------


@dataclass
class CommentListing:
    """One page of All comments: the rows, the page, and the count of each status tab."""

    pagination: object
    counts: dict[str, int]
    post: Post | None = None  # the article the list is narrowed to


def all_comments(
    viewer: User,
    status: str = CommentStatus.PENDING,
    q: str = "",
    post_id: int | None = None,
    page: int = 1,
    per_page: int = 50,
) -> CommentListing:
    """Every comment in the viewer's sections, one status at a time, newest first.

    Searches the text and the commenter's names; post_id narrows to one article.
    Three queries whatever the number of rows: the counts, the page's total, the rows.
    """
    if not viewer.can(Permission.MODERATE):
        raise Forbidden("You may not moderate comments.")
    if status not in set(CommentStatus):
        raise NotFound("No such list of comments.")
    conditions = [in_sections(Post.category_id, viewer, Permission.MODERATE)]
    if post_id:
        conditions.append(Comment.post_id == post_id)
    text = " ".join((q or "").split())[:200]
    if text:
        conditions.append(
            Comment.body.icontains(text, autoescape=True)
            | User.display_name.icontains(text, autoescape=True)
            | User.username.icontains(text, autoescape=True)
        )
    counted = dict(
        db.session.execute(
            select(Comment.status, func.count(Comment.id))
            .join(Comment.post)
            .join(Comment.author)
            .where(*conditions)
            .group_by(Comment.status)
        ).all()
    )
    query = (
        select(Comment)
        .join(Comment.post)
        .join(Comment.author)
        .where(Comment.status == status, *conditions)
        .options(
            contains_eager(Comment.post).options(defer(Post.body), joinedload(Post.category)),
            contains_eager(Comment.author),
        )
        .order_by(Comment.created_at.desc(), Comment.id.desc())
    )
    pagination = db.paginate(query, page=page, per_page=per_page, error_out=False, count=False)
    pagination.total = counted.get(status, 0)
    if page > 1 and not pagination.items:
        raise NotFound("No such page.")
    counts = {s.value: counted.get(s.value, 0) for s in CommentStatus}
    post = db.session.get(Post, post_id) if post_id else None
    if post is not None and not viewer.can(Permission.MODERATE, post):
        post = None
    return CommentListing(pagination, counts, post)


def staff_comment(viewer: User, comment_id: int) -> Comment:
    """A comment the viewer moderates, for its staff page (404 for anyone else)."""
    comment = get_comment(comment_id)
    if not viewer.can(Permission.MODERATE, comment.post):
        raise NotFound("No such comment.")
    return comment


def staff_edit(actor: User, comment: Comment, text: str) -> Comment:
    """A moderator corrects a comment's text; the text before is kept in the audit log."""
    if not actor.can(Permission.MODERATE, comment.post):
        raise Forbidden("You may not moderate comments in this section.")
    text = _clean_text(text)
    before = comment.body
    if text == before:
        return comment
    with unit_of_work():
        comment.body = text
        comment.body_html = clean_comment_text(text)
        audit.record(
            actor,
            "comment.edit",
            comment,
            details=json.dumps({"before": before, "after": text}, ensure_ascii=False),
        )
    return comment


def staff_reply(actor: User, comment: Comment, text: str, ip: str = "") -> Comment:
    """A moderator answers a shown comment; staff replies are published at once."""
    if not actor.can(Permission.MODERATE, comment.post):
        raise Forbidden("You may not moderate comments in this section.")
    if not is_public(comment):
        raise ServiceError("Approve the comment before replying to it; readers cannot see it.")
    with unit_of_work():
        reply = add_comment(actor, comment.post, text, parent_id=comment.id, ip=ip)
        audit.record(actor, "comment.reply", reply, details=f"in reply to comment {comment.id}")
    return reply


def edits_of(comment: Comment) -> list[dict]:
    """The staff's edits of a comment, newest first, each with the text before and after."""
    return [
        {"entry": entry, **json.loads(entry.details or "{}")}
        for entry in audit.entries_about(comment, "comment.edit")
    ]
