"""All comments: every comment in the moderator's sections, by status, with bulk actions."""

from __future__ import annotations

from flask import flash, redirect, render_template, request, url_for
from flask_login import current_user

from ..forms import id_from, page_number, show_service_error, submitted
from ..models import CommentStatus, Permission
from ..permissions import permission_required
from ..services import ServiceError
from ..services import comments as comment_service
from .queue_forms import BulkCommentsForm, StaffCommentForm, StaffReplyForm
from .views import bp

PER_PAGE = 50
MOST_REFUSALS_SHOWN = 10
# The tabs of All comments, in order.
TABS = [
    (CommentStatus.PENDING, "Pending"),
    (CommentStatus.APPROVED, "Approved"),
    (CommentStatus.SPAM, "Spam"),
    (CommentStatus.TRASH, "Trash"),
]


@bp.route("/comments")
@permission_required(Permission.MODERATE)
def comments():
    """Every comment in the viewer's sections, one status at a time, searchable."""
    status = request.args.get("status") or CommentStatus.PENDING
    q = (request.args.get("q") or "").strip()[:200]
    post_id = id_from(request.args.get("post"))
    listing = comment_service.all_comments(
        current_user, status, q=q, post_id=post_id, page=page_number(), per_page=PER_PAGE
    )
    filters = {"status": status, "q": q, "post": post_id}
    return render_template(
        "admin/comments.html",
        listing=listing,
        rows=listing.pagination.items,
        tabs=TABS,
        status=status,
        q=q,
        post_id=post_id,
        filters={key: value for key, value in filters.items() if value},
        bulk_form=BulkCommentsForm(formdata=None),
    )


def _seen_statuses(ids: list[int]) -> dict[int, str]:
    """The status the moderator saw for each chosen comment (hidden fields seen-<id>)."""
    return {n: request.form.get(f"seen-{n}", "") for n in ids}


def _back() -> str:
    """Where a moderation POST returns: the page it came from, when that is a staff page."""
    target = (request.form.get("return_to") or "").strip()
    if target.startswith("/admin/") and not any(ch in target for ch in "\\\r\n\t"):
        return target
    return url_for("admin.index")


@bp.route("/comments/moderate", methods=["POST"])
@permission_required(Permission.MODERATE)
def moderate_comments():
    """Approve, hold, mark as spam, trash or restore one or many comments.

    Each comment carries the status the moderator saw; one changed meanwhile is
    refused and named, and so is one in a section the moderator does not run.
    """
    form = BulkCommentsForm()
    ids = [n for n in map(id_from, request.form.getlist("ids")) if n is not None][:200]
    if not form.validate_on_submit() or not ids:
        flash("Choose at least one comment and an action.", "error")
        return redirect(_back())
    try:
        outcome = comment_service.bulk_moderate(
            current_user, ids, form.action.data, seen=_seen_statuses(ids)
        )
    except ServiceError as error:
        show_service_error(None, error)
        return redirect(_back())
    label = dict((c.value, c.label) for c in form.action.choices)[form.action.data]
    done = outcome.changed
    flash(f"{label}: {done} comment{'s' if done != 1 else ''} changed.", "success")
    for refusal in outcome.refused[:MOST_REFUSALS_SHOWN]:
        flash(refusal, "error")
    if len(outcome.refused) > MOST_REFUSALS_SHOWN:
        flash(f"… and {len(outcome.refused) - MOST_REFUSALS_SHOWN} more refused.", "error")
    return redirect(_back())


def _comment_page(comment, edit_form=None, reply_form=None, status: int = 200):
    """Render a comment's staff page."""
    edit_form = edit_form or StaffCommentForm(formdata=None, prefix="edit", body=comment.body)
    return (
        render_template(
            "admin/comment.html",
            comment=comment,
            edits=comment_service.edits_of(comment),
            shown=comment_service.is_public(comment),
            edit_form=edit_form,
            reply_form=reply_form or StaffReplyForm(formdata=None, prefix="reply"),
            bulk_form=BulkCommentsForm(formdata=None),
        ),
        status,
    )


@bp.route("/comments/<int:comment_id>")
@permission_required(Permission.MODERATE)
def comment(comment_id: int):
    """One comment for the staff: its text, history, moderation, edit and reply."""
    return _comment_page(comment_service.staff_comment(current_user, comment_id))


def _staff_form(comment_id: int, form, action, success: str, page_field: str):
    """A staff page's POST: run action(comment, text), or show the page with form's errors."""
    found = comment_service.staff_comment(current_user, comment_id)
    if submitted(form, lambda: action(found, form.body.data), success):
        return redirect(url_for("admin.comment", comment_id=found.id))
    return _comment_page(found, **{page_field: form}, status=400)


@bp.route("/comments/<int:comment_id>/edit", methods=["POST"])
@permission_required(Permission.MODERATE)
def edit_comment(comment_id: int):
    """Correct a comment's text, keeping the text before in its history."""
    return _staff_form(
        comment_id,
        StaffCommentForm(prefix="edit"),
        lambda found, text: comment_service.staff_edit(current_user, found, text),
        "The comment is changed; its earlier text is in the history below.",
        "edit_form",
    )


@bp.route("/comments/<int:comment_id>/reply", methods=["POST"])
@permission_required(Permission.MODERATE)
def reply_to_comment(comment_id: int):
    """Answer a comment as staff; the reply is published at once."""
    return _staff_form(
        comment_id,
        StaffReplyForm(prefix="reply"),
        lambda found, text: comment_service.staff_reply(
            current_user, found, text, ip=request.remote_addr or ""
        ),
        "Your reply is published.",
        "reply_form",
    )
