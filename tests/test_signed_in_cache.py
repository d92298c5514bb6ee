"""Signed-in readers get the shared cached pages; their own parts come from one request."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from blog.extensions import cache, db
from blog.models import UserSession, utcnow
from blog.signin import SIGNED_IN_MARKER

from .conftest import Auth, csrf_from
from .factories import PASSWORD

PERSONAL = ("Sign out", "csrf_token", "Writing desk", "Eddie", "Rue", "Leave a comment")


@pytest.fixture
def site(make):
    """A section with one article, a reader and an editor."""
    health = make.section("Health", slug="health")
    author = make.user("author", username="ana", display_name="Ana Author")
    return {
        "post": make.post(author=author, section=health, title="First Story"),
        "reader": make.user("reader", username="rue"),
        "editor": make.user("editor", username="eddie"),
    }


def _signed_in(app, username: str):
    """A browser that signed in and has already read its welcome message."""
    browser = app.test_client()
    Auth(browser).login(username)
    browser.get("/account")  # shows (and so ends) the "Welcome back" message
    return browser


def _parts(browser, post=None):
    """Ask for the person's own parts of a page (of an article when post is given)."""
    return browser.get("/me/parts" + (f"?post={post.id}" if post else ""))


def _assert_nothing_personal(body: str) -> None:
    for word in PERSONAL:
        assert word not in body, word


@pytest.mark.parametrize("url", ["/", "/category/health", "/health/first-story"])
def test_a_signed_in_reader_gets_the_page_readers_share(cached, app, client, site, url):
    client.get(url)
    anonymous = client.get(url)
    assert anonymous.headers["X-Cache"] == "HIT"
    rue = _signed_in(app, "rue")
    response = rue.get(url)
    assert response.headers["X-Cache"] == "HIT"
    assert response.get_data() == anonymous.get_data()
    assert "Set-Cookie" not in response.headers
    assert "private" not in response.headers["Cache-Control"]


@pytest.mark.parametrize("url", ["/", "/category/health", "/health/first-story"])
def test_a_miss_by_staff_stores_the_guest_page(cached, app, client, site, url):
    eddie = _signed_in(app, "eddie")
    response = eddie.get(url)
    assert response.headers["X-Cache"] == "MISS"
    _assert_nothing_personal(response.get_data(as_text=True))
    assert "Set-Cookie" not in response.headers
    entry = cache.get(f"page:localhost{url}")
    assert entry is not None
    assert all(name != "Set-Cookie" for name, _ in entry["headers"])
    _assert_nothing_personal(entry["body"].decode())
    anonymous = client.get(url)
    assert anonymous.headers["X-Cache"] == "HIT"
    assert anonymous.get_data() == response.get_data()


def test_the_article_offers_the_personal_parts_script(cached, client, site):
    page = client.get("/health/first-story").get_data(as_text=True)
    assert f'data-parts-url="/me/parts?post={site["post"].id}"' in page
    assert f'data-marker="{SIGNED_IN_MARKER}"' in page
    assert 'data-personal-part="account"' in page and 'data-personal-part="comments"' in page


def test_the_parts_are_each_persons_own(cached, app, site):
    post = site["post"]
    rue, eddie = _signed_in(app, "rue"), _signed_in(app, "eddie")
    mine, theirs = _parts(rue, post), _parts(eddie, post)
    for response in (mine, theirs, _parts(rue, post)):
        assert response.status_code == 200
        assert response.headers["Cache-Control"] == "private, no-store"
        assert "X-Cache" not in response.headers and "xkey" not in response.headers
    rue_parts, eddie_parts = mine.get_json()["parts"], theirs.get_json()["parts"]
    assert ">Rue<" in rue_parts["account"] and "Sign out" in rue_parts["account"]
    assert csrf_from(rue_parts["account"]) and "Writing desk" not in rue_parts["account"]
    assert "Leave a comment" in rue_parts["comments"] and csrf_from(rue_parts["comments"])
    assert "hidden" in rue_parts["edit"] and "/editor/" not in rue_parts["edit"]
    assert ">Eddie<" in eddie_parts["account"] and "Writing desk" in eddie_parts["account"]
    assert f'href="/editor/posts/{post.id}/edit"' in eddie_parts["edit"]
    assert "Rue" not in str(eddie_parts)


def test_a_guest_gets_no_parts(cached, client, site):
    response = _parts(client, site["post"])
    assert response.status_code == 401
    assert response.get_json() == {"signed_in": False, "parts": {}}
    assert response.headers["Cache-Control"] == "private, no-store"
    assert _parts(client, site["post"]).status_code == 401  # never cached


def test_own_pending_comments_show_only_in_their_own_parts(cached, app, client, site):
    post = site["post"]
    client.get("/health/first-story")
    rue = _signed_in(app, "rue")
    token = csrf_from(_parts(rue, post).get_json()["parts"]["comments"])
    sent = rue.post(
        "/health/first-story/comments", data={"body": "Waiting words", "csrf_token": token}
    )
    assert sent.status_code == 302
    # The article she is sent back to shows her message, so it is hers alone.
    back = rue.get("/health/first-story")
    assert "waiting for moderation" in back.get_data(as_text=True)
    assert back.headers.get("X-Cache") is None and "private" in back.headers["Cache-Control"]
    # From then on she shares the page again, and her pending comment is in her parts only.
    shared = rue.get("/health/first-story")
    assert shared.headers["X-Cache"] in ("HIT", "MISS")
    assert "Waiting words" not in shared.get_data(as_text=True)
    assert client.get("/health/first-story").headers["X-Cache"] == "HIT"
    assert "Waiting words" in _parts(rue, post).get_json()["parts"]["comments"]
    other = _signed_in(app, "eddie")
    assert "Waiting words" not in _parts(other, post).get_json()["parts"]["comments"]
    assert "Waiting words" not in client.get("/health/first-story").get_data(as_text=True)


def test_sign_in_sets_the_marker_and_sign_out_ends_the_session(cached, app, site):
    browser = app.test_client()
    signed_in = Auth(browser).login("rue")
    marker = next(c for c in signed_in.headers.getlist("Set-Cookie") if SIGNED_IN_MARKER in c)
    assert "HttpOnly" not in marker and "Expires" not in marker  # a browser-session cookie
    assert browser.get_cookie(SIGNED_IN_MARKER).value == "1"
    assert _parts(browser).status_code == 200
    Auth(browser).logout()
    assert browser.get_cookie(SIGNED_IN_MARKER) is None
    assert _parts(browser).status_code == 401
    row = db.session.scalar(select(UserSession))
    db.session.refresh(row)
    assert row.revoked_at is not None


def test_after_a_browser_restart_remember_me_brings_the_parts_back(cached, app, site):
    browser = app.test_client()
    token = csrf_from(browser.get("/login").get_data(as_text=True))
    data = {"login": "rue", "password": PASSWORD, "remember": "y", "csrf_token": token}
    signed_in = browser.post("/login", data=data)
    marker = next(c for c in signed_in.headers.getlist("Set-Cookie") if SIGNED_IN_MARKER in c)
    assert "Expires=" in marker  # it lasts as long as remember-me, not the browser session
    browser.delete_cookie(app.config["SESSION_COOKIE_NAME"])  # the browser restarts
    response = _parts(browser)
    assert response.status_code == 200 and ">Rue<" in response.get_json()["parts"]["account"]
    assert browser.get_cookie(app.config["SESSION_COOKIE_NAME"]) is not None


def test_a_session_without_the_marker_gets_it_back_on_its_own_pages(cached, app, site):
    browser = _signed_in(app, "rue")
    browser.delete_cookie(SIGNED_IN_MARKER)
    browser.get("/")  # the shared page looks at nobody
    assert browser.get_cookie(SIGNED_IN_MARKER) is None
    # "Sign in" on the shared page takes a signed-in reader to their account...
    assert browser.get("/login").headers["Location"].endswith("/account")
    browser.get("/account")  # ...whose page puts the marker back
    assert browser.get_cookie(SIGNED_IN_MARKER).value == "1"


def test_an_idle_session_ends_and_the_parts_say_so(cached, app, site):
    browser = _signed_in(app, "rue")
    row = db.session.scalar(select(UserSession))
    row.last_seen_at = utcnow() - timedelta(days=30)
    db.session.commit()
    response = _parts(browser)
    assert response.status_code == 401
    assert "without activity" in response.get_json()["parts"]["notices"]
    assert browser.get_cookie(SIGNED_IN_MARKER) is None


def test_the_parts_keep_the_session_alive(cached, app, site):
    browser = _signed_in(app, "rue")
    row = db.session.scalar(select(UserSession))
    row.last_seen_at = utcnow() - timedelta(minutes=5)
    db.session.commit()
    assert browser.get("/health/first-story").status_code == 200
    db.session.refresh(row)
    assert utcnow() - row.last_seen_at >= timedelta(minutes=5)  # the shared page reads nothing
    _parts(browser)
    db.session.refresh(row)
    assert utcnow() - row.last_seen_at < timedelta(minutes=1)


def test_a_waiting_message_still_shows(cached, app, client, site):
    client.get("/")
    rue = _signed_in(app, "rue")
    rue.get("/")
    token = csrf_from(rue.get("/account").get_data(as_text=True))
    rue.post("/logout", data={"csrf_token": token})
    page = rue.get("/")
    assert "You are signed out." in page.get_data(as_text=True)
    assert page.headers.get("X-Cache") is None
    assert client.get("/").headers["X-Cache"] == "HIT"
    assert "You are signed out." not in client.get("/").get_data(as_text=True)


def test_without_scripts_a_signed_in_reader_comments_from_their_own_page(cached, app, client, site):
    article = client.get("/health/first-story").get_data(as_text=True)
    assert 'href="/health/first-story/comments">Sign in to comment' in article
    guest = client.get("/health/first-story/comments")
    assert guest.status_code == 302 and "/login?next=" in guest.headers["Location"]
    rue = _signed_in(app, "rue")
    for _ in range(2):
        page = rue.get("/health/first-story/comments")
        assert page.status_code == 200 and "X-Cache" not in page.headers
        assert page.headers["Cache-Control"] == "private, no-store"
    html = page.get_data(as_text=True)
    assert "Leave a comment" in html and ">Rue<" in html
    sent = rue.post(
        "/health/first-story/comments", data={"body": "From my page", "csrf_token": csrf_from(html)}
    )
    assert sent.status_code == 302


def test_an_api_token_still_gets_its_own_answer(cached, app, client, site):
    rue = _signed_in(app, "rue")
    client.get("/api/v1/posts")
    assert rue.get("/api/v1/posts").headers["X-Cache"] == "HIT"
    with_token = rue.get("/api/v1/posts", headers={"Authorization": "Bearer circle_nope"})
    assert with_token.status_code == 401 and "X-Cache" not in with_token.headers


def test_signing_in_again_leads_a_signed_in_reader_to_their_account(app, site):
    rue = _signed_in(app, "rue")
    response = rue.get("/login")
    assert response.status_code == 302 and response.headers["Location"].endswith("/account")
