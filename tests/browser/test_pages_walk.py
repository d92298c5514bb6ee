"""A page written in Chromium: the post editor with a parent page, autosaved as a page."""

from __future__ import annotations

import re

from playwright.sync_api import expect

from blog.extensions import db
from blog.models import Post, PostStatus

from ..factories import PASSWORD
from .conftest import sign_in, type_into_body

PAGE_EDIT_URL = re.compile(r"/editor/pages/(\d+)/edit$")


def test_a_new_page_is_autosaved_as_a_page_under_its_parent_and_published(page, make):
    editor = make.user("editor", username="eve")
    about = make.page(editor, title="About us", slug="about")
    sign_in(page, "eve", PASSWORD)
    page.goto("/editor/")
    page.get_by_role("link", name="Pages", exact=True).click()
    page.get_by_role("link", name="New page").click()
    expect(page.get_by_label("Section", exact=True)).to_have_count(0)
    page.get_by_label("Title", exact=True).fill("Our team")
    page.get_by_label("Parent page").select_option(label="About us")
    type_into_body(page, "Eleven people in three towns.")

    expect(page.locator("#autosave-status")).to_have_text(
        re.compile(r"^Autosaved at \d\d:\d\d:\d\d$"), timeout=15_000
    )
    expect(page).to_have_url(PAGE_EDIT_URL)
    page_id = int(PAGE_EDIT_URL.search(page.url)[1])
    db.session.expire_all()
    made = db.session.get(Post, page_id)
    assert made.is_page and made.parent_id == about.id and "three towns" in made.body

    page.reload()  # the publishing panel comes with the saved page
    page.get_by_role("button", name="Publish now").click()
    expect(page.get_by_text("Published.")).to_be_visible()
    db.session.expire_all()
    assert db.session.get(Post, page_id).status == PostStatus.PUBLISHED
    page.goto("/our-team")
    expect(page.get_by_role("heading", level=1)).to_have_text("Our team")
    expect(page.get_by_role("navigation", name="Breadcrumb")).to_contain_text("About us")


def test_an_admin_writes_an_about_page_puts_it_in_the_footer_and_a_reader_reaches_it(
    page, browser, live_server, make
):
    make.user("admin", username="ada", display_name="Ada Admin")
    make.section("Health", slug="health")
    sign_in(page, "ada", PASSWORD)
    page.goto("/editor/pages")
    page.get_by_role("link", name="New page").click()
    page.get_by_label("Title", exact=True).fill("About")
    type_into_body(page, "My Circle Story tells stories from every corner.")
    expect(page.locator("#autosave-status")).to_have_text(
        re.compile(r"^Autosaved at \d\d:\d\d:\d\d$"), timeout=15_000
    )
    page.reload()
    page.get_by_role("button", name="Publish now").click()
    expect(page.get_by_text("Published.")).to_be_visible()

    page.goto("/admin/navigation")
    footer_form = page.locator("form[action$='/footer/add']")
    footer_form.get_by_label("Leads to").select_option("Page")
    footer_form.get_by_label("Page", exact=True).select_option("About")
    with page.expect_navigation():
        footer_form.get_by_role("button", name="Add to the footer menu").click()
    expect(page.get_by_role("status")).to_contain_text("About is in the footer menu.")

    reader = browser.new_context(base_url=live_server)
    try:
        visit = reader.new_page()
        visit.goto("/")
        visit.get_by_role("navigation", name="Footer").get_by_role("link", name="About").click()
        expect(visit).to_have_url(re.compile(r"/about$"))
        expect(visit.get_by_role("heading", level=1)).to_have_text("About")
        expect(visit.get_by_text("stories from every corner.")).to_be_visible()
    finally:
        reader.close()
