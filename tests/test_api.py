"""The content API for readers: published posts only, filters, pages, fields, ETags."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest

from blog.extensions import db
from blog.models import PostStatus, utcnow
from blog.services import publishing
from blog.services import tokens as token_service

ISO_WITH_ZONE = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d[+-]\d\d:\d\d$")


@pytest.fixture
def magazine(make):
    """Two sections, two authors, and a post in every state."""
    health = make.section("Health", slug="health")
    news = make.section("News", slug="news")
    arun = make.user("author", username="arun")
    bea = make.user("author", username="bea")
    posts = {
        "sleep": make.post(
            arun, health, title="Sleep well", tags=["Sleep", "Habits"],
            body="<p>Sleep is the cheapest medicine there is.</p>",
        ),
        "walk": make.post(arun, health, title="Walk more", tags=["Habits"]),
        "bus": make.post(bea, news, title="Night bus trial", tags=["Transport"]),
        "draft": make.post(arun, health, PostStatus.DRAFT, title="Half a draft"),
        "pending": make.post(bea, news, PostStatus.PENDING, title="In review"),
        "future": make.post(
            bea, news, PostStatus.SCHEDULED, title="Tomorrow's news",
            published_at=utcnow() + timedelta(days=1),
        ),
        "due": make.post(
            bea, news, PostStatus.SCHEDULED, title="Due already",
            published_at=utcnow() - timedelta(minutes=5),
        ),
        "trash": make.post(arun, health, PostStatus.TRASH, title="Thrown away"),
    }
    return {"health": health, "news": news, "arun": arun, "bea": bea, **posts}


def _data(response):
    """The data of a successful JSON answer."""
    assert response.status_code == 200, response.get_data(as_text=True)
    return response.get_json()["data"]


def _titles(client, url: str) -> set[str]:
    """The titles a listing answers with."""
    return {post["title"] for post in _data(client.get(url))}


def _bearer(user) -> dict:
    """An Authorization header with a fresh token of user."""
    _token, secret = token_service.create_token(user, "tests")
    return {"Authorization": f"Bearer {secret}"}


def test_readers_see_live_posts_only(client, magazine):
    """Anonymous listings hold published and due posts, nothing else."""
    assert _titles(client, "/api/v1/posts") == {
        "Sleep well", "Walk more", "Night bus trial", "Due already"
    }


@pytest.mark.parametrize("name", ["draft", "pending", "future", "trash"])
def test_unpublished_posts_are_404_by_id_and_by_address(client, magazine, name):
    """Drafts, posts in review, future and trashed posts do not exist for readers."""
    post = magazine[name]
    response = client.get(f"/api/v1/posts/{post.id}")
    assert response.status_code == 404
    assert response.get_json()["error"] == {"status": 404, "message": "No such post."}
    section = post.category.slug
    assert client.get(f"/api/v1/sections/{section}/posts/{post.slug}").status_code == 404


def test_one_post_by_id_and_by_address(client, magazine):
    """One post, by id or by section and slug, with everything a reader needs."""
    sleep = magazine["sleep"]
    by_id = _data(client.get(f"/api/v1/posts/{sleep.id}"))
    by_address = _data(client.get(f"/api/v1/sections/health/posts/{sleep.slug}"))
    assert by_id == by_address
    assert by_id["title"] == "Sleep well"
    assert by_id["section"] == {"id": magazine["health"].id, "slug": "health", "name": "Health"}
    assert by_id["author"]["username"] == "arun"
    assert by_id["author"]["url"] == "http://localhost/author/arun"
    assert by_id["url"] == f"http://localhost/health/{sleep.slug}"
    assert [tag["slug"] for tag in by_id["tags"]] == ["habits", "sleep"]
    assert "<p>" in by_id["body"] and by_id["version"] == sleep.version
    assert "status" not in by_id  # readers are not told about workflow
    assert ISO_WITH_ZONE.match(by_id["published_at"]) and ISO_WITH_ZONE.match(by_id["updated_at"])
    assert client.get(f"/api/v1/sections/news/posts/{sleep.slug}").status_code == 404


def test_every_answer_has_the_same_shape(client, magazine):
    """Every read answers {data, meta, links} with an absolute self link."""
    for url in ["/api/v1/posts", "/api/v1/sections", "/api/v1/tags", "/api/v1/authors",
                "/api/v1/search?q=sleep", f"/api/v1/posts/{magazine['sleep'].id}"]:
        body = client.get(url).get_json()
        assert set(body) == {"data", "meta", "links"}, url
        assert body["links"]["self"].startswith("http://localhost/api/v1/"), url


@pytest.mark.parametrize(
    "query,titles",
    [
        ("section=health", {"Sleep well", "Walk more"}),
        ("section=news", {"Night bus trial", "Due already"}),
        ("tag=habits", {"Sleep well", "Walk more"}),
        ("tag=habits&section=news", set()),
        ("author=bea", {"Night bus trial", "Due already"}),
        ("author=BEA&tag=transport", {"Night bus trial"}),
        ("section=nowhere", set()),
    ],
)
def test_filters(client, magazine, query, titles):
    """Section, tag and author filters combine; unknown values match nothing."""
    assert _titles(client, f"/api/v1/posts?{query}") == titles


def test_pages_with_next_links(client, make):
    """Following next links walks every post once, newest first."""
    section = make.section("News", slug="news")
    author = make.user("author")
    for n in range(5):
        make.post(author, section, title=f"Paged {n}")
    seen, url, pages = [], "/api/v1/posts?per_page=2&section=news", 0
    while url:
        body = client.get(url).get_json()
        assert body["meta"]["total"] == 5 and body["meta"]["pages"] == 3
        seen += [post["title"] for post in body["data"]]
        url = body["links"]["next"]
        if url:
            assert url.startswith("http://localhost/api/v1/posts?")
            assert "section=news" in url and "per_page=2" in url
        pages += 1
    assert pages == 3
    assert seen == [f"Paged {n}" for n in range(4, -1, -1)]  # newest first, each once
    last = client.get("/api/v1/posts?per_page=2&page=3").get_json()
    assert last["links"]["prev"].endswith("page=2&per_page=2")
    past = client.get("/api/v1/posts?per_page=2&page=9").get_json()
    assert past["data"] == [] and past["links"]["next"] is None


@pytest.mark.parametrize(
    "query",
    [
        "page=0", "page=-1", "page=abc", "page=1.5", "page=", "page=99999999999999",
        "per_page=0", "per_page=101", "per_page=x", "page=1&page=2",
        "fields=title,nonsense", "status=lost", "section=",
    ],
)
def test_bad_parameters_are_a_json_400(client, magazine, query):
    """Bad paging, fields or filters are a 400 naming the parameter, never a 500."""
    response = client.get(f"/api/v1/posts?{query}")
    assert response.status_code == 400
    error = response.get_json()["error"]
    assert error["status"] == 400 and error["message"] and error["fields"]


def test_fields_trim_each_post(client, magazine):
    """fields= picks what each post shows; lists show the body only when asked."""
    posts = _data(client.get("/api/v1/posts?fields=title,slug"))
    assert posts and all(set(post) == {"id", "title", "slug"} for post in posts)
    full = _data(client.get("/api/v1/posts"))
    assert "body" not in full[0] and "excerpt" in full[0]
    with_body = _data(client.get("/api/v1/posts?fields=title,body"))
    assert all("<p>" in post["body"] for post in with_body)
    one = _data(client.get(f"/api/v1/posts/{magazine['sleep'].id}?fields=version"))
    assert set(one) == {"id", "version"}


def test_etag_and_304(client, make, magazine):
    """Reads carry an ETag, answer 304 when unchanged, and a new one after a change."""
    first = client.get("/api/v1/posts")
    etag = first.headers["ETag"]
    assert etag and first.headers["Cache-Control"] == "public, max-age=60"
    assert "Authorization" in first.headers["Vary"]
    again = client.get("/api/v1/posts", headers={"If-None-Match": etag})
    assert again.status_code == 304 and again.get_data() == b""
    make.post(magazine["arun"], magazine["health"], title="Something new")
    changed = client.get("/api/v1/posts", headers={"If-None-Match": etag})
    assert changed.status_code == 200 and changed.headers["ETag"] != etag
    one = client.get(f"/api/v1/posts/{magazine['sleep'].id}")
    assert client.get(
        f"/api/v1/posts/{magazine['sleep'].id}", headers={"If-None-Match": one.headers["ETag"]}
    ).status_code == 304


def test_answers_to_a_token_are_private(client, magazine):
    """Answers to a token are not cacheable and show statuses."""
    response = client.get("/api/v1/posts", headers=_bearer(magazine["arun"]))
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "private, no-store"
    assert "status" in response.get_json()["data"][0]


def test_sections_and_the_older_categories_address(client, magazine):
    """Sections list in navigation order, also under /categories."""
    sections = _data(client.get("/api/v1/sections"))
    assert [s["slug"] for s in sections] == ["health", "news"]
    assert sections[0]["url"] == "http://localhost/category/health"
    assert _data(client.get("/api/v1/categories")) == sections


def test_tags_and_authors_count_live_posts(client, magazine):
    """Tags and authors count published posts only."""
    tags = {tag["slug"]: tag["post_count"] for tag in _data(client.get("/api/v1/tags"))}
    assert tags == {"habits": 2, "sleep": 1, "transport": 1}
    authors = {a["username"]: a["post_count"] for a in _data(client.get("/api/v1/authors"))}
    assert authors == {"arun": 2, "bea": 2}


def test_search(client, magazine):
    """Search finds published posts only, with highlighted snippets and section counts."""
    body = client.get("/api/v1/search?q=sleep").get_json()
    assert [hit["title"] for hit in body["data"]] == ["Sleep well"]
    assert "<mark>Sleep</mark>" in body["data"][0]["snippet"]  # SQLite and PostgreSQL alike
    assert body["meta"]["total"] == 1
    assert body["meta"]["sections"] == [{"slug": "health", "name": "Health", "count": 1}]
    assert _data(client.get("/api/v1/search?q=draft")) == []  # drafts are never found
    assert _data(client.get("/api/v1/search?q=sleep&section=news")) == []
    assert _data(client.get("/api/v1/search?q=sleep&section=nowhere")) == []
    assert client.get("/api/v1/search").status_code == 400
    assert client.get("/api/v1/search?q=").status_code == 400


def test_staff_list_by_status_within_what_they_may_see(client, make, magazine):
    """status= shows authors their own posts, editors their sections, admins all."""
    assert client.get("/api/v1/posts?status=draft").status_code == 401
    arun = _bearer(magazine["arun"])
    drafts = client.get("/api/v1/posts?status=draft,pending", headers=arun)
    assert {p["title"] for p in _data(drafts)} == {"Half a draft"}  # not bea's pending post
    assert client.get("/api/v1/posts?status=trash", headers=arun).get_json()["data"] == []
    news_editor = make.user("editor", username="nadia")
    from blog.services import users as user_service

    user_service.assign_sections(news_editor, [magazine["news"]])
    nadia = _bearer(news_editor)
    pending = client.get("/api/v1/posts?status=draft,pending", headers=nadia)
    assert {p["title"] for p in _data(pending)} == {"In review"}  # not health's draft
    admin = _bearer(make.user("admin"))
    every = client.get("/api/v1/posts?status=draft,pending,trash,scheduled", headers=admin)
    assert {p["title"] for p in _data(every)} == {
        "Half a draft", "In review", "Tomorrow's news", "Due already", "Thrown away"
    }


def test_a_token_shows_its_owner_their_own_draft(client, magazine):
    """A draft is visible to its author's token, and to nobody else's."""
    draft = magazine["draft"]
    assert client.get(f"/api/v1/posts/{draft.id}").status_code == 404
    mine = client.get(f"/api/v1/posts/{draft.id}", headers=_bearer(magazine["arun"]))
    assert _data(mine)["status"] == "draft"
    theirs = client.get(f"/api/v1/posts/{draft.id}", headers=_bearer(magazine["bea"]))
    assert theirs.status_code == 404


def test_a_due_scheduled_post_is_live_before_its_status_flips(client, magazine):
    """A scheduled post whose time has come is listed, flipped or not."""
    publishing.publish_due()
    db.session.expire_all()
    assert "Due already" in _titles(client, "/api/v1/posts")


def test_unknown_addresses_and_methods_are_json(client):
    """Unknown API addresses and methods answer JSON errors."""
    missing = client.get("/api/v1/nothing-here")
    assert missing.status_code == 404 and missing.is_json
    wrong = client.delete("/api/v1/posts")
    assert wrong.status_code == 405 and wrong.is_json and "GET" in wrong.headers["Allow"]


def _fill(make, section, count):
    """Publish count posts with tags in section."""
    author = make.user_named("counted", "author")
    for n in range(count):
        make.post(author, section, title=f"Counted {n}", tags=[f"t{n}", "shared"])


@pytest.mark.parametrize(
    "url,most",
    [
        # count, page (with authors and sections), tags
        ("/api/v1/posts?per_page=100", 3),
        ("/api/v1/posts?per_page=100&fields=title,body,tags", 3),
        ("/api/v1/posts?per_page=100&tag=shared&section=health&author=counted", 3),
        # count, page
        ("/api/v1/tags?per_page=100", 2),
        ("/api/v1/authors?per_page=100", 2),
        # the search service's own queries (counts, sections, hits, snippets), posts, tags
        ("/api/v1/search?q=counted&per_page=100", 6),
    ],
)
def test_listing_query_count_is_constant(make, page_queries, url, most):
    """Listings run the same few queries for 5 posts as for 50."""
    section = make.section("Health", slug="health")
    _fill(make, section, 5)
    with_five = page_queries(url)
    _fill(make, section, 45)
    with_fifty = page_queries(url)
    assert len(with_five) == len(with_fifty) <= most, with_fifty
