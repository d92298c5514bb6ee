"""The audit log: every service that changes something that matters records it here,
and staff read it here, each within their sections."""

from __future__ import annotations

from sqlalchemy import ColumnElement, select

from ..extensions import db
from ..models import AuditEntry, Category, Comment, Permission, Post, Report, User
from ..permissions import in_sections
from . import NotFound, client_address, reading


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
):
    """One page of the entries viewer may read, newest first, filtered as asked.

    A page past the end raises NotFound.
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


def sections_for(viewer: User) -> list[Category]:
    """The sections whose entries viewer may read, in navigation order."""
    return [s for s in reading.navigation_sections() if viewer.covers_section(s.id)]
