"""An admin arranges the menus in Chromium with plain forms; a reader follows them.

The admin puts a section in the footer and a link inside the header's Health item;
a reader reaches the section from the footer and opens Health's disclosure on a
phone and on a desktop screen, where nothing leaves the screen and axe finds nothing.
"""

from __future__ import annotations

import os
import re

import pytest
from playwright.sync_api import expect

from blog.services.demo import seed_demo

from .conftest import sign_in, sign_out
from .test_accessibility import BLOCKING, VIEWPORTS, describe, run_axe

SHOTS = os.environ.get("CIRCLE_SHOTS")  # a folder to keep screenshots in, when set


def _shot(page, name: str) -> None:
    """Keep a screenshot for a person to look at, when asked to."""
    if SHOTS:
        page.screenshot(path=f"{SHOTS}/{name}.png", full_page=True)


def _press(page, button: str) -> None:
    """Press a button on the navigation screen, by its accessible name."""
    with page.expect_navigation():
        page.get_by_role("button", name=button, exact=True).click()


@pytest.mark.parametrize("viewport", list(VIEWPORTS))
def test_an_admin_arranges_the_menus_and_a_reader_follows_them(page, make, axe_source, viewport):
    seed_demo()
    make.user("admin", username="ada", display_name="Ada Admin")
    page.set_viewport_size(VIEWPORTS[viewport])
    sign_in(page, "ada")

    page.goto("/admin/")
    page.get_by_role("navigation", name="Administration").get_by_role(
        "link", name="Navigation"
    ).click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Navigation")

    # The footer: the Storybook section, under a label of its own.
    footer_form = page.locator("form[action$='/footer/add']")
    footer_form.get_by_label("Leads to").select_option("Section")
    footer_form.get_by_label("Section").select_option("Storybook")
    footer_form.get_by_label("Label").fill("Our stories")
    with page.expect_navigation():
        footer_form.get_by_role("button", name="Add to the footer menu").click()
    expect(page.get_by_role("status")).to_contain_text("Our stories is in the footer menu.")

    # The header: a link to another site, put inside Health (the item above it).
    header_form = page.locator("form[action$='/header/add']")
    header_form.get_by_label("Leads to").select_option("Link")
    expect(header_form.get_by_label("Section")).to_be_hidden()  # only the field Link needs
    header_form.get_by_label("Link address").fill("javascript:alert(1)")
    header_form.get_by_label("Label").fill("Trials")
    with page.expect_navigation():
        header_form.get_by_role("button", name="Add to the header menu").click()
    expect(page.locator("#header-address-error")).to_contain_text("starting with https://")
    header_form = page.locator("form[action$='/header/add']")
    header_form.get_by_label("Link address").fill("https://clinicaltrials.example/")
    with page.expect_navigation():
        header_form.get_by_role("button", name="Add to the header menu").click()
    _press(page, "Move Trials in, under the item above")
    expect(page.get_by_role("status")).to_contain_text("Trials is now inside the item above.")
    _shot(page, f"admin-{viewport}")
    violations = [v for v in run_axe(page, axe_source) if v["impact"] in BLOCKING]
    assert not violations, describe(page.url, violations)
    sign_out(page)

    # A reader: the footer leads to Storybook.
    page.goto("/")
    footer = page.get_by_role("navigation", name="Footer")
    footer.get_by_role("link", name="Our stories").click()
    expect(page).to_have_url(re.compile(r"/category/storybook$"))
    expect(page.get_by_role("heading", level=1)).to_have_text("Storybook")

    # Health holds Health itself and Trials, behind a disclosure.
    sections = page.get_by_role("navigation", name="Sections")
    trials = sections.get_by_role("link", name="Trials")
    expect(trials).to_be_hidden()
    sections.locator("summary", has_text="Health").click()
    expect(trials).to_be_visible()
    expect(trials).to_have_attribute("href", "https://clinicaltrials.example/")
    box = trials.bounding_box()
    assert box and box["x"] >= 0 and box["x"] + box["width"] <= VIEWPORTS[viewport]["width"]
    assert page.evaluate("document.documentElement.scrollWidth") <= VIEWPORTS[viewport]["width"]
    _shot(page, f"reader-{viewport}")
    violations = [v for v in run_axe(page, axe_source) if v["impact"] in BLOCKING]
    assert not violations, describe(page.url, violations)

    with page.expect_navigation():
        sections.get_by_role("link", name="Health", exact=True).click()
    expect(page).to_have_url(re.compile(r"/category/health$"))


def test_the_screen_works_without_script(browser, live_server, make):
    seed_demo()
    make.user("admin", username="ada", display_name="Ada Admin")
    context = browser.new_context(base_url=live_server, java_script_enabled=False)
    try:
        page = context.new_page()
        sign_in(page, "ada")
        page.goto("/admin/navigation")
        form = page.locator("form[action$='/footer/add']")
        expect(form.get_by_label("Section")).to_be_visible()  # every field shows
        form.get_by_label("Leads to").select_option("Link")
        form.get_by_label("Link address").fill("/category/news")
        form.get_by_label("Label").fill("The news")
        with page.expect_navigation():
            form.get_by_role("button", name="Add to the footer menu").click()
        page.get_by_role("navigation", name="Footer").get_by_role("link", name="The news").click()
        expect(page).to_have_url(re.compile(r"/category/news$"))
        page.goto("/admin/navigation")
        with page.expect_navigation():
            page.get_by_role("button", name="Remove The news").click()
        expect(page.get_by_role("status")).to_contain_text("The news is out of the footer menu.")
        expect(page.get_by_role("navigation", name="Footer")).to_have_count(0)
    finally:
        context.close()
