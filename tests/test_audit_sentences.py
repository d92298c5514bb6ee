"""The audit log in sentences, with filters by person, action and days."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from blog.extensions import db
from blog.models import AuditEntry, PostStatus
from blog.services import audit, publishing
from blog.services import comments as comment_service
from blog.services import users as user_service
from blog.services.users import assign_sections

from .conftest import Auth


@pytest.fixture
def log(app, make):
    """Eden publishes in Storybook, Sally approves a comment, Eden suspends a reader."""
    story = make.section("Storybook", slug="storybook")
    eden = make.user("admin", username="eden", display_name="Eden Editor")
    sally = make.user("editor", username="sally", display_name="Sally Story")
    rita = make.user("reader", username="rita", display_name="Rita Reader")
    assign_sections(sally, [story])
    bus = make.post(section=story, title="The Night Bus", status=PostStatus.DRAFT)
    publishing.publish_now(eden, bus)
    comment = comment_service.add_comment(rita, bus, "Which stop is it?")
    comment_service.moderate(sally, comment, "approve")
    user_service.suspend(eden, rita, "Spam links")
    return {"story": story, "eden": eden, "sally": sally, "rita": rita, "bus": bus}


def _as(app, username):
    client = app.test_client()
    assert Auth(client).login(username).status_code == 302
    return client


def _rows(html: str) -> int:
    body = html[html.find("<tbody>") :]
    return body.count("<tr>")


def test_entries_read_as_sentences(app, log):
    entries = list(db.session.scalars(db.select(AuditEntry).order_by(AuditEntry.id)))
    said = audit.sentences_for(entries)
    sentences = [said[e.id] for e in entries]
    assert "Eden Editor published “The Night Bus” in Storybook." in sentences
    assert "Sally Story approved a comment in Storybook: “Which stop is it?”." in sentences
    assert "Eden Editor suspended “rita”." in sentences
    page = _as(app, "eden").get("/admin/audit").get_data(as_text=True)
    assert "Eden Editor published “The Night Bus” in Storybook." in page
    # The raw change stays one click away.
    assert "<details>" in page and "<code>user.suspend</code>" in page and "Spam links" in page


def test_an_unknown_action_still_reads(app, log):
    entry = audit.record(log["eden"], "magazine.reprint", log["bus"])
    db.session.commit()
    assert audit.sentences_for([entry])[entry.id] == (
        "Eden Editor: magazine.reprint “The Night Bus” in Storybook."
    )


def test_filters_by_person_action_and_days(app, log):
    old = audit.record(log["eden"], "post.unpublish", log["bus"])
    old.created_at = datetime(2024, 3, 10, 12, 0, tzinfo=UTC)
    db.session.commit()
    eden = _as(app, "eden")
    page = eden.get("/admin/audit").get_data(as_text=True)
    assert '<option value="sally">Sally Story (sally)</option>' in page
    assert '<option value="post.publish">Published</option>' in page
    by_sally = eden.get("/admin/audit?person=sally").get_data(as_text=True)
    assert _rows(by_sally) == 1 and "Sally Story approved a comment" in by_sally
    published = eden.get("/admin/audit?action=post.publish").get_data(as_text=True)
    assert _rows(published) == 1 and "published “The Night Bus”" in published
    march = eden.get("/admin/audit?since=2024-03-10&until=2024-03-10").get_data(as_text=True)
    assert _rows(march) == 1 and "unpublished “The Night Bus”" in march
    assert _rows(eden.get("/admin/audit?since=2024-03-11&until=2024-12-31").get_data(
        as_text=True)) == 0
    later = eden.get("/admin/audit?since=2024-03-11").get_data(as_text=True)
    assert "unpublished" not in later and _rows(later) >= 3
    not_a_day = eden.get("/admin/audit?since=yesterday")
    assert not_a_day.status_code == 200  # ignored, not a crash


def test_an_editor_is_offered_only_the_people_of_their_sections(app, log):
    page = _as(app, "sally").get("/admin/audit").get_data(as_text=True)
    assert "Eden Editor published “The Night Bus” in Storybook." in page
    assert "suspended" not in page
