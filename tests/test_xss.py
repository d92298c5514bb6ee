"""Every XSS payload, in every field a writer controls, renders as harmless text."""

from __future__ import annotations

import re
from html.parser import HTMLParser
from pathlib import Path

import pytest

from blog.models import PostStatus

PAYLOADS = [
    line
    for line in (Path(__file__).parent / "data" / "xss-payloads.txt").read_text().splitlines()
    if line.strip()
]
URL_ATTRIBUTES = {"href", "src", "action", "formaction", "data", "srcset", "poster", "xlink:href"}
_INVISIBLE = re.compile(r"[\x00-\x20]+")


class DangerFinder(HTMLParser):
    """Collect scripts, event handlers and javascript: URLs in a page."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.dangers: list[str] = []

    def handle_starttag(self, tag, attrs):
        attributes = dict(attrs)
        if tag == "script":
            src = attributes.get("src") or ""
            data_block = attributes.get("type") == "application/ld+json"
            if not (data_block or src.startswith("/static/")):
                self.dangers.append(f"<script {attrs}>")
        if tag in {"iframe", "object", "embed", "base"}:
            self.dangers.append(f"<{tag}>")
        refresh = tag == "meta" and (attributes.get("http-equiv") or "").lower() == "refresh"
        if refresh:
            self.dangers.append("<meta http-equiv=refresh>")
        for name, value in attrs:
            if name.startswith("on"):
                self.dangers.append(f"<{tag} {name}=...>")
            cleaned = _INVISIBLE.sub("", (value or "")).lower()
            if name in URL_ATTRIBUTES and cleaned.startswith(("javascript:", "vbscript:", "data:")):
                self.dangers.append(f"<{tag} {name}={value!r}>")
            if name == "style":
                self.dangers.append(f"<{tag} style=...>")


def dangers_in(page: str) -> list[str]:
    """Return what in a page could run a script."""
    finder = DangerFinder()
    finder.feed(page)
    return finder.dangers


def test_the_finder_finds_what_it_should():
    assert dangers_in('<img src=x onerror="alert(1)">')
    assert dangers_in('<a href="\tjavascript:alert(1)">')
    assert dangers_in("<script>alert(1)</script>")
    assert not dangers_in('<script type="application/ld+json">{}</script><a href="/x">x</a>')


@pytest.fixture
def published_payload_post(make):
    """A factory that publishes a post with a payload in every writer field."""
    section = make.section("Health", slug="health")
    author = make.user("author", username="mallory")
    cover = make.image(author)

    def publish(payload: str):
        return make.post(
            author=author,
            section=section,
            title=f"Title {payload}"[:200],
            body=f"<p>Body {payload}</p>{payload}",
            excerpt=f"Excerpt {payload}",
            status=PostStatus.PUBLISHED,
            cover=cover,
            cover_alt=f"Alt {payload}"[:300],
        )

    return publish


@pytest.mark.parametrize("payload", PAYLOADS)
def test_payload_renders_harmlessly_everywhere(client, published_payload_post, payload):
    post = published_payload_post(payload)
    urls = [
        "/",
        "/category/health",
        f"/health/{post.slug}",
        "/search?q=alert",
        "/tag/" + (post.tags[0].slug if post.tags else "none"),
        "/author/mallory",
        "/feed.xml",
    ]
    for url in urls:
        response = client.get(url)
        if response.status_code == 404:
            continue
        page = response.get_data(as_text=True)
        if url.endswith(".xml"):
            assert "<script" not in page.lower(), url
            continue
        assert dangers_in(page) == [], (url, payload)


@pytest.mark.parametrize("payload", PAYLOADS[:20])
def test_payload_through_the_desk_form(app, make, payload):
    from .conftest import Auth, csrf_from

    section = make.section("Health", slug="health")
    eve = make.user("editor", username="eve")
    cover = make.image(eve)
    client = app.test_client()
    Auth(client).login("eve")
    token = csrf_from(client.get("/editor/posts/new").get_data(as_text=True))
    response = client.post(
        "/editor/posts/new",
        data={
            "csrf_token": token,
            "title": f"T {payload}"[:200],
            "body": payload,
            "excerpt": payload[:1000],
            "category": str(section.id),
            "tags": "x",
            "cover_media_id": str(cover.id),
            "cover_alt": payload[:300],
        },
    )
    assert response.status_code == 302, response.get_data(as_text=True)[:500]
    edit_url = response.headers["Location"]
    pages = ("/edit", "/preview", "/revisions")
    for url in (edit_url.replace("/edit", name) for name in pages):
        page = client.get(url).get_data(as_text=True)
        assert dangers_in(page) == [], (url, payload)
