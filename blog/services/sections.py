"""Sections (categories): creating, renaming, describing, ordering and deleting them.

A renamed section keeps its old addresses: /category/<old> and every article's
/<old>/<post-slug> answer with a 301 to where they live now.
"""

from __future__ import annotations

import json

from sqlalchemy import func, select

from ..extensions import db
from ..models import Category, Media, Permission, Post, User
from . import Forbidden, NotFound, ServiceError, audit, slugs, unit_of_work
from . import media as media_service

MAX_NAME = 80
MAX_SLUG = 80
MAX_DESCRIPTION = 2000


def _check_manager(actor: User) -> None:
    """Refuse anyone who may not manage sections."""
    if actor is None or not actor.can(Permission.MANAGE_SECTIONS):
        raise Forbidden("You may not manage sections.")


def get_section(section_id: int) -> Category:
    """Return the section with this id or raise NotFound."""
    section = db.session.get(Category, section_id)
    if section is None:
        raise NotFound("No such section.")
    return section


def post_count(section: Category) -> int:
    """Return how many posts (any status, the trash included) a section files."""
    return db.session.scalar(
        select(func.count()).select_from(Post).where(Post.category_id == section.id)
    )


def sections_with_counts() -> list[tuple[Category, int]]:
    """Return every section in navigation order with how many posts (any status) it files."""
    counts = dict(
        db.session.execute(select(Post.category_id, func.count()).group_by(Post.category_id)).all()
    )
    sections = db.session.scalars(select(Category).order_by(Category.position, Category.name))
    return [(section, counts.get(section.id, 0)) for section in sections]


def _clean_name(name: str, exclude_id: int | None) -> str:
    """Check a section name: present, short enough and not taken."""
    name = " ".join((name or "").split())
    if not name:
        raise ServiceError("A section needs a name.", "name")
    if len(name) > MAX_NAME:
        raise ServiceError(f"Keep the name to {MAX_NAME} characters or fewer.", "name")
    query = select(Category.id).where(func.lower(Category.name) == name.lower())
    if exclude_id is not None:
        query = query.where(Category.id != exclude_id)
    if db.session.scalar(query) is not None:
        raise ServiceError("Another section already has that name.", "name")
    return name


def _clean_slug(slug: str, name: str, exclude_id: int | None) -> str:
    """Check a section slug (made from the name when empty): well formed, free, not reserved."""
    slug = slugs.typed_slug(slug) or slugs.slugify(name, MAX_SLUG)
    if not slugs.is_slug(slug):
        raise ServiceError(
            "A slug is lower-case letters (any script), digits and single hyphens, like "
            "health-and-care.",
            "slug",
        )
    if len(slug) > MAX_SLUG:
        raise ServiceError(f"Keep the slug to {MAX_SLUG} characters or fewer.", "slug")
    refusal = slugs.top_level_refusal(slug, section_id=exclude_id)
    if refusal is not None:
        raise ServiceError(refusal, "slug")
    return slug


def _clean_cover(cover_media_id: int | None, cover_alt: str) -> tuple[Media | None, str]:
    """Check a cover chosen from the media library and its alt text (the library's by default)."""
    media = media_service.cover_media(cover_media_id)
    if media is None:
        return None, ""
    alt = " ".join((cover_alt or "").split()) or media.alt
    if not alt:
        raise ServiceError("Describe the cover image for readers who cannot see it.", "cover_alt")
    if len(alt) > 300:
        raise ServiceError("Keep the description to 300 characters or fewer.", "cover_alt")
    return media, alt


def _clean_description(description: str) -> str:
    """Tidy a section description and check its length."""
    text = (description or "").strip()
    if len(text) > MAX_DESCRIPTION:
        raise ServiceError(
            f"Keep the description to {MAX_DESCRIPTION} characters or fewer.", "description"
        )
    return text


@unit_of_work()
def create_section(actor: User, name: str, slug: str = "", description: str = "") -> Category:
    """Add a section at the end of the navigation."""
    _check_manager(actor)
    name = _clean_name(name, None)
    slug = _clean_slug(slug, name, None)
    last = db.session.scalar(select(func.max(Category.position)))
    section = Category(
        name=name,
        slug=slug,
        description=_clean_description(description),
        position=(last or 0) + 1,
    )
    db.session.add(section)
    db.session.flush()
    # The address may have belonged to a renamed section; it is this one's now.
    slugs.forget_address(f"category/{slug}")
    audit.record(actor, "section.create", section, f"/category/{slug}")
    return section


@unit_of_work()
def update_section(
    actor: User,
    section: Category,
    name: str,
    slug: str,
    description: str,
    cover_media_id: int | None = None,
    cover_alt: str = "",
) -> Category:
    """Rename, describe or give a cover to a section; a new slug keeps the old links."""
    _check_manager(actor)
    name = _clean_name(name, section.id)
    slug = _clean_slug(slug, name, section.id)
    description = _clean_description(description)
    cover, alt = _clean_cover(cover_media_id, cover_alt)
    before = {
        "name": section.name,
        "slug": section.slug,
        "description": section.description,
        "cover_media_id": section.cover_media_id,
        "cover_alt": section.cover_alt,
    }
    after = {
        "name": name,
        "slug": slug,
        "description": description,
        "cover_media_id": cover.id if cover else None,
        "cover_alt": alt,
    }
    changed = {key: [before[key], after[key]] for key in after if before[key] != after[key]}
    if not changed:
        return section
    old_slug = section.slug
    section.name, section.slug, section.description = name, slug, description
    media_service.set_cover(section, cover, alt)
    if slug != old_slug:
        changed["articles_redirected"] = slugs.section_moved(section, old_slug)
    audit.record(actor, "section.update", section, json.dumps(changed, ensure_ascii=False))
    return section


def _apply_order(actor: User, ordered: list[Category]) -> list[Category]:
    """Number the sections 1, 2, 3 … in the given order, and record it."""
    before = [s.id for s in sorted(ordered, key=lambda s: (s.position, s.name))]
    for position, section in enumerate(ordered, start=1):
        section.position = position
    if [s.id for s in ordered] != before:
        audit.record(actor, "section.reorder", None, " · ".join(s.name for s in ordered))
    return ordered


@unit_of_work()
def reorder(actor: User, ids: list[int]) -> list[Category]:
    """Put the navigation in the given order; ids must name every section once."""
    _check_manager(actor)
    sections = {s.id: s for s in db.session.scalars(select(Category))}
    if sorted(ids) != sorted(sections) or len(set(ids)) != len(ids):
        raise ServiceError("List every section once to reorder the navigation.")
    return _apply_order(actor, [sections[i] for i in ids])


@unit_of_work()
def move(actor: User, section: Category, direction: str) -> list[Category]:
    """Move a section one place up or down in the navigation."""
    _check_manager(actor)
    if direction not in ("up", "down"):
        raise ServiceError("Move a section up or down.")
    ordered = list(db.session.scalars(select(Category).order_by(Category.position, Category.name)))
    index = next(i for i, s in enumerate(ordered) if s.id == section.id)
    other = index - 1 if direction == "up" else index + 1
    if not 0 <= other < len(ordered):
        raise ServiceError(f"{section.name} is already {'first' if direction == 'up' else 'last'}.")
    ordered[index], ordered[other] = ordered[other], ordered[index]
    return _apply_order(actor, ordered)


@unit_of_work()
def delete_section(actor: User, section: Category, confirm: str) -> None:
    """Delete a section that files no posts (of any status, the trash included).

    confirm is what the admin typed to be sure: it must be the section's slug.
    """
    _check_manager(actor)
    if (confirm or "").strip() != section.slug:
        raise ServiceError(f"Type {section.slug} to confirm.", "confirm")
    count = post_count(section)
    if count:
        raise ServiceError(
            f"{section.name} still files {count} post{'s' if count != 1 else ''} "
            "(drafts and the trash included). Move them to another section first."
        )
    # An editor left with no sections would run every section: refuse that quietly
    # widening their reach, and name who needs other sections first.
    stranded = [
        editor.username
        for editor in db.session.scalars(
            select(User).where(User.sections.any(Category.id == section.id))
        )
        if len(editor.sections) == 1
    ]
    if stranded:
        raise ServiceError(
            f"{section.name} is the only section of {', '.join(sorted(stranded))}. "
            "Give them other sections (or none, for every section) first."
        )
    audit.record(actor, "section.delete", section, f"/category/{section.slug}")
    db.session.delete(section)
