"""Mail choices on the account page, and the unsubscribe link that works without signing in."""

from __future__ import annotations

from flask import abort, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required
from flask_wtf import FlaskForm
from wtforms import BooleanField

from ..extensions import csrf
from ..services import NotFound
from ..services import notifications as notification_service
from .forms import ButtonForm
from .views import bp


class NotificationChoicesForm(FlaskForm):
    """Which mails to receive: one box per kind (only those of one's role are shown)."""

    review_requests = BooleanField(notification_service.CHOICE["review_requests"].label)
    post_news = BooleanField(notification_service.CHOICE["post_news"].label)
    replies = BooleanField(notification_service.CHOICE["replies"].label)
    moderation_digest = BooleanField(notification_service.CHOICE["moderation_digest"].label)


@bp.context_processor
def notification_context() -> dict:
    """Give the account page its mail choices, loaded only when the page asks."""

    def choices_form():
        chosen = {
            choice.kind: notification_service.wants(current_user, choice.kind)
            for choice in notification_service.CHOICES
        }
        return NotificationChoicesForm(formdata=None, data=chosen)

    return {
        "notification_choices": lambda: notification_service.choices_for(current_user),
        "notification_form": choices_form,
    }


@bp.route("/account/notifications", methods=["POST"])
@login_required
def save_notification_choices():
    """Save which mails the person receives."""
    form = NotificationChoicesForm()
    if not form.validate_on_submit():
        abort(400)
    chosen = {choice.kind for choice in notification_service.CHOICES if form[choice.kind].data}
    notification_service.save_choices(current_user, chosen)
    flash("Your mail choices are saved.", "success")
    return redirect(url_for("auth.account", _anchor="notifications"))


@bp.route("/account/notifications/unsubscribe/<token>", methods=["GET", "POST"])
@csrf.exempt  # the one-click POST (RFC 8058) has no token; the button form checks its own
def unsubscribe(token: str):
    """Turn off one kind of mail from a link in it: a page with a button, or one click."""
    one_click = request.form.get("List-Unsubscribe") == "One-Click"
    form = ButtonForm()
    if request.method == "POST" and not one_click and not form.validate_on_submit():
        abort(400)
    try:
        if request.method == "POST":
            person, choice = notification_service.unsubscribe(token)
        else:
            person, choice = notification_service.unsubscribe_target(token)
    except NotFound:
        abort(404)
    return render_template(
        "auth/unsubscribe.html",
        form=form,
        choice=choice,
        email=person.email,
        done=request.method == "POST",
    )
