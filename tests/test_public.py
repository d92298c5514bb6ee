"""The reader pages: home, sections and articles, and what readers may not see."""

from __future__ import annotations

import pytest

from blog.models import PostStatus


@pytest.fixture
def magazine(make):
    """Two sections with a published story each, and unpublished ones."""
    health = make.section("Health", slug="health")
    fashion = make.section("Fashion", slug="fashion")
    writer = make.user("author", username="writer", display_name="Wren Writer")
    posts = {
        "health": make.post(author=writer, section=health, title="Healthy Hearts Story"),
        "fashion": make.post(author=writer, section=fashion, title="Linen Summer Story"),
    }
    for status in (PostStatus.DRAFT, PostStatus.PENDING, PostStatus.SCHEDULED, PostStatus.TRASH):
        posts[status] = make.post(
            author=writer, section=health, status=status, title=f"Hidden {status} Story"
        )
    return posts


def test_home_lists_published_posts_only(client, magazine):
    page = client.get("/").get_data(as_text=True)
    assert "My Circle Story" in page and "stories from every corner" in page
    assert "Healthy Hearts Story" in page and "Linen Summer Story" in page
    assert "Hidden" not in page
    assert "Wren Writer" in page


def test_navigation_lists_the_sections(client, magazine):
    page = client.get("/").get_data(as_text=True)
    assert 'href="/category/health"' in page and 'href="/category/fashion"' in page


def test_section_page_lists_its_own_posts(client, magazine):
    page = client.get("/category/health").get_data(as_text=True)
    assert "Healthy Hearts Story" in page
    assert "Linen Summer Story" not in page
    assert "Hidden" not in page


def test_article_page(client, magazine):
    post = magazine["health"]
    response = client.get(f"/health/{post.slug}")
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "<h1>Healthy Hearts Story</h1>" in page
    assert "The body of story" in page
    assert 'aria-label="Breadcrumb"' in page


def test_article_only_at_its_own_section(client, magazine):
    assert client.get(f"/fashion/{magazine['health'].slug}").status_code == 404


@pytest.mark.parametrize("status", ["draft", "pending", "scheduled", "trash"])
def test_unpublished_posts_are_404_for_readers(client, magazine, status):
    post = magazine[PostStatus(status)]
    assert client.get(f"/health/{post.slug}").status_code == 404


def test_future_dated_published_post_is_hidden_until_its_time(client, make):
    from datetime import timedelta

    from blog.models import utcnow

    section = make.section("News", slug="news")
    post = make.post(
        section=section, title="Tomorrow's Story", published_at=utcnow() + timedelta(days=1)
    )
    assert "Tomorrow" not in client.get("/").get_data(as_text=True)
    assert client.get(f"/news/{post.slug}").status_code == 404


@pytest.mark.parametrize(
    "url",
    ["/category/nowhere", "/health/no-such-story", "/no/where/at/all", "/category/"],
)
def test_unknown_things_are_404(client, magazine, url):
    response = client.get(url)
    assert response.status_code == 404
    assert "could not find" in response.get_data(as_text=True)


@pytest.mark.parametrize("page", ["0", "-1", "abc", "99999999999999999999", "2", "1.5", "٣"])
@pytest.mark.parametrize("url", ["/", "/category/health"])
def test_bad_or_past_the_end_pages_are_404(client, magazine, url, page):
    assert client.get(f"{url}?page={page}").status_code == 404


def test_pagination_walks_the_pages(app, client, make):
    section = make.section("News", slug="news")
    author = make.user("author")
    for n in range(app.config["POSTS_PER_PAGE"] + 3):
        make.post(author=author, section=section, title=f"Paged story {n:02d}")
    first = client.get("/category/news").get_data(as_text=True)
    second = client.get("/category/news?page=2").get_data(as_text=True)
    assert "Page 1 of 2" in first and 'rel="next"' in first
    newest = f"Paged story {app.config['POSTS_PER_PAGE'] + 2:02d}"
    assert "Paged story 00" in second and "Paged story 00" not in first  # the oldest
    assert newest in first and newest not in second
    assert client.get("/category/news?page=3").status_code == 404


def _fill(make, section, count):
    author = make.user_named("counted", "author")
    for n in range(count):
        make.post(author=author, section=section, title=f"Counted {n}", tags=[f"t{n}", "shared"])


def _statements_for(client, queries, url) -> list[str]:
    client.get(url)  # warm: the site settings are cached after a change
    with queries() as statements:
        assert client.get(url).status_code == 200
    return statements


@pytest.mark.parametrize(
    "url,most",
    [
        # sections, featured (+ the newest when none is chosen) + tags, the page's ids,
        # those posts + tags, total, the section rows' ids, those posts + tags
        ("/", 11),
        # sections, the section, the page's ids (from the index), those posts + tags, total
        ("/category/health", 6),
        ("/tag/shared", 6),
        ("/author/counted", 7),
        # sections, facet counts, the ranked page, its snippets, the posts + tags
        ("/search?q=counted", 7),
    ],
)
def test_listing_query_count_is_constant(app, client, make, queries, url, most):
    app.config["POSTS_PER_PAGE"] = 60
    try:
        section = make.section("Health", slug="health")
        _fill(make, section, 5)
        with_five = _statements_for(client, queries, url)
        _fill(make, section, 45)
        with_fifty = _statements_for(client, queries, url)
    finally:
        app.config["POSTS_PER_PAGE"] = 10
    assert len(with_five) == len(with_fifty)
    assert len(with_fifty) <= most, with_fifty


def test_article_query_count(client, make, queries):
    section = make.section("Health", slug="health")
    _fill(make, section, 5)
    from blog.extensions import db
    from blog.models import Post

    post = db.session.query(Post).first()
    url = f"/health/{post.slug}"
    few = _statements_for(client, queries, url)
    _fill(make, section, 45)
    many = _statements_for(client, queries, url)
    # sections, the post, its tags, older, newer, related
    assert len(few) == len(many) <= 6, many


def test_healthz_reports_the_database(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.get_json() == {"status": "ok", "database": "ok"}
