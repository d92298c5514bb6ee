"""How the API shows the magazine's things as JSON."""

from __future__ import annotations

from flask import url_for

from ..models import Category


def section_json(section: Category) -> dict:
    """A section as JSON."""
    return {
        "id": section.id,
        "name": section.name,
        "slug": section.slug,
        "description": section.description,
        "position": section.position,
        "url": url_for("public.category", slug=section.slug, _external=True),
    }
