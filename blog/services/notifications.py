"""Mail to the staff and the readers about what happened, sent from the job queue.

Four kinds, each one a person may turn off on their account page (CHOICES):
- review requests: a post was submitted for review in a section the person reviews;
- post news: the person's post (as author or co-author) was sent back, published or scheduled;
- replies: someone else's reply to the person's comment is shown on the article;
- the moderation digest: each morning, what is held and reported in the person's sections.

Listeners (events.py) only enqueue a job carrying ids; the job reads the rows again when
it runs, skips quietly what no longer applies (a deleted post, a choice turned off) and
writes a NotificationSent row for each mail inside Postman's decide(): the row's unique
key (person, kind, occasion) is the one guard against sending anything twice.

Who is asked to review: the people who hold REVIEW over the post's section by the one
scope rule (User.can), admins only when no editor but the submitter covers the section.
The digest goes to everyone who moderates (admins included): it tells what their own
queue page shows.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from email.message import EmailMessage

from flask import current_app
from itsdangerous import BadSignature, URLSafeSerializer
from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError

from ..extensions import db
from ..hosts import absolute_url
from ..models import Comment, NotificationSent, Permission, Post, PostStatus, Role, User, utcnow
from . import NotFound, clock, comments, events, jobs, mail, reports, unit_of_work
from .jobs import job, periodic

UNSUBSCRIBE_SALT = "circle-notification-unsubscribe"
# How long the record of sent mail is kept (a reply approved again later is told once).
KEEP_SENT = timedelta(days=90)


@dataclass(frozen=True)
class Choice:
    """A kind of mail a person may choose to receive."""

    kind: str
    column: str  # the User attribute holding the choice
    label: str  # on the account page
    needs: Permission  # who it applies to
    because: str  # the footer's "why you got this"


CHOICES = (
    Choice(
        "review_requests",
        "notify_review_requests",
        "Posts submitted for review in my sections",
        Permission.REVIEW,
        "you review posts in this section",
    ),
    Choice(
        "post_news",
        "notify_post_news",
        "News of my posts: sent back, scheduled or published",
        Permission.WRITE,
        "you are named in this post's byline",
    ),
    Choice(
        "replies",
        "notify_replies",
        "Replies to my comments",
        Permission.COMMENT,
        "someone replied to your comment",
    ),
    Choice(
        "moderation_digest",
        "notify_moderation_digest",
        "A morning digest of held comments and open reports in my sections",
        Permission.MODERATE,
        "you moderate comments in these sections",
    ),
)
CHOICE = {choice.kind: choice for choice in CHOICES}


# -- Each person's choices --------------------------------------------------------------


def choices_for(person: User) -> list[Choice]:
    """The kinds of mail that apply to person's role."""
    return [choice for choice in CHOICES if person.role.has(choice.needs)]


def wants(person: User, kind: str) -> bool:
    """Whether person chose to receive this kind of mail."""
    return bool(getattr(person, CHOICE[kind].column))


@unit_of_work()
def save_choices(person: User, chosen: set[str]) -> None:
    """Keep the kinds person ticked (of those that apply to them); turn the others off."""
    for choice in choices_for(person):
        setattr(person, choice.column, choice.kind in chosen)


def _signer() -> URLSafeSerializer:
    """The signer of unsubscribe links (no expiry: an old mail's link still works)."""
    return URLSafeSerializer(current_app.config["SECRET_KEY"], salt=UNSUBSCRIBE_SALT)


def unsubscribe_token(person: User, kind: str) -> str:
    """A token that turns off one kind of mail for person, without signing in."""
    return _signer().dumps({"u": person.id, "k": kind})


def unsubscribe_url(person: User, kind: str) -> str:
    """The absolute one-click unsubscribe address for person and kind."""
    return absolute_url("auth.unsubscribe", token=unsubscribe_token(person, kind))


def unsubscribe_target(token: str) -> tuple[User, Choice]:
    """The person and kind a token names, or NotFound for a forged or broken token."""
    try:
        data = _signer().loads(token)
    except BadSignature as exc:
        raise NotFound("This unsubscribe link is not valid.") from exc
    if not isinstance(data, dict) or data.get("k") not in CHOICE:
        raise NotFound("This unsubscribe link is not valid.")
    person = db.session.get(User, data.get("u"))
    if person is None:
        raise NotFound("This unsubscribe link is not valid.")
    return person, CHOICE[data["k"]]


@unit_of_work()
def unsubscribe(token: str) -> tuple[User, Choice]:
    """Turn off the kind of mail a token names (the link in the mail, or one click)."""
    person, choice = unsubscribe_target(token)
    setattr(person, choice.column, False)
    return person, choice


# -- Who receives what ----------------------------------------------------------------


def _holders(perm: Permission) -> list[User]:
    """Everyone whose role holds perm and who is not suspended, by id."""
    role_ids = [role.id for role in db.session.scalars(select(Role)) if role.has(perm)]
    query = select(User).where(User.role_id.in_(role_ids or [0]), User.suspended_at.is_(None))
    return list(db.session.scalars(query.order_by(User.id)))


def reviewers_of(post: Post, besides: int | None = None) -> list[User]:
    """Who is asked to review post: its section's reviewers, or the admins when none.

    besides: the submitter, never asked (an editor submitting her own post in her own
    section leaves it to the admins, unless another editor covers the section).
    """
    covering = [
        person
        for person in _holders(Permission.REVIEW)
        if person.id != besides and person.can(Permission.REVIEW, post)
    ]
    editors = [person for person in covering if not person.role.has(Permission.ADMINISTER)]
    return editors or covering


def byline_people(post: Post) -> list[User]:
    """The post's author and co-authors, each once."""
    people: dict[int, User] = {}
    for person in (post.author, *post.coauthors):
        people.setdefault(person.id, person)
    return list(people.values())


# -- Listeners: enqueue only ------------------------------------------------------------


def _post_job(name: str, post: Post, actor: User | None, **more) -> None:
    """Enqueue a post's notification job with a key naming this one occasion."""
    if post.id is None:
        db.session.flush()
    jobs.enqueue(
        name,
        post_id=post.id,
        actor_id=actor.id if actor is not None else None,
        occasion=uuid.uuid4().hex,
        **more,
    )


@events.on("post.submitted")
def _submitted(post: Post, actor: User) -> None:
    """A post waits for review: tell its section's reviewers."""
    _post_job("notify.review_request", post, actor)


@events.on("post.sent_back")
def _sent_back(post: Post, actor: User, note: str) -> None:
    """Tell the byline the post came back, with the note."""
    _post_job("notify.post_news", post, actor, what="sent_back", note=note)


@events.on("post.published")
def _published(post: Post, actor: User | None) -> None:
    """Tell the byline the post is live."""
    _post_job("notify.post_news", post, actor, what="published")


@events.on("post.scheduled")
def _scheduled(post: Post, actor: User, when: datetime) -> None:
    """Tell the byline when the post goes live."""
    _post_job("notify.post_news", post, actor, what="scheduled", when=when.isoformat())


@events.on("comment.approved")
def _comment_shown(comment: Comment, actor: User | None) -> None:
    """A reply is shown: tell the person it answers."""
    if comment.parent_id is not None:
        jobs.enqueue("notify.reply", comment_id=comment.id)


# -- Sending ----------------------------------------------------------------------------


def _already_sent(person_id: int, kind: str, key: str) -> bool:
    """Whether this mail went to this person already."""
    found = select(NotificationSent.id).where(
        NotificationSent.user_id == person_id,
        NotificationSent.kind == kind,
        NotificationSent.key == key,
    )
    return db.session.scalar(found) is not None


def _deliver(
    postman: mail.Postman, person: User, kind: str, key: str, build: Callable[[], EmailMessage]
) -> bool:
    """Send person one mail of kind for the occasion key, unless chosen off or sent before.

    The "sent" row is committed in decide(), before the server is told the message is
    complete: a job run again finds the row and sends nothing.
    """
    if not person.email or not person.is_active or not wants(person, kind):
        return False
    if _already_sent(person.id, kind, key):
        return False
    person_id = person.id
    message = build()

    def decide() -> bool:
        db.session.add(NotificationSent(user_id=person_id, kind=kind, key=key))
        try:
            db.session.commit()
        except IntegrityError:  # another delivery of the same job got there first
            db.session.rollback()
            return False
        return True

    try:
        return postman.deliver(message, decide=decide)
    except mail.MailRefused as refused:  # a hard bounce: trying again would not help
        current_app.logger.warning("notification %s refused: %s", kind, refused)
        return False


def _compose(person: User, kind: str, subject: str, template: str, headers=None, **context):
    """A notification to person, with the footer's reason and the account page's link."""
    return mail.compose(
        mail.address_of(person.name, person.email),
        subject,
        f"notify/{template}",
        headers=headers,
        person=person,
        because=CHOICE[kind].because,
        account_url=absolute_url("auth.account") + "#notifications",
        **context,
    )


def _post_url(post: Post) -> str:
    """The article's public address."""
    return absolute_url("public.post", section_slug=post.category.slug, post_slug=post.slug)


@job("notify.review_request")
def send_review_request(post_id: int, actor_id: int | None, occasion: str) -> int:
    """Mail the section's reviewers that a post waits for them; return how many were sent."""
    post = db.session.get(Post, post_id)
    if post is None or post.status != PostStatus.PENDING:
        return 0  # deleted, or reviewed already
    submitter = db.session.get(User, actor_id) if actor_id else None
    sent = 0
    with mail.Postman() as postman:
        for person in reviewers_of(post, besides=actor_id):
            sent += _deliver(
                postman,
                person,
                "review_requests",
                occasion,
                lambda person=person: _compose(
                    person,
                    "review_requests",
                    f"For review in {post.category.name}: {post.title}",
                    "review_request",
                    post=post,
                    submitter=submitter.name if submitter else post.author.name,
                    edit_url=absolute_url("editor.edit_post", post_id=post.id),
                    queue_url=absolute_url("admin.index"),
                ),
            )
    return sent


_NEWS = {
    "sent_back": (PostStatus.DRAFT, "Sent back with a note: {title}"),
    "published": (PostStatus.PUBLISHED, "Published: {title}"),
    "scheduled": (PostStatus.SCHEDULED, "Scheduled for {when}: {title}"),
}


@job("notify.post_news")
def send_post_news(
    post_id: int,
    actor_id: int | None,
    occasion: str,
    what: str,
    note: str = "",
    when: str | None = None,
) -> int:
    """Mail a post's byline that it was sent back, published or scheduled (not the actor)."""
    post = db.session.get(Post, post_id)
    status, subject = _NEWS[what]
    if post is None or post.status != status:
        return 0  # deleted, or moved on since: a newer event tells
    if what == "scheduled" and (
        when is None or post.published_at != datetime.fromisoformat(when)
    ):
        return 0  # scheduled again for another time: that job tells
    shown_when = clock.show(post.published_at) if what == "scheduled" else ""
    actor = db.session.get(User, actor_id) if actor_id else None
    sent = 0
    with mail.Postman() as postman:
        for person in byline_people(post):
            if person.id == actor_id:
                continue
            sent += _deliver(
                postman,
                person,
                "post_news",
                occasion,
                lambda person=person: _compose(
                    person,
                    "post_news",
                    subject.format(title=post.title, when=shown_when),
                    f"post_{what}",
                    post=post,
                    actor=actor.name if actor else None,
                    note=note,
                    when=shown_when,
                    post_url=_post_url(post),
                    edit_url=absolute_url("editor.edit_post", post_id=post.id),
                ),
            )
    return sent


@job("notify.reply")
def send_reply_notice(comment_id: int) -> int:
    """Mail a commenter that someone else's reply to them is shown (once per reply)."""
    reply = db.session.get(Comment, comment_id)
    if reply is None or reply.parent is None or not comments.is_public(reply):
        return 0  # gone, or hidden again before the mail left
    person = reply.parent.author
    if person.id == reply.author_id:
        return 0
    post = reply.post
    unsubscribe = unsubscribe_url(person, "replies")
    with mail.Postman() as postman:
        return int(
            _deliver(
                postman,
                person,
                "replies",
                f"comment:{reply.id}",
                lambda: _compose(
                    person,
                    "replies",
                    f"{reply.author.name} replied to your comment on “{post.title}”",
                    "reply",
                    headers=mail.unsubscribe_headers(unsubscribe),
                    post=post,
                    reply=reply,
                    parent=reply.parent,
                    reply_url=f"{_post_url(post)}#comment-{reply.id}",
                    unsubscribe_url=unsubscribe,
                ),
            )
        )


def _today() -> str:
    """Today's date in the site's time zone, as the digest's key."""
    return clock.to_site(utcnow()).date().isoformat()


@periodic("notify.moderation_digests", hour="7", minute="0")
def queue_moderation_digests() -> int:
    """Each morning, enqueue a digest job for every moderator who wants one (not sent today)."""
    day = _today()
    queued = 0
    with unit_of_work():
        for person in _holders(Permission.MODERATE):
            if wants(person, "moderation_digest") and not _already_sent(
                person.id, "moderation_digest", day
            ):
                jobs.enqueue("notify.moderation_digest", user_id=person.id, day=day)
                queued += 1
    return queued


DIGEST_LIST = 10  # comments and reports listed by name in a digest


@job("notify.moderation_digest")
def send_moderation_digest(user_id: int, day: str) -> int:
    """Mail one moderator what waits in their sections, when anything does (once a day)."""
    person = db.session.get(User, user_id)
    if person is None or not person.can(Permission.MODERATE):
        return 0
    held = comments.pending_count_for(person)
    reported = reports.open_count_for(person)
    if not held and not reported:
        return 0
    with mail.Postman() as postman:
        return int(
            _deliver(
                postman,
                person,
                "moderation_digest",
                day,
                lambda: _compose(
                    person,
                    "moderation_digest",
                    f"Waiting for moderation: {held} held comment{'s' * (held != 1)}, "
                    f"{reported} open report{'s' * (reported != 1)}",
                    "moderation_digest",
                    held=held,
                    reported=reported,
                    held_comments=comments.held_comments_for(person, limit=DIGEST_LIST),
                    open_reports=reports.open_reports_for(person, limit=DIGEST_LIST),
                    queue_url=absolute_url("admin.index"),
                    post_url=_post_url,
                ),
            )
        )


@periodic("notify.forget_sent", hour="3", minute="30")
def forget_sent() -> None:
    """Drop the record of notifications older than KEEP_SENT."""
    with unit_of_work():
        db.session.execute(
            delete(NotificationSent).where(NotificationSent.sent_at < utcnow() - KEEP_SENT)
        )
