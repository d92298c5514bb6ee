"""Webhooks: the addresses told of the magazine's events, their secrets and delivery logs."""

from __future__ import annotations

from flask import redirect, render_template, url_for
from flask_login import current_user

from ..forms import pressed, submitted
from ..models import Permission
from ..permissions import permission_required
from ..services import webhooks as webhook_service
from .forms import ActionForm, DeleteWebhookForm, WebhookForm
from .views import bp


@bp.route("/webhooks")
@permission_required(Permission.ADMINISTER)
def webhooks():
    """Every registered webhook, with a link to add one."""
    return render_template(
        "admin/webhooks.html",
        hooks=webhook_service.listing(current_user),
        events=webhook_service.EVENTS,
    )


@bp.route("/webhooks/new", methods=["GET", "POST"])
@permission_required(Permission.ADMINISTER)
def new_webhook():
    """Register an address for the chosen events."""
    form = WebhookForm()
    if submitted(
        form,
        lambda: webhook_service.create_webhook(
            current_user, form.url.data, form.description.data, form.events.data,
            form.active.data,
        ),
        lambda hook: f"The webhook to {hook.url} is added. Its secret is on its page.",
    ):
        return redirect(url_for("admin.webhooks"))
    status = 400 if form.is_submitted() else 200
    return render_template("admin/webhook_form.html", form=form, hook=None), status


@bp.route("/webhooks/<int:hook_id>")
@permission_required(Permission.ADMINISTER)
def webhook(hook_id: int):
    """One webhook: what it receives, its delivery log and the "Send test" button."""
    hook = webhook_service.get_webhook(current_user, hook_id)
    return render_template(
        "admin/webhook.html",
        hook=hook,
        deliveries=webhook_service.deliveries(current_user, hook),
        events=webhook_service.EVENTS,
        max_attempts=webhook_service.MAX_ATTEMPTS,
    )


@bp.route("/webhooks/<int:hook_id>/edit", methods=["GET", "POST"])
@permission_required(Permission.ADMINISTER)
def edit_webhook(hook_id: int):
    """Change a webhook's address, description, events or whether it is on."""
    hook = webhook_service.get_webhook(current_user, hook_id)
    form = WebhookForm(
        data={
            "url": hook.url,
            "description": hook.description,
            "events": list(hook.events or []),
            "active": hook.active,
        }
    )
    if submitted(
        form,
        lambda: webhook_service.update_webhook(
            current_user, hook, form.url.data, form.description.data, form.events.data,
            form.active.data,
        ),
        "The webhook is saved.",
    ):
        return redirect(url_for("admin.webhook", hook_id=hook.id))
    status = 400 if form.is_submitted() else 200
    return render_template("admin/webhook_form.html", form=form, hook=hook), status


@bp.route("/webhooks/<int:hook_id>/secret")
@permission_required(Permission.ADMINISTER)
def webhook_secret(hook_id: int):
    """The secret a receiver checks signatures with."""
    hook = webhook_service.get_webhook(current_user, hook_id)
    return render_template(
        "admin/webhook_secret.html", hook=hook, secret=webhook_service.secret_of(hook)
    )


@bp.route("/webhooks/<int:hook_id>/test", methods=["POST"])
@permission_required(Permission.ADMINISTER)
def test_webhook(hook_id: int):
    """Queue a `ping` delivery to the webhook."""
    hook = webhook_service.get_webhook(current_user, hook_id)
    return pressed(
        ActionForm(),
        lambda: webhook_service.send_test(current_user, hook),
        "A test (ping) is on its way; its delivery shows below.",
        url_for("admin.webhook", hook_id=hook.id),
    )


@bp.route("/webhooks/<int:hook_id>/delete", methods=["GET", "POST"])
@permission_required(Permission.ADMINISTER)
def delete_webhook(hook_id: int):
    """Ask, then delete a webhook and its delivery log."""
    hook = webhook_service.get_webhook(current_user, hook_id)
    form = DeleteWebhookForm()
    url = hook.url
    if submitted(
        form,
        lambda: webhook_service.delete_webhook(current_user, hook),
        f"The webhook to {url} is deleted.",
    ):
        return redirect(url_for("admin.webhooks"))
    status = 400 if form.is_submitted() else 200
    return render_template("admin/webhook_delete.html", hook=hook, form=form), status
