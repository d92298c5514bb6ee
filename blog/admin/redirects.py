"""Redirects: old addresses that answer with a 301, kept by hand by admins."""

from __future__ import annotations

from flask import redirect, render_template, request, url_for
from flask_login import current_user

from ..forms import page_number, submitted
from ..models import Permission
from ..permissions import permission_required
from ..services import redirects as redirect_service
from .forms import DeleteRedirectForm, RedirectFilterForm, RedirectForm
from .views import bp


@bp.route("/redirects")
@permission_required(Permission.ADMINISTER)
def redirects():
    """Every kept redirect, newest first, with a search and the form to add one."""
    return _list(RedirectForm(formdata=None))


def _list(form: RedirectForm, status: int = 200):
    """Render the redirects page."""
    search = RedirectFilterForm()
    query = search.q.data or ""
    rows = redirect_service.redirects_page(query, page_number())
    return (
        render_template(
            "admin/redirects.html",
            rows=rows,
            search=search,
            form=form,
            filters={"q": query} if query else {},
            target_text=redirect_service.target_text,
        ),
        status,
    )


@bp.route("/redirects/new", methods=["POST"])
@permission_required(Permission.ADMINISTER)
def new_redirect():
    """Add a redirect."""
    form = RedirectForm()
    if submitted(
        form,
        lambda: redirect_service.create_redirect(
            current_user, form.path.data, form.target.data, request.host
        ),
        lambda kept: f"/{kept.path} now leads to {redirect_service.target_text(kept)}.",
    ):
        return redirect(url_for("admin.redirects"))
    return _list(form, 400)


@bp.route("/redirects/<int:redirect_id>", methods=["GET", "POST"])
@permission_required(Permission.ADMINISTER)
def edit_redirect(redirect_id: int):
    """Change a redirect's old address or where it leads."""
    kept = redirect_service.get_redirect(redirect_id)
    form = RedirectForm(
        data={"path": f"/{kept.path}", "target": redirect_service.target_text(kept)}
    )
    if submitted(
        form,
        lambda: redirect_service.update_redirect(
            current_user, kept, form.path.data, form.target.data, request.host
        ),
        lambda _: f"/{kept.path} now leads to {redirect_service.target_text(kept)}.",
    ):
        return redirect(url_for("admin.redirects"))
    status = 400 if form.is_submitted() else 200
    return render_template("admin/redirect.html", kept=kept, form=form), status


@bp.route("/redirects/<int:redirect_id>/delete", methods=["GET", "POST"])
@permission_required(Permission.ADMINISTER)
def delete_redirect(redirect_id: int):
    """Ask, then delete a redirect: its old address answers 404 again."""
    kept = redirect_service.get_redirect(redirect_id)
    form = DeleteRedirectForm()
    path = kept.path
    if submitted(
        form,
        lambda: redirect_service.delete_redirect(current_user, kept),
        f"The redirect at /{path} is deleted.",
    ):
        return redirect(url_for("admin.redirects"))
    status = 400 if form.is_submitted() else 200
    return (
        render_template(
            "admin/delete_redirect.html",
            kept=kept,
            form=form,
            target=redirect_service.target_text(kept),
        ),
        status,
    )
