"""Writing the audit log. Every service that changes something that matters records it."""

from __future__ import annotations

from sqlalchemy import Select, select

from ..extensions import db
from ..models import AuditEntry, Category, Comment, Permission, Post, Report, User
from . import client_address


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


def entries_for(
    viewer: User,
    action: str = "",
    actor: str = "",
    section_id: int | None = None,
    target_type: str = "",
) -> Select:
    """Select the entries a person may read, newest first, filtered as asked."""
    query = select(AuditEntry).order_by(AuditEntry.created_at.desc(), AuditEntry.id.desc())
    if not viewer.role.has(Permission.ADMINISTER):
        # Editors read what happened in sections: their own, or all when none is assigned.
        query = query.where(AuditEntry.category_id.is_not(None))
        if viewer.sections:
            query = query.where(AuditEntry.category_id.in_([s.id for s in viewer.sections]))
    if action:
        query = query.where(AuditEntry.action == action)
    if actor:
        query = query.where(AuditEntry.actor_name == actor)
    if section_id:
        query = query.where(AuditEntry.category_id == section_id)
    if target_type:
        query = query.where(AuditEntry.target_type == target_type)
    return query


def actions_for(viewer: User) -> list[str]:
    """The actions of the entries this person may read, for the log's filter."""
    return list(
        db.session.scalars(
            entries_for(viewer)
            .with_only_columns(AuditEntry.action)
            .distinct()
            .order_by(None)
            .order_by(AuditEntry.action)
        )
    )


def log_page(viewer: User, page: int, per_page: int, **filters):
    """One page of the entries this person may read, filtered as entries_for takes them."""
    return db.paginate(
        entries_for(viewer, **filters), page=page, per_page=per_page, error_out=True
    )
