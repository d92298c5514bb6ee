"""The lean uncached path: what a reader page reuses between views, and that it stays exact.

With the page cache off, every view still builds its page, but an article's previous/next
and related stories are chosen once per change (reading.nearby_ids) and each story's card
is rendered once per change (blog/public/cards.py). These tests show that a second view
does less work, and that a change a reader would notice shows on the very next view.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

import blog.models.content as content
import blog.services.reading as reading
from blog.extensions import db
from blog.models import PostStatus, Tag, utcnow
from blog.services import publishing


@pytest.fixture
def magazine(make):
    """Two sections, two tags, three stories in each section (oldest first)."""
    news = make.section("News", slug="news")
    arts = make.section("Arts", slug="arts")
    ana = make.user("author", username="ana", display_name="Ana Alves")
    ben = make.user("author", username="ben")
    return {
        "news": news,
        "arts": arts,
        "ana": ana,
        "editor": make.user("editor", username="eddie"),
        "n1": make.post(author=ana, section=news, title="Harbour Opens", tags=["climate"]),
        "n2": make.post(author=ana, section=news, title="Tide Report", tags=["climate"]),
        "n3": make.post(author=ana, section=news, title="Ferry Times"),
        "a1": make.post(author=ben, section=arts, title="Gallery Night", tags=["music"]),
        "a2": make.post(author=ben, section=arts, title="Quartet Plays", tags=["music"]),
        "a3": make.post(author=ben, section=arts, title="Mural Unveiled"),
    }


def _article(client, post) -> str:
    """The article page's HTML."""
    answer = client.get(f"/{post.category.slug}/{post.slug}")
    assert answer.status_code == 200
    return answer.get_data(as_text=True)


def _neighbours(page: str) -> str:
    """The previous/next links of an article page ('' when it has none)."""
    if 'class="post-nav"' not in page:
        return ""
    return page.split('class="post-nav"', 1)[1].split("</nav>", 1)[0]


def _related(page: str) -> str:
    """The related stories of an article page ('' when it has none)."""
    if 'id="related-heading"' not in page:
        return ""
    return page.split('id="related-heading"', 1)[1].split("</section>", 1)[0]


def test_a_second_view_of_an_article_does_not_choose_its_neighbours_again(
    client, magazine, queries
):
    post = magazine["n2"]
    with queries() as cold:
        first = _article(client, post)
    with queries() as warm:
        second = _article(client, post)
    assert second == first
    # The article, its tags, and its two neighbours in one query; nothing is ranked again.
    assert len(warm) <= 3 < len(cold), warm
    assert not any("count(*)" in s.lower() and "post_tags" in s for s in warm)
    assert "Harbour Opens" in _neighbours(second) and "Ferry Times" in _neighbours(second)


def test_a_new_story_in_the_section_becomes_the_next_link(client, magazine, make):
    assert "Next in News" not in _neighbours(_article(client, magazine["n3"]))
    make.post(author=magazine["ana"], section=magazine["news"], title="Evening Ferry")
    links = _neighbours(_article(client, magazine["n3"]))
    assert "Next in News" in links and "Evening Ferry" in links


def test_edited_tags_change_the_related_stories(client, magazine):
    post = magazine["n1"]
    before = _related(_article(client, post))
    assert "Tide Report" in before and "Gallery Night" not in before
    post.tags = [db.session.scalar(select(Tag).where(Tag.slug == "music"))]
    db.session.commit()
    after = _related(_article(client, post))
    assert "Gallery Night" in after and "Quartet Plays" in after


def test_an_unpublished_story_leaves_its_neighbours_and_related_stories(client, magazine):
    page = _article(client, magazine["n1"])
    assert "Tide Report" in _neighbours(page) and "Tide Report" in _related(page)
    publishing.unpublish(magazine["editor"], magazine["n2"])
    page = _article(client, magazine["n1"])
    assert "Tide Report" not in _neighbours(page) and "Ferry Times" in _neighbours(page)
    assert "Tide Report" not in _related(page)


def test_a_second_view_of_a_listing_reads_ids_only(client, magazine, queries):
    for url in ("/", "/category/news", "/tag/climate", "/author/ana"):
        client.get(url)
        with queries() as warm:
            assert client.get(url).status_code == 200
        assert not any("posts.title" in s for s in warm), (url, warm)


def test_an_edited_title_shows_at_once_in_every_card(client, magazine):
    for url in ("/", "/category/news", "/tag/climate", "/author/ana"):
        assert "Tide Report" in client.get(url).get_data(as_text=True)
    magazine["n2"].title = "Tide Report, Revised"
    db.session.commit()
    for url in ("/", "/category/news", "/tag/climate", "/author/ana"):
        assert "Tide Report, Revised" in client.get(url).get_data(as_text=True), url
    assert "Tide Report, Revised" in _related(_article(client, magazine["n1"]))


def test_a_renamed_author_shows_at_once_on_the_cards(client, magazine):
    assert "Ana Alves" in client.get("/category/news").get_data(as_text=True)
    magazine["ana"].display_name = "Ana Alves-Costa"
    db.session.commit()
    assert "Ana Alves-Costa" in client.get("/category/news").get_data(as_text=True)


def test_a_neighbours_new_title_and_address_show_at_once_in_its_link(client, magazine):
    assert "Ferry Times" in _neighbours(_article(client, magazine["n2"]))
    magazine["n3"].title = "Ferry Times, Revised"
    magazine["n3"].slug = "ferry-times-revised"
    db.session.commit()
    links = _neighbours(_article(client, magazine["n2"]))
    assert "Ferry Times, Revised" in links and 'href="/news/ferry-times-revised"' in links


def test_a_renamed_section_shows_at_once_on_its_page_and_the_home_rows(client, magazine, queries):
    client.get("/category/news")
    with queries() as warm:
        assert client.get("/category/news").status_code == 200
    assert len(warm) == 1, warm  # the page's ids; the section and the count are kept
    magazine["news"].name = "Harbour News"
    db.session.commit()
    assert "<h1>Harbour News</h1>" in client.get("/category/news").get_data(as_text=True)
    assert "More from Harbour News" in client.get("/").get_data(as_text=True)


def _row(page: str, slug: str) -> str:
    """One section's row on the home page."""
    return page.split(f'id="row-{slug}"', 1)[1].split("</section>", 1)[0]


def test_the_home_rows_and_featured_story_follow_each_change(client, magazine, make, queries):
    client.get("/")
    with queries() as warm:
        assert client.get("/").status_code == 200
    assert len(warm) == 1, warm  # the latest page's ids; the rest is kept until a change
    make.post(author=magazine["ana"], section=magazine["arts"], title="Street Opera")
    page = client.get("/").get_data(as_text=True)
    hero = page.split('class="hero"', 1)[1].split("</section>", 1)[0]
    assert "Street Opera" in hero  # the newest story, without an editors' choice
    assert "Mural Unveiled" in _row(page, "arts") and "Street Opera" not in _row(page, "arts")
    magazine["a1"].featured = True
    db.session.commit()
    page = client.get("/").get_data(as_text=True)
    hero = page.split('class="hero"', 1)[1].split("</section>", 1)[0]
    assert "Gallery Night" in hero and "Street Opera" in _row(page, "arts")


def test_a_scheduled_story_joins_the_kept_choices_at_its_time(client, magazine, make, monkeypatch):
    when = utcnow() + timedelta(hours=2)
    make.post(
        author=magazine["ana"],
        section=magazine["news"],
        title="Night Ferry",
        status=PostStatus.SCHEDULED,
        published_at=when,
    )
    assert "Night Ferry" not in _neighbours(_article(client, magazine["n3"]))
    assert "Night Ferry" not in client.get("/").get_data(as_text=True)
    later = when + timedelta(hours=1)
    monkeypatch.setattr(reading, "utcnow", lambda: later)
    monkeypatch.setattr(content, "utcnow", lambda: later)
    # Nothing flipped its status: its time came, and the kept choices see it.
    assert "Night Ferry" in _neighbours(_article(client, magazine["n3"]))
    page = client.get("/").get_data(as_text=True)
    assert "Night Ferry" in page.split('class="hero"', 1)[1].split("</section>", 1)[0]


def test_a_second_search_reads_no_story_and_an_edit_shows_at_once(client, magazine, page_queries):
    warm = page_queries("/search?q=harbour")
    assert not any("posts.title" in s for s in warm), warm  # the hits' cards are kept
    magazine["n1"].title = "Harbour Opens Again"
    magazine["ana"].display_name = "Ana Alves-Costa"
    db.session.commit()
    page = client.get("/search?q=harbour").get_data(as_text=True)
    assert "Harbour Opens Again" in page and "Ana Alves-Costa" in page
    magazine["n1"].status = PostStatus.DRAFT
    db.session.commit()
    assert "Harbour Opens" not in client.get("/search?q=harbour").get_data(as_text=True)


def _tags(page: str) -> str:
    """The tag links of an article page ('' when it has none)."""
    if 'class="tags"' not in page:
        return ""
    return page.split('class="tags"', 1)[1].split("</nav>", 1)[0]


def test_an_articles_tags_show_in_name_order_and_follow_each_change(client, magazine):
    post = magazine["n1"]
    assert 'href="/tag/climate"' in _tags(_article(client, post))
    db.session.add(Tag(name="Aquaculture", slug="aquaculture"))
    db.session.commit()
    wanted = select(Tag).where(Tag.slug.in_(["climate", "aquaculture"]))
    post.tags = list(db.session.scalars(wanted))
    db.session.commit()
    tags = _tags(_article(client, post))
    assert tags.index("Aquaculture") < tags.index("climate")
    post.tags = []
    db.session.commit()
    assert _tags(_article(client, post)) == ""


def _menu(page: str) -> str:
    """The header menu of a page."""
    return page.split('class="sections-nav"', 1)[1].split("</nav>", 1)[0]


def test_the_menu_links_follow_where_the_site_is_mounted(client, magazine):
    plain = _menu(client.get("/").get_data(as_text=True))
    mounted = _menu(client.get("/", base_url="http://localhost/mag").get_data(as_text=True))
    assert 'href="/category/news"' in plain
    assert 'href="/mag/category/news"' in mounted and 'href="/category/news"' not in mounted
    assert _menu(client.get("/").get_data(as_text=True)) == plain


def test_a_sections_new_address_shows_at_once_in_the_menu_and_the_home_rows(client, magazine):
    page = client.get("/").get_data(as_text=True)
    assert 'href="/category/news"' in page
    magazine["news"].slug = "harbour"
    db.session.commit()
    page = client.get("/").get_data(as_text=True)
    nav = _menu(page)
    assert 'href="/category/harbour"' in nav and 'href="/category/news"' not in nav
    assert 'href="/category/harbour"' in _row(page, "harbour")


def test_a_guests_comment_area_is_rendered_once_per_change(app, client, magazine, make):
    from flask import template_rendered

    from blog.services import comments as comment_service

    rendered: list[str] = []

    def note(_sender, template, context, **_extra):
        rendered.append(template.name)

    post = magazine["n2"]
    reader = make.user("reader", username="rita", display_name="Rita Reads")
    template_rendered.connect(note, app)
    try:
        assert "No comments yet." in _article(client, post)
        assert "public/_comments.html" in rendered  # rendered on its own, to be kept
        rendered.clear()
        _article(client, post)
        assert "public/_comments.html" not in rendered  # kept: not rendered again
        comment = comment_service.add_comment(reader, post, "A kind word.")
        comment_service.moderate(magazine["editor"], comment, "approve")
        page = _article(client, post)
        assert "A kind word." in page and "Rita Reads" in page  # the approval shows at once
        reader.display_name = "Rita Writes"
        db.session.commit()
        assert "Rita Writes" in _article(client, post)  # and the commenter's new name
    finally:
        template_rendered.disconnect(note, app)
