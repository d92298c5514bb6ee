"""The worker's clock: the periodic jobs that keep the site tidy and on time."""

from __future__ import annotations

from . import desk, publishing, sessions
from .jobs import periodic


@periodic("posts.publish_due", minute="*", at_start=True)
def publish_due_posts() -> int:
    """Mark scheduled posts whose time has come as published (every minute).

    Readers see a scheduled post from its time on whether or not this has run
    (the model's visibility rule); this keeps the desk's statuses true.
    """
    return publishing.publish_due()


@periodic("cleanup.sessions_and_autosaves", minute="17")
def clean_up() -> None:
    """Delete ended sessions and overtaken autosaves (hourly)."""
    sessions.purge_ended()
    desk.forget_old_autosaves()
