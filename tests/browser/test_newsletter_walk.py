"""The newsletter in Chromium: a reader subscribes from the home page (Health only),
confirms from the mailed link, receives the next Health post an editor sends, and
unsubscribes from the link in that mail; the next send does not reach them."""

from __future__ import annotations

import re

from playwright.sync_api import expect

from blog.extensions import db
from blog.models import Subscriber, SubscriberStatus

from ..factories import PASSWORD
from .conftest import sign_in
from .test_accessibility import BLOCKING, describe, run_axe

READER = "walker@example.com"
CONFIRM = re.compile(r"http://localhost(/subscribe/confirm/\S+)")
UNSUBSCRIBE = re.compile(r"http://localhost(/unsubscribe/\S+)")


def _no_axe_problems(page, axe_source) -> None:
    violations = [v for v in run_axe(page, axe_source) if v["impact"] in BLOCKING]
    assert not violations, describe(page.url, violations)


def _send(browser, live_server, title: str) -> None:
    """Hedda, editor of Health, sends a published post from the newsletter page."""
    context = browser.new_context(base_url=live_server)
    try:
        desk = context.new_page()
        sign_in(desk, "hedda", PASSWORD)
        desk.goto("/admin/newsletter")
        desk.get_by_label("Published post").select_option(label=title)
        desk.get_by_role("button", name="Send to subscribers").click()
        expect(desk.get_by_text(f"“{title}” is on its way to the subscribers.")).to_be_visible()
    finally:
        context.close()


def test_a_reader_subscribes_confirms_receives_and_unsubscribes(
    page, browser, live_server, make, smtp, run_jobs, axe_source
):
    health = make.section("Health", slug="health")
    make.section("Fashion", slug="fashion")
    editor = make.user("editor", username="hedda")
    editor.sections = [health]
    db.session.commit()
    make.post(section=health, title="Walking for the heart")

    page.goto("/")
    box = page.get_by_role("region", name="The newsletter")
    box.get_by_label("Email address").fill(READER)
    box.get_by_label("Health").check()
    box.get_by_role("button", name="Subscribe").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Check your inbox")
    page.goto("/subscribe")
    expect(page.get_by_role("group", name="Only some sections?")).to_be_visible()
    _no_axe_problems(page, axe_source)

    run_jobs()
    [confirmation] = smtp.to(READER)
    page.goto(CONFIRM.search(confirmation.text).group(1))
    expect(page.get_by_role("heading", level=1)).to_have_text("Confirm your subscription")
    expect(page.get_by_text("Press the button")).to_contain_text("newsletter: Health.")
    _no_axe_problems(page, axe_source)
    page.get_by_role("button", name="Confirm my subscription").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("You are subscribed")
    db.session.expire_all()
    subscriber = db.session.query(Subscriber).filter_by(email=READER).one()
    assert subscriber.status == SubscriberStatus.ACTIVE
    assert [s.slug for s in subscriber.sections] == ["health"]

    make.post(section=health, title="Sleep, the best medicine")
    _send(browser, live_server, "Sleep, the best medicine")
    run_jobs()
    news = [m for m in smtp.to(READER) if m.message["Subject"] == "Sleep, the best medicine"]
    assert len(news) == 1
    assert news[0].message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"

    page.goto(UNSUBSCRIBE.search(news[0].text).group(1))
    expect(page.get_by_role("heading", level=1)).to_have_text("Unsubscribe")
    _no_axe_problems(page, axe_source)
    page.get_by_role("button", name="Unsubscribe").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("You are unsubscribed")

    make.post(section=health, title="Salt, less of it")
    _send(browser, live_server, "Salt, less of it")
    run_jobs()
    assert [m.message["Subject"] for m in smtp.to(READER)][1:] == ["Sleep, the best medicine"]
