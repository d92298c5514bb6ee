"""A newsletter of 2,000 subscribers, its worker killed midway and another started:
every subscriber gets exactly one mail."""

from __future__ import annotations

import threading
import time
from collections import Counter

from sqlalchemy import insert, select

from blog.extensions import db
from blog.models import IssueStatus, NewsletterIssue, Subscriber, SubscriberStatus, utcnow
from blog.services import newsletter as newsletter_service

from .workers import start_worker, stop_worker, wait_until

SUBSCRIBERS = 2000
HOLD_AT = 700


def _issue() -> NewsletterIssue:
    db.session.rollback()
    db.session.expire_all()
    issue = db.session.scalar(select(NewsletterIssue))
    db.session.rollback()  # end the read: the worker writes meanwhile
    return issue


def test_a_send_survives_a_killed_worker_and_no_one_gets_two(app, smtp, make):
    health = make.section("Health", slug="health")
    editor = make.user("editor", username="hedda")
    now = utcnow()
    db.session.execute(
        insert(Subscriber),
        [
            {"email": f"reader{n:04d}@example.com", "status": SubscriberStatus.ACTIVE,
             "all_sections": True, "confirmed_at": now, "bounce_note": ""}
            for n in range(SUBSCRIBERS)
        ],
    )
    db.session.commit()
    post = make.post(section=health, title="Sleep well")
    newsletter_service.send_post(editor, post.id)
    db.session.remove()

    smtp.keeper.hold_at = HOLD_AT
    smtp.keeper.hold = threading.Event()
    started = time.monotonic()
    # One thread: the worker is killed while its only batch waits for the server's
    # answer to message HOLD_AT, whose row it committed as sent just before.
    first = start_worker(app, threads=1)
    try:
        assert smtp.keeper.holding.wait(60), len(smtp.received)
    finally:
        first_log = stop_worker(first, kill=True)
    smtp.keeper.hold.set()
    assert len(smtp.received) == HOLD_AT
    assert _issue().status == IssueStatus.SENDING

    second = start_worker(app, threads=4)  # its start hands the waiting rows out again
    try:
        assert wait_until(lambda: _issue().status == IssueStatus.SENT, timeout=90), first_log
    finally:
        second_log = stop_worker(second)
    assert "Traceback" not in second_log, second_log

    received = Counter(r for m in smtp.received for r in m.recipients)
    assert len(received) == SUBSCRIBERS
    assert set(received.values()) == {1}, [a for a, n in received.items() if n > 1][:5]
    issue = _issue()
    counts = (issue.total, issue.sent_count, issue.bounced_count, issue.failed_count)
    assert counts == (SUBSCRIBERS, SUBSCRIBERS, 0, 0), (counts, second_log[-3000:])
    print(f"sent {SUBSCRIBERS} with a killed worker in {time.monotonic() - started:.1f} s")
