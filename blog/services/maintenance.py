"""The worker's clock: the periodic jobs that keep the site tidy and on time."""

from __future__ import annotations

from flask import current_app
from sqlalchemy.orm.exc import StaleDataError

from . import desk, publishing, sessions
from .jobs import periodic


@periodic("posts.publish_due", minute="*", at_start=True)
def publish_due_posts() -> int:
    """Mark scheduled posts whose time has come as published (every minute).

    Readers see a scheduled post from its time on whether or not this has run
    (the model's visibility rule); this keeps the desk's statuses true. Every worker's
    clock runs it: when two flip the same post, the post's version makes the second
    one's transaction fail whole, so the post is published (and announced) once.
    """
    try:
        return publishing.publish_due()
    except StaleDataError:
        current_app.logger.info("publish-due: another worker published the same posts")
        return 0


@periodic("cleanup.sessions_and_autosaves", minute="17")
def clean_up() -> None:
    """Delete ended sessions and overtaken autosaves (hourly)."""
    sessions.purge_ended()
    desk.forget_old_autosaves()
