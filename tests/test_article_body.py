"""What readers get from a stored body: scrolling tables, embeds' script, the frame policy."""

from __future__ import annotations

import re

import pytest

from blog.headers import EMBED_FRAME_ORIGINS

from .conftest import Auth

TABLE = (
    "<table><caption>Doses by week</caption><thead><tr><th>Week</th><th>Dose</th></tr></thead>"
    "<tbody><tr><td>1</td><td>10 mg</td></tr></tbody></table>"
)
EMBED = (
    '<figure class="embed" data-embed="youtube" data-embed-id="dQw4w9WgXcQ">'
    '<a href="https://www.youtube.com/watch?v=dQw4w9WgXcQ">Watch on YouTube</a>'
    "<figcaption>The ward at night</figcaption></figure>"
)
EMBED_SCRIPT = re.compile(r'<script src="/static/js/embeds\.js\?v=[0-9a-f]+" defer></script>')


@pytest.fixture
def article(make):
    """Publish a post with a given body; return its address and the post."""
    section = make.section("Health", slug="health")

    def publish(body: str, title: str = "A story"):
        post = make.post(section=section, body=body, title=title)
        return f"/health/{post.slug}", post

    return publish


def _frame_sources(response) -> list[str]:
    policy = response.headers["Content-Security-Policy"]
    directives = dict(
        (part.strip().split(" ", 1) + [""])[:2] for part in policy.split(";") if part.strip()
    )
    assert "unsafe-inline" not in policy and "frame-ancestors 'none'" in policy
    return directives["frame-src"].split()


def test_a_table_scrolls_in_a_labelled_region_the_keyboard_can_reach(client, article):
    untitled = TABLE.replace("<caption>Doses by week</caption>", "")
    url, post = article(f"<p>Before.</p>{TABLE}{untitled}")
    page = client.get(url).get_data(as_text=True)

    regions = re.findall(r'<div class="table-scroll"([^>]*)><table>', page)
    assert regions == [
        ' role="region" tabindex="0" aria-label="Table: Doses by week"',
        ' role="region" tabindex="0" aria-label="Table 2"',
    ]
    assert page.count("</table></div>") == 2
    assert "table-scroll" not in post.body  # the stored body stays as written


def test_a_caption_cannot_break_out_of_the_region_label(client, article):
    url, _ = article(
        '<table><caption>"Quoted" &amp; <b>bold</b></caption><tbody><tr><td>1</td></tr></tbody>'
        "</table>"
    )
    page = client.get(url).get_data(as_text=True)
    assert 'aria-label="Table: &quot;Quoted&quot; &amp; bold"' in page


def test_the_embed_script_loads_only_on_pages_with_an_embed(client, article):
    with_embed, _ = article(f"<p>Watch this.</p>{EMBED}", title="With a video")
    without, _ = article("<p>No video. data-embed=&quot;youtube&quot;</p>", title="Without")

    page = client.get(with_embed).get_data(as_text=True)
    assert EMBED_SCRIPT.search(page)
    assert 'data-embed-id="dQw4w9WgXcQ"' in page and "Watch on YouTube</a>" in page
    assert "<iframe" not in page  # the frame comes only from the reader's click
    assert not EMBED_SCRIPT.search(client.get(without).get_data(as_text=True))


def test_frames_are_allowed_from_the_two_players_only(client, article):
    url, _ = article(EMBED)
    for address in ["/", url, "/login", "/api/v1/categories", "/no/such/page"]:
        assert _frame_sources(client.get(address)) == list(EMBED_FRAME_ORIGINS), address
    assert set(EMBED_FRAME_ORIGINS) == {
        "https://www.youtube-nocookie.com",
        "https://player.vimeo.com",
    }


def test_a_cached_article_keeps_the_frame_policy(client, article, cached):
    url, _ = article(EMBED)
    client.get(url)
    hit = client.get(url)
    assert hit.headers.get("X-Cache") == "HIT"
    assert _frame_sources(hit) == list(EMBED_FRAME_ORIGINS)
    assert EMBED_SCRIPT.search(hit.get_data(as_text=True))


def test_the_editor_page_has_the_same_strict_policy(client, make):
    make.section("Health", slug="health")
    make.user("author", username="ana")
    Auth(client).login("ana")
    response = client.get("/editor/posts/new")
    assert response.status_code == 200
    assert _frame_sources(response) == list(EMBED_FRAME_ORIGINS)
    assert "unsafe-inline" not in response.headers["Content-Security-Policy"]
    assert "nonce-" not in response.headers["Content-Security-Policy"]
