"""A reader's walk through the demo magazine in Chromium, by mouse and by keyboard.

home -> Health -> the CAR-T article -> one of its tags -> a search from the
masthead for "leukapheresis", which finds the article with the word marked.
"""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from blog.services.demo import seed_demo

SECTIONS = ["Fashion", "Business", "News", "Storybook", "Health"]
CAR_T_TITLE = "Revolutionizing Cancer Treatment: The Promise of CAR-T Cell Therapy"
CAR_T = "/health/revolutionizing-cancer-treatment-the-promise-of-car-t-cell-therapy"
VIEWPORTS = {"phone": {"width": 390, "height": 844}, "desktop": {"width": 1280, "height": 900}}


@pytest.fixture
def demo(make):
    """The demo magazine, in an emptied database."""
    seed_demo()


@pytest.mark.parametrize("viewport", list(VIEWPORTS))
def test_reader_walks_from_home_to_a_search(page, demo, viewport):
    page.set_viewport_size(VIEWPORTS[viewport])

    # The front page: the magazine's name and its five sections.
    page.goto("/")
    expect(page).to_have_title(re.compile("My Circle Story"))
    masthead = page.get_by_role("banner")
    expect(masthead.get_by_role("link", name="My Circle Story", exact=True)).to_be_visible()
    sections = page.get_by_role("navigation", name="Sections")
    expect(sections.get_by_role("link")).to_have_text(SECTIONS)
    for name in SECTIONS:
        expect(sections.get_by_role("link", name=name, exact=True)).to_be_visible()

    # Health, from the section navigation.
    sections.get_by_role("link", name="Health", exact=True).click()
    expect(page).to_have_url(re.compile(r"/category/health$"))
    expect(page.get_by_role("heading", level=1)).to_have_text("Health")
    expect(sections.get_by_role("link", name="Health", exact=True)).to_have_attribute(
        "aria-current", "page"
    )

    # The CAR-T article, by its title.
    page.get_by_role("main").get_by_role("link", name=CAR_T_TITLE, exact=True).click()
    expect(page).to_have_url(re.compile(re.escape(CAR_T) + "$"))
    expect(page.get_by_role("heading", level=1)).to_have_text(CAR_T_TITLE)
    breadcrumb = page.get_by_role("navigation", name="Breadcrumb")
    expect(breadcrumb.get_by_role("listitem")).to_have_text(["Home", "Health", CAR_T_TITLE])
    expect(breadcrumb.get_by_role("link", name="Home")).to_have_attribute("href", "/")
    expect(breadcrumb.get_by_role("link", name="Health")).to_have_attribute(
        "href", "/category/health"
    )
    byline = page.locator(".article__header .byline")
    expect(byline).to_contain_text("By Eden Editor")
    expect(byline).to_contain_text(re.compile(r"\d+ min read"))
    expect(byline.get_by_role("link", name="Eden Editor")).to_have_attribute(
        "href", "/author/editor"
    )
    tags = page.get_by_role("navigation", name="Tags")
    expect(tags.get_by_role("heading", name="Tags")).to_be_visible()
    for tag in ("cancer", "car-t", "immunotherapy"):
        expect(tags.get_by_role("link", name=tag, exact=True)).to_be_visible()

    # A tag page lists the article.
    tags.get_by_role("link", name="immunotherapy", exact=True).click()
    expect(page).to_have_url(re.compile(r"/tag/immunotherapy$"))
    expect(page.get_by_role("heading", level=1)).to_have_text("immunotherapy")
    expect(
        page.get_by_role("main").get_by_role("link", name=CAR_T_TITLE, exact=True)
    ).to_be_visible()

    # A search from the masthead finds it, the word highlighted.
    search = page.get_by_role("search", name="Site")
    search.get_by_label("Search", exact=True).fill("leukapheresis")
    search.get_by_role("button", name="Search").click()
    expect(page).to_have_url(re.compile(r"/search\?q=leukapheresis$"))
    expect(page.get_by_role("heading", level=1)).to_have_text("Search")
    expect(page.get_by_role("status")).to_contain_text("1 story found for “leukapheresis”")
    results = page.get_by_role("main").locator(".search-results > li")
    expect(results).to_have_count(1)
    expect(results.get_by_role("link", name=CAR_T_TITLE, exact=True)).to_have_attribute(
        "href", CAR_T
    )
    marks = results.locator(".search-result__snippet mark")
    expect(marks).to_have_count(1)
    expect(marks).to_have_text(re.compile(r"^leukapheresis$", re.IGNORECASE))
    expect(marks).to_be_visible()


def _outline(page) -> tuple[str, float]:
    """The focused element's outline style and width in pixels."""
    style, width = page.evaluate(
        """() => {
            const s = getComputedStyle(document.activeElement);
            return [s.outlineStyle, parseFloat(s.outlineWidth)];
        }"""
    )
    return style, width


def test_keyboard_reader_skips_to_the_content(page, demo):
    page.goto("/")

    page.keyboard.press("Tab")
    skip = page.get_by_role("link", name="Skip to content")
    expect(skip).to_be_focused()
    expect(skip).to_be_in_viewport()
    style, width = _outline(page)
    assert style != "none" and width >= 2, "the focused skip link has no visible outline"

    page.keyboard.press("Enter")
    expect(page).to_have_url(re.compile(r"#main$"))
    expect(page.get_by_role("main")).to_be_focused()

    # The next Tab goes on from the content, not back to the masthead.
    page.keyboard.press("Tab")
    assert page.evaluate("document.querySelector('main').contains(document.activeElement)")
    style, width = _outline(page)
    assert style != "none" and width >= 2, "a focused link in the content has no outline"


def test_keyboard_reader_reaches_every_section(page, demo):
    page.goto("/")
    reached = []
    for _ in range(15):
        page.keyboard.press("Tab")
        name = page.evaluate(
            "document.activeElement.closest('nav[aria-label=Sections]') "
            "? document.activeElement.textContent.trim() : null"
        )
        if name:
            reached.append(name)
            style, width = _outline(page)
            assert style != "none" and width >= 2, f"{name} has no visible focus"
    assert reached == SECTIONS
