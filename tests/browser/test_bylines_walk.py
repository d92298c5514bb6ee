"""Bylines in Chromium: an editor writes for an author with a co-author, and both pages list it.

Also: the author gives herself a picture on the account page, and readers see it beside
her name on her page and on the article.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from PIL import Image
from playwright.sync_api import expect

from blog.services.users import assign_sections

from ..factories import PASSWORD
from .conftest import sign_in, type_into_body

TITLE = "Night nurses, in their own words"


@pytest.fixture
def newsroom(make):
    """Health, its editor, and two authors."""
    health = make.section("Health", slug="health")
    people = {
        "editor": make.user("editor", username="hedda", display_name="Hedda Hart"),
        "ana": make.user("author", username="ana", display_name="Ana Alves"),
        "ben": make.user("author", username="ben", display_name="Ben Brook"),
    }
    assign_sections(people["editor"], [health])
    return {"health": health, **people}


@pytest.fixture
def portrait(tmp_path) -> Path:
    """A 600 x 400 JPEG."""
    path = tmp_path / "portrait.jpg"
    Image.new("RGB", (600, 400), (180, 60, 60)).save(path, format="JPEG")
    return path


def _sign_out(page) -> None:
    page.context.clear_cookies()


def test_an_editor_writes_for_an_author_with_a_co_author(page, newsroom, uploads, portrait):
    # --- The author sets a picture ----------------------------------------------------
    sign_in(page, "ana", PASSWORD)
    page.goto("/account")
    page.get_by_label("Picture", exact=True).set_input_files(portrait)
    with page.expect_navigation():
        page.get_by_role("button", name="Upload picture").click()
    expect(page.get_by_text("Your picture is saved.")).to_be_visible()
    _sign_out(page)

    # --- The editor writes the story for Ana, with Ben ----------------------------------
    sign_in(page, "hedda", PASSWORD)
    page.goto("/editor/posts/new")
    page.get_by_label("Title", exact=True).fill(TITLE)
    page.get_by_label("Section", exact=True).select_option(label="Health")
    page.get_by_label("Author", exact=True).select_option(label="Ana Alves (@ana)")
    page.get_by_label("Co-authors", exact=True).fill("ben")
    type_into_body(page, "At two the ward is quiet.")
    with page.expect_navigation(url=re.compile(r"/editor/posts/\d+/edit$")):
        page.get_by_role("button", name="Save", exact=True).click()
    expect(page.get_by_label("Author", exact=True)).to_have_value(str(newsroom["ana"].id))
    expect(page.get_by_label("Co-authors", exact=True)).to_have_value("ben")
    with page.expect_navigation():
        page.get_by_role("button", name="Publish now").click()
    expect(page.get_by_text("Published.", exact=True)).to_be_visible()
    _sign_out(page)

    # --- Readers: the byline, and both author pages list the story ----------------------
    for username in ("ana", "ben"):
        page.goto(f"/author/{username}")
        expect(page.get_by_role("main").get_by_role("link", name=TITLE)).to_be_visible()
    page.goto("/author/ana")
    expect(page.locator(".author-box--page img.avatar")).to_have_attribute(
        "src", re.compile(r"^/uploads/.+\.webp$")
    )
    page.get_by_role("main").get_by_role("link", name=TITLE).click()
    byline = page.locator(".article__header .byline")
    expect(byline).to_contain_text("By Ana Alves and Ben Brook")
    expect(page.locator(".author-box img.avatar")).to_have_count(1)  # Ana's; Ben has initials
