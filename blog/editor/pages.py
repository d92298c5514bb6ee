"""Pages on the writing desk (About, Contact…): the list, a new page and the editor.

A page is written on the post editor's screen with a page form (a parent page, no section
or tags); revisions, preview, publishing and the trash are the posts' own routes.
"""

from __future__ import annotations

from flask import render_template, request
from flask_login import current_user

from ..errors import wants_json
from ..forms import set_library_choices
from ..models import Permission, Post
from ..permissions import may_manage_pages, permission_required
from ..services import Forbidden, NotFound, ServiceError, desk, pages
from ..services import media as media_service
from .forms import PageForm, custom_fields_from, offer_empty_custom_fields
from .views import (
    _create_and_answer,
    _invalid,
    _refused,
    _render_editor,
    _save_and_answer,
    _saved,
    _untitled,
    _version_of,
    bp,
)


def _require_pages() -> None:
    """Only those who may manage pages reach these screens (403 for the rest of the staff)."""
    if not may_manage_pages(current_user):
        raise Forbidden("You may not manage pages.")


def _load_page(page_id: int, edit: bool = False) -> Post:
    """A page for the signed-in person: 404 when hidden (or not a page), 403 when read-only."""
    page = desk.get_post_for(current_user, page_id, edit=edit)
    if not page.is_page:
        raise NotFound("No such page.")
    return page


def _fill_choices(form: PageForm, page: Post | None) -> PageForm:
    """Offer the pages this one may sit under and the library images for its cover."""
    form.parent.choices = [("", "No parent (a top page)"), *pages.parent_choices(page)]
    set_library_choices(form.cover_media_id, media_service.cover_choices(form.cover_media_id.data))
    return form


def _draft_from(form: PageForm) -> desk.PostDraft:
    """Read the page form into the writer's draft."""
    return desk.PostDraft(
        title=form.title.data or "",
        body=form.body.data or "",
        excerpt=form.excerpt.data or "",
        slug=form.slug.data or "",
        cover_media_id=form.cover_media_id.data,
        cover_alt=form.cover_alt.data or "",
        seo_title=form.seo_title.data or "",
        seo_description=form.seo_description.data or "",
        parent_id=form.parent.data,
        custom_fields=custom_fields_from(form),
    )


@bp.route("/pages", endpoint="pages")
@permission_required(Permission.WRITE)
def pages_list():
    """Every page with its hierarchy, status and last change; the trash on its own tab."""
    trash = request.args.get("status") == "trash"
    return render_template(
        "editor/pages.html",
        rows=pages.page_tree(current_user, trash=trash),
        trash=trash,
    )


@bp.route("/pages/new", methods=["GET", "POST"])
@permission_required(Permission.WRITE)
def new_page():
    """Start a page (the desk's script sends the same form and asks for JSON)."""
    _require_pages()
    form = _fill_choices(PageForm(), None)
    if not form.is_submitted():
        offer_empty_custom_fields(form)
    return _create_and_answer(form, lambda: desk.create_page(current_user, _draft_from(form)))


@bp.route("/pages/<int:page_id>/edit", methods=["GET", "POST"])
@permission_required(Permission.WRITE)
def edit_page(page_id: int):
    """Edit a page; a save based on an old version shows the conflict page."""
    page = _load_page(page_id, edit=True)
    if request.method == "GET":
        form = PageForm(obj=page)
        form.parent.data = page.parent_id
        form.excerpt.data = page.excerpt if page.excerpt_written else ""
        form.version.data = page.version
        offer_empty_custom_fields(form)
        return _render_editor(page, _fill_choices(form, page))
    form = _fill_choices(PageForm(), page)
    if not form.validate_on_submit():
        return _invalid(form) if wants_json() else _render_editor(page, form, 400)
    return _save_and_answer(page, form, _draft_from(form))


@bp.route("/pages/draft.json", methods=["POST"])
@permission_required(Permission.WRITE)
def page_draft_json():
    """Create a page draft from the desk's form, for its script (a new page's first autosave)."""
    form = _fill_choices(PageForm(), None)
    _untitled(form)
    if not form.validate_on_submit():
        return _invalid(form)
    try:
        page = desk.create_page(current_user, _draft_from(form))
    except ServiceError as error:
        return _refused(error)
    return _saved(page, status=201)


@bp.route("/pages/<int:page_id>/autosave", methods=["POST"])
@permission_required(Permission.WRITE)
def autosave_page(page_id: int):
    """Keep unsaved work on a page (called by the desk's script after each pause in typing)."""
    try:
        page = _load_page(page_id, edit=True)
        form = _fill_choices(PageForm(), page)
        _untitled(form)
        if not form.validate_on_submit():
            return _invalid(form)
        page, revision = desk.autosave(
            current_user, page, _draft_from(form), _version_of(form) or -1
        )
    except ServiceError as error:
        return _refused(error, page_id)
    return _saved(page, revision.created_at)
