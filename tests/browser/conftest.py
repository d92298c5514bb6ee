"""A live server for the test app and a headless Chromium to drive it.

Chromium is Debian's package at /usr/bin/chromium, driven through the
playwright package's sync API (no browsers are downloaded). The server serves
the session's app, so rows a test makes with the `make` factories are visible
to it; request `make` (or `app`) so the database is emptied before each test.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Locator, Page, sync_playwright
from playwright.sync_api import TimeoutError as PlaywrightTimeout
from werkzeug.serving import make_server

from blog.models import Category
from blog.services import sections as section_service
from blog.services.demo import seed_demo

from ..factories import PASSWORD

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
]
AXE = Path(__file__).resolve().parents[2] / "node_modules" / "axe-core" / "axe.min.js"
TIMEOUT_MS = 10_000
EDITOR_READY_MS = 3_000  # the rich editor marks the desk form ready; after this, a textarea
COVERED_BODY = (
    "<p>The lamps on the harbour wall go out one by one as the boats come in.</p>"
    "<h2>The catch</h2>"
    "<p>By six the market has weighed it, and the first vans are on the coast road.</p>"
)


def body_editor(page: Page) -> Locator:
    """The story's editing surface: the rich editor once its script is ready, else the textarea.

    The desk contract: the editor sets data-editor-ready on form.desk__form and marks its
    surface [data-body-editor]; without it the form's plain `textarea[name=body]` is typed in.
    """
    try:
        page.wait_for_selector("form.desk__form[data-editor-ready=true]", timeout=EDITOR_READY_MS)
    except PlaywrightTimeout:
        return page.locator("textarea[name=body]")
    surface = page.locator("[data-body-editor]")
    return surface if surface.count() else page.locator("textarea[name=body]")


def type_into_body(page: Page, text: str) -> None:
    """Type text at the end of the story, as a writer would."""
    editor = body_editor(page)
    editor.click()
    page.keyboard.press("Control+End")
    page.keyboard.type(text)


@pytest.fixture(scope="session")
def live_server(_app) -> Iterator[str]:
    """Serve the app on a free port of 127.0.0.1; yield its base URL."""
    server = make_server("127.0.0.1", 0, _app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, name="live-server", daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


@pytest.fixture
def covered_site(make, uploads) -> dict[str, str]:
    """The demo magazine with covers on; the home, section and article paths to check."""
    seed_demo()
    editor = make.user("admin", username="picture-editor")
    health = Category.query.filter_by(slug="health").one()
    photo = make.image(editor, alt="Fishing boats in the harbour at dawn", size=(1600, 900))
    section_service.update_section(
        editor,
        health,
        health.name,
        health.slug,
        health.description,
        cover_media_id=photo.id,
        cover_alt="A hospital corridor in the morning light",
    )
    posts = [
        make.post(author=editor, section=health, title=title, body=COVERED_BODY, cover=photo)
        for title in ("The night boats", "A market at six", "The coast road", "Harbour lights")
    ]
    article = posts[-1]
    return {
        "home": "/",
        "section": f"/category/{health.slug}",
        "article": f"/{health.slug}/{article.slug}",
    }


@pytest.fixture(scope="session")
def axe_source() -> str:
    """The axe-core library (installed by `make node`), or a failure saying how to get it."""
    if not AXE.is_file():
        pytest.fail(f"{AXE} is missing: run `make node` (npm ci --ignore-scripts)", pytrace=False)
    return AXE.read_text(encoding="utf-8")


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    """One headless Chromium for the whole run."""
    if not os.access(CHROMIUM, os.X_OK):
        pytest.fail("Chromium is missing: sudo apt-get install -y chromium", pytrace=False)
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(
            executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS
        )
        try:
            yield chromium
        finally:
            chromium.close()


@pytest.fixture
def page(browser: Browser, live_server: str) -> Iterator[Page]:
    """A page in a fresh browser context (no cookies), with relative URLs on the server."""
    context = browser.new_context(base_url=live_server)
    context.set_default_timeout(TIMEOUT_MS)
    try:
        yield context.new_page()
    finally:
        context.close()


def sign_in(page: Page, login: str, password: str = PASSWORD) -> None:
    """Sign in through the real login form, by its labels."""
    page.goto("/login")
    page.get_by_label("Email address or username", exact=True).fill(login)
    page.get_by_label("Password", exact=True).fill(password)
    with page.expect_navigation():
        page.get_by_role("button", name="Sign in").click()


def sign_out(page: Page) -> None:
    """Sign out with the masthead button."""
    with page.expect_navigation():
        page.get_by_role("button", name="Sign out").click()
