"""Outgoing mail: SMTP when configured, otherwise the application log."""

from __future__ import annotations

from flask import current_app
from flask_mail import Message

from ..extensions import mail


def send_mail(to: str, subject: str, body: str) -> None:
    """Send a plain-text message, or write it to the log in development."""
    sent = current_app.extensions.setdefault("circle_outbox", [])
    if current_app.config.get("MAIL_SERVER"):
        mail.send(Message(subject=subject, recipients=[to], body=body))
    else:
        current_app.logger.warning("Mail to %s: %s\n%s", to, subject, body)
    if current_app.testing:
        sent.append({"to": to, "subject": subject, "body": body})
