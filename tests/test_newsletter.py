"""The newsletter: double opt-in from the shared pages' box or the full form, sends that
reach each active subscriber of a section once, one-click unsubscribe, bounces, the
subscriber list and its CSV, and subscribers in the backup."""

from __future__ import annotations

import csv
import io
import re
import socket
import zipfile
from datetime import timedelta

import pytest
from sqlalchemy import select

from blog import queue
from blog.extensions import db
from blog.models import (
    Job,
    JobStatus,
    NewsletterDelivery,
    NewsletterIssue,
    PostStatus,
    RecipientStatus,
    Subscriber,
    SubscriberStatus,
    utcnow,
)
from blog.services import events
from blog.services import newsletter as newsletter_service

from .conftest import csrf_from

SAME_ORIGIN = {"Origin": "http://localhost"}
LINK = re.compile(r"http://localhost(/subscribe/confirm/[^\s\"<]+)")
UNSUBSCRIBE = re.compile(r"http://localhost(/unsubscribe/[^\s\"<>]+)")


def _subscriber(email: str) -> Subscriber | None:
    db.session.expire_all()
    return db.session.scalar(select(Subscriber).where(Subscriber.email == email))


def _subscribe(client, email: str, sections=(), headers=SAME_ORIGIN):
    """Send the shared pages' box (no token), as a browser on this site does."""
    return client.post(
        "/subscribe", data={"email": email, "sections": [str(s) for s in sections]},
        headers=headers,
    )


def _confirm_link(smtp, email: str) -> str:
    mails = smtp.to(email)
    assert len(mails) == 1, [m.recipients for m in smtp.received]
    assert "Confirm your subscription" in mails[0].message["Subject"]
    found = LINK.search(mails[0].text)
    assert found and found.group(1) in mails[0].html
    return found.group(1)


def _press(client, path: str, data=None):
    """GET a page with a button, then press it (with the page's CSRF token)."""
    page = client.get(path)
    assert page.status_code == 200, page.get_data(as_text=True)
    token = csrf_from(page.get_data(as_text=True))
    return client.post(path, data={"csrf_token": token, **(data or {})})


def _active(make, email: str, sections=()) -> Subscriber:
    subscriber = Subscriber(
        email=email, status=SubscriberStatus.ACTIVE, all_sections=not sections,
        confirmed_at=utcnow(), bounce_note="",
    )
    subscriber.sections = list(sections)
    db.session.add(subscriber)
    db.session.commit()
    return subscriber


@pytest.fixture
def magazine(make):
    health = make.section("Health", slug="health")
    fashion = make.section("Fashion", slug="fashion")
    editor = make.user("editor", username="hedda")
    editor.sections = [health]
    db.session.commit()
    return {"health": health, "fashion": fashion, "editor": editor}


def test_the_box_on_home_and_article_has_no_token_and_confirming_takes_a_button(
    client, smtp, run_jobs, make, magazine
):
    post = make.post(section=magazine["health"], title="Sleep well")
    for url in ("/", f"/health/{post.slug}"):
        html = client.get(url).get_data(as_text=True)
        box = html[html.index('action="/subscribe"'):]
        box = box[: box.index("</form>")]
        assert 'autocomplete="email"' in box and "<fieldset" in box and "csrf_token" not in box
        assert "Health" in box and "Fashion" in box

    answer = _subscribe(client, "Reader@Example.com ", [magazine["health"].id])
    assert answer.status_code == 302 and answer.location.endswith("/subscribe/sent")
    assert "Check your inbox" in client.get(answer.location).get_data(as_text=True)
    assert _subscriber("reader@example.com").status == SubscriberStatus.PENDING
    assert run_jobs() >= 1
    link = _confirm_link(smtp, "reader@example.com")

    shown = client.get(link)  # a mail scanner opening the link changes nothing
    assert shown.status_code == 200
    assert "Confirm your subscription" in shown.get_data(as_text=True)
    assert _subscriber("reader@example.com").status == SubscriberStatus.PENDING
    assert client.post(link).status_code == 400  # the button's POST needs the page's token

    done = _press(client, link)
    assert done.status_code == 200 and "You are subscribed" in done.get_data(as_text=True)
    subscriber = _subscriber("reader@example.com")
    assert subscriber.status == SubscriberStatus.ACTIVE and subscriber.confirmed_at
    assert not subscriber.all_sections and [s.slug for s in subscriber.sections] == ["health"]


def test_the_answer_is_the_same_for_new_pending_and_active_addresses(
    client, smtp, run_jobs, make
):
    _active(make, "known@example.com")
    _subscribe(client, "pending@example.com")
    db.session.execute(
        Subscriber.__table__.update().values(confirmation_sent_at=utcnow() - timedelta(hours=1))
    )
    db.session.commit()
    answers = [_subscribe(client, f"{who}@example.com") for who in ("new", "pending", "known")]
    assert {(a.status_code, a.location) for a in answers} == {(302, "/subscribe/sent")}
    run_jobs()
    # Each gets one link; the active address's does not change anything until pressed.
    assert sorted(r for m in smtp.received for r in m.recipients) == sorted(
        ["pending@example.com", "pending@example.com", "new@example.com", "known@example.com"]
    )
    assert _subscriber("known@example.com").status == SubscriberStatus.ACTIVE


def test_one_confirmation_mail_per_address_per_ten_minutes(client, smtp, run_jobs):
    for _ in range(3):
        assert _subscribe(client, "eager@example.com").status_code == 302
    run_jobs()
    assert len(smtp.to("eager@example.com")) == 1


def test_a_token_less_post_needs_origin_or_same_origin_fetch(client, outbox, run_jobs, magazine):
    same_site = _subscribe(client, "a@example.com", headers={"Sec-Fetch-Site": "same-origin"})
    assert same_site.status_code == 302

    bare = _subscribe(client, "b@example.com", [magazine["fashion"].id], headers={})
    page = bare.get_data(as_text=True)
    assert bare.status_code == 200 and "press Subscribe" in page
    assert 'value="b@example.com"' in page and "checked" in page  # prefilled, to confirm here
    assert _subscriber("b@example.com") is None
    token = csrf_from(page)
    sections = [str(magazine["fashion"].id)]
    sent = client.post(
        "/subscribe", data={"email": "b@example.com", "sections": sections, "csrf_token": token}
    )
    assert sent.status_code == 302 and _subscriber("b@example.com") is not None

    foreign = _subscribe(client, "c@example.com", headers={"Origin": "https://evil.example"})
    cross = _subscribe(client, "d@example.com", headers={"Sec-Fetch-Site": "cross-site"})
    assert foreign.status_code == cross.status_code == 403
    forged = client.post("/subscribe", data={"email": "e@example.com", "csrf_token": "forged"})
    assert forged.status_code == 400 and _subscriber("e@example.com") is None
    bad = _subscribe(client, "not an address")
    assert bad.status_code == 400 and "Enter an email address" in bad.get_data(as_text=True)


def test_forged_and_expired_confirmation_links_are_refused(app, client, smtp, run_jobs):
    _subscribe(client, "late@example.com")
    run_jobs()
    link = _confirm_link(smtp, "late@example.com")
    assert client.get(link + "x").status_code == 400
    assert client.get("/subscribe/confirm/nonsense").status_code == 400
    app.config["NEWSLETTER_CONFIRM_MAX_AGE"] = -1
    try:
        expired = client.get(link)
        assert expired.status_code == 400 and "expired" in expired.get_data(as_text=True)
    finally:
        app.config["NEWSLETTER_CONFIRM_MAX_AGE"] = 7 * 24 * 3600
    assert _subscriber("late@example.com").status == SubscriberStatus.PENDING


def _logout(client):
    token = csrf_from(client.get("/account").get_data(as_text=True))
    client.post("/logout", data={"csrf_token": token})


def _send(client, auth, post, sign_in=True) -> object:
    if sign_in:
        auth.login("hedda")
    page = client.get("/admin/newsletter").get_data(as_text=True)
    assert f'value="{post.id}"' in page
    return client.post(
        "/admin/newsletter/post", data={"post_id": post.id, "csrf_token": csrf_from(page)}
    )


def test_a_sent_post_reaches_each_subscriber_of_its_section_once(
    client, auth, smtp, run_jobs, make, magazine
):
    health, fashion = magazine["health"], magazine["fashion"]
    _active(make, "all@example.com")
    _active(make, "health@example.com", [health])
    _active(make, "fashion@example.com", [fashion])
    _active(make, "gone@example.com").status = SubscriberStatus.UNSUBSCRIBED
    db.session.commit()
    heard = []
    events.on("newsletter.sent")(lambda issue: heard.append((issue.id, issue.sent_count)))
    post = make.post(section=health, title="Sleep well", excerpt="Eight hours, and why.")

    sent = _send(client, auth, post)
    assert sent.status_code == 302
    assert "on its way" in client.get("/admin/newsletter").get_data(as_text=True)
    run_jobs()
    run_jobs()  # again: nothing goes twice

    assert sorted(r for m in smtp.received for r in m.recipients) == [
        "all@example.com", "health@example.com",
    ]
    mail = smtp.to("health@example.com")[0]
    assert mail.message["Subject"] == "Sleep well"
    assert "Eight hours, and why." in mail.text and "Eight hours, and why." in mail.html
    assert f"http://localhost/health/{post.slug}" in mail.text and "Read on" in mail.html
    unsubscribe = UNSUBSCRIBE.search(mail.text).group(0)
    assert mail.message["List-Unsubscribe"] == f"<{unsubscribe}>"
    assert mail.message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert unsubscribe in mail.html
    assert heard and heard[-1][1] == 2 and len(heard) == 1

    page = client.get("/admin/newsletter").get_data(as_text=True)
    assert "2 of 2" in page and "Sent" in page
    token = csrf_from(page)
    again = client.post("/admin/newsletter/post", data={"post_id": post.id, "csrf_token": token})
    assert again.status_code == 302
    assert "already been sent" in client.get("/admin/newsletter").get_data(as_text=True)
    assert db.session.query(NewsletterIssue).count() == 1
    events.LISTENERS["newsletter.sent"].pop()


def test_an_editor_may_send_only_their_sections_posts(client, auth, make, magazine):
    post = make.post(section=magazine["fashion"])
    auth.login("hedda")
    token = csrf_from(client.get("/admin/newsletter").get_data(as_text=True))
    client.post("/admin/newsletter/post", data={"post_id": post.id, "csrf_token": token})
    assert db.session.query(NewsletterIssue).count() == 0
    draft = make.post(section=magazine["health"], status=PostStatus.DRAFT)
    client.post("/admin/newsletter/post", data={"post_id": draft.id, "csrf_token": token})
    assert db.session.query(NewsletterIssue).count() == 0


def test_one_click_unsubscribe_and_the_page_button(client, make, smtp, run_jobs, magazine, auth):
    first = _active(make, "one@example.com")
    second = _active(make, "two@example.com")
    one_click = newsletter_service.unsubscribe_url(first).removeprefix("http://localhost")
    answer = client.post(one_click, data={"List-Unsubscribe": "One-Click"})
    assert answer.status_code == 200 and "You are unsubscribed" in answer.get_data(as_text=True)
    assert _subscriber("one@example.com").status == SubscriberStatus.UNSUBSCRIBED

    page_link = newsletter_service.unsubscribe_url(second).removeprefix("http://localhost")
    assert "two@example.com" in client.get(page_link).get_data(as_text=True)
    # A GET changes nothing.
    assert _subscriber("two@example.com").status == SubscriberStatus.ACTIVE
    assert client.post(page_link).status_code == 400  # neither one-click nor the page's token
    assert _press(client, page_link).status_code == 200
    assert _subscriber("two@example.com").status == SubscriberStatus.UNSUBSCRIBED
    assert client.post(page_link[:-2], data={"List-Unsubscribe": "One-Click"}).status_code == 400

    post = make.post(section=magazine["health"])
    _send(client, auth, post)
    run_jobs()
    assert smtp.received == []

    # Subscribing again works through the opt-in again.
    _logout(client)
    _subscribe(client, "one@example.com")
    run_jobs()
    _press(client, _confirm_link(smtp, "one@example.com"))
    assert _subscriber("one@example.com").status == SubscriberStatus.ACTIVE


def test_a_refused_recipient_is_marked_bounced_and_gets_nothing_more(
    client, auth, make, smtp, run_jobs, magazine
):
    _active(make, "fine@example.com")
    _active(make, "gone@example.com")
    smtp.keeper.refuse.add("gone@example.com")
    _send(client, auth, make.post(section=magazine["health"]))
    run_jobs()
    gone = _subscriber("gone@example.com")
    assert gone.status == SubscriberStatus.BOUNCED and "550" in gone.bounce_note
    delivery = db.session.scalar(
        select(NewsletterDelivery).where(NewsletterDelivery.subscriber_id == gone.id)
    )
    assert delivery.status == RecipientStatus.BOUNCED
    page = client.get("/admin/newsletter").get_data(as_text=True)
    assert "1 of 2" in page
    smtp.keeper.refuse.clear()
    _send(client, auth, make.post(section=magazine["health"]), sign_in=False)
    run_jobs()
    assert [m.recipients for m in smtp.received] == [["fine@example.com"], ["fine@example.com"]]


def test_a_section_digest_lists_the_week(client, auth, make, smtp, run_jobs, magazine):
    _active(make, "weekly@example.com", [magazine["health"]])
    make.post(section=magazine["health"], title="Fresh one")
    long_ago = utcnow() - timedelta(days=9)
    make.post(section=magazine["health"], title="Old one", published_at=long_ago)
    auth.login("hedda")
    token = csrf_from(client.get("/admin/newsletter").get_data(as_text=True))
    client.post(
        "/admin/newsletter/digest", data={"section_id": magazine["health"].id, "csrf_token": token}
    )
    run_jobs()
    [mail] = smtp.to("weekly@example.com")
    assert mail.message["Subject"] == "Health: this week"
    assert "Fresh one" in mail.text and "Old one" not in mail.text and "Fresh one" in mail.html


def test_the_subscriber_list_its_csv_and_admin_actions(client, auth, make, magazine):
    make.user("admin", username="boss")
    _active(make, "=cmd@example.com", [magazine["health"], magazine["fashion"]])
    _active(make, "plain@example.com")
    auth.login("hedda")
    assert client.get("/admin/subscribers").status_code == 403
    assert client.get("/admin/subscribers.csv").status_code == 403
    _logout(client)
    auth.login("boss")

    page = client.get("/admin/subscribers").get_data(as_text=True)
    assert "Active (2)" in page and "plain@example.com" in page
    assert "plain@example.com" not in client.get("/admin/subscribers?q=cmd").get_data(as_text=True)
    exported = client.get("/admin/subscribers.csv")
    assert exported.mimetype == "text/csv"
    assert "attachment" in exported.headers["Content-Disposition"]
    rows = list(csv.reader(io.StringIO(exported.get_data(as_text=True))))
    assert rows[0] == ["email", "status", "sections", "subscribed", "confirmed"]
    by_email = {row[0]: row for row in rows[1:]}
    assert by_email["'=cmd@example.com"][1:3] == ["active", "Health; Fashion"]
    assert by_email["plain@example.com"][2] == "all" and by_email["plain@example.com"][4]

    plain = _subscriber("plain@example.com")
    token = csrf_from(page)
    client.post(
        f"/admin/subscribers/{plain.id}/bounced",
        data={"reason": "Mailbox full for months", "csrf_token": token},
    )
    assert _subscriber("plain@example.com").status == SubscriberStatus.BOUNCED
    assert "Mailbox full" in client.get("/admin/subscribers?status=bounced").get_data(as_text=True)
    confirm = client.get(f"/admin/subscribers/{plain.id}/remove")
    assert "Remove plain@example.com?" in confirm.get_data(as_text=True)
    assert _subscriber("plain@example.com") is not None
    token = csrf_from(confirm.get_data(as_text=True))
    client.post(f"/admin/subscribers/{plain.id}/remove", data={"csrf_token": token})
    assert _subscriber("plain@example.com") is None


def test_subscribers_travel_in_the_backup(runner, second_site, tmp_path, make, magazine):
    _active(make, "kept@example.com", [magazine["health"]])
    path = tmp_path / "backup.zip"
    assert runner.invoke(args=["export-json", str(path)]).exit_code == 0
    with zipfile.ZipFile(path) as archive:
        assert b"kept@example.com" in archive.read("circle.json")
    with second_site.app_context():
        result = second_site.test_cli_runner().invoke(args=["import-json", str(path)])
        assert result.exit_code == 0, result.output
        kept = db.session.scalar(select(Subscriber).where(Subscriber.email == "kept@example.com"))
        assert kept.status == SubscriberStatus.ACTIVE
        assert [s.slug for s in kept.sections] == ["health"]


def test_the_desk_offers_send_to_subscribers_on_a_published_post_once(
    client, auth, make, smtp, run_jobs, magazine
):
    _active(make, "desk@example.com")
    post = make.post(section=magazine["health"], title="From the desk")
    draft = make.post(section=magazine["health"], status=PostStatus.DRAFT)
    auth.login("hedda")
    assert "Send to subscribers" not in client.get(f"/editor/posts/{draft.id}/edit").get_data(
        as_text=True
    )
    page = client.get(f"/editor/posts/{post.id}/edit").get_data(as_text=True)
    assert "Send to subscribers" in page
    client.post("/admin/newsletter/post", data={"post_id": post.id, "csrf_token": csrf_from(page)})
    run_jobs()
    assert [m.message["Subject"] for m in smtp.to("desk@example.com")] == ["From the desk"]
    after = client.get(f"/editor/posts/{post.id}/edit").get_data(as_text=True)
    assert "Send to subscribers" not in after


def test_the_subscribe_form_is_limited_per_client_address(app, client):
    saved = app.config["SUBSCRIBE_LIMIT_PER_ADDRESS"]
    app.config["SUBSCRIBE_LIMIT_PER_ADDRESS"] = "3 per minute"
    try:
        answers = [_subscribe(client, f"n{n}@example.com").status_code for n in range(4)]
    finally:
        app.config["SUBSCRIBE_LIMIT_PER_ADDRESS"] = saved
    assert answers == [302, 302, 302, 429]
    assert client.get("/subscribe").status_code == 200  # reading the form is not counted


def test_an_old_confirmation_link_does_not_undo_an_unsubscribe(client, smtp, run_jobs):
    _subscribe(client, "changed@example.com")
    run_jobs()
    link = _confirm_link(smtp, "changed@example.com")
    _press(client, link)
    subscriber = _subscriber("changed@example.com")
    subscriber.unsubscribed_at = utcnow() + timedelta(seconds=2)  # after the link was made
    subscriber.status = SubscriberStatus.UNSUBSCRIBED
    db.session.commit()
    again = client.get(link)
    assert again.status_code == 400 and "expired" in again.get_data(as_text=True)
    assert _subscriber("changed@example.com").status == SubscriberStatus.UNSUBSCRIBED


def test_addresses_never_confirmed_are_forgotten_after_their_link_expires(app, client):
    from blog import queue

    _subscribe(client, "never@example.com")
    _subscribe(client, "recent@example.com")
    never = _subscriber("never@example.com")
    never.created_at = utcnow() - timedelta(days=8)
    db.session.commit()
    queue.run_periodic(app, "newsletter.forget_unconfirmed")
    assert _subscriber("never@example.com") is None
    assert _subscriber("recent@example.com") is not None


def test_a_send_whose_jobs_were_lost_is_handed_out_again_once_quiet(
    app, make, smtp, run_jobs, magazine
):
    from blog import queue

    _active(make, "patient@example.com")
    post = make.post(section=magazine["health"])
    issue = newsletter_service.send_post(magazine["editor"], post.id)
    run_jobs()
    assert len(smtp.received) == 1
    smtp.clear()

    # A second send whose queued jobs vanish (a worker died holding them).
    second = make.post(section=magazine["health"])
    other = newsletter_service.send_post(magazine["editor"], second.id)
    queue.empty(app)
    queue.run_periodic(app, "newsletter.resume_stalled")
    assert run_jobs() == 0  # not quiet for long yet: nothing handed out
    db.session.execute(
        NewsletterIssue.__table__.update().values(created_at=utcnow() - timedelta(hours=1))
    )
    db.session.commit()
    queue.run_periodic(app, "newsletter.resume_stalled")
    run_jobs()
    db.session.expire_all()
    assert [m.recipients for m in smtp.received] == [["patient@example.com"]]
    assert db.session.get(NewsletterIssue, other.id).status == "sent"
    assert db.session.get(NewsletterIssue, issue.id).sent_count == 1


def test_a_mail_server_that_is_down_delays_the_send_and_no_one_gets_two(
    app, smtp, run_jobs, make, magazine
):
    """The network is cut mid-send: the batch fails, is retried, and everyone gets one mail."""
    for n in range(5):
        _active(make, f"reader{n}@example.com")
    post = make.post(section=magazine["health"], title="Slow mail")
    with socket.socket() as closed:  # a port nothing listens on: connection refused
        closed.bind(("127.0.0.1", 0))
        dead_port = closed.getsockname()[1]
    app.config["MAIL_PORT"] = dead_port
    newsletter_service.send_post(magazine["editor"], post.id)
    huey = queue.huey_of(app)
    while (task := huey.dequeue()) is not None:  # one try each, no retries yet
        huey.execute(task)
    assert smtp.received == []
    batch = db.session.scalars(select(Job).where(Job.name == "newsletter.batch")).one()
    assert batch.status == JobStatus.RETRYING and "Connection refused" in batch.last_error

    app.config["MAIL_PORT"] = smtp.port  # the server is back
    run_jobs()
    run_jobs()
    received = sorted(r for m in smtp.received for r in m.recipients)
    assert received == [f"reader{n}@example.com" for n in range(5)]
    db.session.expire_all()
    assert db.session.get(Job, batch.id).status == JobStatus.DONE


def test_addresses_in_other_scripts_reach_their_readers(
    client, auth, make, smtp, run_jobs, magazine
):
    """A name in Chinese before the @ goes with SMTPUTF8 (the server offers it); a Hindi
    domain is written in the DNS's ASCII form; neither stops the batch."""
    _active(make, "读者@example.com")
    _active(make, "reader@उदाहरण.भारत")
    _active(make, "after@example.com")
    _send(client, auth, make.post(section=magazine["health"], title="स्वास्थ्य और नींद"))
    run_jobs()
    received = sorted(r for m in smtp.received for r in m.recipients)
    assert received == sorted(
        ["after@example.com", "reader@xn--p1b6ci4b4b3a.xn--h2brj9c", "读者@example.com"]
    )
    assert smtp.to("读者@example.com")[0].message["Subject"] == "स्वास्थ्य और नींद"
    assert all(s.status == SubscriberStatus.ACTIVE for s in db.session.scalars(select(Subscriber)))
