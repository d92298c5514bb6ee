"""The newsletter: readers subscribe by address (double opt-in), editors send posts or a
section's week to them, and the worker delivers each mail exactly once.

Subscribing never changes a list by itself: it mails a signed confirmation link
(NEWSLETTER_CONFIRM_MAX_AGE), and only pressing the button behind that link makes the
address active, with the sections chosen in the form (carried in the signed token).
The answer to the form is the same for any address, known or not.

A send writes one delivery row per recipient (INSERT … SELECT, unique per send and
subscriber), then hands batches of rows to the queue. A batch keeps one SMTP
connection; for each row it sends the message up to its last line, then marks the row
"sent" with a conditional UPDATE and commits, and only then ends the data so the server
takes it (`mail.Postman.deliver(decide=...)`). A worker killed before that commit
delivered nothing and the row is still "pending"; one killed after it delivered, and
the row says so: sent again later, never twice. The worker's clock hands out again the
pending rows of a send that shows no progress (and of every unfinished send when a
worker starts), since the queue forgets the jobs a killed worker held; a batch handed
out twice is harmless, the UPDATE refuses rows already sent.
"""

from __future__ import annotations

import csv
import io
import smtplib
from dataclasses import dataclass
from datetime import timedelta

from email_validator import EmailNotValidError, validate_email
from flask import current_app
from itsdangerous import BadSignature, SignatureExpired, URLSafeSerializer, URLSafeTimedSerializer
from sqlalchemy import delete, exists, func, insert, literal, or_, select, update
from sqlalchemy.orm import joinedload

from ..extensions import db
from ..hosts import absolute_path, absolute_url
from ..models import (
    Category,
    IssueKind,
    IssueStatus,
    NewsletterDelivery,
    NewsletterIssue,
    Permission,
    Post,
    RecipientStatus,
    Subscriber,
    SubscriberStatus,
    User,
    subscriber_sections,
    utcnow,
)
from ..permissions import in_sections
from . import Forbidden, NotFound, ServiceError, audit, events, jobs, mail, unit_of_work
from .jobs import job, periodic
from .media import public_address
from .users import normalise_email

# One confirmation mail per address per this long, whatever the form is sent.
CONFIRMATION_EVERY = timedelta(minutes=10)
DIGEST_DAYS = 7
SUBSCRIBERS_PER_PAGE = 50
BAD_ADDRESS = "Enter an email address like name@example.com."
BAD_CONFIRM_LINK = "This confirmation link is not valid. Subscribe again to get a new one."
OLD_CONFIRM_LINK = "This confirmation link has expired. Subscribe again to get a new one."
BAD_UNSUBSCRIBE_LINK = "This unsubscribe link is not valid."


# --- Signed links -------------------------------------------------------------------


def _confirm_signer() -> URLSafeTimedSerializer:
    """The signer of confirmation links (they expire)."""
    secret = current_app.config["SECRET_KEY"]
    return URLSafeTimedSerializer(secret, salt="circle-newsletter-confirm")


def _unsubscribe_signer() -> URLSafeSerializer:
    """The signer of unsubscribe links (they never expire: old mails keep working)."""
    return URLSafeSerializer(current_app.config["SECRET_KEY"], salt="circle-newsletter-unsubscribe")


def confirm_url(subscriber: Subscriber, section_ids: list[int] | None) -> str:
    """The link in a confirmation mail: the address and the sections asked for, signed."""
    token = _confirm_signer().dumps(
        {"s": subscriber.id, "e": subscriber.email, "c": section_ids}
    )
    return absolute_url("public.confirm_subscription", token=token)


def unsubscribe_url(subscriber: Subscriber) -> str:
    """The subscriber's own unsubscribe link (works without signing in)."""
    return _unsubscribe_link(subscriber.id, subscriber.email)


def _unsubscribe_link(subscriber_id: int, email: str) -> str:
    """The unsubscribe link of the subscriber with this id and address."""
    token = _unsubscribe_signer().dumps({"s": subscriber_id, "e": email})
    return absolute_url("public.unsubscribe", token=token)


@dataclass(frozen=True)
class Confirmation:
    """What a valid confirmation link asks for."""

    subscriber: Subscriber
    sections: list[Category]  # empty: the whole magazine


def _subscriber_named(data: object) -> Subscriber | None:
    """The subscriber a token's data names, if the address still matches."""
    if not isinstance(data, dict):
        return None
    wanted = data.get("s")
    subscriber = db.session.get(Subscriber, wanted) if isinstance(wanted, int) else None
    if subscriber is None or subscriber.email != data.get("e"):
        return None
    return subscriber


def confirmation_for(token: str) -> Confirmation:
    """What a confirmation link asks for; ServiceError when it is forged or too old."""
    try:
        data, issued = _confirm_signer().loads(
            token or "",
            max_age=current_app.config["NEWSLETTER_CONFIRM_MAX_AGE"],
            return_timestamp=True,
        )
    except SignatureExpired as exc:
        raise ServiceError(OLD_CONFIRM_LINK) from exc
    except BadSignature as exc:
        raise ServiceError(BAD_CONFIRM_LINK) from exc
    subscriber = _subscriber_named(data)
    if subscriber is None:
        raise ServiceError(BAD_CONFIRM_LINK)
    left = subscriber.unsubscribed_at
    if left is not None and issued < left.replace(microsecond=0):
        raise ServiceError(OLD_CONFIRM_LINK)  # asked for before they unsubscribed
    ids = data.get("c")
    sections = _sections(ids) if isinstance(ids, list) and ids else []
    return Confirmation(subscriber, sections)


def subscriber_for_unsubscribe(token: str) -> Subscriber:
    """The subscriber an unsubscribe link is for; ServiceError when it is forged."""
    try:
        data = _unsubscribe_signer().loads(token or "")
    except BadSignature as exc:
        raise ServiceError(BAD_UNSUBSCRIBE_LINK) from exc
    subscriber = _subscriber_named(data)
    if subscriber is None:
        raise ServiceError(BAD_UNSUBSCRIBE_LINK)
    return subscriber


# --- Subscribing ----------------------------------------------------------------------


def _sections(ids: list[int]) -> list[Category]:
    """The sections with these ids (unknown ids are left out)."""
    wanted = [i for i in ids if isinstance(i, int)]
    if not wanted:
        return []
    return list(
        db.session.scalars(
            select(Category).where(Category.id.in_(wanted)).order_by(Category.position)
        )
    )


def clean_address(email: str) -> str:
    """The address as stored, or ServiceError when it cannot be one."""
    address = normalise_email(email)
    if len(address) > 254:
        raise ServiceError(BAD_ADDRESS, "email")
    try:
        validate_email(address, check_deliverability=False)
    except EmailNotValidError as exc:
        raise ServiceError(BAD_ADDRESS, "email") from exc
    return address


@unit_of_work()
def subscribe(email: str, section_ids: list[int] | None = None) -> None:
    """Ask for the newsletter: mail a confirmation link (at most one per address per
    CONFIRMATION_EVERY). Nothing else changes until the link is confirmed, and nothing
    in the outcome tells whether the address was known."""
    address = clean_address(email)
    chosen = [section.id for section in _sections(section_ids or [])] or None
    now = utcnow()
    subscriber = db.session.scalar(select(Subscriber).where(Subscriber.email == address))
    if subscriber is None:
        subscriber = Subscriber(email=address, status=SubscriberStatus.PENDING, bounce_note="")
        db.session.add(subscriber)
    elif (
        subscriber.confirmation_sent_at is not None
        and subscriber.confirmation_sent_at > now - CONFIRMATION_EVERY
    ):
        return
    subscriber.confirmation_sent_at = now
    db.session.flush()
    jobs.enqueue("newsletter.confirmation", subscriber_id=subscriber.id, section_ids=chosen)


@job("newsletter.confirmation", retries=5, delay=30, backoff=2.0)
def send_confirmation(subscriber_id: int, section_ids: list[int] | None) -> None:
    """Mail the confirmation link (a job: the form's answer does not wait for SMTP)."""
    subscriber = db.session.get(Subscriber, subscriber_id)
    if subscriber is None:
        return
    sections = _sections(section_ids or [])
    mail.send(
        mail.compose(
            subscriber.email,
            f"Confirm your subscription to {current_app.config['SITE_NAME']}",
            "newsletter_confirm",
            link=confirm_url(subscriber, section_ids),
            sections=[section.name for section in sections],
        )
    )


@unit_of_work()
def confirm(token: str) -> Subscriber:
    """Make the address active with the sections its link asked for (the button's POST)."""
    found = confirmation_for(token)
    subscriber = found.subscriber
    subscriber.sections = found.sections
    subscriber.all_sections = not found.sections
    if subscriber.status != SubscriberStatus.ACTIVE:
        subscriber.status = SubscriberStatus.ACTIVE
        subscriber.confirmed_at = utcnow()
        subscriber.unsubscribed_at = None
        subscriber.bounce_note = ""
    return subscriber


@unit_of_work()
def unsubscribe(token: str) -> Subscriber:
    """Stop every mail to the link's subscriber, at once (the page's button or one click)."""
    subscriber = subscriber_for_unsubscribe(token)
    if subscriber.status != SubscriberStatus.UNSUBSCRIBED:
        subscriber.status = SubscriberStatus.UNSUBSCRIBED
        subscriber.unsubscribed_at = utcnow()
    return subscriber


# --- Sending --------------------------------------------------------------------------


def _published_post(post_id: int) -> Post:
    """A published article by id, with its section."""
    post = db.session.scalar(
        select(Post).options(joinedload(Post.category)).where(Post.id == post_id)
    )
    if post is None or not post.is_article or not post.is_published:
        raise NotFound("Only a published post can be sent to the subscribers.")
    return post


def already_sent(post_id: int) -> bool:
    """True when this post has gone (or is going) to the subscribers."""
    return db.session.scalar(
        select(exists().where(NewsletterIssue.post_id == post_id))
    )


def may_send(actor: User, post: Post) -> bool:
    """True when actor may send this post now (published, theirs to publish, not sent yet)."""
    return (
        post.is_article
        and post.is_published
        and actor.can(Permission.PUBLISH, post)
        and not already_sent(post.id)
    )


@unit_of_work()
def send_post(actor: User, post_id: int) -> NewsletterIssue:
    """Send a published post to its section's subscribers (once per post)."""
    post = _published_post(post_id)
    if not actor.can(Permission.PUBLISH, post):
        raise Forbidden("You may send only posts of sections you publish in.")
    if already_sent(post.id):
        raise ServiceError(f"“{post.title}” has already been sent to the subscribers.")
    issue = NewsletterIssue(
        kind=IssueKind.POST, post_id=post.id, category_id=post.category_id,
        subject=post.title, created_by_id=actor.id, status=IssueStatus.QUEUED,
    )
    return _queue(actor, issue, post.title)


def digest_posts(section: Category, until=None) -> list[Post]:
    """The section's articles published in the DIGEST_DAYS before until (newest first)."""
    until = until or utcnow()
    return list(
        db.session.scalars(
            select(Post)
            .options(joinedload(Post.category))
            .where(
                Post.category_id == section.id,
                Post.live_article(until),
                Post.published_at > until - timedelta(days=DIGEST_DAYS),
            )
            .order_by(Post.published_at.desc())
        ).unique()
    )


@unit_of_work()
def send_digest(actor: User, section_id: int) -> NewsletterIssue:
    """Send a section's week (its posts of the last DIGEST_DAYS days) to its subscribers."""
    section = db.session.get(Category, section_id)
    if section is None:
        raise NotFound("No such section.")
    if not actor.can(Permission.PUBLISH, section):
        raise Forbidden("You may send digests only of sections you publish in.")
    if not digest_posts(section):
        raise ServiceError(f"{section.name} has no posts published in the last {DIGEST_DAYS} days.")
    issue = NewsletterIssue(
        kind=IssueKind.DIGEST, category_id=section.id, subject=f"{section.name}: this week",
        created_by_id=actor.id, status=IssueStatus.QUEUED,
    )
    return _queue(actor, issue, issue.subject)


def _queue(actor: User, issue: NewsletterIssue, label: str) -> NewsletterIssue:
    """Record a send and hand it to the queue."""
    db.session.add(issue)
    db.session.flush()
    audit.record(actor, "newsletter.send", None, details=label)
    jobs.enqueue("newsletter.prepare", issue_id=issue.id)
    return issue


def _recipients(issue: NewsletterIssue):
    """SELECT of (issue id, subscriber id, …) for every active subscriber of the send's section."""
    chose_section = exists().where(
        subscriber_sections.c.subscriber_id == Subscriber.id,
        subscriber_sections.c.category_id == issue.category_id,
    )
    already = exists().where(
        NewsletterDelivery.issue_id == issue.id, NewsletterDelivery.subscriber_id == Subscriber.id
    )
    return select(
        literal(issue.id), Subscriber.id, literal(RecipientStatus.PENDING.value), literal("")
    ).where(
        Subscriber.status == SubscriberStatus.ACTIVE,
        or_(Subscriber.all_sections, chose_section),
        ~already,
    )


@job("newsletter.prepare", retries=5, delay=10, backoff=2.0)
def prepare(issue_id: int) -> None:
    """Write a delivery row per recipient, then hand the rows out in batches."""
    with unit_of_work():
        claimed = db.session.execute(
            update(NewsletterIssue)
            .where(NewsletterIssue.id == issue_id, NewsletterIssue.status == IssueStatus.QUEUED)
            .values(status=IssueStatus.SENDING, progress_at=utcnow())
        ).rowcount
        if not claimed:
            return  # prepared already (this job ran twice)
        issue = db.session.get(NewsletterIssue, issue_id)
        columns = ["issue_id", "subscriber_id", "status", "note"]
        db.session.execute(
            insert(NewsletterDelivery).from_select(columns, _recipients(issue))
        )
        issue.total = db.session.scalar(
            select(func.count()).where(NewsletterDelivery.issue_id == issue_id)
        )
        _hand_out(issue_id)
    _finish_if_done(issue_id)


def _hand_out(issue_id: int) -> int:
    """Enqueue batch jobs for the send's pending rows; return how many."""
    size = max(1, current_app.config["NEWSLETTER_BATCH_SIZE"])
    ids = list(
        db.session.scalars(
            select(NewsletterDelivery.id)
            .where(
                NewsletterDelivery.issue_id == issue_id,
                NewsletterDelivery.status == RecipientStatus.PENDING,
            )
            .order_by(NewsletterDelivery.id)
        )
    )
    for start in range(0, len(ids), size):
        chunk = ids[start : start + size]
        jobs.enqueue("newsletter.batch", issue_id=issue_id, first_id=chunk[0], last_id=chunk[-1])
    return (len(ids) + size - 1) // size


@dataclass(frozen=True)
class _Content:
    """What every recipient of a send gets, read once per batch."""

    template: str
    subject: str
    context: dict


def _content(issue: NewsletterIssue) -> _Content | None:
    """The mail's subject, template and context for a send (None: its post is gone)."""
    if issue.kind == IssueKind.POST:
        post = db.session.scalar(
            select(Post).options(joinedload(Post.category)).where(Post.id == issue.post_id)
        )
        if post is None or not post.is_published:
            return None
        return _Content("newsletter_post", issue.subject, {"post": _mail_post(post)})
    section = issue.category
    if section is None:
        return None
    posts = [_mail_post(post) for post in digest_posts(section, until=issue.created_at)]
    return _Content(
        "newsletter_digest", issue.subject,
        {"section": section.name, "posts": posts},
    )


def _mail_post(post: Post) -> dict:
    """A post as a mail shows it: absolute links only."""
    cover = public_address(post.cover_image) if post.cover_image else None
    return {
        "title": post.title,
        "excerpt": post.excerpt,
        "section": post.category.name if post.category else "",
        "url": absolute_url("public.post", section_slug=post.category.slug, post_slug=post.slug),
        "cover": absolute_path(cover) if cover else None,
        "cover_alt": post.cover_alt,
    }


def _mark_sent(delivery_id: int) -> bool:
    """Mark a pending delivery sent and commit; False when it was not pending any more."""
    changed = db.session.execute(
        update(NewsletterDelivery)
        .where(
            NewsletterDelivery.id == delivery_id,
            NewsletterDelivery.status == RecipientStatus.PENDING,
        )
        .values(status=RecipientStatus.SENT, sent_at=utcnow())
    ).rowcount
    db.session.commit()
    return changed == 1


def _mark(delivery_id: int, status: RecipientStatus, note: str) -> None:
    """Close a pending delivery as bounced or failed (committed)."""
    db.session.execute(
        update(NewsletterDelivery)
        .where(
            NewsletterDelivery.id == delivery_id,
            NewsletterDelivery.status == RecipientStatus.PENDING,
        )
        .values(status=status, note=note[:500])
    )
    db.session.commit()


@job("newsletter.batch", retries=8, delay=30, backoff=2.0)
def send_batch(issue_id: int, first_id: int, last_id: int) -> None:
    """Deliver the pending rows of one batch over one SMTP connection (see the module)."""
    issue = db.session.get(NewsletterIssue, issue_id)
    if issue is None or issue.status != IssueStatus.SENDING:
        return
    _touch(issue_id)
    rows = db.session.execute(
        select(NewsletterDelivery.id, Subscriber.id, Subscriber.email, Subscriber.status)
        .join(Subscriber, Subscriber.id == NewsletterDelivery.subscriber_id)
        .where(
            NewsletterDelivery.issue_id == issue_id,
            NewsletterDelivery.status == RecipientStatus.PENDING,
            NewsletterDelivery.id.between(first_id, last_id),
        )
        .order_by(NewsletterDelivery.id)
    ).all()
    content = _content(issue) if rows else None
    if rows and content is None:
        for row in rows:
            _mark(row[0], RecipientStatus.FAILED, "The post is no longer published.")
        rows = []
    with mail.rendering_context(), mail.Postman() as postman:
        for delivery_id, subscriber_id, email, status in rows:
            if status != SubscriberStatus.ACTIVE:
                _mark(delivery_id, RecipientStatus.FAILED, "Unsubscribed before it went out.")
                continue
            _deliver(postman, content, delivery_id, subscriber_id, email)
    _touch(issue_id)
    _finish_if_done(issue_id)


def _deliver(
    postman: mail.Postman, content: _Content, delivery_id: int, subscriber_id: int, email: str
) -> None:
    """Send one recipient's mail; a hard refusal marks them bounced."""
    link = _unsubscribe_link(subscriber_id, email)
    message = mail.compose(
        email, content.subject, content.template,
        headers=mail.unsubscribe_headers(link), unsubscribe=link, **content.context,
    )
    try:
        postman.deliver(message, decide=lambda: _mark_sent(delivery_id))
    except mail.MailRefused as refused:
        note = f"{refused.code} {refused.reply}"
        _mark(delivery_id, RecipientStatus.BOUNCED, note)
        db.session.execute(
            update(Subscriber)
            .where(Subscriber.id == subscriber_id)
            .values(status=SubscriberStatus.BOUNCED, bounce_note=note[:500])
        )
        db.session.commit()
    except smtplib.SMTPRecipientsRefused as refused:  # a temporary refusal of this address
        _mark(delivery_id, RecipientStatus.FAILED, str(refused.recipients)[:500])


def _touch(issue_id: int) -> None:
    """Note that a worker is at work on the send (committed)."""
    db.session.execute(
        update(NewsletterIssue).where(NewsletterIssue.id == issue_id).values(progress_at=utcnow())
    )
    db.session.commit()


def delivery_counts(issue_ids: list[int]) -> dict[int, dict[str, int]]:
    """How many deliveries of each send are in each status."""
    counts: dict[int, dict[str, int]] = {i: dict.fromkeys(RecipientStatus, 0) for i in issue_ids}
    if not issue_ids:
        return counts
    rows = db.session.execute(
        select(NewsletterDelivery.issue_id, NewsletterDelivery.status, func.count())
        .where(NewsletterDelivery.issue_id.in_(issue_ids))
        .group_by(NewsletterDelivery.issue_id, NewsletterDelivery.status)
    )
    for issue_id, status, number in rows:
        counts[issue_id][RecipientStatus(status)] = number
    return counts


def _finish_if_done(issue_id: int) -> None:
    """When no delivery waits any more, mark the send sent and tell listeners (once)."""
    with unit_of_work():
        counts = delivery_counts([issue_id])[issue_id]
        if counts[RecipientStatus.PENDING]:
            return
        finished = db.session.execute(
            update(NewsletterIssue)
            .where(NewsletterIssue.id == issue_id, NewsletterIssue.status == IssueStatus.SENDING)
            .values(
                status=IssueStatus.SENT,
                finished_at=utcnow(),
                sent_count=counts[RecipientStatus.SENT],
                bounced_count=counts[RecipientStatus.BOUNCED],
                failed_count=counts[RecipientStatus.FAILED],
            )
        ).rowcount
        if finished:
            issue = db.session.get(NewsletterIssue, issue_id)
            db.session.refresh(issue)
            events.emit("newsletter.sent", issue=issue)


def resume(everything: bool = False) -> int:
    """Hand out again the waiting work of unfinished sends whose worker may have died.

    everything: every unfinished send (a worker is starting); else only sends that
    showed no progress for NEWSLETTER_STALLED_AFTER seconds. Returns how many sends.
    """
    quiet = utcnow() - timedelta(seconds=current_app.config["NEWSLETTER_STALLED_AFTER"])
    last_sign = func.coalesce(NewsletterIssue.progress_at, NewsletterIssue.created_at)
    query = select(NewsletterIssue.id, NewsletterIssue.status).where(
        NewsletterIssue.status.in_([IssueStatus.QUEUED, IssueStatus.SENDING])
    )
    if not everything:
        query = query.where(last_sign < quiet)
    resumed = 0
    for issue_id, status in db.session.execute(query).all():
        with unit_of_work():
            db.session.execute(
                update(NewsletterIssue)
                .where(NewsletterIssue.id == issue_id)
                .values(progress_at=utcnow())
            )
            if status == IssueStatus.QUEUED:
                jobs.enqueue("newsletter.prepare", issue_id=issue_id)
            elif not _hand_out(issue_id):
                _finish_if_done(issue_id)
        resumed += 1
    return resumed


@periodic("newsletter.resume_at_start", at_start=True, minute="30", hour="4")
def resume_at_start() -> int:
    """A worker starting (and once a day): hand out every unfinished send's waiting rows."""
    return resume(everything=True)


@periodic("newsletter.forget_unconfirmed", minute="45", hour="3")
def forget_unconfirmed() -> int:
    """Daily: delete addresses that never confirmed and whose link has expired."""
    too_old = utcnow() - timedelta(seconds=current_app.config["NEWSLETTER_CONFIRM_MAX_AGE"])
    with unit_of_work():
        return db.session.execute(
            delete(Subscriber).where(
                Subscriber.status == SubscriberStatus.PENDING,
                Subscriber.confirmed_at.is_(None),
                Subscriber.created_at < too_old,
            )
        ).rowcount


@periodic("newsletter.resume_stalled", minute="*")
def resume_stalled() -> int:
    """Every minute: hand out the waiting rows of sends that stopped making progress."""
    return resume()


# --- What editors and admins see ------------------------------------------------------


def sends(actor: User, limit: int = 50) -> list[tuple[NewsletterIssue, dict[str, int]]]:
    """The latest sends, each with its deliveries counted by status (for the progress)."""
    if not actor.can(Permission.PUBLISH):
        raise Forbidden("Only editors send newsletters.")
    issues = list(
        db.session.scalars(
            select(NewsletterIssue).order_by(NewsletterIssue.id.desc()).limit(limit)
        )
    )
    counts = delivery_counts([issue.id for issue in issues])
    return [(issue, counts[issue.id]) for issue in issues]


def sendable_posts(actor: User, limit: int = 50) -> list[Post]:
    """Published articles the actor may send and that have not been sent, newest first."""
    if not actor.can(Permission.PUBLISH):
        return []
    now = utcnow()
    return list(
        db.session.scalars(
            select(Post)
            .where(
                Post.live_article(now),
                in_sections(Post.category_id, actor, Permission.PUBLISH),
                ~exists().where(NewsletterIssue.post_id == Post.id),
            )
            .order_by(Post.published_at.desc())
            .limit(limit)
        )
    )


def digest_sections(actor: User) -> list[Category]:
    """The sections whose digest the actor may send."""
    if not actor.can(Permission.PUBLISH):
        return []
    sections = db.session.scalars(select(Category).order_by(Category.position, Category.name))
    return [s for s in sections if actor.can(Permission.PUBLISH, s)]


def _require_admin(actor: User) -> None:
    """Only admins see the subscriber list."""
    if not actor.can(Permission.ADMINISTER):
        raise Forbidden("Only admins may see the subscribers.")


def _subscriber_query(search: str = "", status: str | None = None):
    """Subscribers matching a search and a status, newest first."""
    query = select(Subscriber).order_by(Subscriber.created_at.desc(), Subscriber.id.desc())
    if search:
        escaped = search.lower().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        query = query.where(Subscriber.email.like(f"%{escaped}%", escape="\\"))
    if status:
        query = query.where(Subscriber.status == status)
    return query


def subscribers(actor: User, search: str = "", status: str | None = None, page: int = 1):
    """A page of subscribers (db.paginate) for /admin/subscribers."""
    _require_admin(actor)
    return db.paginate(
        _subscriber_query(search, status), page=page, per_page=SUBSCRIBERS_PER_PAGE,
        error_out=False,
    )


def subscriber_counts(actor: User) -> dict[str, int]:
    """How many subscribers are in each status."""
    _require_admin(actor)
    rows = db.session.execute(select(Subscriber.status, func.count()).group_by(Subscriber.status))
    found = dict(rows.all())
    return {status.value: found.get(status.value, 0) for status in SubscriberStatus}


def _cell(value: str) -> str:
    """A CSV cell a spreadsheet will not run as a formula."""
    return "'" + value if value[:1] in ("=", "+", "-", "@", "\t", "\r") else value


def export_csv(actor: User, search: str = "", status: str | None = None) -> str:
    """The subscribers as CSV: email, status, sections, subscribed, confirmed."""
    _require_admin(actor)
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["email", "status", "sections", "subscribed", "confirmed"])
    for subscriber in db.session.scalars(_subscriber_query(search, status)):
        sections = (
            "all" if subscriber.all_sections else "; ".join(s.name for s in subscriber.sections)
        )
        confirmed = subscriber.confirmed_at
        confirmed = confirmed.isoformat(timespec="seconds") if confirmed else ""
        writer.writerow(
            [
                _cell(subscriber.email), subscriber.status, _cell(sections),
                subscriber.created_at.isoformat(timespec="seconds"), confirmed,
            ]
        )
    return out.getvalue()


def subscriber(actor: User, subscriber_id: int) -> Subscriber:
    """A subscriber by id, for an admin."""
    _require_admin(actor)
    return _subscriber(subscriber_id)


def _subscriber(subscriber_id: int) -> Subscriber:
    """A subscriber by id."""
    subscriber = db.session.get(Subscriber, subscriber_id)
    if subscriber is None:
        raise NotFound("No such subscriber.")
    return subscriber


@unit_of_work()
def mark_bounced(actor: User, subscriber_id: int, reason: str) -> Subscriber:
    """Mark an address as bouncing: it gets nothing more until it subscribes again."""
    _require_admin(actor)
    subscriber = _subscriber(subscriber_id)
    reason = " ".join((reason or "").split())[:500]
    if not reason:
        raise ServiceError("Say why the address bounces (the server's reply, say).", "reason")
    subscriber.status = SubscriberStatus.BOUNCED
    subscriber.bounce_note = reason
    audit.record(actor, "subscriber.bounced", None, details=f"{subscriber.email}: {reason}")
    return subscriber


@unit_of_work()
def remove(actor: User, subscriber_id: int) -> str:
    """Delete a subscriber and their delivery record; return the address."""
    _require_admin(actor)
    subscriber = _subscriber(subscriber_id)
    address = subscriber.email
    db.session.delete(subscriber)
    audit.record(actor, "subscriber.remove", None, details=address)
    return address

