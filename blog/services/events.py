"""What happened in the magazine, told to whoever listens (notifications, webhooks).

A use case calls `emit("post.published", post=post, actor=actor)` inside its own
transaction; each listener (declared with `@on("post.published")`) usually enqueues a
job, so the mail or the webhook leaves only if the change commits. Listeners must be
quick and must not commit.

Events and their keywords:
  post.submitted    post, actor            an author handed a draft to the section's editors
  post.sent_back    post, actor, note      a reviewer returned a post in review to draft
  post.published    post, actor (None: its scheduled time came)
  post.scheduled    post, actor, when
  post.unpublished  post, actor
  post.updated      post, actor            a live post's text or details were saved
  comment.approved  comment, actor (None: shown at once, not held)
  newsletter.sent   issue                  (emitted by the newsletter when a send finishes)
"""

from __future__ import annotations

from collections.abc import Callable

LISTENERS: dict[str, list[Callable[..., None]]] = {}


def on(event: str):
    """Declare fn as a listener of event."""

    def listen(fn):
        LISTENERS.setdefault(event, []).append(fn)
        return fn

    return listen


def emit(event: str, **details) -> None:
    """Tell every listener of event, in the order they were declared."""
    for listener in LISTENERS.get(event, ()):
        listener(**details)
