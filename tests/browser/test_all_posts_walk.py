"""All posts in Chromium: an editor finds an old article by search and filters, edits it
from the article's own Edit link, and moves three posts to another section at once (the
old addresses answer 301). The list stays readable on a 390 px wide phone."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from playwright.sync_api import expect

from blog.models import PostStatus, utcnow
from blog.services.users import assign_sections

from ..factories import PASSWORD
from .conftest import sign_in
from .test_accessibility import BLOCKING, describe, run_axe

OLD_TITLE = "The Tailor on Market Street"


@pytest.fixture
def magazine(make):
    """Health and Culture, their editor, an old article under sixty newer ones."""
    health = make.section("Health", slug="health")
    culture = make.section("Culture", slug="culture")
    make.section("Fashion", slug="fashion")
    author = make.user("author", username="ada")
    editor = make.user("editor", username="hedda")
    assign_sections(editor, [health, culture])
    old = make.post(
        author=author, section=health, title=OLD_TITLE,
        body="<p>Needles, thread and sixty years of suits.</p>",
        published_at=utcnow() - timedelta(days=900),
    )
    make.post(author=author, section=health, title="The tailor's apprentice",
              status=PostStatus.DRAFT)
    for n in range(60):
        make.post(author=author, section=health, title=f"Newer story {n}")
    movers = [
        make.post(author=author, section=health, title=f"Clinic notes {n}") for n in range(3)
    ]
    return {"old": old, "movers": movers, "culture": culture}


def test_editor_finds_an_old_article_and_edits_it_from_its_page(page, magazine):
    sign_in(page, "hedda", PASSWORD)
    page.goto("/editor/")
    page.get_by_role("link", name="All posts").click()
    expect(page.get_by_role("heading", name="All posts")).to_be_visible()
    expect(page.get_by_role("link", name=OLD_TITLE)).to_have_count(0)  # not on page one

    page.get_by_label("Search titles and text").fill("tailor")
    page.get_by_label("Section", exact=True).select_option(label="Health")
    page.get_by_role("button", name="Show").click()
    page.get_by_role("navigation", name="Posts by status").get_by_role(
        "link", name=re.compile(r"^Published")
    ).click()
    rows = page.locator("table tbody tr")
    expect(rows).to_have_count(1)
    expect(rows.first).to_contain_text(OLD_TITLE)
    expect(page.get_by_role("link", name=re.compile(r"^Drafts \(1\)"))).to_be_visible()

    rows.first.get_by_role("link", name=re.compile("^View")).click()
    expect(page.get_by_role("heading", level=1, name=OLD_TITLE)).to_be_visible()
    page.get_by_role("link", name=re.compile("^Edit")).click()
    expect(page).to_have_url(re.compile(rf"/editor/posts/{magazine['old'].id}/edit$"))
    page.get_by_label("Title", exact=True).fill(OLD_TITLE + ", since 1952")
    page.get_by_role("button", name="Save", exact=True).click()
    expect(page.get_by_text("Saved.")).to_be_visible()


def _no_serious_axe_violations(page, axe_source: str) -> None:
    found = [v for v in run_axe(page, axe_source) if v["impact"] in BLOCKING]
    assert not found, describe(page.url, found)


def test_editor_moves_three_posts_and_old_addresses_answer_301(page, magazine, axe_source):
    movers = magazine["movers"]
    old_paths = [f"/health/{post.slug}" for post in movers]
    sign_in(page, "hedda", PASSWORD)
    page.set_viewport_size({"width": 390, "height": 844})
    page.goto("/editor/posts?q=clinic+notes")
    # At phone width each row is a labelled card: nothing runs off the side.
    expect(page.locator("table tbody tr")).to_have_count(3)
    widths = page.evaluate(
        "[document.documentElement.scrollWidth,"
        " ...[...document.querySelectorAll('table')].map(t => t.scrollWidth)]"
    )
    assert max(widths) <= 390, widths
    label = page.evaluate(
        "getComputedStyle(document.querySelector('td[data-label=Section]'), '::before').content"
    )
    assert label == '"Section"'
    _no_serious_axe_violations(page, axe_source)

    for post in movers:
        page.get_by_label(f"Choose “{post.title}”").check()
    page.get_by_label("Action").select_option(label="Move to another section")
    page.get_by_label("New section (to move)").select_option(label="Culture")
    page.get_by_role("button", name="Apply…").click()
    expect(page.get_by_role("heading", name="Move to Culture: 3 posts?")).to_be_visible()
    _no_serious_axe_violations(page, axe_source)
    page.get_by_role("button", name="Yes, go ahead").click()
    expect(page.get_by_text("Done for 3 posts.")).to_be_visible()

    page.goto("/editor/")  # the desk's own tables stack the same way
    widths = page.evaluate("[...document.querySelectorAll('table')].map(t => t.scrollWidth)")
    assert widths and max(widths) <= 390, widths

    for path, post in zip(old_paths, movers, strict=True):
        response = page.request.get(path, max_redirects=0)
        assert response.status == 301, path
        assert response.headers["location"].endswith(f"/culture/{post.slug}")
