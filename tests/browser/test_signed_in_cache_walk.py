"""A signed-in reader in Chromium reads the cached article and comments on it.

The article comes from the page cache (the page every reader shares); the reader's
name, the comment form and her comment waiting for moderation come from her own
request, filled in by static/js/personal.js. Another reader sees none of it, and a
guest's browser never makes that request.
"""

from __future__ import annotations

import pytest
from playwright.sync_api import Browser, Page, expect

from .conftest import TIMEOUT_MS, sign_in
from .test_accessibility import BLOCKING, run_axe

ARTICLE = "/health/first-story"


@pytest.fixture
def story(cached, make):
    """One article and two readers, with the page cache on."""
    author = make.user("author", username="ana", display_name="Ana Author")
    make.post(author=author, section=make.section("Health", slug="health"), title="First Story")
    make.user("reader", username="rue", display_name="Rue Reader")
    make.user("reader", username="sam", display_name="Sam Reader")


def _new_page(browser: Browser, live_server: str) -> Page:
    """A page in another fresh browser (no cookies)."""
    context = browser.new_context(base_url=live_server)
    context.set_default_timeout(TIMEOUT_MS)
    return context.new_page()


def _parts_requests(page: Page) -> list[str]:
    """Record the page's requests for personal parts."""
    asked: list[str] = []
    page.on("request", lambda request: "/me/parts" in request.url and asked.append(request.url))
    return asked


def test_a_signed_in_reader_comments_on_a_cached_article(
    page, browser, live_server, story, axe_source
):
    # A guest reads the article first: it is stored, and the guest asks for nothing more.
    guest = _new_page(browser, live_server)
    guest_asked = _parts_requests(guest)
    guest.goto(ARTICLE)
    assert guest.goto(ARTICLE).headers["x-cache"] == "HIT"
    expect(guest.get_by_role("link", name="Sign in to comment")).to_be_visible()
    guest.wait_for_load_state("networkidle")
    assert guest_asked == []

    # Rue signs in and opens the article: the cached page, with her own parts filled in.
    sign_in(page, "rue")
    asked = _parts_requests(page)
    problems: list[str] = []
    page.on("console", lambda message: message.type == "error" and problems.append(message.text))
    response = page.goto(ARTICLE)
    assert response.headers["x-cache"] == "HIT"
    account = page.get_by_role("navigation", name="Account")
    expect(account.get_by_role("link", name="Rue Reader")).to_be_visible()
    expect(account.get_by_role("button", name="Sign out")).to_be_visible()
    assert len(asked) == 1
    assert page.evaluate("document.activeElement === document.body")  # focus left alone
    assert problems == []  # nothing refused by the Content-Security-Policy

    # She comments; it waits for a moderator and she sees it there.
    page.get_by_label("Your comment", exact=True).fill("Waiting words from Rue")
    with page.expect_navigation():
        page.get_by_role("button", name="Post comment").click()
    expect(page.get_by_role("status")).to_contain_text("waiting for moderation")
    page.goto(ARTICLE)
    pending = page.locator(".comment--pending")
    expect(pending).to_contain_text("Waiting words from Rue")
    expect(pending).to_contain_text("Waiting for moderation")
    filled = [v["id"] for v in run_axe(page, axe_source) if v["impact"] in BLOCKING]
    assert filled == []  # the page with her parts filled in is as accessible as the rest

    # Sam, signed in elsewhere, gets the same shared page and his own parts, not hers.
    sam = _new_page(browser, live_server)
    sign_in(sam, "sam")
    sam.goto(ARTICLE)
    sam.goto(ARTICLE)
    sam_account = sam.get_by_role("navigation", name="Account")
    expect(sam_account.get_by_role("link", name="Sam Reader")).to_be_visible()
    expect(sam.get_by_label("Your comment", exact=True)).to_be_visible()
    expect(sam.get_by_text("Waiting words from Rue")).to_have_count(0)
    expect(sam.get_by_role("link", name="Rue Reader")).to_have_count(0)

    # The guest's page never shows it either.
    guest.goto(ARTICLE)
    expect(guest.get_by_text("Waiting words from Rue")).to_have_count(0)
    expect(guest.get_by_role("link", name="Sign in", exact=True)).to_be_visible()


def test_without_scripts_a_signed_in_reader_comments_from_her_own_page(browser, live_server, story):
    context = browser.new_context(base_url=live_server, java_script_enabled=False)
    context.set_default_timeout(TIMEOUT_MS)
    page = context.new_page()
    try:
        sign_in(page, "rue")
        page.goto(ARTICLE)
        assert page.goto(ARTICLE).headers["x-cache"] == "HIT"  # the shared page, as it is
        with page.expect_navigation():
            page.get_by_role("link", name="Sign in to comment").click()
        expect(page.get_by_role("heading", level=1)).to_have_text("Comments on “First Story”")
        page.get_by_label("Your comment", exact=True).fill("Written without scripts")
        with page.expect_navigation():
            page.get_by_role("button", name="Post comment").click()
        expect(page.get_by_role("status")).to_contain_text("waiting for moderation")
        expect(page.locator(".comment--pending")).to_contain_text("Written without scripts")
    finally:
        context.close()
