"""The newsletter for staff: sends and their progress (editors), subscribers (admins)."""

from __future__ import annotations

from flask import Response, abort, redirect, render_template, request, url_for
from flask_login import current_user

from ..forms import ButtonForm, page_number, pressed, submitted
from ..models import Permission, SubscriberStatus
from ..permissions import permission_required
from ..services import newsletter as newsletter_service
from .newsletter_forms import BouncedForm, SendDigestForm, SendPostForm
from .views import bp


def _send_forms() -> tuple[SendPostForm, SendDigestForm]:
    """The two send forms, their choices filled for the person asking."""
    post_form, digest_form = SendPostForm(formdata=None), SendDigestForm(formdata=None)
    post_form.post_id.choices = [("", "Choose a post")] + [
        (p.id, p.title) for p in newsletter_service.sendable_posts(current_user)
    ]
    digest_form.section_id.choices = [("", "Choose a section")] + [
        (s.id, s.name) for s in newsletter_service.digest_sections(current_user)
    ]
    return post_form, digest_form


@bp.route("/newsletter")
@permission_required(Permission.PUBLISH)
def newsletter():
    """The sends with their progress, and the forms that start one."""
    post_form, digest_form = _send_forms()
    return render_template(
        "admin/newsletter.html",
        sends=newsletter_service.sends(current_user),
        post_form=post_form,
        digest_form=digest_form,
    )


@bp.route("/newsletter/post", methods=["POST"])
@permission_required(Permission.PUBLISH)
def newsletter_send_post():
    """Send a published post to the subscribers (once)."""
    form = SendPostForm()
    return pressed(
        form,
        lambda: newsletter_service.send_post(current_user, form.post_id.data),
        lambda issue: f"“{issue.subject}” is on its way to the subscribers.",
        url_for("admin.newsletter"),
    )


@bp.route("/newsletter/digest", methods=["POST"])
@permission_required(Permission.PUBLISH)
def newsletter_send_digest():
    """Send a section's week to its subscribers."""
    form = SendDigestForm()
    return pressed(
        form,
        lambda: newsletter_service.send_digest(current_user, form.section_id.data),
        lambda issue: f"“{issue.subject}” is on its way to the subscribers.",
        url_for("admin.newsletter"),
    )


def _filters() -> tuple[str, str | None]:
    """The list's search words and status from the query string."""
    search = (request.args.get("q") or "").strip()[:200]
    status = request.args.get("status") or None
    if status is not None and status not in set(SubscriberStatus):
        abort(404)
    return search, status


@bp.route("/subscribers")
@permission_required(Permission.ADMINISTER)
def subscribers():
    """The subscriber list: search, a status filter, counts and pages."""
    search, status = _filters()
    return render_template(
        "admin/subscribers.html",
        pagination=newsletter_service.subscribers(current_user, search, status, page_number()),
        counts=newsletter_service.subscriber_counts(current_user),
        search=search,
        status=status,
        statuses=list(SubscriberStatus),
        bounced_form=BouncedForm(formdata=None),
    )


@bp.route("/subscribers.csv")
@permission_required(Permission.ADMINISTER)
def subscribers_csv():
    """The subscribers (as filtered) as a CSV file."""
    search, status = _filters()
    body = newsletter_service.export_csv(current_user, search, status)
    return Response(
        body,
        mimetype="text/csv",
        headers={"Content-Disposition": 'attachment; filename="subscribers.csv"'},
    )


@bp.route("/subscribers/<int:subscriber_id>/bounced", methods=["POST"])
@permission_required(Permission.ADMINISTER)
def subscriber_bounced(subscriber_id: int):
    """Mark an address as bouncing: it gets nothing more."""
    form = BouncedForm()
    return pressed(
        form,
        lambda: newsletter_service.mark_bounced(current_user, subscriber_id, form.reason.data),
        lambda subscriber: f"{subscriber.email} is marked as bouncing.",
        url_for("admin.subscribers"),
    )


@bp.route("/subscribers/<int:subscriber_id>/remove", methods=["GET", "POST"])
@permission_required(Permission.ADMINISTER)
def remove_subscriber(subscriber_id: int):
    """Ask, then remove a subscriber for good."""
    subscriber = newsletter_service.subscriber(current_user, subscriber_id)
    form = ButtonForm()
    if submitted(
        form,
        lambda: newsletter_service.remove(current_user, subscriber_id),
        lambda address: f"{address} is removed from the subscribers.",
    ):
        return redirect(url_for("admin.subscribers"))
    return render_template("admin/remove_subscriber.html", subscriber=subscriber, form=form)
