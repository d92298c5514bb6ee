"""Opening a post in the rich editor and saving it untouched keeps its body.

Every post of the demo seed, and every post and page of WordPress's theme unit
test export brought in by `flask import-wxr`, is opened on the writing desk in
Chromium; once the editor is ready, Save is pressed without touching anything,
and the stored body must equal the body before, compared after normalising
whitespace and attribute order (both parsed by html5lib, as bleach does). The
editor rewrites the body field from its own document when it loads, so a
heading, rule, table, caption, alt text or embed it could not hold would be lost
here. No page may log a Content Security Policy violation.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest
from bleach._vendor import html5lib
from playwright.sync_api import Page, expect
from playwright.sync_api import TimeoutError as PlaywrightTimeout
from sqlalchemy import select

from blog.extensions import db
from blog.models import Post, PostStatus
from blog.services import media as media_service
from blog.services.demo import DEMO_PEOPLE, seed_demo

from ..factories import PASSWORD
from .conftest import sign_in

ROOT = Path(__file__).resolve().parents[2]
WXR_FALLBACK = ROOT.parent / "shared" / "fixtures" / "wordpress-theme-unit-test.wxr.xml"

# Elements around which whitespace is not shown (HTML's block-level elements and <br>).
BREAKS = frozenset({
    "p", "div", "h1", "h2", "h3", "h4", "h5", "h6", "blockquote", "pre", "ul", "ol", "li",
    "hr", "table", "thead", "tbody", "tfoot", "tr", "th", "td", "figure", "figcaption", "br",
})
VOID = frozenset({"br", "hr", "img"})
INLINE = frozenset({"a", "strong", "b", "em", "i", "u", "s", "del", "sub", "sup", "code", "span"})


def _tokens(element, inside_pre: bool, out: list) -> None:
    """Flatten an ElementTree element's children into open/close/text tokens."""
    if element.text:
        out.append(("text", element.text, inside_pre))
    for child in element:
        tag = child.tag
        if isinstance(tag, str):  # comments have a function as their tag
            attrs = " ".join(f'{k}="{v}"' for k, v in sorted(child.attrib.items()))
            out.append(("open", tag, attrs))
            if tag not in VOID:
                _tokens(child, inside_pre or tag == "pre", out)
                out.append(("close", tag, ""))
        if child.tail:
            out.append(("text", child.tail, inside_pre))


def _drop_invisible(tokens: list) -> list:
    """Leave out inline elements that show nothing: empty ones, and one nested in its like."""
    kept: list = []
    for token in tokens:
        empty = kept and kept[-1][:2] == ("open", token[1])
        if token[0] == "close" and token[1] in INLINE and empty:
            kept.pop()  # <span></span>
        else:
            kept.append(token)
    out: list = []
    open_tags: list[tuple[str, bool]] = []
    for token in kept:
        kind, tag = token[0], token[1]
        if kind == "open" and tag not in VOID:
            nested = tag in INLINE and any(t == tag and not dropped for t, dropped in open_tags)
            open_tags.append((tag, nested))
            if nested:
                continue  # <strong>bold <strong>text</strong></strong>
        elif kind == "close" and open_tags and open_tags.pop()[1]:
            continue
        out.append(token)
    return out


def normalise(markup: str) -> list[str]:
    """The body as a list of tags and texts, as a reader would see it.

    Runs of whitespace become one space (except inside <pre>); whitespace at the
    edge of a block or beside <br>, or after a space, is dropped, as browsers (and
    ProseMirror's parser) do. Attributes are sorted by name. Inline elements that
    show nothing (empty, or nested in the same element) are left out.
    """
    fragment = html5lib.parseFragment(
        markup or "", treebuilder="etree", namespaceHTMLElements=False
    )
    tokens: list = []
    _tokens(fragment, False, tokens)
    tokens = _drop_invisible(tokens)
    out: list[str] = []
    after_space = True  # at a block boundary, a leading space is not shown
    last_text = False  # whether out[-1] is text (texts side by side are one text)
    for index, (kind, value, extra) in enumerate(tokens):
        if kind != "text":
            last_text = False
            attrs = f" {extra}" if extra else ""
            out.append(f"<{value}{attrs}>" if kind == "open" else f"</{value}>")
            if value in BREAKS:
                after_space = True
            elif value in VOID:
                after_space = False
            continue
        if extra:  # inside <pre>, as written
            text = value
        else:
            text = re.sub(r"\s+", " ", value)
            if after_space:
                text = text.lstrip(" ")
            if _at_block_end(tokens, index + 1):
                text = text.rstrip(" ")
        if text:
            if last_text:
                out[-1] += text
            else:
                out.append(text)
            last_text = True
            after_space = text.endswith(" ") and not extra
    return out


def _at_block_end(tokens: list, start: int) -> bool:
    """Whether only inline tags stand between tokens[start:] and a block edge."""
    for kind, value, _ in tokens[start:]:
        if kind == "text" and not value.strip():
            continue
        if kind == "text" or value in VOID - BREAKS:
            return False
        if value in BREAKS:
            return True
    return True


def _watch_csp(page: Page) -> list[str]:
    """Collect the page's Content Security Policy violations and uncaught errors."""
    problems: list[str] = []

    def on_console(message) -> None:
        if "Content Security Policy" in message.text or "Content-Security-Policy" in message.text:
            problems.append(f"{page.url}: {message.text}")

    page.on("console", on_console)
    page.on("pageerror", lambda error: problems.append(f"{page.url}: {error}"))
    return problems


def _difference(before: str, after: str) -> str:
    """Where two normalised bodies first part ways, with a little context."""
    a, b = normalise(before), normalise(after)
    pairs = enumerate(zip(a, b, strict=False))
    at = next((i for i, (x, y) in pairs if x != y), min(len(a), len(b)))
    start, end = max(0, at - 3), at + 4
    return f"before: {''.join(a[start:end])!r}\n   after: {''.join(b[start:end])!r}"


def _open_and_save_every_post(page: Page) -> list[str]:
    """Save every post untouched in the editor; return what changed."""
    posts = db.session.scalars(
        select(Post).where(Post.status != PostStatus.TRASH).order_by(Post.id)
    ).all()
    assert len(posts) > 5
    originals = {post.id: (post.title, post.body) for post in posts}
    db.session.rollback()
    # The imported bodies show images from wpthemetestdata.files.wordpress.com: no
    # request leaves this machine (the pages load at once, offline too).
    page.route(re.compile(r"^https?://(?!127\.0\.0\.1[:/])"), lambda route: route.abort())
    damaged: list[str] = []
    for post_id, (title, before) in originals.items():
        page.goto(f"/editor/posts/{post_id}/edit")
        expect(page.locator("form.desk__form")).to_have_attribute("data-editor-ready", "true")
        expect(page.locator("[data-body-editor]")).to_be_visible()
        try:
            with page.expect_navigation() as navigation:
                page.get_by_role("button", name="Save", exact=True).click()
        except PlaywrightTimeout:
            said = page.locator("#autosave-status, .keeper-notice").all_inner_texts()
            damaged.append(f"#{post_id} {title!r}: the save did not go through: {said}")
            continue
        if navigation.value.status != 200 or not re.search(r"/edit$", page.url):
            damaged.append(f"#{post_id} {title!r}: the save answered {navigation.value.status}")
            continue
        db.session.expire_all()
        after = db.session.get(Post, post_id).body
        db.session.rollback()
        if normalise(after) != normalise(before):
            damaged.append(f"#{post_id} {title!r}:\n   {_difference(before, after)}")
    return damaged


def test_demo_posts_survive_a_save_in_the_editor(app, page):
    seed_demo()
    problems = _watch_csp(page)
    login, _, _, password = next(p for p in DEMO_PEOPLE if p[0] == "admin")
    sign_in(page, login, password)

    damaged = _open_and_save_every_post(page)

    assert not damaged, "\n".join(damaged)
    assert not problems, "\n".join(problems)


def _theme_unit_test() -> Path:
    """WordPress's theme unit test export: CIRCLE_WXR_FIXTURE, else ../shared/fixtures/."""
    raw = os.environ.get("CIRCLE_WXR_FIXTURE")
    path = Path(raw) if raw else WXR_FALLBACK
    if not path.is_file():
        if os.environ.get("CI"):
            pytest.fail(f"WordPress's theme unit test export is missing: {path} (see .ci/run)")
        pytest.skip(f"WordPress's theme unit test export is absent: {path}")
    return path


def test_wordpress_theme_unit_test_posts_survive_a_save_in_the_editor(app, make, runner, page):
    fixture = _theme_unit_test()
    make.section("News", slug="news")
    make.user("admin", username="chief")
    imported = runner.invoke(args=["import-wxr", str(fixture)])
    assert imported.exit_code == 0, imported.output
    problems = _watch_csp(page)
    sign_in(page, "chief", PASSWORD)

    damaged = _open_and_save_every_post(page)

    assert not damaged, "\n".join(damaged)
    assert not problems, "\n".join(problems)


def test_a_gallery_opens_in_the_editor_and_saves_back_whole(app, make, page):
    """A gallery (library images with srcset, a plain one, a caption) survives the editor,
    and its own caption, not written yet, can be."""
    harbour, dawn = make.image(), make.image(alt="Boats at dawn")
    gallery = (
        '<figure class="gallery">'
        f'<figure><img src="{media_service.largest_url(harbour)}" alt="{harbour.alt}">'
        "<figcaption>The <em>old</em> harbour</figcaption></figure>"
        f'<figure><img src="{media_service.largest_url(dawn)}" alt="{dawn.alt}"></figure>'
        '<figure><img src="/static/missing.png" alt=""></figure>'
        "</figure>"
    )
    story = make.post(
        author=make.user("editor", username="eddie"),
        body=f"<p>Before.</p>{gallery}<p>After.</p>",
    )
    before = story.body
    assert before.count('<figure class="gallery">') == 1 and before.count("srcset=") == 2
    db.session.rollback()
    problems = _watch_csp(page)
    sign_in(page, "eddie", PASSWORD)

    page.goto(f"/editor/posts/{story.id}/edit")
    expect(page.locator("form.desk__form")).to_have_attribute("data-editor-ready", "true")
    shown = page.locator(".ProseMirror figure.gallery")
    expect(shown).to_have_count(1)
    expect(shown.locator(":scope > figure")).to_have_count(3)  # each picture is a figure
    expect(shown.locator(":scope > figcaption")).to_have_text("")  # there to type in
    with page.expect_navigation():
        page.get_by_role("button", name="Save", exact=True).click()
    db.session.expire_all()
    after = db.session.get(Post, story.id).body
    assert normalise(after) == normalise(before), _difference(before, after)

    # The gallery's caption can be written in like any other text.
    shown.locator(":scope > figcaption").click()
    page.keyboard.type("Three views of the bay")
    with page.expect_navigation():
        page.get_by_role("button", name="Save", exact=True).click()
    db.session.expire_all()
    edited = db.session.get(Post, story.id).body
    assert "<figcaption>Three views of the bay</figcaption></figure><p>After.</p>" in edited
    assert edited.count("<figure><img") == 3
    assert not problems, "\n".join(problems)
