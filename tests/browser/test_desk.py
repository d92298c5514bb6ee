"""The writing desk in Chromium: the rich editor, uploads, autosave, review and publishing.

An author writes a post with a heading, a link and an uploaded image, waits for
autosave and submits it; the section's editor publishes it; a reader finds it
on the section page with the image served from its srcset. The same page works
as a plain form with scripts off, warns before leaving with unsaved changes,
and shows two editors who saved the same post the conflict page.

Three tests pin bugs this file found: the CSP's img-src on the editor page, the
edit form's section and tags, and a live post's autosave.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from PIL import Image
from playwright.sync_api import Browser, BrowserContext, Locator, Page, expect

from blog.extensions import db
from blog.models import Post, PostStatus
from blog.services.users import assign_sections

from ..factories import PASSWORD
from .conftest import TIMEOUT_MS, sign_in

TITLE = "What the night clinic taught us"
HEADING = "Three lessons from the ward"
LINK_TEXT = "the full report"
LINK_URL = "https://example.org/report"
AUTOSAVED = "Written after the first save and kept by autosave."
AUTOSAVE_WAIT_MS = 15_000  # the script autosaves every five seconds


@pytest.fixture
def newsroom(make):
    """The Health section (listed first), an author, and two editors of Health."""
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
    """Collect console errors (CSP violations among them) and uncaught exceptions.

    The favicon's 404 is left out: the site has none, and that is not the desk's affair.
    """
    problems: list[str] = []

    def on_console(message) -> None:
        if message.type == "error" and not message.location.get("url", "").endswith("/favicon.ico"):
            problems.append(message.text)

    page.on("console", on_console)
    page.on("pageerror", lambda error: problems.append(str(error)))
    return problems


def _sign_out(page: Page) -> None:
    with page.expect_navigation():
        page.get_by_role("button", name="Sign out").click()


def _editor(page: Page) -> Locator:
    """The rich editor's editing surface, once the bundle has put it in place of the textarea."""
    expect(page.locator("form.desk__form")).to_have_attribute("data-editor-ready", "true")
    return page.locator("[data-body-editor]")


def _toolbar(page: Page) -> Locator:
    return page.get_by_role("toolbar", name="Formatting")


def _select_last(editor: Locator, words: str) -> None:
    """Select the last occurrence of words in the editor, as a writer dragging over them."""
    editor.evaluate(
        """(el, words) => {
            const walker = document.createTreeWalker(el, NodeFilter.SHOW_TEXT);
            let found = null;
            while (walker.nextNode()) {
                if (walker.currentNode.nodeValue.includes(words)) found = walker.currentNode;
            }
            if (!found) throw new Error("not in the editor: " + words);
            const start = found.nodeValue.lastIndexOf(words);
            const range = document.createRange();
            range.setStart(found, start);
            range.setEnd(found, start + words.length);
            const selection = window.getSelection();
            selection.removeAllRanges();
            selection.addRange(range);
        }""",
        words,
    )


def _attach(page: Page, photo: Path, alt: str = "Night ward") -> dict:
    """Insert photo with the toolbar's image dialog; return the upload endpoint's JSON."""
    _toolbar(page).get_by_role("button", name="Insert image").click()
    dialog = page.get_by_role("dialog", name="Insert an image")
    dialog.get_by_label("Upload an image").set_input_files(photo)
    dialog.get_by_label("Alt text", exact=True).fill(alt)
    with page.expect_response(re.compile(r"/editor/media/upload\.json$")) as uploaded:
        dialog.get_by_role("button", name="Insert image").click()
    assert uploaded.value.status == 200, uploaded.value.text()
    expect(dialog).to_have_count(0)
    return uploaded.value.json()


def test_author_writes_editor_publishes_reader_finds_it(page, newsroom, photo):
    problems = _watch_console(page)
    sign_in(page, "ada", PASSWORD)

    # --- The author writes in the real editor -------------------------------------
    page.goto("/editor/posts/new")
    page.get_by_label("Title", exact=True).fill(TITLE)
    page.get_by_label("Section", exact=True).select_option(label="Health")
    editor = _editor(page)
    expect(page.locator("textarea#body")).to_be_hidden()  # the rich editor stands in its place
    editor.click()

    toolbar = _toolbar(page)
    toolbar.get_by_role("button", name="Heading H2").click()
    page.keyboard.type(HEADING)
    page.keyboard.press("Enter")  # a heading ends at Return

    page.keyboard.type(f"Nurses kept notes every hour; read {LINK_TEXT}")
    expect(editor).to_contain_text(f"read {LINK_TEXT}")  # the editor has taken every key
    _select_last(editor, LINK_TEXT)
    toolbar.get_by_role("button", name="Link", exact=True).click()
    url_field = page.get_by_role("dialog", name="Add a link").get_by_label("Link address (URL)")
    expect(url_field).to_be_visible()
    url_field.fill(LINK_URL)
    url_field.press("Enter")
    expect(editor.locator(f'a[href="{LINK_URL}"]')).to_have_text(LINK_TEXT)
    page.keyboard.press("Control+End")
    page.keyboard.type(" for the details.")
    page.keyboard.press("Enter")

    # The image goes through the real upload endpoint; the editor then points at it.
    upload = _attach(page, photo)
    assert upload["url"].startswith("/uploads/")
    expect(editor.locator(f'figure img[src="{upload["url"]}"]')).to_have_count(1)
    expect(page.locator("textarea[name=body]")).to_have_value(re.compile(re.escape(upload["url"])))

    with page.expect_navigation():
        page.get_by_role("button", name="Save", exact=True).click()
    expect(page).to_have_url(re.compile(r"/editor/posts/\d+/edit$"))
    # "Saved." when a pause in the writing has made the draft already (keeper.js).
    expect(page.get_by_text(re.compile(r"^(Draft saved|Saved)\.$"))).to_be_visible()
    post_id = int(re.search(r"/posts/(\d+)/edit", page.url)[1])

    # --- Autosave on the edit page --------------------------------------------------
    editor = _editor(page)
    expect(editor.locator("h2")).to_have_text(HEADING)
    expect(editor.locator("figure img")).to_have_count(1)
    expect(editor).not_to_contain_text(photo.name)  # no file name left as a caption
    editor.click()
    page.keyboard.press("Control+End")
    page.keyboard.press("Enter")
    page.keyboard.type(AUTOSAVED)
    status = page.locator("#autosave-status")
    expect(status).to_have_text("Unsaved changes")
    expect(status).to_have_text(
        re.compile(r"^Autosaved at \d\d:\d\d:\d\d$"), timeout=AUTOSAVE_WAIT_MS
    )

    db.session.expire_all()
    saved = db.session.get(Post, post_id)
    assert AUTOSAVED in saved.body
    assert saved.status == PostStatus.DRAFT

    # The preview, as readers will see it, has the autosaved text.
    preview = page.context.new_page()
    preview.goto(f"/editor/posts/{post_id}/preview")
    expect(preview.locator(".article__body")).to_contain_text(AUTOSAVED)
    preview.close()

    # Submitting straight after the autosave, without reloading the page.
    with page.expect_navigation():
        page.get_by_role("button", name="Submit for review").click()
    expect(page.get_by_text("Submitted for review.")).to_be_visible()
    # An author cannot change a post in review: the desk lists it as waiting.
    expect(page).to_have_url(re.compile(r"/editor/$"))
    in_review = page.get_by_role("region", name="Your posts in review")
    expect(in_review.get_by_role("row", name=re.compile(re.escape(TITLE)))).to_contain_text(
        "In review"
    )
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

    expect(body).not_to_contain_text(photo.name)
    image = body.locator("img")
    expect(image).to_have_count(1)
    expect(body.locator("a img")).to_have_count(0)  # no nameless link around it
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

    assert not problems, "\n".join(problems)


def test_uploading_an_image_breaks_no_security_rule(page, newsroom, photo):
    problems = _watch_console(page)
    sign_in(page, "ada", PASSWORD)
    page.goto("/editor/posts/new")
    _editor(page).click()

    upload = _attach(page, photo)

    expect(page.locator(f'[data-body-editor] figure img[src="{upload["url"]}"]')).to_have_count(1)
    assert not problems, "\n".join(problems)


def test_with_scripts_off_the_desk_is_a_plain_form(browser, live_server, newsroom):
    context = _context(browser, live_server, java_script_enabled=False)
    page = context.new_page()
    try:
        sign_in(page, "ada", PASSWORD)
        page.goto("/editor/posts/new")
        expect(page.locator("[data-body-editor]")).to_have_count(0)
        story = page.get_by_label("Story", exact=True)
        expect(story).to_be_visible()

        page.get_by_label("Title", exact=True).fill("Written without scripts")
        page.get_by_label("Section", exact=True).select_option(label="Health")
        story.fill(
            "<h2>By hand</h2>\n"
            '<p>Plain <strong>HTML</strong> with <a href="https://example.org/plain" '
            'onclick="steal()">a link</a>.</p>\n'
            '<script>steal()</script><img src="/nowhere.png" onerror="steal()">'
        )
        page.get_by_role("button", name="Save", exact=True).click()

        expect(page).to_have_url(re.compile(r"/editor/posts/\d+/edit$"))
        expect(page.get_by_text("Draft saved.")).to_be_visible()
        post_id = int(re.search(r"/posts/(\d+)/edit", page.url)[1])
        db.session.expire_all()
        post = db.session.get(Post, post_id)
        assert post.title == "Written without scripts"
        assert post.status == PostStatus.DRAFT
        assert post.body == (
            "<h2>By hand</h2>\n"
            '<p>Plain <strong>HTML</strong> with <a href="https://example.org/plain" '
            'rel="nofollow noopener">a link</a>.</p>\n'
            'steal()<img src="/nowhere.png">'
        )
        # The edit page gives the saved text back in the same plain textarea.
        expect(page.get_by_label("Story", exact=True)).to_have_value(post.body)

        # Publishing steps are plain forms too.
        page.get_by_role("button", name="Submit for review").click()
        expect(page.get_by_text("Submitted for review.")).to_be_visible()
        db.session.expire_all()
        assert db.session.get(Post, post_id).status == PostStatus.PENDING
    finally:
        context.close()


def test_leaving_with_unsaved_changes_asks_first(page, newsroom):
    sign_in(page, "ada", PASSWORD)
    page.goto("/editor/posts/new")
    editor = _editor(page)
    dialogs: list[str] = []

    def on_dialog(dialog) -> None:
        dialogs.append(dialog.type)
        dialog.dismiss()  # "Stay on this page"

    page.on("dialog", on_dialog)
    back_to_desk = page.get_by_role("main").get_by_role("link", name="Writing desk")

    page.get_by_label("Title", exact=True).fill("Not saved yet")
    editor.click()
    page.keyboard.type("Words that exist only in this tab.")
    expect(page.locator("#autosave-status")).to_have_text("Unsaved changes")

    with page.expect_event("dialog"):
        back_to_desk.click(no_wait_after=True)
    assert dialogs == ["beforeunload"]
    expect(page).to_have_url(re.compile(r"/editor/posts/new$"))
    expect(editor).to_contain_text("Words that exist only in this tab.")

    # Saving is leaving on purpose: no question, and the saved page starts clean.
    page.get_by_label("Section", exact=True).select_option(label="Health")
    with page.expect_navigation():
        page.get_by_role("button", name="Save", exact=True).click()
    expect(page).to_have_url(re.compile(r"/editor/posts/\d+/edit$"))
    _editor(page)
    with page.expect_navigation():
        page.get_by_role("main").get_by_role("link", name="Writing desk").click()
    expect(page).to_have_url(re.compile(r"/editor/$"))
    assert dialogs == ["beforeunload"]


def test_two_editors_saving_at_once_see_the_conflict_page(browser, live_server, newsroom, make):
    post = make.post(
        author=newsroom["author"],
        section=newsroom["health"],
        status=PostStatus.DRAFT,
        title="A title both want to change",
    )
    first = _context(browser, live_server)
    second = _context(browser, live_server)
    try:
        hedda, hugo = first.new_page(), second.new_page()
        sign_in(hedda, "hedda", PASSWORD)
        sign_in(hugo, "hugo", PASSWORD)
        edit = f"/editor/posts/{post.id}/edit"
        hedda.goto(edit)
        hugo.goto(edit)
        _editor(hedda)
        _editor(hugo)

        hedda.get_by_label("Title", exact=True).fill("Hedda's title")
        with hedda.expect_navigation():
            hedda.get_by_role("button", name="Save", exact=True).click()
        expect(hedda.get_by_text("Saved.", exact=True)).to_be_visible()

        hugo.get_by_label("Title", exact=True).fill("Hugo's title")
        with hugo.expect_navigation() as navigation:
            hugo.get_by_role("button", name="Save", exact=True).click()
        assert navigation.value.status == 409
        expect(hugo.get_by_role("heading", level=1)).to_have_text("Someone else saved this post")
        theirs = hugo.get_by_role("region", name="Their saved version")
        mine = hugo.get_by_role("region", name="Your unsaved version")
        expect(theirs.get_by_role("heading", level=3)).to_have_text("Hedda's title")
        expect(mine.get_by_role("heading", level=3)).to_have_text("Hugo's title")
        changes = hugo.get_by_role("region", name=re.compile("What differs"))
        expect(changes.locator("del")).to_contain_text(["Hedda's"])
        expect(changes.locator("ins")).to_contain_text(["Hugo's"])

        db.session.expire_all()
        assert db.session.get(Post, post.id).title == "Hedda's title"

        # Nothing of Hugo's is lost: he can still put his version over hers.
        with hugo.expect_navigation():
            hugo.get_by_role("button", name="Save my version over theirs").click()
        expect(hugo.get_by_text("Saved.", exact=True)).to_be_visible()
        expect(hugo.get_by_label("Title", exact=True)).to_have_value("Hugo's title")
        db.session.expire_all()
        assert db.session.get(Post, post.id).title == "Hugo's title"
    finally:
        first.close()
        second.close()


def test_an_autosave_of_a_live_post_does_not_hide_someone_elses_save(
    browser, live_server, newsroom, make
):
    post = make.post(author=newsroom["author"], section=newsroom["health"], title="Already live")
    first = _context(browser, live_server)
    second = _context(browser, live_server)
    try:
        hedda, hugo = first.new_page(), second.new_page()
        sign_in(hedda, "hedda", PASSWORD)
        sign_in(hugo, "hugo", PASSWORD)
        edit = f"/editor/posts/{post.id}/edit"
        hedda.goto(edit)
        hugo.goto(edit)
        _editor(hedda)
        editor = _editor(hugo)

        hedda.get_by_label("Title", exact=True).fill("Hedda's correction")
        with hedda.expect_navigation():
            hedda.get_by_role("button", name="Save", exact=True).click()

        # Hugo writes on; his autosave keeps his words but must not adopt her version.
        editor.click()
        hugo.keyboard.press("Control+End")
        hugo.keyboard.type(" Hugo's extra sentence.")
        expect(hugo.locator("#autosave-status")).to_have_text(
            "Someone else saved this post. Save to compare versions.",
            timeout=AUTOSAVE_WAIT_MS,
        )
        with hugo.expect_navigation() as navigation:
            hugo.get_by_role("button", name="Save", exact=True).click()
        assert navigation.value.status == 409
        expect(hugo.get_by_role("heading", level=1)).to_have_text("Someone else saved this post")
        db.session.expire_all()
        saved = db.session.get(Post, post.id)
        assert saved.title == "Hedda's correction"
        assert "Hugo's extra sentence" not in saved.body
    finally:
        first.close()
        second.close()


def test_saving_an_existing_post_keeps_its_section_and_tags(page, newsroom, make):
    fashion = make.section("Style", slug="style")  # not the first section in the list
    post = make.post(
        author=newsroom["author"],
        section=fashion,
        status=PostStatus.DRAFT,
        title="Coats for a wet winter",
        tags=["coats", "rain"],
    )
    sign_in(page, "ada", PASSWORD)
    page.goto(f"/editor/posts/{post.id}/edit")
    _editor(page)

    expect(page.get_by_label("Section", exact=True)).to_have_value(str(fashion.id))
    expect(page.get_by_label("Tags", exact=True)).to_have_value("coats, rain")
    with page.expect_navigation():
        page.get_by_role("button", name="Save", exact=True).click()
    db.session.expire_all()
    saved = db.session.get(Post, post.id)
    assert saved.category_id == fashion.id
    assert sorted(tag.name for tag in saved.tags) == ["coats", "rain"]
