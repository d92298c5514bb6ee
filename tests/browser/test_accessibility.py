"""axe-core in Chromium: no serious or critical violation on the reader pages.

axe-core is the npm package (`make test` installs it). The pages send a strict
Content-Security-Policy, which forbids the inline <script> that
page.add_script_tag() would insert; page.evaluate() runs the library through
the DevTools protocol instead, so the pages are checked with their real CSP.
Each page is checked in the light and the dark scheme, on a phone and on a
desktop screen, with covers on (the section's, the cards' and an article's).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from blog.services.demo import seed_demo

from ..test_html_valid import FORMATTED_COMMENT

CAR_T = "/health/revolutionizing-cancer-treatment-the-promise-of-car-t-cell-therapy"
# An article with a table, a pull quote, an image figure and a video embed (as its poster).
MAGAZINE_BODY = (Path(__file__).resolve().parents[1] / "data" / "magazine-body.html").read_text()
MAGAZINE = "/night-desk/night-shift"  # with a gallery and a formatted comment
PAGES = ["/", "/category/health", CAR_T, MAGAZINE, "/search?q=leukapheresis"]
PICTURED = {"/", "/category/health", CAR_T}  # the demo seed gives these covers
VIEWPORTS = {"phone": {"width": 390, "height": 844}, "desktop": {"width": 1280, "height": 900}}
BLOCKING = {"serious", "critical"}


def run_axe(page, axe_source: str) -> list[dict]:
    """Run axe-core on the open page and return its violations."""
    if not page.evaluate("typeof window.axe !== 'undefined'"):
        page.evaluate(axe_source)
    return page.evaluate(
        """async () => {
            const result = await axe.run(document, {resultTypes: ['violations']});
            return result.violations.map(v => ({
                id: v.id, impact: v.impact, help: v.help, helpUrl: v.helpUrl,
                nodes: v.nodes.map(n => ({target: n.target.join(' '), summary: n.failureSummary})),
            }));
        }"""
    )


def _assert_lead_picture_shown(page, url: str) -> None:
    """The page's lead picture is a WebP size the browser chose and drew, described."""
    lead = page.locator('img[fetchpriority="high"]')
    assert lead.count() == 1, url
    lead.scroll_into_view_if_needed()
    page.wait_for_function(
        "() => { const i = document.querySelector('img[fetchpriority=high]');"
        " return i.complete && i.naturalWidth > 0; }"
    )
    chosen = lead.evaluate("img => img.currentSrc")
    assert chosen.endswith(".webp"), (url, chosen)
    assert lead.get_attribute("alt"), url


def describe(url: str, violations: list[dict]) -> str:
    """One readable block per violation: rule, impact, help and the elements."""
    lines = []
    for v in violations:
        lines.append(f"{url}: [{v['impact']}] {v['id']}: {v['help']} ({v['helpUrl']})")
        for node in v["nodes"][:8]:
            lines.append(f"    {node['target']}")
            summary = (node["summary"] or "").replace("\n", " ")
            lines.append(f"      {summary[:300]}")
    return "\n".join(lines)


@pytest.mark.parametrize("scheme", ["light", "dark"])
@pytest.mark.parametrize("viewport", list(VIEWPORTS))
def test_reader_pages_have_no_serious_axe_violations(
    page, make, axe_source, covered_site, scheme, viewport
):
    section = make.section("Night desk", slug="night-desk")
    night = make.post(section=section, title="Night shift", slug="night-shift", body=MAGAZINE_BODY)
    make.imported_comment(night, FORMATTED_COMMENT)
    page.set_viewport_size(VIEWPORTS[viewport])
    page.emulate_media(color_scheme=scheme)

    problems = []
    for url in [*PAGES, covered_site["article"]]:
        response = page.goto(url)
        assert response is not None and response.status == 200, url
        assert page.evaluate(f"matchMedia('(prefers-color-scheme: {scheme})').matches"), (
            f"{scheme} scheme not applied"
        )
        if url == MAGAZINE:  # checked as readers find it: the embed's poster in place
            page.locator(".embed__poster").wait_for()
        if url in PICTURED:  # the seed's covers are on the page, and shown
            _assert_lead_picture_shown(page, url)
        violations = [v for v in run_axe(page, axe_source) if v["impact"] in BLOCKING]
        if violations:
            problems.append(describe(url, violations))

    assert not problems, f"axe-core ({scheme} scheme, {viewport}):\n" + "\n".join(problems)


def test_axe_really_runs(page, make, axe_source):
    """The check can fail: a page with an unlabelled field and an image without alt."""
    seed_demo()
    page.goto("/")
    page.evaluate(
        """() => {
            const input = document.createElement('input');
            input.type = 'text';
            document.querySelector('main').append(input, document.createElement('img'));
        }"""
    )
    ids = {v["id"] for v in run_axe(page, axe_source) if v["impact"] in BLOCKING}
    assert {"label", "image-alt"} <= ids
