"""Targeted purge: a change empties exactly the cached pages that show it.

A magazine (two sections, two tags, two authors, six stories, an About page) has every
reader page in the page cache; then one change is made and each page is asked for once
more: the pages that show the change are built again (MISS) and show it, every other
page is still served from the cache (HIT).
"""

from __future__ import annotations

import pytest

from blog.extensions import db
from blog.services import comments as comment_service
from blog.services import navigation as menus
from blog.services import publishing
from blog.services import settings as settings_service

from .conftest import Auth


@pytest.fixture
def magazine(make):
    """Two sections, two tags, two authors, six stories (oldest first) and an About page."""
    news = make.section("News", slug="news")
    arts = make.section("Arts", slug="arts")
    ana = make.user("author", username="ana")
    ben = make.user("author", username="ben")
    posts = {
        "n1": make.post(author=ana, section=news, title="Harbour Opens", tags=["climate"]),
        "n2": make.post(author=ana, section=news, title="Tide Report", tags=["climate"]),
        "n3": make.post(author=ana, section=news, title="Ferry Times"),
        "a1": make.post(author=ben, section=arts, title="Gallery Night", tags=["music"]),
        "a2": make.post(author=ben, section=arts, title="Quartet Plays", tags=["music"]),
        "a3": make.post(author=ben, section=arts, title="Mural Unveiled"),
    }
    about = make.page(title="About Us", slug="about", body="<p>We write about the harbour.</p>")
    return {
        "news": news,
        "arts": arts,
        "ana": ana,
        "ben": ben,
        "about": about,
        "admin": make.user("admin", username="ada"),
        "editor": make.user("editor", username="eddie"),
        "reader": make.user("reader", username="rue"),
        **posts,
    }


ARTICLES = ("n1", "n2", "n3", "a1", "a2", "a3")
PAGES = {
    "home": "/",
    "news": "/category/news",
    "arts": "/category/arts",
    "climate": "/tag/climate",
    "music": "/tag/music",
    "ana": "/author/ana",
    "ben": "/author/ben",
    "feed": "/feed.xml",
    "news-feed": "/category/news/feed.xml",
    "arts-feed": "/category/arts/feed.xml",
    "sitemap": "/sitemap.xml",
    "about": "/about",
    "api": "/api/v1/posts",
}


def _addresses(mag) -> dict[str, str]:
    """Every reader page of the magazine by a short name."""
    found = dict(PAGES)
    for name in ARTICLES:
        post = mag[name]
        found[name] = f"/{post.category.slug}/{post.slug}"
        found[f"api-{name}"] = f"/api/v1/posts/{post.id}"
    return found


def _warm(client, addresses: dict[str, str]) -> None:
    """Ask for every page twice: the second answer comes from the cache."""
    for url in addresses.values():
        client.get(url)
    for name, url in addresses.items():
        response = client.get(url)
        assert response.headers.get("X-Cache") == "HIT", name


def _rebuilt(client, addresses: dict[str, str]) -> set[str]:
    """The pages that are not served from the cache any more."""
    return {
        name for name, url in addresses.items() if client.get(url).headers.get("X-Cache") != "HIT"
    }


def _approve_comment(app, mag):
    comment = comment_service.add_comment(mag["reader"], mag["n2"], "A kind word.")
    comment_service.moderate(mag["editor"], comment, "approve")


def _sign_in(app, mag):
    Auth(app.test_client()).login("rue")


def _edit_title(app, mag):
    mag["n2"].title = "Tide Report, Revised"
    db.session.commit()


def _move_section(app, mag):
    mag["a3"].category = mag["news"]
    db.session.commit()


def _unpublish(app, mag):
    publishing.unpublish(mag["editor"], mag["n3"])


def _edit_page(app, mag):
    mag["about"].body = "<p>We write about the harbour and the hills.</p>"
    db.session.commit()


def _change_settings(app, mag):
    values = {
        "site_name": "Circle Weekly",
        "site_slogan": "s",
        "site_tagline": "t",
        "posts_per_page": 10,
        "comments_moderated": True,
        "comment_link_limit": 2,
        "comment_blocklist": "",
    }
    settings_service.update(mag["admin"], values)


def _change_navigation(app, mag):
    menus.add_item(mag["admin"], "footer", "page", mag["about"].id)


EVERYTHING = "everything"
NEWS_LISTINGS = {"home", "news", "news-feed", "feed", "sitemap", "api"}

CASES = {
    "approved comment": (_approve_comment, {"n2"}),
    "sign-in": (_sign_in, set()),
    # The article, its neighbours (their links show its title; n1 also lists it as
    # related), its section, tag and author listings, home, the feeds, the sitemap, the API.
    "edited title": (
        _edit_title,
        NEWS_LISTINGS | {"n2", "api-n2", "n1", "n3", "climate", "ana", "arts-feed"},
    ),
    # Both sections (and every article there: neighbours and related stories change).
    "section move": (
        _move_section,
        NEWS_LISTINGS | {"arts", "arts-feed", "ben", "n1", "n2", "n3", "a1", "a2", "a3", "api-a3"},
    ),
    "unpublish": (
        _unpublish,
        NEWS_LISTINGS | {"n1", "n2", "n3", "api-n3", "ana", "arts-feed"},
    ),
    "page edit": (_edit_page, {"about", "sitemap"}),
    "settings change": (_change_settings, EVERYTHING),
    "navigation change": (_change_navigation, EVERYTHING),
}


@pytest.mark.parametrize("case", list(CASES))
def test_a_change_purges_exactly_its_pages(cached, app, client, magazine, case):
    change, expected = CASES[case]
    addresses = _addresses(magazine)
    _warm(client, addresses)
    change(app, magazine)
    if expected == EVERYTHING:
        expected = set(addresses)
    assert _rebuilt(client, addresses) == expected


def test_purged_pages_show_the_change(cached, client, magazine):
    addresses = _addresses(magazine)
    _warm(client, addresses)
    _edit_title(None, magazine)
    for name in ("n2", "n1", "n3", "home", "news", "climate", "ana", "feed", "api"):
        assert "Tide Report, Revised" in client.get(addresses[name]).get_data(as_text=True), name
    _approve_comment(None, magazine)
    assert "A kind word." in client.get(addresses["n2"]).get_data(as_text=True)
    _move_section(None, magazine)
    news = client.get("/category/news").get_data(as_text=True)
    arts = client.get("/category/arts").get_data(as_text=True)
    assert "Mural Unveiled" in news and "Mural Unveiled" not in arts


def test_a_profile_edit_purges_the_pages_with_that_byline(cached, client, magazine):
    addresses = _addresses(magazine)
    _warm(client, addresses)
    magazine["ben"].display_name = "Benedict"
    db.session.commit()
    rebuilt = _rebuilt(client, addresses)
    assert {"ben", "a1", "a2", "a3", "arts", "home", "arts-feed", "feed"} <= rebuilt
    assert not rebuilt & {"n1", "n2", "n3", "news", "ana", "climate", "about"}
    assert "Benedict" in client.get(addresses["a1"]).get_data(as_text=True)


def test_a_last_login_or_a_draft_save_purges_nothing(cached, client, magazine, make):
    addresses = _addresses(magazine)
    _warm(client, addresses)
    draft = make.post(author=magazine["ana"], section=magazine["news"], status="draft")
    draft.title = "Still a draft"
    magazine["ana"].last_login_at = draft.created_at
    db.session.commit()
    assert _rebuilt(client, addresses) == set()


def test_listing_counts_are_cached_and_purged_with_the_section(cached, client, magazine, make):
    assert "Ferry Times" in client.get("/category/news").get_data(as_text=True)
    assert "Ferry Times" in client.get("/category/news?page=1").get_data(as_text=True)
    for n in range(12):
        make.post(author=magazine["ana"], section=magazine["news"], title=f"Extra {n}")
    second = client.get("/category/news?page=2")
    assert second.status_code == 200 and "Harbour Opens" in second.get_data(as_text=True)


def test_a_coauthors_page_is_purged_with_the_story(cached, client, magazine):
    from blog.services import bylines

    story = magazine["a3"]
    bylines.set_people(None, story, None, ["ana"])
    db.session.commit()
    addresses = _addresses(magazine)
    _warm(client, addresses)
    story.title = "Mural Unveiled Again"
    db.session.commit()
    rebuilt = _rebuilt(client, addresses)
    assert {"ana", "ben", "a3", "arts"} <= rebuilt
    assert not rebuilt & {"news", "climate", "n1", "n2", "n3"}
    assert "Mural Unveiled Again" in client.get("/author/ana").get_data(as_text=True)
    # Taken off the byline: her page (and its count) no longer shows the story.
    _warm(client, addresses)
    bylines.set_people(None, story, None, [])
    db.session.commit()
    assert "Mural Unveiled" not in client.get("/author/ana").get_data(as_text=True)


def test_a_page_read_while_a_change_commits_is_never_kept(cached, app):
    from blog.services import surrogate

    with app.test_request_context("/"):
        taken = surrogate.mark()
        assert surrogate.fresh(["post-1", "all"], taken)
        surrogate.purge({"post-1"})  # the write commits while the page is being built
        assert not surrogate.fresh(["post-1", "all"], taken)
        assert surrogate.fresh(["post-2", "all"], taken)
        assert surrogate.fresh(["post-1", "all"], surrogate.mark())
        # A mass change (an import) purges everything at once instead of key by key.
        taken = surrogate.mark()
        surrogate.purge({f"post-{n}" for n in range(surrogate.MAX_TARGETED_KEYS + 1)})
        assert not surrogate.fresh(["page-3", "all"], taken)


def test_a_response_that_sets_a_cookie_is_never_stored(cached, app):
    from flask import request

    from blog import pagecache
    from blog.extensions import cache

    with app.test_request_context("/"):
        assert pagecache.serve_from_cache() is None  # a miss: the page is being built
        key = pagecache.page_key(request)
        response = app.response_class("<p>someone's own</p>")
        response.set_cookie("circle_hint", "theirs")
        answer = pagecache.finish_response(response)
        assert cache.get(key) is None
        assert "xkey" not in answer.headers and answer.headers.get("X-Cache") != "HIT"


def test_a_failed_varnish_purge_is_logged_and_the_change_stands(cached, app, magazine, caplog):
    port = _closed_port()
    app.config["PURGE_URLS"] = (f"http://127.0.0.1:{port}",)
    try:
        _edit_title(app, magazine)
    finally:
        app.config["PURGE_URLS"] = ()
    assert "varnish purge" in caplog.text and "post-" in caplog.text
    db.session.expire_all()
    assert magazine["n2"].title == "Tide Report, Revised"


def _closed_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_a_page_whose_story_changes_while_it_is_built_is_not_kept(cached, app, client, magazine):
    from blog.services import reading

    real = reading.published_post

    def read_then_change(*args):
        found = real(*args)
        if found.title == "Tide Report":  # another request edits the story meanwhile
            with app.app_context():
                db.session.get(reading.Post, found.id).title = "Tide Report, Revised"
                db.session.commit()
        return found

    url = _addresses(magazine)["n2"]
    reading.published_post = read_then_change
    try:
        first = client.get(url)
    finally:
        reading.published_post = real
    assert "xkey" not in first.headers  # Varnish would not keep it either
    again = client.get(url)
    assert again.headers["X-Cache"] == "MISS"
    assert "Tide Report, Revised" in again.get_data(as_text=True)


def test_a_value_purged_during_a_request_is_built_again_at_once(app):
    from blog.services import content_generation, surrogate

    builds: list[int] = []

    def build() -> int:
        builds.append(len(builds) + 1)
        return builds[-1]

    def probe() -> int:
        return content_generation.cached("probe", build, keys=("post-1",))

    with app.test_request_context("/"):
        assert probe() == 1 and probe() == 1  # kept
        surrogate.purge({"post-2"})
        assert probe() == 1  # another key: still kept
        surrogate.purge({"post-1"})  # a change this request commits
        assert probe() == 2
    with app.app_context():
        surrogate.purge({"post-1"})  # another worker's change
    with app.test_request_context("/"):
        app.preprocess_request()  # a request begins with the app's hooks
        assert probe() == 3 and probe() == 3


def test_an_emptied_cache_never_passes_an_old_value_off_as_new(app):
    """Redis emptied or restarted without its data counts purges from 0 again: a worker's
    remembered value must not be taken as fresh when the count comes round again."""
    from blog.extensions import cache
    from blog.services import content_generation, surrogate

    builds: list[int] = []

    def probe() -> int:
        with app.test_request_context("/"):
            app.preprocess_request()
            return content_generation.cached(
                "probe", lambda: builds.append(len(builds) + 1) or builds[-1], keys=("post-1",)
            )

    for _ in range(5):
        with app.app_context():
            surrogate.purge({"post-2"})
    assert probe() == 1
    with app.app_context():
        remembered_under = surrogate.purge_version()
    # With Redis, the count the value was remembered under; on files, any purge will do.
    count = (
        int(remembered_under.split(b":")[0]) if isinstance(remembered_under, bytes) else 1
    )
    cache.clear()  # Redis's counts start again from 0
    with app.app_context():
        for _ in range(count):
            surrogate.purge({"post-1"})  # the count comes round to the remembered one
    assert probe() == 2  # built again: post-1 was purged
