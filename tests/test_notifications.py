"""Notification mail through the queue and a real SMTP server: who gets what, once."""

from __future__ import annotations

import re
from datetime import timedelta
from zoneinfo import ZoneInfo

import pytest
from itsdangerous import URLSafeSerializer
from sqlalchemy import select

from blog import queue
from blog.extensions import db
from blog.models import CommentStatus, Job, PostStatus, User, utcnow
from blog.services import clock, comments, notifications, publishing, reports, unit_of_work
from blog.services.users import assign_sections

from .conftest import Auth, csrf_from


@pytest.fixture
def newsroom(make, desk_people):
    """Health (Hedda edits it), Sport (Sven edits it), an admin, and Ana's draft in Health."""
    sport = make.section("Sport", slug="sport")
    sven = make.user("editor", username="sven")
    assign_sections(sven, [sport])
    admin = make.user("admin", username="ada")
    draft = make.post(
        author=desk_people["ana"],
        section=desk_people["health"],
        status=PostStatus.DRAFT,
        title="Night shifts",
    )
    return {**desk_people, "sport": sport, "sven": sven, "ada": admin, "draft": draft}


def _fresh(user: User) -> User:
    """The person as stored now."""
    db.session.expire_all()
    return db.session.get(User, user.id)


def _addresses(smtp) -> list[str]:
    """Every envelope recipient of every message received, in order."""
    return [address for message in smtp.received for address in message.recipients]


def _assert_complete(message, *links: str) -> None:
    """Both parts are there, carry the links and the footer saying why."""
    assert message.text and message.html
    for link in links:
        assert link in message.text
        assert link in message.html
    assert "You received this because" in message.text
    assert "http://localhost/account#notifications" in message.text
    assert "http://localhost/account#notifications" in message.html


def test_submission_mails_the_sections_editor_once_not_the_submitter_nor_others(
    newsroom, smtp, run_jobs
):
    ana, draft = newsroom["ana"], newsroom["draft"]
    publishing.submit_for_review(ana, draft)
    run_jobs()

    assert _addresses(smtp) == ["hedda@example.com"]  # not Sven (Sport), not Ada, not Ana
    message = smtp.received[0]
    assert message.message["To"].addresses[0].addr_spec == "hedda@example.com"
    assert "Night shifts" in message.message["Subject"]
    _assert_complete(message, f"http://localhost/editor/posts/{draft.id}/edit")
    assert "you review posts in this section" in message.text

    run_jobs()  # nothing more waits, and the same job delivered again sends nothing
    assert len(smtp.received) == 1


def test_review_requests_go_to_admins_when_no_editor_covers_the_section(make, smtp, run_jobs):
    lonely = make.section("Lonely", slug="lonely")
    busy = make.section("Busy", slug="busy")
    editor = make.user("editor", username="edna")
    assign_sections(editor, [busy])
    admin = make.user("admin", username="ada")
    author = make.user("author", username="abe")
    post = make.post(author=author, section=lonely, status=PostStatus.DRAFT)
    publishing.submit_for_review(author, post)
    run_jobs()
    assert _addresses(smtp) == [admin.email]


def test_an_editor_submitting_in_her_own_section_is_not_told_the_admin_is(
    make, newsroom, smtp, run_jobs
):
    hedda = newsroom["hedda"]
    own = make.post(author=hedda, section=newsroom["health"], status=PostStatus.DRAFT)
    publishing.submit_for_review(hedda, own)
    run_jobs()
    assert _addresses(smtp) == ["ada@example.com"]


def test_a_job_delivered_twice_sends_once(newsroom, smtp, run_jobs):
    ana, draft = newsroom["ana"], newsroom["draft"]
    publishing.submit_for_review(ana, draft)
    job_row = db.session.scalar(
        select(Job).where(Job.name == "notify.review_request")
    )
    arguments = dict(job_row.arguments)
    run_jobs()
    notifications.send_review_request(**arguments)  # the same job again, as a redelivery would
    assert _addresses(smtp) == ["hedda@example.com"]


def test_opted_out_editor_gets_nothing(newsroom, smtp, run_jobs):
    hedda = newsroom["hedda"]
    notifications.save_choices(hedda, set())
    publishing.submit_for_review(newsroom["ana"], newsroom["draft"])
    run_jobs()
    assert smtp.received == []


def test_rolled_back_submission_sends_nothing(newsroom, smtp, run_jobs):
    draft = newsroom["draft"]
    with pytest.raises(RuntimeError), unit_of_work():
        publishing.submit_for_review(newsroom["ana"], draft)  # joins the unit around it
        raise RuntimeError("the request failed after the submission")
    assert run_jobs() == 0
    assert db.session.scalars(select(Job)).all() == []
    assert db.session.get(type(draft), draft.id).status == PostStatus.DRAFT
    assert smtp.received == []


def test_a_post_deleted_before_its_job_runs_is_skipped_quietly(newsroom, smtp, run_jobs):
    draft = newsroom["draft"]
    publishing.submit_for_review(newsroom["ana"], draft)
    db.session.delete(db.session.get(type(draft), draft.id))
    db.session.commit()
    run_jobs()
    assert smtp.received == []
    assert queue.jobs.counts(newsroom["ada"])["failed"] == 0


def test_author_and_coauthor_hear_it_was_sent_back_with_the_note(make, newsroom, smtp, run_jobs):
    from blog.services import bylines, unit_of_work

    ana, hedda, draft = newsroom["ana"], newsroom["hedda"], newsroom["draft"]
    cole = make.user("author", username="cole")
    with unit_of_work():
        bylines.set_people(None, draft, None, ["cole"])
    publishing.submit_for_review(ana, draft)
    run_jobs()
    smtp.clear()
    publishing.send_back(hedda, draft, "Shorten the second part, please.")
    run_jobs()

    assert sorted(_addresses(smtp)) == ["ana@example.com", cole.email]
    for message in smtp.received:
        assert "Sent back" in message.message["Subject"]
        _assert_complete(message, f"http://localhost/editor/posts/{draft.id}/edit")
        assert "Shorten the second part, please." in message.text
        assert "Shorten the second part, please." in message.html
        assert "Hedda" in message.text


def test_publishing_tells_the_author_but_not_when_she_did_it_herself(
    make, newsroom, smtp, run_jobs
):
    hedda, health = newsroom["hedda"], newsroom["health"]
    post = newsroom["draft"]
    publishing.publish_now(hedda, post)
    run_jobs()
    assert _addresses(smtp) == ["ana@example.com"]
    _assert_complete(smtp.received[0], "http://localhost/health/night-shifts")
    assert smtp.received[0].message["Subject"] == "Published: Night shifts"

    smtp.clear()
    own = make.post(author=hedda, section=health, status=PostStatus.DRAFT, title="Own words")
    publishing.publish_now(hedda, own)
    run_jobs()
    assert smtp.received == []


def test_scheduling_names_the_time_in_the_sites_zone_and_the_time_coming_publishes(
    app, newsroom, smtp, run_jobs
):
    boss = app.test_client()
    Auth(boss).login("ada")
    page = boss.get("/admin/settings").get_data(as_text=True)
    boss.post(
        "/admin/settings",
        data={
            "csrf_token": csrf_from(page),
            "site_name": "My Circle Story",
            "posts_per_page": "10",
            "comment_link_limit": "2",
            "timezone": "Asia/Kolkata",
        },
    )
    hedda, post = newsroom["hedda"], newsroom["draft"]
    when = (utcnow() + timedelta(days=2)).replace(microsecond=0)
    publishing.schedule(hedda, post, when)
    run_jobs()
    assert _addresses(smtp) == ["ana@example.com"]
    shown = when.astimezone(ZoneInfo("Asia/Kolkata")).strftime(clock.DEFAULT_FORMAT)
    assert "IST" in shown
    assert shown in smtp.received[0].message["Subject"]
    assert shown in smtp.received[0].text

    smtp.clear()
    publishing.publish_due(now=when + timedelta(minutes=1))
    run_jobs()
    assert _addresses(smtp) == ["ana@example.com"]
    assert "went live at its scheduled time" in smtp.received[0].text


@pytest.fixture
def conversation(make, newsroom):
    """A live article with Rita's shown comment on it."""
    post = make.post(author=newsroom["ana"], section=newsroom["health"], title="Sleep well")
    rita = make.user("reader", username="rita")
    first = comments.add_comment(rita, post, "I sleep in the afternoon.")
    comments.moderate(newsroom["hedda"], first, "approve")
    return {"post": post, "rita": rita, "first": first}


def _reply(make, conversation, newsroom, text="Me too, after nights."):
    """Ron replies to Rita; Hedda approves the held reply."""
    ron = make.user_named("ron")
    parent_id = conversation["first"].id
    reply = comments.add_comment(ron, conversation["post"], text, parent_id=parent_id)
    if reply.status == CommentStatus.PENDING:
        comments.moderate(newsroom["hedda"], reply, "approve")
    return reply


def test_a_shown_reply_is_mailed_to_the_commenter_once_with_unsubscribe_headers(
    make, newsroom, conversation, smtp, run_jobs
):
    run_jobs()
    smtp.clear()
    reply = _reply(make, conversation, newsroom)
    run_jobs()
    assert _addresses(smtp) == ["rita@example.com"]
    message = smtp.received[0]
    _assert_complete(message, f"http://localhost/health/sleep-well#comment-{reply.id}")
    assert "Me too, after nights." in message.text
    unsubscribe = message.message["List-Unsubscribe"]
    assert unsubscribe.startswith("<http://localhost/account/notifications/unsubscribe/")
    assert message.message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    raw = dict(message.message.raw_items())["List-Unsubscribe"]  # as sent, not decoded
    assert raw == unsubscribe and "=?" not in raw
    assert unsubscribe.strip("<>") in message.text

    # Held and shown again: still one mail for this reply.
    comments.moderate(newsroom["hedda"], reply, "hold")
    comments.moderate(newsroom["hedda"], reply, "approve")
    run_jobs()
    assert len(smtp.received) == 1


def test_a_moderators_reply_shown_at_once_is_mailed_too(newsroom, conversation, smtp, run_jobs):
    run_jobs()
    smtp.clear()
    comments.staff_reply(newsroom["hedda"], conversation["first"], "Thank you, Rita.")
    run_jobs()
    assert _addresses(smtp) == ["rita@example.com"]
    assert "Hedda replied to your comment" in smtp.received[0].message["Subject"]


def test_no_reply_mail_to_oneself_or_to_a_suspended_person(
    make, newsroom, conversation, smtp, run_jobs
):
    from blog.services import users as user_service

    run_jobs()
    smtp.clear()
    comments.add_comment(
        conversation["rita"], conversation["post"], "And a nap.", parent_id=conversation["first"].id
    )
    run_jobs()
    assert smtp.received == []
    _reply(make, conversation, newsroom)
    user_service.suspend(newsroom["ada"], conversation["rita"], "spam")  # before the job runs
    run_jobs()
    assert smtp.received == []


def _unsubscribe_link(make, newsroom, conversation, smtp, run_jobs) -> str:
    """Send Rita a reply notice and return its List-Unsubscribe address, as a path."""
    run_jobs()
    smtp.clear()
    _reply(make, conversation, newsroom)
    run_jobs()
    return smtp.received[0].message["List-Unsubscribe"].strip("<>").removeprefix("http://localhost")


def test_one_click_post_unsubscribes_without_session_or_csrf(
    app, make, newsroom, conversation, smtp, run_jobs
):
    path = _unsubscribe_link(make, newsroom, conversation, smtp, run_jobs)
    client = app.test_client()
    response = client.post(path, data={"List-Unsubscribe": "One-Click"})
    assert response.status_code == 200
    assert not _fresh(conversation["rita"]).notify_replies

    smtp.clear()
    _reply(make, conversation, newsroom, "Another reply.")
    run_jobs()
    assert smtp.received == []


def test_forged_or_broken_tokens_are_refused(app, conversation):
    client = app.test_client()
    claim = {"u": conversation["rita"].id, "k": "replies"}
    forged = URLSafeSerializer("not the site's secret", salt=notifications.UNSUBSCRIBE_SALT)
    other_salt = URLSafeSerializer(app.config["SECRET_KEY"], salt="circle-preview")
    genuine = notifications.unsubscribe_token(conversation["rita"], "replies")
    for token in (forged.dumps(claim), other_salt.dumps(claim), genuine[:-2], "nonsense"):
        path = f"/account/notifications/unsubscribe/{token}"
        assert client.post(path, data={"List-Unsubscribe": "One-Click"}).status_code == 404
        assert client.get(path).status_code == 404
    assert _fresh(conversation["rita"]).notify_replies


def test_the_unsubscribe_page_asks_then_its_button_needs_csrf(
    app, make, newsroom, conversation, smtp, run_jobs
):
    path = _unsubscribe_link(make, newsroom, conversation, smtp, run_jobs)
    client = app.test_client()
    page = client.get(path)
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "Stop sending" in html and "rita@example.com" in html
    assert _fresh(conversation["rita"]).notify_replies  # a GET (a link scanner) changes nothing

    assert client.post(path, data={}).status_code == 400
    assert _fresh(conversation["rita"]).notify_replies
    done = client.post(path, data={"csrf_token": csrf_from(html)})
    assert done.status_code == 200
    assert "will no longer receive" in done.get_data(as_text=True)
    assert not _fresh(conversation["rita"]).notify_replies


def _box_checked(page: str, name: str) -> bool:
    """Whether the account page's checkbox called name is ticked."""
    box = re.search(rf'<input[^>]*name="{name}"[^>]*>', page)
    assert box, f"no {name} checkbox"
    return " checked" in box.group(0)


def test_account_page_shows_the_choices_of_the_role_and_saves_them(client, auth, make):
    reader = make.user("reader", username="rhea")
    auth.login("rhea")
    page = client.get("/account").get_data(as_text=True)
    assert "Replies to my comments" in page
    assert "Posts submitted for review" not in page
    assert "morning digest" not in page
    assert _box_checked(page, "replies")  # on until chosen off

    saved = client.post(
        "/account/notifications", data={"csrf_token": csrf_from(page)}, follow_redirects=True
    )
    assert "Your mail choices are saved." in saved.get_data(as_text=True)
    assert not _box_checked(saved.get_data(as_text=True), "replies")
    assert not _fresh(reader).notify_replies

    page = client.get("/account").get_data(as_text=True)
    client.post(
        "/account/notifications", data={"csrf_token": csrf_from(page), "replies": "y"}
    )
    assert _fresh(reader).notify_replies


def test_account_choices_refuse_a_post_without_csrf(client, auth, make):
    editor = make.user("editor", username="eva")
    auth.login("eva")
    page = client.get("/account").get_data(as_text=True)
    for label in ("Posts submitted for review", "News of my posts", "Replies", "morning digest"):
        assert label in page
    assert client.post("/account/notifications", data={}).status_code == 400
    assert _fresh(editor).notify_review_requests


def test_digest_only_when_something_waits_and_once_a_day(
    app, make, newsroom, conversation, smtp, run_jobs
):
    run_jobs()
    smtp.clear()
    queue.run_periodic(app, "notify.moderation_digests")
    run_jobs()
    assert smtp.received == []  # nothing held, nothing reported

    ron = make.user("reader", username="ron")
    held = comments.add_comment(ron, conversation["post"], "Buy cheap pills here.")
    assert held.status == CommentStatus.PENDING
    reports.report(conversation["rita"], "This is an advert.", post=conversation["post"])
    sport_post = make.post(author=make.user("author"), section=newsroom["sport"])
    comments.add_comment(make.user("reader"), sport_post, "Offside!")  # held, in Sport

    queue.run_periodic(app, "notify.moderation_digests")
    run_jobs()
    queue.run_periodic(app, "notify.moderation_digests")  # the clock runs twice
    run_jobs()
    to_hedda = smtp.to("hedda@example.com")
    assert len(to_hedda) == 1
    message = to_hedda[0]
    assert "1 held comment, 1 open report" in message.message["Subject"]
    _assert_complete(message, "http://localhost/admin/")
    assert "Buy cheap pills here." in message.text
    assert "Offside!" not in message.text  # Sport is not Hedda's
    assert len(smtp.to("sven@example.com")) == 1  # Sven has Sport's held comment
    assert len(smtp.to("ada@example.com")) == 1  # the admin's queue covers both
    assert smtp.to("ana@example.com") == []  # an author does not moderate


def test_a_worker_process_sends_the_review_request(app, newsroom, smtp):
    """The real consumer, in its own process, composes and sends the mail (no request there)."""
    from .workers import start_worker, stop_worker, wait_until

    publishing.submit_for_review(newsroom["ana"], newsroom["draft"])
    worker = start_worker(app)
    try:
        assert wait_until(lambda: len(smtp.received) == 1, timeout=30)

        def finished() -> bool:
            db.session.expire_all()
            return all(job.status == "done" for job in db.session.scalars(select(Job)))

        assert wait_until(finished, timeout=30)
    finally:
        log = stop_worker(worker)
    assert "Traceback" not in log, log
    assert _addresses(smtp) == ["hedda@example.com"]
