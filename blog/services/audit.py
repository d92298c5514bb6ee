"""The audit log: every service that changes something that matters records it here,
and staff read it here, each within their sections."""

from __future__ import annotations

import contextlib
from datetime import date, datetime

from sqlalchemy import ColumnElement, select

from ..extensions import db
from ..models import AuditEntry, Category, Comment, Permission, Post, Report, User
from ..permissions import in_sections
from . import NotFound, client_address, clock, reading


def _describe(target) -> tuple[str, int | None, str, int | None]:
    """Return (type, id, label, section id) for a thing the log mentions."""
    if target is None:
        return "", None, "", None
    if isinstance(target, Post):
        return "post", target.id, target.title[:300], target.category_id
    if isinstance(target, Comment):
        section = target.post.category_id if target.post is not None else None
        return "comment", target.id, (target.body or "")[:120], section
    if isinstance(target, Report):
        thing = target.post or (target.comment.post if target.comment else None)
        return "report", target.id, (target.reason or "")[:120], getattr(thing, "category_id", None)
    if isinstance(target, User):
        return "user", target.id, target.username, None
    if isinstance(target, Category):
        return "section", target.id, target.name, target.id
    return type(target).__name__.lower(), getattr(target, "id", None), str(target)[:300], None


def record(actor: User | None, action: str, target=None, details: str = "") -> AuditEntry:
    """Add an entry to the log in the current transaction (the caller commits)."""
    kind, target_id, label, section_id = _describe(target)
    entry = AuditEntry(
        actor_id=getattr(actor, "id", None),
        actor_name=getattr(actor, "username", "") or "system",
        action=action,
        target_type=kind,
        target_id=target_id,
        target_label=label,
        category_id=section_id,
        details=(details or "")[:4000],
        ip_address=client_address()[:45],
    )
    db.session.add(entry)
    return entry


def _readable(viewer: User) -> ColumnElement[bool]:
    """SQL condition: the entries viewer may read.

    Admins read everything; editors read what happened in sections (their own,
    or all when none is assigned), never entries about people or the whole site.
    """
    scope = in_sections(AuditEntry.category_id, viewer, Permission.VIEW_AUDIT)
    if viewer.can(Permission.ADMINISTER):
        return scope
    return AuditEntry.category_id.is_not(None) & scope


def entries_page(
    viewer: User,
    page: int,
    per_page: int,
    action: str = "",
    actor: str = "",
    section_id: int | None = None,
    target_type: str = "",
    since: date | None = None,
    until: date | None = None,
):
    """One page of the entries viewer may read, newest first, filtered as asked.

    since and until are days in the site's time zone, both included. A page past the end
    raises NotFound.
    """
    query = (
        select(AuditEntry)
        .where(_readable(viewer))
        .order_by(AuditEntry.created_at.desc(), AuditEntry.id.desc())
    )
    if action:
        query = query.where(AuditEntry.action == action)
    if actor:
        query = query.where(AuditEntry.actor_name == actor)
    if section_id:
        query = query.where(AuditEntry.category_id == section_id)
    if target_type:
        query = query.where(AuditEntry.target_type == target_type)
    if since:
        query = query.where(AuditEntry.created_at >= clock.day_bounds(since)[0])
    if until:
        query = query.where(AuditEntry.created_at < clock.day_bounds(until)[1])
    pagination = db.paginate(query, page=page, per_page=per_page, error_out=False)
    if page > 1 and not pagination.items:
        raise NotFound("No such page.")
    return pagination


def actions_for(viewer: User) -> list[str]:
    """The actions among the entries viewer may read, for the filter's choices."""
    return list(
        db.session.scalars(
            select(AuditEntry.action)
            .where(_readable(viewer))
            .distinct()
            .order_by(AuditEntry.action)
        )
    )


def people_for(viewer: User) -> list[tuple[str, str]]:
    """The people among the entries viewer may read, as (username, name), for the filter."""
    rows = db.session.execute(
        select(AuditEntry.actor_name, User.display_name)
        .outerjoin(User, User.id == AuditEntry.actor_id)
        .where(_readable(viewer), AuditEntry.actor_id.is_not(None))
        .distinct()
    ).all()
    people = {
        name: f"{shown} ({name})" if shown and shown != name else name for name, shown in rows
    }
    return sorted(people.items(), key=lambda pair: pair[1].lower())


def action_label(action: str) -> str:
    """An action code as the filter offers it: its sentence without the people."""
    rule = SENTENCES.get(action)
    if rule is None:
        return action
    words = rule.format(who="", what="", where="", details="", action=action)
    words = words.replace(":", "").replace("()", "")
    return " ".join(words.split()).capitalize() or action


def sections_for(viewer: User) -> list[Category]:
    """The sections whose entries viewer may read, in navigation order."""
    return [s for s in reading.navigation_sections() if viewer.covers_section(s.id)]


def entries_about(target, action: str | None = None) -> list[AuditEntry]:
    """The entries about one thing (optionally of one action), newest first."""
    kind, target_id, _, _ = _describe(target)
    query = select(AuditEntry).where(
        AuditEntry.target_type == kind, AuditEntry.target_id == target_id
    )
    if action:
        query = query.where(AuditEntry.action == action)
    return list(db.session.scalars(query.order_by(AuditEntry.id.desc())))


def last_entry_about(target) -> AuditEntry | None:
    """The newest entry about one thing, or None."""
    kind, target_id, _, _ = _describe(target)
    return db.session.scalar(
        select(AuditEntry)
        .where(AuditEntry.target_type == kind, AuditEntry.target_id == target_id)
        .order_by(AuditEntry.id.desc())
        .limit(1)
    )


# --- The log in sentences -----------------------------------------------------------

# One sentence per action: {who} did it, {what} is the thing (quoted), {where} its
# section (" in Storybook"), {details} what the entry noted. Other actions fall back
# to DEFAULT_SENTENCE.
SENTENCES: dict[str, str] = {
    "post.submit": "{who} sent {what}{where} for review",
    "post.publish": "{who} published {what}{where}",
    "post.schedule": "{who} scheduled {what}{where} {details}",
    "post.unpublish": "{who} unpublished {what}{where}",
    "post.reject": "{who} sent {what}{where} back to its author",
    "post.trash": "{who} moved {what}{where} to the trash",
    "post.restore": "{who} took {what}{where} out of the trash",
    "post.move": "{who} moved {what} {details}",
    "post.byline": "{who} changed the byline of {what}{where}: {details}",
    "comment.approve": "{who} approved a comment{where}: {what}",
    "comment.hold": "{who} took a comment{where} off the page: {what}",
    "comment.spam": "{who} marked a comment{where} as spam: {what}",
    "comment.trash": "{who} moved a comment{where} to the trash: {what}",
    "comment.restore": "{who} took a comment{where} out of the spam or trash: {what}",
    "comment.delete": "{who} deleted their own comment{where}: {what}",
    "comment.edit": "{who} edited a comment{where}: {what}",
    "comment.reply": "{who} replied to a comment{where}: {what}",
    "report.resolve": "{who} resolved a report{where}: {what}",
    "section.create": "{who} created the section {what}",
    "section.update": "{who} changed the section {what}",
    "section.reorder": "{who} reordered the sections",
    "section.delete": "{who} deleted the section {what}",
    "redirect.create": "{who} added the redirect {details}",
    "redirect.update": "{who} changed the redirect {details}",
    "redirect.delete": "{who} deleted the redirect {details}",
    "navigation.header": "{who} changed the header menu: {details}",
    "navigation.footer": "{who} changed the footer menu: {details}",
    "user.role": "{who} changed the role of {what} ({details})",
    "user.sections": "{who} changed the sections of {what} ({details})",
    "user.suspend": "{who} suspended {what}",
    "user.restore": "{who} lifted the suspension of {what}",
    "user.2fa_enable": "{who} turned on two-factor sign-in",
    "user.2fa_disable": "{who} turned off two-factor sign-in",
    "user.2fa_recovery_codes": "{who} made new recovery codes",
    "user.2fa_recovery_used": "{who} signed in with a recovery code",
    "user.2fa_forget_browsers": "{who} made every browser ask for a code again",
    "user.2fa_reset": "{who} reset the two-factor sign-in of {what}",
    "sign-in.failed": "Someone failed to sign in as {what}",
    "sign-in.lockout": "Sign-ins were locked: {details}",
    "settings.change": "{who} changed the site settings",
    "trash.empty": "{who} emptied the trash",
    "media.delete": "{who} deleted the image {what}",
    "job.retry": "{who} sent a failed job back to the queue: {details}",
    "webhook.create": "{who} added the webhook {what} for {details}",
    "webhook.update": "{who} changed the webhook {what}: {details}",
    "webhook.delete": "{who} deleted the webhook {what}",
    "newsletter.send": "{who} sent a newsletter to the subscribers: {details}",
    "subscriber.bounced": "{who} marked a subscriber as bouncing: {details}",
    "subscriber.remove": "{who} removed a subscriber: {details}",
}
DEFAULT_SENTENCE = "{who}: {action} {what}{where}"
NOBODY = "The site"  # who acted when no person did (a scheduled publish, a lock-out)


def sentences_for(entries: list[AuditEntry]) -> dict[int, str]:
    """Each entry as a sentence, by entry id; one query for the people's names."""
    ids = {e.actor_id for e in entries if e.actor_id is not None}
    names = {
        row.id: row.display_name or row.username
        for row in db.session.execute(
            select(User.id, User.display_name, User.username).where(User.id.in_(ids or [0]))
        )
    }
    sections = {s.id: s.name for s in reading.navigation_sections()}
    return {entry.id: _sentence(entry, names, sections) for entry in entries}


def actor_display_name(entry: AuditEntry) -> str:
    """The name of whoever made entry, as readers know them."""
    person = db.session.get(User, entry.actor_id) if entry.actor_id is not None else None
    return person.name if person is not None else (entry.actor_name or NOBODY)


def _details(entry: AuditEntry) -> str:
    """What the entry noted, with a recorded (UTC) time written in the site's zone."""
    details = " ".join((entry.details or "").split())
    if entry.action == "post.schedule" and details.startswith("for "):
        # An entry noted some other way is shown as noted.
        with contextlib.suppress(ValueError):
            details = "for " + clock.show(datetime.fromisoformat(details[4:]))
    return details[:200]


def _sentence(entry: AuditEntry, names: dict[int, str], sections: dict[int, str]) -> str:
    """One entry in words, by its action's rule."""
    who = names.get(entry.actor_id) or (
        entry.actor_name if entry.actor_name and entry.actor_name != "system" else NOBODY
    )
    label = " ".join((entry.target_label or "").split())
    if len(label) > 80:
        label = label[:79] + "…"
    section = sections.get(entry.category_id) if entry.category_id else None
    if entry.target_type == "section":
        section = None  # the section is the thing itself
    text = SENTENCES.get(entry.action, DEFAULT_SENTENCE).format(
        who=who,
        what=f"“{label}”" if label else "",
        where=f" in {section}" if section else "",
        details=_details(entry),
        action=entry.action,
    )
    return " ".join(text.split()).rstrip(" :") + "."
