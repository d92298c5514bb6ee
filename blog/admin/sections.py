"""Sections: create, rename, describe, order the navigation, set covers, delete empty ones."""

from __future__ import annotations

from flask import redirect, render_template, url_for
from flask_login import current_user

from ..forms import pressed, set_library_choices, submitted
from ..models import Permission
from ..permissions import permission_required
from ..services import media as media_service
from ..services import sections as section_service
from .forms import DeleteSectionForm, MoveSectionForm, NewSectionForm, SectionForm
from .views import bp


def _list(form: NewSectionForm, status: int = 200):
    """Render the sections page."""
    rows = section_service.sections_with_counts()
    return (
        render_template(
            "admin/categories.html", rows=rows, form=form, move_form=MoveSectionForm(formdata=None)
        ),
        status,
    )


def _edit(section, form: SectionForm, delete_form: DeleteSectionForm, status: int = 200):
    """Render one section's page."""
    set_library_choices(form.cover_media_id, media_service.cover_choices(form.cover_media_id.data))
    return (
        render_template(
            "admin/category.html",
            section=section,
            form=form,
            delete_form=delete_form,
            post_count=section_service.post_count(section),
        ),
        status,
    )


@bp.route("/categories")
@permission_required(Permission.MANAGE_SECTIONS)
def categories():
    """Every section in navigation order, and the form to add one."""
    return _list(NewSectionForm(formdata=None))


@bp.route("/categories/new", methods=["POST"])
@permission_required(Permission.MANAGE_SECTIONS)
def new_category():
    """Add a section at the end of the navigation."""
    form = NewSectionForm()
    if submitted(
        form,
        lambda: section_service.create_section(
            current_user, form.name.data, form.slug.data or "", form.description.data or ""
        ),
        lambda section: f"The {section.name} section is ready at /category/{section.slug}.",
    ):
        return redirect(url_for("admin.categories"))
    return _list(form, 400)


@bp.route("/categories/<int:section_id>", methods=["GET", "POST"])
@permission_required(Permission.MANAGE_SECTIONS)
def category(section_id: int):
    """Rename, describe or give a cover to a section."""
    section = section_service.get_section(section_id)
    form = SectionForm(obj=section)
    old_slug = section.slug

    def saved(_) -> str:
        """What the admin is told: the section is saved, and where its old address leads."""
        message = f"The {section.name} section is saved."
        if section.slug != old_slug:
            message += f" /category/{old_slug} now leads to /category/{section.slug}."
        return message

    if submitted(
        form,
        lambda: section_service.update_section(
            current_user,
            section,
            form.name.data,
            form.slug.data,
            form.description.data or "",
            form.cover_media_id.data,
            form.cover_alt.data or "",
        ),
        saved,
    ):
        return redirect(url_for("admin.category", section_id=section.id))
    status = 400 if form.is_submitted() else 200
    return _edit(section, form, DeleteSectionForm(formdata=None), status)


@bp.route("/categories/<int:section_id>/move", methods=["POST"])
@permission_required(Permission.MANAGE_SECTIONS)
def move_category(section_id: int):
    """Move a section one place up or down the navigation."""
    section = section_service.get_section(section_id)
    form = MoveSectionForm()
    return pressed(
        form,
        lambda: section_service.move(current_user, section, form.direction.data),
        lambda _: f"{section.name} moved {form.direction.data}.",
        url_for("admin.categories"),
    )


@bp.route("/categories/<int:section_id>/delete", methods=["POST"])
@permission_required(Permission.MANAGE_SECTIONS)
def delete_category(section_id: int):
    """Delete a section that files no posts, once its slug is typed."""
    section = section_service.get_section(section_id)
    form = DeleteSectionForm()
    if submitted(
        form,
        lambda: section_service.delete_section(current_user, section, form.confirm.data),
        f"The {section.name} section is deleted.",
    ):
        return redirect(url_for("admin.categories"))
    return _edit(section, SectionForm(formdata=None, obj=section), form, 400)
