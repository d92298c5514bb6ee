"""Readers' comments and reports under an article: thin wrappers around the services.

Every address here takes a POST with a CSRF token. Good input goes back to the
article's comments with a message; bad input re-renders the article with the
form's errors (400). Guests are sent to sign in; people without the permission get 403.
"""

from __future__ import annotations

from flask import abort, flash, redirect, render_template, request, url_for
from flask_limiter.util import get_remote_address
from flask_login import current_user

from ..extensions import limiter
from ..forms import refuse
from ..headers import personal
from ..models import CommentStatus, Permission
from ..services import ServiceError, reading
from ..services import comments as comment_service
from ..services import reports as report_service
from .comment_forms import CommentForm, DeleteCommentForm, EditCommentForm, ReportForm
from .views import bp, comment_area, post_url, render_article

COMMENT_LIMIT = "5 per minute; 30 per hour"
REPORT_LIMIT = "10 per minute; 50 per hour"

HELD = "Your comment is waiting for moderation."
PUBLISHED = "Your comment is published."


def _person_key() -> str:
    """Rate-limit key: the signed-in person, else the address."""
    if current_user.is_authenticated:
        return f"person:{current_user.id}"
    return get_remote_address()


def _article(section_slug: str, post_slug: str):
    """Return the live article at this address (NotFound is the app's 404)."""
    return reading.published_post(section_slug, post_slug)


def _comment(comment_id: int):
    """Return a comment on a live article, or answer 404."""
    comment = comment_service.get_comment(comment_id)
    if not comment.post.is_published:
        abort(404)
    return comment


def _own_comment(comment_id: int):
    """The comment a signed-in commenter acts on (the service checks that it is theirs)."""
    comment = _comment(comment_id)
    _require(Permission.COMMENT, comment.post)
    return comment


def _comments_url(article) -> str:
    """The article's comments, where every action returns."""
    return post_url(article, _anchor="comments")


def _sign_in_first(article):
    """Send a guest to sign in, coming back to the article's comments."""
    flash("Please sign in to comment or report.", "info")
    return redirect(url_for("auth.login", next=_comments_url(article)))


def _require(perm: Permission, article) -> None:
    """Send a guest to sign in first, and answer 403 to someone without perm."""
    if not current_user.is_authenticated:
        abort(_sign_in_first(article))
    if not current_user.can(perm):
        abort(403)


def _failed(article, key: str, form, error: ServiceError | None = None):
    """Re-render the article with the form that failed, its text kept and its errors shown."""
    errors = {
        name: list(field.errors)
        for name, field in form._fields.items()
        if field.errors and name != "csrf_token"
    }
    if error is not None:
        refuse(error)
        if error.field and error.field in form._fields:
            errors.setdefault(error.field, []).append(error.message)
        else:
            flash(error.message, "error")
    data = {name: field.data for name, field in form._fields.items() if name != "csrf_token"}
    if not errors and error is None:
        flash("Your form expired or was incomplete. Please try again.", "error")
    failure = {"key": key, "data": data, "errors": errors}
    return render_article(article, status=400, comment_failure=failure)


def _person():
    """The signed-in person as a model object (services keep it, not the proxy)."""
    return current_user._get_current_object()


def _act(article, key: str, form, action, message):
    """Validate form, run action, and go back to the comments with message(result).

    A form that fails, or a refusal from the service, re-renders the article with the
    reader's text kept and the reason shown.
    """
    if not form.validate_on_submit():
        return _failed(article, key, form)
    try:
        result = action()
    except ServiceError as error:
        return _failed(article, key, form, error)
    text = message(result)
    flash(text, "info" if text.endswith("moderation.") else "success")
    return redirect(_comments_url(article))


@bp.get("/<section_slug>/<post_slug>/comments")
@personal
def comment_page(section_slug: str, post_slug: str):
    """An article's comment area on a page of its own, for the person asking.

    The shared article offers it as "Sign in to comment": a guest is sent to sign in,
    and a signed-in reader without JavaScript comments from here.
    """
    article = _article(section_slug, post_slug)
    if not current_user.is_authenticated:
        return _sign_in_first(article)
    return render_template("public/comment_page.html", post=article, **comment_area(article))


@bp.route("/<section_slug>/<post_slug>/comments", methods=["POST"])
@limiter.limit(COMMENT_LIMIT, key_func=_person_key)
def add_comment(section_slug: str, post_slug: str):
    """Post a comment or a reply under an article."""
    article = _article(section_slug, post_slug)
    _require(Permission.COMMENT, article)
    form = CommentForm()
    parent_id = form.parent()
    key = f"reply-{parent_id}" if parent_id else "comment"
    if form.website.data and form.validate_on_submit():
        # Only a robot fills the hidden field: it is told what a new reader would be.
        flash(HELD, "info")
        return redirect(_comments_url(article))
    return _act(
        article,
        key,
        form,
        lambda: comment_service.add_comment(
            _person(), article, form.body.data, parent_id=parent_id, ip=request.remote_addr or ""
        ),
        lambda comment: PUBLISHED if comment.status == CommentStatus.APPROVED else HELD,
    )


@bp.route("/comments/<int:comment_id>/edit", methods=["POST"])
def edit_comment(comment_id: int):
    """Change one's own comment, within ten minutes of posting it."""
    comment = _own_comment(comment_id)
    form = EditCommentForm()
    return _act(
        comment.post,
        f"edit-{comment.id}",
        form,
        lambda: comment_service.edit_comment(_person(), comment, form.body.data),
        lambda edited: "Your comment is updated."
        if edited.status == CommentStatus.APPROVED
        else "Your comment is updated and waiting for moderation.",
    )


@bp.route("/comments/<int:comment_id>/delete", methods=["POST"])
def delete_comment(comment_id: int):
    """Delete one's own comment, within ten minutes of posting it."""
    comment = _own_comment(comment_id)
    return _act(
        comment.post,
        f"delete-{comment.id}",
        DeleteCommentForm(),
        lambda: comment_service.delete_comment(_person(), comment),
        lambda _: "Your comment is deleted.",
    )


def _report(article, key: str, post=None, comment=None):
    """Send a report about post or comment; thank the reader or show what to fix."""
    form = ReportForm()
    return _act(
        article,
        key,
        form,
        lambda: report_service.report(_person(), form.reason.data, post=post, comment=comment),
        lambda _: "Thank you. A moderator will look at your report.",
    )


@bp.route("/comments/<int:comment_id>/report", methods=["POST"])
@limiter.limit(REPORT_LIMIT, key_func=_person_key)
def report_comment(comment_id: int):
    """Ask a moderator to look at a comment."""
    comment = _comment(comment_id)
    _require(Permission.REPORT, comment.post)
    return _report(comment.post, f"report-comment-{comment.id}", comment=comment)


@bp.route("/<section_slug>/<post_slug>/report", methods=["POST"])
@limiter.limit(REPORT_LIMIT, key_func=_person_key)
def report_post(section_slug: str, post_slug: str):
    """Ask a moderator to look at an article."""
    article = _article(section_slug, post_slug)
    _require(Permission.REPORT, article)
    return _report(article, "report-post", post=article)
