"""The reader's magazine: home, tag and author pages, the article page, old addresses."""

from __future__ import annotations

import json
import re
from dataclasses import replace

import pytest

from blog.extensions import db
from blog.models import PostStatus
from blog.services import Forbidden, ServiceError, publishing, slugs
from blog.services import desk as desk_service


@pytest.fixture
def desk(make):
    """Sections, two writers and a handful of tagged stories."""
    health = make.section("Health", slug="health", position=1)
    news = make.section("News", slug="news", position=2)
    ana = make.user("author", username="ana", display_name="Ana Writer")
    ana.bio = "Ana writes about medicine."
    db.session.commit()
    ben = make.user("author", username="ben", display_name="Ben Reporter")
    stories = {
        "oldest": make.post(author=ana, section=health, title="Oldest Health", tags=["sleep"]),
        "middle": make.post(
            author=ana, section=health, title="Middle Health", tags=["sleep", "heart"]
        ),
        "newest": make.post(author=ben, section=health, title="Newest Health", tags=["heart"]),
        "town": make.post(author=ben, section=news, title="Town News", tags=["sleep"]),
        "draft": make.post(
            author=ana,
            section=health,
            status=PostStatus.DRAFT,
            title="Draft Health",
            tags=["sleep"],
        ),
    }
    return {"health": health, "news": news, "ana": ana, "ben": ben, **stories}


def _page(client, url):
    response = client.get(url)
    assert response.status_code == 200, url
    return response.get_data(as_text=True)


def test_home_features_the_editors_choice(client, desk):
    desk["oldest"].featured = True
    db.session.commit()
    page = _page(client, "/")
    hero = page.split('class="hero"', 1)[1].split("</section>", 1)[0]
    assert "Oldest Health" in hero


def test_home_features_the_newest_without_a_choice(client, desk):
    page = _page(client, "/")
    hero = page.split('class="hero"', 1)[1].split("</section>", 1)[0]
    assert "Town News" in hero and "Oldest Health" not in hero


def test_home_has_a_row_per_section(client, desk, make):
    make.post(author=desk["ben"], section=desk["news"], title="Second News")
    page = _page(client, "/")
    assert 'id="row-health"' in page and 'id="row-news"' in page
    row = page.split('id="row-news"', 1)[1].split("</section>", 1)[0]
    assert "Town News" in row  # the featured story, Second News, is not repeated
    assert "Second News" not in row
    assert "Draft Health" not in page


def test_tag_page_lists_published_posts_with_the_tag(client, desk):
    page = _page(client, "/tag/sleep")
    assert "Oldest Health" in page and "Middle Health" in page and "Town News" in page
    assert "Newest Health" not in page and "Draft Health" not in page
    assert "3 stories" in page


def test_tag_without_published_posts_is_404(client, desk, make):
    make.post(status=PostStatus.DRAFT, tags=["secret-tag"])
    assert client.get("/tag/secret-tag").status_code == 404
    assert client.get("/tag/no-such-tag").status_code == 404


def test_author_page_shows_bio_and_their_posts(client, desk):
    page = _page(client, "/author/ana")
    assert "Ana Writer" in page and "Ana writes about medicine." in page
    assert "Oldest Health" in page and "Middle Health" in page
    assert "Town News" not in page and "Draft Health" not in page


def test_people_without_published_posts_have_no_author_page(client, desk, make):
    make.user("reader", username="quiet")
    assert client.get("/author/quiet").status_code == 404
    assert client.get("/author/nobody").status_code == 404


def test_article_page_has_everything_a_reader_expects(client, desk):
    page = _page(client, f"/health/{desk['middle'].slug}")
    assert re.search(r'<nav class="breadcrumbs".*?Home.*?Health.*?Middle Health', page, re.S)
    assert 'href="/tag/sleep"' in page and 'href="/tag/heart"' in page
    assert 'aria-label="About the author"' in page and "Ana writes about medicine." in page
    assert "min read" in page
    assert 'href="#top"' in page
    # previous (older) and next (newer) in the same section
    nav = page.split('class="post-nav"', 1)[1].split("</nav>", 1)[0]
    assert "Oldest Health" in nav and "Newest Health" in nav


def test_related_stories_share_tags_first(client, desk):
    page = _page(client, f"/health/{desk['middle'].slug}")
    related = page.split('id="related-heading"', 1)[1].split("</section>", 1)[0]
    titles = re.findall(r'class="card__title"><a [^>]+>([^<]+)<', related)
    assert len(titles) == 3
    assert "Draft Health" not in related and "Middle Health" not in titles
    assert set(titles) == {"Oldest Health", "Newest Health", "Town News"}


def test_article_meta_and_structured_data(client, desk):
    page = _page(client, f"/news/{desk['town'].slug}")
    assert '<link rel="canonical" href="http://localhost/news/town-news">' in page
    assert '<meta property="og:title" content="Town News">' in page
    assert '<meta name="twitter:card"' in page
    raw = re.search(r'<script type="application/ld\+json">(.*?)</script>', page, re.S)[1]
    graph = json.loads(raw)
    article, crumbs = graph
    assert article["@type"] == "NewsArticle" and article["headline"] == "Town News"
    assert crumbs["@type"] == "BreadcrumbList" and len(crumbs["itemListElement"]) == 3
    health = _page(client, f"/health/{desk['oldest'].slug}")
    assert '"@type": "Article"' in health


def test_structured_data_cannot_break_out_of_its_script(client, make):
    post = make.post(title="</script><script>alert(1)</script>")
    page = _page(client, f"/{post.category.slug}/{post.slug}")
    assert "<script>alert(1)" not in page


def test_each_page_has_its_own_title_and_description(client, desk):
    titles = set()
    for url in [
        "/",
        "/category/health",
        "/tag/sleep",
        "/author/ana",
        f"/health/{desk['middle'].slug}",
    ]:
        page = _page(client, url)
        titles.add(re.search(r"<title>(.*?)</title>", page, re.S)[1])
        assert '<meta name="description" content="' in page
        assert '<link rel="canonical"' in page
    assert len(titles) == 5


def _move(post, editor, **changes):
    """An editor changes a post's slug or section at the desk and saves, as the form does."""
    draft = replace(desk_service.draft_of(post), **changes)
    return desk_service.save_post(editor, post, draft, post.version)


@pytest.fixture
def editor(make):
    """An editor of every section."""
    return make.user("editor", username="eden")


def test_moved_post_answers_its_old_address_with_301(client, desk, editor):
    post = desk["middle"]
    old = f"/health/{post.slug}"
    _move(post, editor, slug="middle-renamed", category_id=desk["news"].id)
    response = client.get(old)
    assert response.status_code == 301
    assert response.headers["Location"] == "/news/middle-renamed"
    # moved twice: the first address leads straight to the newest one
    _move(post, editor, slug="middle-final")
    assert client.get(old).headers["Location"] == "/news/middle-final"
    assert client.get("/news/middle-renamed").headers["Location"] == "/news/middle-final"
    assert client.get("/news/middle-final").status_code == 200


def test_moving_back_to_an_old_address_makes_it_live_again(client, desk, editor):
    post = desk["middle"]
    original = post.slug
    _move(post, editor, slug="elsewhere")
    _move(post, editor, slug=original)
    assert client.get(f"/health/{original}").status_code == 200
    assert client.get("/health/elsewhere").headers["Location"] == f"/health/{original}"


def test_old_address_of_an_unpublished_post_is_404(client, desk, editor):
    post = desk["middle"]
    old = f"/health/{post.slug}"
    _move(post, editor, slug="gone-quiet")
    assert client.get(old).headers["Location"] == "/health/gone-quiet"
    publishing.unpublish(editor, post)
    assert client.get(old).status_code == 404


def test_a_draft_that_moves_leaves_no_old_address(client, desk, editor):
    post = desk["draft"]
    old = f"/health/{post.slug}"
    _move(post, editor, slug="draft-renamed", category_id=desk["news"].id)
    assert slugs.redirect_for(old) is None
    assert client.get(old).status_code == 404


def test_an_author_may_not_move_their_published_post(client, desk):
    post = desk["newest"]  # Ben's, published: authors change their drafts only
    old = f"/health/{post.slug}"
    with pytest.raises(Forbidden):
        _move(post, desk["ben"], slug="newest-renamed")
    assert client.get(old).status_code == 200
    assert client.get("/health/newest-renamed").status_code == 404


def test_renamed_section_keeps_its_old_address(client, desk):
    slugs.remember_old_address("category/wellness", section=desk["health"])
    db.session.commit()
    response = client.get("/category/wellness")
    assert response.status_code == 301 and response.headers["Location"] == "/category/health"


def test_wordpress_links_lead_to_the_post(client, desk):
    post = desk["oldest"]
    post.wp_post_id = 1234
    slugs.remember_old_address("2019/05/10/oldest-health", post=post)
    db.session.commit()
    response = client.get("/?p=1234")
    assert response.status_code == 301 and response.headers["Location"] == f"/health/{post.slug}"
    old = client.get("/2019/05/10/oldest-health/")
    assert old.status_code == 301 and old.headers["Location"] == f"/health/{post.slug}"
    assert client.get("/?p=999").status_code == 404
    assert client.get("/?p=abc").status_code == 404


def test_the_desk_refuses_a_taken_slug(client, desk, editor):
    post = desk["middle"]
    with pytest.raises(ServiceError, match="already has that slug"):
        _move(post, editor, slug=desk["oldest"].slug)
    assert client.get(f"/health/{post.slug}").status_code == 200


def test_wrong_method_still_405_not_redirect(client):
    assert client.get("/logout").status_code == 405
