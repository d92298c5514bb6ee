"""The page cache: fast anonymous pages that are never stale and never someone else's."""

from __future__ import annotations

import gzip
import re

import pytest
from flask import template_rendered

from blog.extensions import db
from blog.models import PostStatus
from blog.services import comments as comment_service
from blog.services import publishing
from blog.services import sections as section_service
from blog.services import settings as settings_service

from .conftest import Auth


@pytest.fixture
def site(make):
    """A small magazine with staff."""
    health = make.section("Health", slug="health")
    author = make.user("author", username="ana")
    return {
        "health": health,
        "author": author,
        "editor": make.user("editor", username="eddie"),
        "admin": make.user("admin", username="ada"),
        "reader": make.user("reader", username="rue"),
        "post": make.post(author=author, section=health, title="First Story"),
    }


def _get(client, url, **headers):
    response = client.get(url, headers=headers)
    return response, response.get_data(as_text=True)


def _warm(client, url):
    first, _ = _get(client, url)
    second, body = _get(client, url)
    assert second.headers.get("X-Cache") == "HIT", (url, first.headers.get("X-Cache"))
    return body


@pytest.mark.parametrize(
    "url",
    [
        "/",
        "/category/health",
        "/health/first-story",
        "/author/ana",
        "/search?q=story",
        "/feed.xml",
        "/category/health/feed.xml",
        "/sitemap.xml",
        "/robots.txt",
        "/api/v1/categories",
    ],
)
def test_a_hit_runs_no_sql_and_renders_no_template(cached, client, site, queries, url):
    client.get(url)
    rendered = []

    def record(sender, template, context, **extra):
        rendered.append(template.name)

    template_rendered.connect(record, cached)
    try:
        with queries() as statements:
            response = client.get(url)
    finally:
        template_rendered.disconnect(record, cached)
    assert response.status_code == 200
    assert response.headers["X-Cache"] == "HIT"
    assert statements == [] and rendered == []


def test_etag_and_304(cached, client, site):
    response, _ = _get(client, "/health/first-story")
    etag = response.headers["ETag"]
    again = client.get("/health/first-story", headers={"If-None-Match": etag})
    assert again.status_code == 304 and again.get_data() == b""


def test_etag_and_304_without_the_cache(app, client, site):
    response, _ = _get(client, "/category/health")
    assert response.headers.get("ETag")
    again = client.get("/category/health", headers={"If-None-Match": response.headers["ETag"]})
    assert again.status_code == 304


def test_gzip_for_clients_that_accept_it(cached, client, site):
    client.get("/")
    response = client.get("/", headers={"Accept-Encoding": "gzip"})
    assert response.headers["Content-Encoding"] == "gzip"
    assert b"My Circle Story" in gzip.decompress(response.get_data())


def test_a_publish_is_seen_at_once(cached, client, site, make):
    _warm(client, "/")
    draft = make.post(
        author=site["author"], section=site["health"], title="Fresh News", status=PostStatus.DRAFT
    )
    publishing.publish_now(site["editor"], draft)
    assert "Fresh News" in _get(client, "/")[1]
    assert "Fresh News" in _get(client, "/category/health")[1]


def test_an_edit_is_seen_at_once(cached, client, site):
    body = _warm(client, "/health/first-story")
    assert "First Story" in body
    post = site["post"]
    post.title = "First Story, Revised"
    db.session.commit()
    assert "First Story, Revised" in _get(client, "/health/first-story")[1]


def test_an_unpublish_is_seen_at_once(cached, client, site):
    _warm(client, "/health/first-story")
    publishing.unpublish(site["editor"], site["post"])
    assert client.get("/health/first-story").status_code == 404
    assert "First Story" not in _get(client, "/")[1]


def test_an_approved_comment_is_seen_at_once(cached, client, site):
    _warm(client, "/health/first-story")
    comment = comment_service.add_comment(site["reader"], site["post"], "A kind word.")
    assert "A kind word." not in _get(client, "/health/first-story")[1]  # held
    comment_service.moderate(site["editor"], comment, "approve")
    assert "A kind word." in _get(client, "/health/first-story")[1]


def test_a_section_change_is_seen_at_once(cached, client, site):
    _warm(client, "/")
    section = site["health"]
    section_service.update_section(
        site["admin"], section, "Wellbeing", "health", section.description
    )
    assert ">Wellbeing<" in _get(client, "/")[1]


def test_a_setting_change_is_seen_at_once(cached, client, site):
    _warm(client, "/")
    values = {
        "site_name": "Circle Weekly",
        "site_slogan": "s",
        "site_tagline": "t",
        "posts_per_page": 10,
        "comments_moderated": True,
        "comment_link_limit": 2,
        "comment_blocklist": "",
    }
    settings_service.update(site["admin"], values)
    assert "Circle Weekly" in _get(client, "/")[1]


def test_a_person_with_a_message_waiting_gets_their_own_page(cached, app, client, site):
    _warm(client, "/")
    editor = app.test_client()
    Auth(editor).login("eddie")  # "Welcome back, …" waits in the session
    response, page = _get(editor, "/")
    assert response.headers.get("X-Cache") != "HIT"
    assert "Writing desk" in page and "eddie" in page.lower()
    assert "private" in response.headers["Cache-Control"]


def test_anonymous_readers_never_get_a_staff_page(cached, app, client, site):
    editor = app.test_client()
    Auth(editor).login("eddie")
    _get(editor, "/")  # the welcome message: the editor's own page, never stored
    _get(editor, "/")  # the shared page, built as a guest's and stored
    response, page = _get(client, "/")
    assert response.headers.get("X-Cache") == "HIT"
    assert "Writing desk" not in page and "Sign out" not in page


def test_flash_messages_are_never_swallowed_by_the_cache(cached, app, client, site):
    _warm(client, "/")
    Auth(client).login("rue")
    Auth(client).logout()
    response, page = _get(client, "/")
    assert "You are signed out." in page


def test_cache_off_means_no_hits(app, client, site):
    _get(client, "/")
    response, _ = _get(client, "/")
    assert response.headers.get("X-Cache") is None


def test_assets_have_hashed_urls_and_a_long_life(client, site):
    page = _get(client, "/")[1]
    href = re.search(r'href="(/static/css/site\.css\?v=[0-9a-f]{12})"', page)[1]
    response = client.get(href)
    assert response.status_code == 200
    assert "max-age=31536000" in response.headers["Cache-Control"]
    response.close()


def test_cached_api_answers_keep_their_caching_headers(cached, client, site):
    first = client.get("/api/v1/posts")
    second = client.get("/api/v1/posts")
    assert second.headers["X-Cache"] == "HIT"
    for response in (first, second):
        assert "max-age=60" in response.headers["Cache-Control"]
        assert "Authorization" in response.headers["Vary"]
