"""The writing desk in Chromium: the real Trix editor, uploads, autosave, review and publishing.

An author writes a post with a heading, a link and an uploaded image, waits for
autosave and submits it; the section's editor publishes it; a reader finds it
on the section page with the image served from its srcset. The same page works
as a plain form with scripts off, warns before leaving with unsaved changes,
and shows two editors who saved the same post the conflict page.
"""

from __future__ import annotations

import re
from io import BytesIO
from pathlib import Path

import pytest
from PIL import Image
from playwright.sync_api import Browser, BrowserContext, Page, expect
from sqlalchemy import select

from blog.extensions import db
from blog.models import Post, PostStatus
from blog.services.users import assign_sections

from ..factories import PASSWORD
from .conftest import TIMEOUT_MS
from .test_login import sign_in

TITLE = "What the night clinic taught us"
HEADING = "Three lessons from the ward"
LINK_TEXT = "the full report"
LINK_URL = "https://example.org/report"
AUTOSAVED = "Written after the first save and kept by autosave."
AUTOSAVE_WAIT_MS = 15_000  # the script autosaves every five seconds


@pytest.fixture
def newsroom(make):
    """The Health section, an author, and an editor who looks after Health."""
    health = make.section("Health", slug="health")
    make.section("Fashion", slug="fashion")
    people = {
        "author": make.user("author", username="ada"),
        "editor": make.user("editor", username="hedda"),
        "second_editor": make.user("editor", username="hugo"),
    }
    assign_sections(people["editor"], [health])
    assign_sections(people["second_editor"], [health])
    return {"health": health, **people}


@pytest.fixture
def photo(tmp_path) -> Path:
    """A real 1800 x 1200 JPEG: wide enough for every responsive width."""
    path = tmp_path / "ward-at-night.jpg"
    image = Image.new("RGB", (1800, 1200))
    for x in range(0, 1800, 60):  # stripes, so the encoder has something to keep
        image.paste((20 + x % 200, 90, 160 - x % 120), (x, 0, x + 30, 1200))
    image.save(path, format="JPEG", quality=90)
    return path


def _context(browser: Browser, live_server: str, **options) -> BrowserContext:
    """A fresh browser context (own cookies) on the live server."""
    context = browser.new_context(base_url=live_server, **options)
    context.set_default_timeout(TIMEOUT_MS)
    return context


def _watch_console(page: Page) -> list[str]:
    """Collect console errors (CSP violations among them) and uncaught exceptions."""
    problems: list[str] = []
    page.on("console", lambda msg: problems.append(msg.text) if msg.type == "error" else None)
    page.on("pageerror", lambda error: problems.append(str(error)))
    return problems


def _sign_out(page: Page) -> None:
    with page.expect_navigation():
        page.get_by_role("button", name="Sign out").click()


def _post_titled(title: str) -> Post:
    db.session.expire_all()
    post = db.session.scalar(select(Post).where(Post.title == title))
    assert post is not None, f"no post titled {title!r}"
    return post


def _trix(page: Page):
    """The Trix editor, once editor.js has put it in place of the textarea."""
    editor = page.locator("trix-editor")
    expect(editor).to_have_attribute("data-ready", "true")
    return editor


def _wait_for_selection(editor, length: int) -> None:
    """Wait until Trix's own selection (it follows the DOM's a moment later) has length."""
    editor.page.wait_for_function(
        "([el, n]) => { const [a, b] = el.editor.getSelectedRange(); return b - a === n; }",
        arg=[editor.element_handle(), length],
    )


def test_author_writes_editor_publishes_reader_finds_it(page, newsroom, photo):
    problems = _watch_console(page)
    sign_in(page, "ada", PASSWORD)

    # --- The author writes in the real editor -------------------------------------
    page.goto("/editor/posts/new")
    page.get_by_label("Title", exact=True).fill(TITLE)
    page.get_by_label("Section", exact=True).select_option(label="Health")
    editor = _trix(page)
    editor.click()

    toolbar = page.locator("trix-toolbar")
    toolbar.get_by_role("button", name="Heading").click()
    page.keyboard.type(HEADING)
    page.keyboard.press("Enter")  # a heading ends at Return

    page.keyboard.type(f"Nurses kept notes every hour; read {LINK_TEXT}")
    expect(editor).to_contain_text(f"read {LINK_TEXT}")  # Trix has taken every key
    for _ in LINK_TEXT:
        page.keyboard.press("Shift+ArrowLeft")
    _wait_for_selection(editor, len(LINK_TEXT))
    toolbar.get_by_role("button", name="Link").click()
    url_field = toolbar.get_by_role("textbox", name="URL")
    expect(url_field).to_be_visible()
    url_field.fill(LINK_URL)
    url_field.press("Enter")
    expect(editor.locator(f'a[href="{LINK_URL}"]')).to_have_text(LINK_TEXT)
    page.keyboard.press("End")
    page.keyboard.type(" for the details.")
    page.keyboard.press("Enter")

    # The image goes through the real upload endpoint; Trix then points at it.
    with page.expect_response(re.compile(r"/editor/media/upload\.json$")) as uploaded:
        with page.expect_file_chooser() as chooser:
            toolbar.get_by_role("button", name="Attach Files").click()
        chooser.value.set_files(photo)
    assert uploaded.value.status == 200, uploaded.value.text()
    upload = uploaded.value.json()
    assert upload["url"].startswith("/uploads/")
    expect(editor.locator(f'figure img[src="{upload["url"]}"]')).to_have_count(1)

    with page.expect_navigation():
        page.get_by_role("button", name="Save", exact=True).click()
    expect(page).to_have_url(re.compile(r"/editor/posts/\d+/edit$"))
    expect(page.get_by_text("Draft saved.")).to_be_visible()
    post_id = int(re.search(r"/posts/(\d+)/edit", page.url)[1])

    # --- Autosave on the edit page --------------------------------------------------
    editor = _trix(page)
    expect(editor.locator("h2")).to_have_text(HEADING)
    editor.click()
    page.keyboard.press("Control+End")
    page.keyboard.press("Enter")
    page.keyboard.type(AUTOSAVED)
    status = page.locator("#autosave-status")
    expect(status).to_have_text("Unsaved changes")
    expect(status).to_have_text(re.compile(r"^Autosaved at \d\d:\d\d:\d\d$"), timeout=AUTOSAVE_WAIT_MS)

    db.session.expire_all()
    saved = db.session.get(Post, post_id)
    assert AUTOSAVED in saved.body
    assert saved.status == PostStatus.DRAFT

    # The preview shows the autosaved text.
    preview = page.context.new_page()
    preview.goto(f"/editor/posts/{post_id}/preview")
    expect(preview.locator(".article__body")).to_contain_text(AUTOSAVED)
    preview.close()

    # Submitting straight after the autosave, without reloading the page.
    with page.expect_navigation():
        page.get_by_role("button", name="Submit for review").click()
    expect(page.get_by_text("Submitted for review.")).to_be_visible()
    expect(page.locator(".desk-header .status")).to_have_text("In review")
    _sign_out(page)

    # --- The Health editor publishes it ---------------------------------------------
    sign_in(page, "hedda", PASSWORD)
    page.goto("/editor/")
    waiting = page.get_by_role("region", name="Waiting for your review")
    waiting.get_by_role("link", name=TITLE).click()
    expect(page).to_have_url(re.compile(rf"/editor/posts/{post_id}/edit$"))
    with page.expect_navigation():
        page.get_by_role("button", name="Publish now").click()
    expect(page.get_by_text("Published.", exact=True)).to_be_visible()
    _sign_out(page)

    # --- A reader finds it on the section page --------------------------------------
    page.goto("/category/health")
    page.get_by_role("main").get_by_role("link", name=TITLE, exact=True).click()
    expect(page.get_by_role("heading", level=1)).to_have_text(TITLE)
    body = page.locator(".article__body")
    expect(body.get_by_role("heading", level=2)).to_have_text(HEADING)
    link = body.get_by_role("link", name=LINK_TEXT)
    expect(link).to_have_attribute("href", LINK_URL)
    rel = (link.get_attribute("rel") or "").split()
    assert "noopener" in rel and "nofollow" in rel, rel
    expect(body).to_contain_text(AUTOSAVED)

    image = body.locator("img")
    expect(image).to_have_count(1)
    srcset = image.get_attribute("srcset") or ""
    candidates = [part.strip().split() for part in srcset.split(",") if part.strip()]
    widths = [int(descriptor[:-1]) for _, descriptor in candidates]
    assert len(widths) >= 3 and widths == sorted(widths), srcset
    assert all(url.endswith(".webp") for url, _ in candidates), srcset
    image.scroll_into_view_if_needed()
    expect(image).to_have_js_property("complete", True)
    assert image.evaluate("img => img.naturalWidth") > 0, "the image did not load"
    for url, _ in candidates:
        answer = page.request.get(url)
        assert answer.status == 200, url
        assert answer.headers["content-type"] == "image/webp", url
    assert page.request.get(image.get_attribute("src")).status == 200

    assert not problems, problems
