"""People: find anyone with an account, change roles and sections, suspend and restore."""

from __future__ import annotations

from flask import redirect, render_template, url_for
from flask_login import current_user

from ..forms import page_number, submitted
from ..models import ROLE_PERMISSIONS, Permission
from ..permissions import permission_required, recent_auth_required
from ..services import reading
from ..services import two_factor as two_factor_service
from ..services import users as user_service
from .forms import (
    ActionForm,
    PeopleFilterForm,
    RoleForm,
    SectionsForm,
    SuspendForm,
    choices,
)
from .views import bp

ROLE_CHOICES = [(name, name.capitalize()) for name in ROLE_PERMISSIONS]


def _section_choices() -> list:
    """Every section, as checkbox options."""
    return choices((s.id, s.name) for s in reading.navigation_sections())


def _forms_for(person, sent=None) -> dict:
    """The forms of a person's page, blank but for the one sent (shown with its errors)."""
    blank = {
        "role_form": RoleForm(formdata=None, role=person.role.name),
        "sections_form": SectionsForm(formdata=None, sections=[s.id for s in person.sections]),
        "suspend_form": SuspendForm(formdata=None),
        "restore_form": ActionForm(formdata=None),
    }
    forms = {name: sent if type(sent) is type(form) else form for name, form in blank.items()}
    forms["role_form"].role.choices = choices(ROLE_CHOICES)
    forms["sections_form"].sections.choices = _section_choices()
    return forms


def _show(person, status: int = 200, sent=None):
    """Render a person's page (with the form sent, when it was refused)."""
    return (
        render_template(
            "admin/user.html",
            person=person,
            may_have_sections=person.role.has(Permission.REVIEW)
            and not person.role.has(Permission.ADMINISTER),
            **_forms_for(person, sent),
        ),
        status,
    )


def _change(person, form, action, success):
    """A change sent from a person's page: back to it, or the page again with form's errors."""
    if submitted(form, action, success):
        return redirect(url_for("admin.person", user_id=person.id))
    return _show(person, 400, form)


@bp.route("/users")
@permission_required(Permission.MANAGE_USERS)
def users():
    """Everyone with an account: search by name, filter by role and state."""
    form = PeopleFilterForm()
    form.role.choices = choices([("", "Any role"), *ROLE_CHOICES])
    people = user_service.search_people(
        form.q.data or "", form.role.data or "", page_number(), form.state.data or ""
    )
    filters = {
        key: value
        for key, value in (("q", form.q.data), ("role", form.role.data), ("state", form.state.data))
        if value
    }
    return render_template("admin/users.html", form=form, people=people, filters=filters)


@bp.route("/users/<int:user_id>")
@permission_required(Permission.MANAGE_USERS)
def person(user_id: int):
    """One person: their role, sections and standing, with the forms to change them."""
    return _show(user_service.get_person(user_id))


@bp.route("/users/<int:user_id>/role", methods=["POST"])
@permission_required(Permission.MANAGE_USERS)
@recent_auth_required(back="admin.person")
def change_role(user_id: int):
    """Give a person another role."""
    person = user_service.get_person(user_id)
    form = RoleForm()
    form.role.choices = choices(ROLE_CHOICES)
    return _change(
        person,
        form,
        lambda: user_service.change_role(current_user, person, form.role.data),
        lambda _: f"{person.username} is now {person.role.name}.",
    )


@bp.route("/users/<int:user_id>/sections", methods=["POST"])
@permission_required(Permission.MANAGE_USERS)
@recent_auth_required(back="admin.person")
def set_sections(user_id: int):
    """Choose the sections an editor runs."""
    person = user_service.get_person(user_id)
    form = SectionsForm()
    sections = {s.id: s for s in reading.navigation_sections()}
    form.sections.choices = _section_choices()
    return _change(
        person,
        form,
        lambda: user_service.set_sections(
            current_user, person, [sections[i] for i in form.sections.data or []]
        ),
        lambda _: f"{person.username} now edits "
        f"{', '.join(s.name for s in person.sections) or 'every section'}.",
    )


@bp.route("/users/<int:user_id>/suspend", methods=["POST"])
@permission_required(Permission.MANAGE_USERS)
@recent_auth_required(back="admin.person")
def suspend(user_id: int):
    """Suspend a person, with a reason: they are signed out everywhere."""
    person = user_service.get_person(user_id)
    form = SuspendForm()
    return _change(
        person,
        form,
        lambda: user_service.suspend(current_user, person, form.reason.data),
        f"{person.username} is suspended and signed out.",
    )


@bp.route("/users/<int:user_id>/restore", methods=["POST"])
@permission_required(Permission.MANAGE_USERS)
@recent_auth_required(back="admin.person")
def restore(user_id: int):
    """Lift a person's suspension."""
    person = user_service.get_person(user_id)
    return _change(
        person,
        ActionForm(),
        lambda: user_service.restore(current_user, person),
        f"{person.username} may sign in again.",
    )


@bp.route("/users/<int:user_id>/two-factor/reset", methods=["POST"])
@permission_required(Permission.MANAGE_USERS)
@recent_auth_required(back="admin.person")
def reset_two_factor(user_id: int):
    """Turn off a person's lost second factor (another admin's job, recorded in the log)."""
    person = user_service.get_person(user_id)
    return _change(
        person,
        ActionForm(),
        lambda: two_factor_service.reset_by_admin(current_user, person),
        f"{person.username}'s two-factor authentication is reset and their sessions ended: "
        "they sign in with their password and can set it up again.",
    )
