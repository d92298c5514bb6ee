"""Writing with the rich editor's toolbar in Chromium, and what the editor holds.

A section editor types a heading, inserts an uploaded image (alt text asked
for in a dialog) with a caption and a table through the toolbar, saves and
publishes; readers see all of it on the post's page. The editor holds every
kind of markup the stored body may have (replaced from outside with
`circle:body-set`, as a kept draft would be), refuses videos from other hosts,
and counts words as the server does.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from PIL import Image
from playwright.sync_api import Page, expect

from blog.extensions import db
from blog.models import Post, PostStatus
from blog.sanitize import word_count
from blog.services.desk import reading_minutes
from blog.services.users import assign_sections

from ..factories import PASSWORD
from .conftest import sign_in
from .test_accessibility import BLOCKING, describe, run_axe
from .test_editor_round_trip import _watch_csp, normalise

TITLE = "A night on the children's ward"
HEADING = "What the nurses carry"
ALT = "A nurse checks a drip beside a sleeping child"
CAPTION = "The ward at three in the morning"

# Every kind of markup the stored body may hold (the writing desk contract).
EVERYTHING = (
    "<h2>Heading two</h2><h3>Heading three</h3><h4>Heading four</h4>"
    "<p>Text <strong>strong</strong> <b>b</b> <em>em</em> <i>i</i> <u>u</u> <s>s</s> <del>del</del>"
    " H<sub>2</sub>O E=mc<sup>2</sup> <code>code()</code>"
    ' <a href="https://example.org/" title="T">a link</a><br>after a break'
    " <span>in a span</span></p>"
    '<ol start="3"><li>three</li><li>four<ul><li>nested</li></ul></li></ol>'
    "<blockquote><p>A quote</p></blockquote>"
    '<blockquote class="pullquote"><p>A pull quote</p></blockquote>'
    "<hr><pre><code>def f():\n    return 1</code></pre>"
    '<table><thead><tr><th>Name</th><th colspan="2">Wide</th></tr></thead>'
    '<tbody><tr><td rowspan="2">tall</td><td>b</td><td>c</td></tr>'
    "<tr><td>d</td><td>e</td></tr></tbody></table>"
    '<figure><img src="/uploads/a.jpg" alt="A cat" width="800" height="600">'
    "<figcaption>A <em>cat</em></figcaption></figure>"
    '<figure><img src="/uploads/b.jpg" alt=""></figure>'
    '<p>A bare <img src="/uploads/c.png" alt="c"> image</p>'
    '<figure class="embed" data-embed="youtube" data-embed-id="dQw4w9WgXcQ">'
    '<a href="https://www.youtube.com/watch?v=dQw4w9WgXcQ">Watch on YouTube</a>'
    "<figcaption>A song</figcaption></figure>"
    '<figure class="embed" data-embed="vimeo" data-embed-id="76979871">'
    '<a href="https://vimeo.com/76979871">Watch on Vimeo</a></figure>'
    "<div><p>In a div</p></div>"
)


@pytest.fixture
def desk_editor(make):
    """The Health section and an editor of it, who may write, upload and publish there."""
    health = make.section("Health", slug="health")
    editor = make.user("editor", username="hedda")
    assign_sections(editor, [health])
    return editor


@pytest.fixture
def picture(tmp_path) -> Path:
    path = tmp_path / "ward.png"
    Image.new("RGB", (1200, 800), (30, 90, 140)).save(path, format="PNG")
    return path


def _ready(page: Page):
    expect(page.locator("form.desk__form")).to_have_attribute("data-editor-ready", "true")
    return page.locator("[data-body-editor]")


def _button(page: Page, name: str):
    toolbar = page.get_by_role("toolbar", name="Formatting")
    return toolbar.get_by_role("button", name=name, exact=True)


def test_heading_image_and_table_from_the_toolbar_reach_readers(page, desk_editor, picture):
    csp_problems = _watch_csp(page)
    sign_in(page, "hedda", PASSWORD)
    page.goto("/editor/posts/new")
    page.get_by_label("Title", exact=True).fill(TITLE)
    page.get_by_label("Section", exact=True).select_option(label="Health")
    editor = _ready(page)
    expect(page.locator("textarea[name=body]")).to_be_hidden()
    editor.click()

    heading = _button(page, "Heading H2")
    heading.click()
    expect(heading).to_have_attribute("aria-pressed", "true")
    page.keyboard.type(HEADING)
    page.keyboard.press("Enter")
    expect(heading).to_have_attribute("aria-pressed", "false")
    page.keyboard.type("Every shift starts with the same three checks.")

    # The image: alt text is asked for, and may be empty only when marked decorative.
    _button(page, "Insert image").click()
    dialog = page.get_by_role("dialog", name="Insert an image")
    expect(dialog).to_be_visible()
    dialog.get_by_label("Upload an image").set_input_files(picture)
    dialog.get_by_role("button", name="Insert image").click()
    expect(dialog.get_by_role("alert")).to_contain_text("alt text")
    dialog.get_by_label("Alt text", exact=True).fill(ALT)
    with page.expect_response(re.compile(r"/editor/media/upload\.json$")) as uploaded:
        dialog.get_by_role("button", name="Insert image").click()
    assert uploaded.value.status == 200, uploaded.value.text()
    expect(dialog).to_have_count(0)
    expect(editor.locator(f'figure img[alt="{ALT}"]')).to_have_count(1)
    editor.locator("figure figcaption").click()
    page.keyboard.type(CAPTION)

    # The table: a header row and two rows, filled with Tab from cell to cell.
    page.keyboard.press("Control+End")
    _button(page, "Insert table").click()
    cells = ["Check", "When", "Who", "Drips", "Hourly", "Nurse", "Notes", "Each round", "Nurse"]
    for number, cell in enumerate(cells):
        if number:
            page.keyboard.press("Tab")  # the next cell (Tab in the last one would add a row)
        page.keyboard.type(cell)
    expect(editor.locator("table th")).to_have_count(3)

    with page.expect_navigation():
        page.get_by_role("button", name="Save", exact=True).click()
    expect(page.get_by_text("Draft saved.")).to_be_visible()
    post_id = int(re.search(r"/posts/(\d+)/edit", page.url)[1])
    db.session.expire_all()
    body = db.session.get(Post, post_id).body
    assert f"<h2>{HEADING}</h2>" in body
    assert "<thead><tr><th>Check</th><th>When</th><th>Who</th></tr></thead>" in body
    with page.expect_navigation():
        page.get_by_role("button", name="Publish now").click()
    db.session.expire_all()
    assert db.session.get(Post, post_id).status == PostStatus.PUBLISHED

    page.goto("/category/health")
    page.get_by_role("main").get_by_role("link", name=TITLE, exact=True).click()
    article = page.locator(".article__body")
    expect(article.get_by_role("heading", level=2)).to_have_text(HEADING)
    expect(article.get_by_role("img", name=ALT)).to_have_count(1)
    expect(article.locator("figure figcaption")).to_have_text(CAPTION)
    table = article.get_by_role("table")
    expect(table.get_by_role("columnheader")).to_have_text(["Check", "When", "Who"])
    expect(table.get_by_role("cell", name="Each round")).to_have_count(1)
    assert not csp_problems, "\n".join(csp_problems)


def test_the_editor_holds_every_kind_of_stored_markup(page, desk_editor):
    sign_in(page, "hedda", PASSWORD)
    page.goto("/editor/posts/new")
    _ready(page)
    field = page.locator("textarea[name=body]")
    inputs = field.evaluate(
        """(field, html) => {
            let count = 0;
            field.addEventListener("input", () => { count += 1; });
            field.value = html;
            field.dispatchEvent(new CustomEvent("circle:body-set", {bubbles: true}));
            return count;
        }""",
        EVERYTHING,
    )
    assert inputs == 0  # loading a body from outside is not an edit
    editor = page.locator("[data-body-editor]")
    expect(editor.locator("blockquote.pullquote")).to_have_text("A pull quote")
    expect(editor.locator("figure.desk-figure--embed")).to_have_count(2)
    assert normalise(field.input_value()) == normalise(EVERYTHING)


def test_only_youtube_and_vimeo_can_be_embedded(page, desk_editor):
    sign_in(page, "hedda", PASSWORD)
    page.goto("/editor/posts/new")
    editor = _ready(page)
    editor.click()
    _button(page, "Embed a video").click()
    dialog = page.get_by_role("dialog", name="Embed a video")
    address = dialog.get_by_label("Video address (YouTube or Vimeo)")
    address.fill("https://www.dailymotion.com/video/x8abc12")
    dialog.get_by_role("button", name="Embed video").click()
    expect(dialog.get_by_role("alert")).to_contain_text("Only YouTube and Vimeo")
    address.fill("https://youtu.be/dQw4w9WgXcQ")
    dialog.get_by_role("button", name="Embed video").click()
    expect(dialog).to_have_count(0)
    expect(page.locator("textarea[name=body]")).to_have_value(
        re.compile(
            r'<figure class="embed" data-embed="youtube" data-embed-id="dQw4w9WgXcQ">'
            r'<a href="https://www\.youtube\.com/watch\?v=dQw4w9WgXcQ">'
            r"Watch on YouTube</a></figure>"
        )
    )


def test_word_count_reading_time_and_search_preview_follow_the_writer(page, desk_editor):
    sign_in(page, "hedda", PASSWORD)
    page.goto("/editor/posts/new")
    editor = _ready(page)
    editor.click()
    text = "Night shifts, twelve hours long: हिंदी, 健康 and Москва count too. " * 25
    page.keyboard.type(text)
    # The same count and reading time as the server gives the saved body.
    words, minutes = word_count(f"<p>{text}</p>"), reading_minutes(f"<p>{text}</p>")
    assert minutes == 2
    expect(page.locator("#body-stats")).to_have_text(f"{words} words · {minutes} min read")

    preview = page.get_by_role("region", name="Search result preview")
    page.get_by_label("Title", exact=True).fill("The ward")
    title = preview.locator(".search-preview__title")
    description = preview.locator(".search-preview__description")
    expect(title).to_have_text("The ward")
    page.get_by_label("Search engine title", exact=True).fill("A very long title " * 6)
    expect(title).to_have_text(re.compile(r"^A very long title.{20,}…$"))
    assert len(title.inner_text()) <= 60
    expect(description).to_have_text(re.compile(r"^Night shifts.*…$"))
    page.get_by_label("Search engine description", exact=True).fill("What the night nurses see.")
    expect(description).to_have_text("What the night nurses see.")


def test_the_editor_and_its_image_dialog_pass_axe(page, desk_editor, axe_source):
    source = axe_source
    sign_in(page, "hedda", PASSWORD)
    page.goto("/editor/posts/new")
    _ready(page).click()
    blocking = [v for v in run_axe(page, source) if v["impact"] in BLOCKING]
    assert not blocking, describe(page.url, blocking)

    _button(page, "Insert image").click()
    expect(page.get_by_role("dialog", name="Insert an image")).to_be_visible()
    blocking = [v for v in run_axe(page, source) if v["impact"] in BLOCKING]
    assert not blocking, describe(page.url, blocking)


def test_the_toolbar_is_one_tab_stop_walked_with_the_arrow_keys(page, desk_editor):
    sign_in(page, "hedda", PASSWORD)
    page.goto("/editor/posts/new")
    editor = _ready(page)
    page.get_by_label("Title", exact=True).focus()
    page.keyboard.press("Tab")
    expect(_button(page, "Paragraph")).to_be_focused()
    page.keyboard.press("ArrowRight")
    expect(_button(page, "Heading H2")).to_be_focused()
    page.keyboard.press("Enter")  # a real button: the keyboard presses it, then writing goes on
    expect(editor).to_be_focused()
    page.keyboard.type("Made from the keyboard")
    expect(editor.locator("h2")).to_have_text("Made from the keyboard")
