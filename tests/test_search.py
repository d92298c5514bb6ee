"""Search: full text, ranked, highlighted, filtered by section, safe with any input."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from sqlalchemy import text

from blog.extensions import db
from blog.models import PostStatus, utcnow
from blog.services import search as search_service


@pytest.fixture
def library(make):
    """Stories in two sections that share and differ in words."""
    health = make.section("Health", slug="health")
    news = make.section("News", slug="news")
    author = make.user("author", username="writer")

    def story(section, title, body, **kwargs):
        return make.post(
            author=author, section=section, title=title, body=f"<p>{body}</p>", **kwargs
        )

    return {
        "health": health,
        "news": news,
        "cart": story(
            health, "Cell therapy arrives", "Doctors used leukapheresis to collect cells."
        ),
        "mention": story(news, "Hospital budget", "The budget mentions therapy once, in passing."),
        "titled": story(news, "Therapy, therapy, therapy", "A story about therapy programmes."),
        "draft": story(health, "Secret draft", "leukapheresis in a draft", status=PostStatus.DRAFT),
        "future": story(
            health,
            "Future piece",
            "leukapheresis tomorrow",
            published_at=utcnow() + timedelta(days=1),
        ),
    }


def _search(client, query, **params):
    response = client.get("/search", query_string={"q": query, **params})
    return response, response.get_data(as_text=True)


def _titles(page):
    return re.findall(r'<h2 class="card__title"><a [^>]+>([^<]+)</a>', page)


def test_finds_a_word_in_the_body_and_highlights_it(client, library):
    response, page = _search(client, "leukapheresis")
    assert response.status_code == 200
    assert _titles(page) == ["Cell therapy arrives"]
    assert "<mark>leukapheresis</mark>" in page
    assert "1 story found" in page


def test_unpublished_and_future_posts_are_never_found(client, library):
    _, page = _search(client, "leukapheresis")
    assert "Secret draft" not in page and "Future piece" not in page


def test_results_are_ranked_title_first(client, library):
    _, page = _search(client, "therapy")
    titles = _titles(page)
    assert titles[0] == "Therapy, therapy, therapy"
    assert set(titles) == {"Therapy, therapy, therapy", "Cell therapy arrives", "Hospital budget"}


def test_equally_good_matches_come_newest_published_first(client, make):
    section = make.section("Health", slug="health")
    for title, days_ago in (("Walrus one", 3), ("Walrus two", 1), ("Walrus six", 2)):
        published = utcnow() - timedelta(days=days_ago)
        make.post(section=section, title=title, body="<p>walrus</p>", published_at=published)
    _, page = _search(client, "walrus")
    assert _titles(page) == ["Walrus two", "Walrus six", "Walrus one"]


def test_prefixes_and_stems_match(client, library):
    _, page = _search(client, "leukaph")
    assert _titles(page) == ["Cell therapy arrives"]
    _, page = _search(client, "doctor")
    assert _titles(page) == ["Cell therapy arrives"]


def test_section_filter_and_counts(client, library):
    _, page = _search(client, "therapy")
    facets = page.split('class="facet-list"', 1)[1].split("</ul>", 1)[0]
    assert re.search(r"Health</a> \(1\)", facets) and re.search(r"News</a> \(2\)", facets)
    _, page = _search(client, "therapy", category="news")
    assert set(_titles(page)) == {"Therapy, therapy, therapy", "Hospital budget"}
    response, _ = _search(client, "therapy", category="nowhere")
    assert response.status_code == 404


@pytest.mark.parametrize(
    "query",
    [
        '"',
        '"unbalanced',
        "AND (",
        "*",
        "OR",
        "NEAR(",
        "-",
        "'; DROP TABLE posts; --",
        "x" * 10_000,
        "😀🎉",
        "",
        "   ",
        "café\x00",
        "<script>alert(1)</script>",
        "a:b",
        "^",
    ],
)
def test_any_text_is_safe(client, library, query):
    response, page = _search(client, query)
    assert response.status_code == 200
    assert "<script>alert(1)" not in page
    assert db.session.execute(text("SELECT count(*) FROM posts")).scalar() == 5


def test_empty_query_asks_for_words(client, library):
    _, page = _search(client, "")
    assert "Type a word" in page


def test_no_results_says_so(client, library):
    _, page = _search(client, "zebra")
    assert "No stories found" in page


def test_snippets_are_escaped(client, make):
    make.post(
        title="Maths", body="<p>When 5 &lt; 6 we write &lt;b&gt;bold&lt;/b&gt; inequality.</p>"
    )
    _, page = _search(client, "inequality")
    snippet = page.split('class="search-result__snippet">', 1)[1].split("</p>", 1)[0]
    assert "<b>" not in snippet and "bold" in snippet  # shown as text (or dropped), never markup
    assert "<mark>inequality</mark>" in snippet


def test_index_follows_edits_unpublishing_and_deletion(client, library):
    post = library["mention"]
    post.body = "<p>Now about zeppelins instead.</p>"
    post.excerpt = "Zeppelins."
    db.session.commit()
    assert _titles(_search(client, "zeppelins")[1]) == ["Hospital budget"]
    assert "Hospital budget" not in _titles(_search(client, "mentions")[1])

    post.status = PostStatus.DRAFT
    db.session.commit()
    assert _titles(_search(client, "zeppelins")[1]) == []

    post.status = PostStatus.PUBLISHED
    db.session.commit()
    assert _titles(_search(client, "zeppelins")[1]) == ["Hospital budget"]

    db.session.delete(post)
    db.session.commit()
    assert _titles(_search(client, "zeppelins")[1]) == []


def test_draft_published_later_becomes_findable(client, library):
    draft = library["draft"]
    draft.status = PostStatus.PUBLISHED
    draft.published_at = utcnow() - timedelta(minutes=1)
    db.session.commit()
    assert "Secret draft" in _titles(_search(client, "leukapheresis")[1])


def test_pagination_and_bad_pages(app, client, make):
    section = make.section("Health", slug="health")
    for n in range(app.config["POSTS_PER_PAGE"] + 2):
        make.post(section=section, title=f"Walrus {n}", body="<p>walrus facts</p>")
    _, first = _search(client, "walrus")
    _, second = _search(client, "walrus", page=2)
    assert len(_titles(first)) == app.config["POSTS_PER_PAGE"] and len(_titles(second)) == 2
    for bad in ("0", "-1", "abc", "3", "99999999999999999999"):
        assert _search(client, "walrus", page=bad)[0].status_code == 404


def test_search_reindex_rebuilds_the_index(runner, client, library):
    search_service.clear_index(db.session.connection())
    db.session.commit()
    assert _titles(_search(client, "leukapheresis")[1]) == []
    result = runner.invoke(args=["search-reindex"])
    assert result.exit_code == 0, result.output
    assert "Indexed 4 posts" in result.output  # the future one is indexed, unseen
    assert _titles(_search(client, "leukapheresis")[1]) == ["Cell therapy arrives"]


def test_a_moved_or_rescheduled_story_is_found_where_and_when_it_now_is(client, library):
    cart = library["cart"]
    cart.category = library["news"]
    db.session.commit()
    assert "Cell therapy arrives" in _titles(_search(client, "leukapheresis", category="news")[1])
    assert _titles(_search(client, "leukapheresis", category="health")[1]) == []
    cart.published_at = utcnow() + timedelta(hours=1)
    db.session.commit()
    assert _titles(_search(client, "leukapheresis")[1]) == []


def test_a_common_word_ranks_only_the_most_recent_matches(client, make, monkeypatch):
    monkeypatch.setattr(search_service, "CANDIDATES", 3)
    health = make.section("Health", slug="health")
    news = make.section("News", slug="news")
    for n in range(5):
        make.post(section=news if n % 2 else health, title=f"Walrus {n}", body="<p>walrus</p>")
    _, page = _search(client, "walrus")
    assert "More than 3 stories found" in page
    # The oldest two matches are beyond the bound: never ranked, never shown.
    assert set(_titles(page)) == {"Walrus 2", "Walrus 3", "Walrus 4"}
    facets = page.split('class="facet-list"', 1)[1].split("</ul>", 1)[0]
    assert "(more than 3)" in facets and re.search(r"Health</a> \(\d\+\)", facets)
    _, page = _search(client, "walrus", category="news")
    assert "2 stories found" in page and set(_titles(page)) == {"Walrus 1", "Walrus 3"}
    meta = client.get("/api/v1/search?q=walrus").get_json()["meta"]
    assert (meta["total"], meta["pages"], meta["more"], meta["sections_at_least"]) == (
        3, 1, True, True
    )


def test_exactly_the_bound_is_counted_exactly(client, make, monkeypatch):
    monkeypatch.setattr(search_service, "CANDIDATES", 3)
    section = make.section("Health", slug="health")
    for n in range(3):
        make.post(section=section, title=f"Walrus {n}", body="<p>walrus</p>")
    _, page = _search(client, "walrus")
    assert "3 stories found" in page and "More than" not in page
