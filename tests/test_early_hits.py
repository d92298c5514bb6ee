"""Early hits: a cached page answered before Flask, exactly as Flask's hooks would answer it.

The page cache's WSGI middleware (pagecache.EarlyHits) answers most hits without a
request context or a single hook; these tests hold it to what a hit must still be: the
same status, body and headers as the miss that stored it (security headers included),
gzip and 304 when asked, a 400 for an unknown Host, and never a page purged by another
worker or another process.
"""

from __future__ import annotations

import gzip
import subprocess
import sys
from pathlib import Path

import pytest
from flask import request_started
from sqlalchemy import update

from blog import create_app
from blog.extensions import db
from blog.headers import CONTENT_SECURITY_POLICY, SECURITY_HEADERS
from blog.models import Post
from blog.services import surrogate

ARTICLE = "/health/first-story"
PAGES = ("/", "/category/health", ARTICLE, "/author/ana", "/feed.xml")
# A search's first answer also carries its rate limit's headers, which no hit ever has.
SEARCH = "/search?q=story"
# Headers that differ between any two responses, or say how this one was served.
PER_RESPONSE = {"Date", "X-Cache"}


@pytest.fixture
def site(make):
    """A section, its author and one published story."""
    health = make.section("Health", slug="health")
    author = make.user("author", username="ana")
    post = make.post(author=author, section=health, title="First Story")
    return {"health": health, "author": author, "post": post}


@pytest.fixture
def through_flask(cached):
    """The requests Flask's own request machinery handled (an early hit never gets there)."""
    seen: list[str] = []

    def note(sender, **extra):
        from flask import request

        seen.append(request.path)

    request_started.connect(note, cached)
    yield seen
    request_started.disconnect(note, cached)


def _comparable(response) -> list[tuple[str, str]]:
    """The headers a reader gets, in order, without those that differ per response."""
    return [(n, v) for n, v in response.headers.items() if n not in PER_RESPONSE]


@pytest.mark.parametrize("url", PAGES)
@pytest.mark.parametrize("encoding", [None, "gzip"])
def test_an_early_hit_is_the_miss_again(cached, client, site, through_flask, url, encoding):
    asked = {"Accept-Encoding": encoding} if encoding else {}
    miss = client.get(url, headers=asked)
    through_flask.clear()
    hit = client.get(url, headers=asked)
    assert (miss.headers["X-Cache"], hit.headers["X-Cache"]) == ("MISS", "HIT")
    assert through_flask == []  # answered before Flask
    assert hit.status_code == miss.status_code == 200
    assert hit.get_data() == miss.get_data()
    assert _comparable(hit) == _comparable(miss)
    assert hit.headers["Content-Security-Policy"] == CONTENT_SECURITY_POLICY
    for name, value in SECURITY_HEADERS.items():
        assert hit.headers[name] == value
    assert hit.headers.get("Content-Encoding") == encoding
    assert "Accept-Encoding" in hit.headers["Vary"]
    if encoding:
        assert b"First Story" in gzip.decompress(hit.get_data())


@pytest.mark.parametrize("url", [*PAGES, SEARCH, "/feed/"])
def test_an_early_hit_is_the_hit_flask_gives(cached, client, site, through_flask, url):
    client.get(url)
    through_flask.clear()
    early = client.get(url)
    assert through_flask == []
    # An encoding the cache does not keep goes through Flask (and Flask-Compress).
    hooked = client.get(url, headers={"Accept-Encoding": "identity"})
    assert through_flask == [url.split("?")[0]]
    assert early.headers["X-Cache"] == hooked.headers["X-Cache"] == "HIT"
    assert early.status_code == hooked.status_code
    assert early.get_data() == hooked.get_data()
    assert _comparable(early) == _comparable(hooked)


def test_an_early_hit_answers_304_to_a_reader_who_has_the_page(cached, client, site, through_flask):
    miss = client.get(ARTICLE)
    through_flask.clear()
    again = client.get(ARTICLE, headers={"If-None-Match": miss.headers["ETag"]})
    assert again.status_code == 304 and again.get_data() == b""
    assert again.headers["ETag"] == miss.headers["ETag"]
    assert again.headers["Content-Security-Policy"] == CONTENT_SECURITY_POLICY
    assert through_flask == []
    other = client.get(ARTICLE, headers={"If-None-Match": '"someone-elses"'})
    assert other.status_code == 200 and b"First Story" in other.get_data()


def test_an_early_head_is_the_get_without_a_body(cached, client, site):
    client.get(ARTICLE)
    page = client.get(ARTICLE)
    head = client.head(ARTICLE)
    assert head.status_code == 200 and head.get_data() == b""
    assert _comparable(head) == _comparable(page)


def test_an_unknown_host_is_refused_even_for_a_cached_page(cached, client, site):
    client.get("/")
    assert client.get("/").headers["X-Cache"] == "HIT"
    refused = client.get("/", headers={"Host": "evil.example"})
    assert refused.status_code == 400
    assert refused.headers["Content-Security-Policy"] == CONTENT_SECURITY_POLICY


def test_xkey_goes_out_only_to_a_purge_front(cached, app, client, site):
    miss, hit = client.get(ARTICLE), client.get(ARTICLE)
    assert "xkey" not in miss.headers and "xkey" not in hit.headers
    app.config["PURGE_URLS"] = ("http://127.0.0.1:9",)
    try:
        fronted = client.get(ARTICLE)
        assert fronted.headers["X-Cache"] == "HIT"
        assert f"post-{site['post'].id}" in fronted.headers["xkey"].split()
    finally:
        app.config["PURGE_URLS"] = ()


def test_a_reader_with_a_session_but_no_sign_in_gets_the_early_hit(
    cached, client, site, through_flask
):
    client.get("/login")  # a form: the session now holds a CSRF secret
    assert client.get_cookie("session") is not None
    client.get(ARTICLE)
    through_flask.clear()
    assert client.get(ARTICLE).headers["X-Cache"] == "HIT"
    assert through_flask == []


def _retitle_quietly(post_id: int, title: str) -> None:
    """Change a title in the database without the purge a real edit makes."""
    db.session.execute(update(Post).where(Post.id == post_id).values(title=title))
    db.session.commit()
    db.session.expire_all()


def _same_site_elsewhere(app):
    """Another app instance on the same database, cache prefix and key versions."""
    return create_app(
        {
            "CIRCLE_ENV": "testing",
            "SQLALCHEMY_DATABASE_URI": app.config["SQLALCHEMY_DATABASE_URI"],
            "CACHE_GENERATION_DIR": app.config["CACHE_GENERATION_DIR"],
            "CACHE_KEY_PREFIX": app.config["CACHE_KEY_PREFIX"],
            "SERVER_NAME_FOR_LINKS": "http://localhost",
        }
    )


def test_a_purge_by_another_app_instance_is_never_missed(cached, app, client, site):
    for _ in range(3):  # stored, then hit twice: this worker remembers it was fresh
        client.get(ARTICLE)
    _retitle_quietly(site["post"].id, "Second Title")
    assert "First Story" in client.get(ARTICLE).get_data(as_text=True)  # nobody purged yet
    other = _same_site_elsewhere(app)
    with other.app_context():
        surrogate.purge({surrogate.post(site["post"])})
    again = client.get(ARTICLE)
    assert again.headers["X-Cache"] == "MISS"
    assert "Second Title" in again.get_data(as_text=True)


PURGE_IN_ANOTHER_PROCESS = """
import sys
from blog import create_app
from blog.services import surrogate
app = create_app({"CIRCLE_ENV": "testing", "SQLALCHEMY_DATABASE_URI": "sqlite://",
                  "CACHE_GENERATION_DIR": sys.argv[1], "CACHE_KEY_PREFIX": sys.argv[2],
                  "SERVER_NAME_FOR_LINKS": "http://localhost"})
with app.app_context():
    surrogate.purge({sys.argv[3]})
"""


def test_a_purge_by_another_process_is_never_missed(cached, app, client, site):
    for _ in range(3):
        client.get(ARTICLE)
    _retitle_quietly(site["post"].id, "Third Title")
    subprocess.run(
        [
            sys.executable,
            "-c",
            PURGE_IN_ANOTHER_PROCESS,
            app.config["CACHE_GENERATION_DIR"],
            app.config["CACHE_KEY_PREFIX"],
            surrogate.post(site["post"]),
        ],
        cwd=Path(__file__).resolve().parent.parent,
        check=True,
        timeout=60,
    )
    again = client.get(ARTICLE)
    assert again.headers["X-Cache"] == "MISS"
    assert "Third Title" in again.get_data(as_text=True)


def test_the_purge_version_moves_with_every_purge(app):
    first = surrogate.purge_version()
    surrogate.purge({"post-1"})
    second = surrogate.purge_version()
    surrogate.purge({"post-1"})
    assert len({first, second, surrogate.purge_version()}) == 3


def test_a_failing_early_hit_leaves_the_answer_to_flask(cached, client, site, monkeypatch):
    from blog import pagecache

    client.get(ARTICLE)

    def broken(req):
        raise ConnectionError("the cache is down")

    monkeypatch.setattr(pagecache, "early_hit", broken)
    answer = client.get(ARTICLE)
    assert answer.status_code == 200 and answer.headers["X-Cache"] == "HIT"
    assert b"First Story" in answer.get_data()
