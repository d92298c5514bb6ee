"""A video embed in Chromium: nothing leaves the site until the reader presses play.

Every request the page makes is recorded; requests to any other host are
answered by the test itself (a tiny stand-in player), so no network is needed.
CSP violations are caught both from the console and from the page's
securitypolicyviolation events.
"""

from __future__ import annotations

from pathlib import Path
from urllib.parse import urlsplit

import pytest
from playwright.sync_api import expect

BODY = (Path(__file__).resolve().parents[1] / "data" / "magazine-body.html").read_text()
VIDEO_ID = "dQw4w9WgXcQ"
PLAYER = f"https://www.youtube-nocookie.com/embed/{VIDEO_ID}?autoplay=1"
POSTER_NAME = "Play video: A night on the ward, in four minutes (YouTube)"
WATCH_VIOLATIONS = """
window.__cspViolations = [];
document.addEventListener("securitypolicyviolation", (event) => {
  window.__cspViolations.push(event.violatedDirective + " " + event.blockedURI);
});
"""


@pytest.fixture
def article(make) -> str:
    """A published article with a table, a pull quote, a figure and a YouTube embed."""
    section = make.section("Health", slug="health")
    post = make.post(section=section, title="Night shift", body=BODY)
    return f"/health/{post.slug}"


@pytest.fixture
def watched(page, live_server):
    """The page, with its requests, outside requests and CSP complaints recorded."""
    record = {"requests": [], "outside": [], "console": []}
    app_host = urlsplit(live_server).netloc

    def outside(route):
        record["outside"].append(route.request.url)
        route.fulfill(status=200, content_type="text/html", body="<p>Stand-in player</p>")

    page.route(lambda url: urlsplit(url).netloc != app_host, outside)
    page.on("request", lambda request: record["requests"].append(request.url))
    page.on("console", lambda message: record["console"].append(message.text))
    page.add_init_script(WATCH_VIOLATIONS)
    return page, record, app_host


def _csp_complaints(page, record) -> list[str]:
    logged = [text for text in record["console"] if "Content Security Policy" in text]
    return logged + page.evaluate("window.__cspViolations")


def test_the_player_loads_only_after_the_reader_presses_play(watched, article):
    page, record, app_host = watched
    page.goto(article)
    poster = page.get_by_role("button", name=POSTER_NAME)
    expect(poster).to_be_visible()
    page.wait_for_load_state("networkidle")

    hosts = {urlsplit(url).netloc for url in record["requests"]}
    assert hosts == {app_host}, record["requests"]
    assert record["outside"] == []
    expect(page.locator("iframe")).to_have_count(0)

    poster.focus()
    page.keyboard.press("Enter")

    frame = page.locator("figure.embed iframe")
    expect(frame).to_have_attribute("src", PLAYER)
    expect(frame).to_have_attribute("title", "YouTube video: A night on the ward, in four minutes")
    expect(frame).to_have_attribute("allow", "autoplay; fullscreen; picture-in-picture")
    expect(frame).to_have_attribute("referrerpolicy", "strict-origin-when-cross-origin")
    expect(frame).to_be_focused()
    expect(page.get_by_role("button", name=POSTER_NAME)).to_have_count(0)
    expect(page.frame_locator("figure.embed iframe").get_by_text("Stand-in player")).to_be_visible()

    assert record["outside"] == [PLAYER]
    assert _csp_complaints(page, record) == []


def test_a_frame_from_anywhere_else_is_refused(watched, article):
    """The check above can fail: the policy really refuses other players."""
    page, record, _ = watched
    page.goto(article)
    page.evaluate(
        """() => {
            const frame = document.createElement("iframe");
            frame.src = "https://www.youtube.com/embed/dQw4w9WgXcQ";
            frame.title = "Not allowed";
            document.querySelector("main").append(frame);
        }"""
    )
    page.wait_for_function("window.__cspViolations.length > 0")
    assert any("frame-src" in v for v in page.evaluate("window.__cspViolations"))
    assert record["outside"] == []


def test_without_scripts_the_reader_gets_the_link(browser, live_server, article):
    context = browser.new_context(base_url=live_server, java_script_enabled=False)
    try:
        page = context.new_page()
        page.goto(article)
        figure = page.locator("figure.embed")
        expect(figure.get_by_role("link", name="Watch on YouTube")).to_have_attribute(
            "href", f"https://www.youtube.com/watch?v={VIDEO_ID}"
        )
        expect(figure.get_by_role("button")).to_have_count(0)
        expect(figure.locator("figcaption")).to_have_text("A night on the ward, in four minutes")
    finally:
        context.close()


def test_a_wide_table_scrolls_inside_its_region_on_a_phone(page, article):
    page.set_viewport_size({"width": 390, "height": 844})
    page.goto(article)
    region = page.get_by_role("region", name="Table: Nurses on the night shift, by ward")
    expect(region.get_by_role("table")).to_be_visible()
    widths = region.evaluate("r => [r.scrollWidth, r.clientWidth, document.body.scrollWidth]")
    scroll_width, client_width, page_width = widths
    assert scroll_width > client_width, "the table should be wider than a phone"
    assert page_width <= 390, "the page itself must not scroll sideways"
    region.focus()
    page.keyboard.press("ArrowRight")
    page.wait_for_function(
        "() => document.querySelector('.table-scroll').scrollLeft > 0", timeout=3000
    )


def test_a_vimeo_poster_plays_vimeos_player(watched, make):
    page, record, _ = watched
    section = make.section("Health", slug="health")
    post = make.post(
        section=section,
        title="Vimeo",
        body='<figure class="embed" data-embed="vimeo" data-embed-id="76979871">'
        '<a href="https://vimeo.com/76979871">Watch on Vimeo</a></figure>',
    )
    page.goto(f"/health/{post.slug}")
    page.get_by_role("button", name="Play video: Watch on Vimeo (Vimeo)").click()
    frame = page.locator("figure.embed iframe")
    expect(frame).to_have_attribute("src", "https://player.vimeo.com/video/76979871?autoplay=1")
    expect(frame).to_have_attribute("title", "Vimeo video: Watch on Vimeo")
    expect(page.frame_locator("figure.embed iframe").get_by_text("Stand-in player")).to_be_visible()
    assert record["outside"] == ["https://player.vimeo.com/video/76979871?autoplay=1"]
    assert _csp_complaints(page, record) == []
