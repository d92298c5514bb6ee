"""Feeds and discovery: Atom feeds, the sitemap, robots.txt and WordPress feed addresses."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from datetime import timedelta

import feedparser
import pytest

from blog.models import PostStatus, utcnow
from blog.public import feeds as feed_views
from blog.services.feeds import absolute_html

SITEMAP_NS = {"sm": "http://www.sitemaps.org/schemas/sitemap/0.9"}
HIDDEN = (PostStatus.DRAFT, PostStatus.PENDING, PostStatus.SCHEDULED, PostStatus.TRASH)


@pytest.fixture
def magazine(make):
    """Two sections with published stories, and posts readers may not see yet."""
    health = make.section("Health", slug="health")
    fashion = make.section("Fashion", slug="fashion")
    writer = make.user("author", username="writer", display_name="Wren Writer")
    stylist = make.user("author", username="stylist", display_name="Sam Stylist")
    posts = {
        "health": make.post(
            author=writer,
            section=health,
            title="Healthy Hearts Story",
            body=(
                "<p>Every chapter of the healthy hearts story, in full.</p>"
                '<p><img src="/uploads/x.jpg" alt="A heart"'
                ' srcset="/uploads/x-400.jpg 400w, /uploads/x-800.jpg 800w">'
                ' <a href="/category/health">More health</a></p>'
            ),
            tags=["Heart care"],
        ),
        "fashion": make.post(
            author=stylist,
            section=fashion,
            title="Linen Summer Story",
            body="<p>Linen all summer long, the whole text.</p>",
            tags=["Summer"],
        ),
    }
    for status in HIDDEN:
        posts[status] = make.post(
            author=writer,
            section=health,
            status=status,
            title=f"Hidden {status} Story",
            tags=[f"only-{status}"],
        )
    posts["future"] = make.post(
        author=writer,
        section=health,
        title="Hidden future Story",
        published_at=utcnow() + timedelta(days=1),
    )
    return posts


def _feed(client, url):
    """Fetch a feed and parse it, asserting it is well-formed Atom."""
    response = client.get(url)
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "application/atom+xml; charset=utf-8"
    parsed = feedparser.parse(response.get_data())
    assert parsed.bozo == 0, parsed.get("bozo_exception")
    assert parsed.version == "atom10"
    return parsed


def _sitemap(client, url="/sitemap.xml") -> ET.Element:
    """Fetch a sitemap document and parse it as XML."""
    response = client.get(url)
    assert response.status_code == 200
    assert response.mimetype == "application/xml"
    return ET.fromstring(response.get_data())


def _urls(root: ET.Element) -> dict[str, str | None]:
    """Return loc -> lastmod for every <url> in a urlset."""
    return {
        url.findtext("sm:loc", namespaces=SITEMAP_NS): url.findtext(
            "sm:lastmod", namespaces=SITEMAP_NS
        )
        for url in root.findall("sm:url", SITEMAP_NS)
    }


def test_site_feed_lists_published_posts_with_full_content(client, magazine):
    """The site feed is valid Atom with every published story, newest first, in full."""
    feed = _feed(client, "/feed.xml")
    assert feed.feed.title == "My Circle Story"
    assert feed.feed.subtitle.startswith("Weave Your World")
    links = {link.rel: link.href for link in feed.feed.links}
    assert links == {"self": "http://localhost/feed.xml", "alternate": "http://localhost/"}
    assert feed.feed.id and feed.feed.updated_parsed

    titles = [entry.title for entry in feed.entries]
    assert titles == ["Linen Summer Story", "Healthy Hearts Story"]  # newest first
    entry = feed.entries[1]
    health = magazine["health"]
    assert entry.link == f"http://localhost/health/{health.slug}"
    assert entry.id.startswith("tag:localhost,")
    assert entry.author == "Wren Writer"
    assert {tag.term for tag in entry.tags} >= {"Health", "Heart care"}
    assert entry.summary == health.excerpt
    assert entry.published_parsed and entry.updated_parsed
    assert entry.updated_parsed >= entry.published_parsed
    content = entry.content[0]
    assert content.type == "text/html"
    assert "Every chapter of the healthy hearts story, in full." in content.value


def test_feed_times_are_rfc3339_with_a_zone(client, magazine):
    """Every time in the feed is RFC 3339 in UTC."""
    body = client.get("/feed.xml").get_data(as_text=True)
    root = ET.fromstring(body)
    atom = "{http://www.w3.org/2005/Atom}"
    times = [el.text for el in root.iter() if el.tag in (f"{atom}updated", f"{atom}published")]
    assert times and all(t.endswith("Z") and "T" in t for t in times)


@pytest.mark.parametrize("url", ["/feed.xml", "/category/health/feed.xml"])
def test_feeds_never_show_unpublished_or_future_posts(client, magazine, url):
    """Drafts, pending, scheduled, trashed and future-dated posts stay out of feeds."""
    feed = _feed(client, url)
    assert feed.entries
    assert not [entry.title for entry in feed.entries if "Hidden" in entry.title]


def test_section_feed_has_only_its_sections_posts(client, magazine):
    """A section feed is titled for its section and carries only its stories."""
    feed = _feed(client, "/category/health/feed.xml")
    assert feed.feed.title == "My Circle Story — Health"
    links = {link.rel: link.href for link in feed.feed.links}
    assert links["self"] == "http://localhost/category/health/feed.xml"
    assert links["alternate"] == "http://localhost/category/health"
    assert [entry.title for entry in feed.entries] == ["Healthy Hearts Story"]


def test_feed_content_makes_site_addresses_absolute(client, magazine):
    """Root-relative links, images and srcsets in the content become absolute."""
    content = _feed(client, "/feed.xml").entries[1].content[0].value
    assert 'src="http://localhost/uploads/x.jpg"' in content
    assert 'href="http://localhost/category/health"' in content
    assert 'src="/' not in content and 'href="/' not in content
    # feedparser drops srcset from what it hands back, so read the XML itself.
    root = ET.fromstring(client.get("/feed.xml").get_data())
    raw = "".join(el.text or "" for el in root.iter("{http://www.w3.org/2005/Atom}content"))
    assert (
        'srcset="http://localhost/uploads/x-400.jpg 400w, http://localhost/uploads/x-800.jpg 800w"'
        in raw
    )


def test_feed_never_carries_scripts_or_event_handlers(client, make):
    """Hostile markup never reaches a feed reader unescaped."""
    section = make.section("News", slug="news")
    make.post(
        section=section,
        title="<script>alert('title')</script> Headline",
        body=(
            "<p>Before</p><script>alert('x')</script>"
            '<img src="/uploads/a.jpg" onerror="alert(1)" alt="a">'
            '<a href="javascript:alert(2)">bad link</a><p>After</p>'
        ),
    )
    response = client.get("/feed.xml")
    raw = response.get_data(as_text=True)
    assert "<script" not in raw and "onerror" not in raw
    feed = _feed(client, "/feed.xml")
    entry = feed.entries[0]
    content = entry.content[0].value
    assert "<script" not in content.lower()
    assert "onerror" not in content.lower()
    assert "javascript:" not in content.lower()
    assert "Before" in content and "After" in content
    # The title is text: it reaches the reader as written, escaped in the XML.
    assert entry.title == "<script>alert('title')</script> Headline"
    assert "&lt;script&gt;alert(&#39;title&#39;)&lt;/script&gt; Headline" in raw


def test_unknown_section_feed_is_404(client, magazine):
    """A feed of a section that does not exist is a 404."""
    assert client.get("/category/nowhere/feed.xml").status_code == 404


def test_empty_site_feed_is_still_valid(client):
    """A magazine with no stories yet still has a valid feed."""
    feed = _feed(client, "/feed.xml")
    assert feed.entries == [] and feed.feed.updated_parsed


def test_sitemap_lists_everything_worth_crawling(client, magazine):
    """The sitemap lists home, sections, tags, authors and published posts, each with lastmod."""
    urls = _urls(_sitemap(client))
    health, fashion = magazine["health"], magazine["fashion"]
    expected = {
        "http://localhost/",
        f"http://localhost/health/{health.slug}",
        f"http://localhost/fashion/{fashion.slug}",
        "http://localhost/category/health",
        "http://localhost/category/fashion",
        "http://localhost/tag/heart-care",
        "http://localhost/tag/summer",
        "http://localhost/author/writer",
        "http://localhost/author/stylist",
    }
    assert set(urls) == expected
    assert all(urls[loc] for loc in expected), urls
    assert not [loc for loc in urls if "hidden" in loc or "only-" in loc]


def test_sitemap_addresses_answer(client, magazine):
    """Every address in the sitemap answers 200."""
    for loc in _urls(_sitemap(client)):
        assert client.get(loc.removeprefix("http://localhost")).status_code == 200, loc


def test_sitemap_lastmod_follows_the_newest_post(client, magazine):
    """A listing's lastmod is its newest published story's time."""
    urls = _urls(_sitemap(client))
    fashion = magazine["fashion"]
    expected = fashion.published_at.strftime("%Y-%m-%dT%H:%M:%SZ")
    assert urls["http://localhost/category/fashion"] == expected
    assert urls["http://localhost/author/stylist"] == expected
    assert urls["http://localhost/tag/summer"] == expected
    assert urls["http://localhost/"] == expected  # the newest story anywhere


def test_sitemap_index_when_there_are_too_many_addresses(client, magazine, monkeypatch):
    """Past a page's worth of addresses, the sitemap is an index of numbered pages."""
    monkeypatch.setattr(feed_views, "SITEMAP_PAGE_SIZE", 4)
    index = _sitemap(client)
    assert index.tag == "{http://www.sitemaps.org/schemas/sitemap/0.9}sitemapindex"
    locs = [
        s.findtext("sm:loc", namespaces=SITEMAP_NS) for s in index.findall("sm:sitemap", SITEMAP_NS)
    ]
    assert locs == [f"http://localhost/sitemap-{n}.xml" for n in (1, 2, 3)]  # 9 addresses
    seen: dict[str, str | None] = {}
    for loc in locs:
        page = _sitemap(client, loc.removeprefix("http://localhost"))
        urls = _urls(page)
        assert 1 <= len(urls) <= 4
        seen.update(urls)
    assert len(seen) == 9
    assert f"http://localhost/health/{magazine['health'].slug}" in seen
    assert client.get("/sitemap-4.xml").status_code == 404
    assert client.get("/sitemap-0.xml").status_code == 404


def test_robots_txt_names_the_sitemap(client):
    """robots.txt keeps crawlers out of the back office and names the sitemap."""
    response = client.get("/robots.txt")
    assert response.status_code == 200
    assert response.mimetype == "text/plain"
    lines = response.get_data(as_text=True).splitlines()
    assert "Disallow: /admin/" in lines and "Disallow: /editor/" in lines
    assert "Sitemap: http://localhost/sitemap.xml" in lines


@pytest.mark.parametrize(
    ("old", "new"),
    [("/feed/", "/feed.xml"), ("/category/health/feed/", "/category/health/feed.xml")],
)
def test_wordpress_feed_addresses_redirect_permanently(client, magazine, old, new):
    """WordPress feed addresses answer with a 301 to ours."""
    response = client.get(old)
    assert response.status_code == 301
    assert response.headers["Location"] == new


def test_wordpress_feed_address_of_unknown_section_is_404(client, magazine):
    """A WordPress feed address of an unknown section is a 404."""
    assert client.get("/category/nowhere/feed/").status_code == 404


def test_absolute_html_leaves_text_and_other_addresses_alone():
    """Only root- and scheme-relative addresses inside tags are rewritten."""
    html = (
        '<p>Write href="/x" in text.</p><a href="https://example.com/a" title=\'src="/y"\'>a</a>'
        '<a href="#notes">notes</a><a href="//cdn.example.com/z">z</a>'
    )
    assert absolute_html(html, "https://mag.example/") == (
        '<p>Write href="/x" in text.</p><a href="https://example.com/a" title=\'src="/y"\'>a</a>'
        '<a href="#notes">notes</a><a href="https://cdn.example.com/z">z</a>'
    )


def _statements(client, queries, url) -> list[str]:
    """Return the SQL statements one warm request ran (settings cached, as in production)."""
    client.get(url)
    with queries() as statements:
        assert client.get(url).status_code == 200
    return statements


def test_feed_and_sitemap_query_counts_do_not_grow(client, make, queries):
    """The feeds and the sitemap run the same few queries for 5 posts as for 30."""
    section = make.section("Health", slug="health")
    author = make.user("author")

    def add(count, start):
        """Publish count more stories in Health, each with a tag of its own."""
        for n in range(start, start + count):
            make.post(author=author, section=section, title=f"Counted {n}", tags=[f"t{n}", "all"])

    add(5, 0)
    urls = ["/feed.xml", "/category/health/feed.xml", "/sitemap.xml"]
    with_five = {url: _statements(client, queries, url) for url in urls}
    add(25, 5)
    with_thirty = {url: _statements(client, queries, url) for url in urls}
    for url in urls:
        assert len(with_five[url]) == len(with_thirty[url]), url
    assert len(with_thirty["/feed.xml"]) <= 2, with_thirty["/feed.xml"]
    assert len(with_thirty["/category/health/feed.xml"]) <= 3
    assert len(with_thirty["/sitemap.xml"]) <= 4
    sitemap_sql = " ".join(with_thirty["/sitemap.xml"]).lower()
    assert "posts.body" not in sitemap_sql


def test_a_renamed_sections_old_feed_addresses_lead_to_its_feed(client, make):
    from blog.services import sections as section_service

    admin = make.user("admin", username="feedadmin")
    section = make.section("Wellness", slug="wellness")
    section_service.update_section(admin, section, "Health", "health", section.description)
    for old in ("/category/wellness/feed.xml", "/category/wellness/feed/"):
        response = client.get(old)
        assert response.status_code == 301, old
        assert response.headers["Location"] == "/category/health/feed.xml"
    assert client.get("/category/never-was/feed.xml").status_code == 404


def test_feeds_carry_the_name_the_admins_chose(client, make):
    from blog.services import settings as settings_service

    admin = make.user("admin", username="namer")
    make.post(title="Named")
    values = {
        "site_name": "Circle Weekly",
        "site_slogan": "s",
        "site_tagline": "t",
        "posts_per_page": 10,
        "comments_moderated": True,
        "comment_link_limit": 2,
        "comment_blocklist": "",
    }
    settings_service.update(admin, values)
    assert "<title>Circle Weekly</title>" in client.get("/feed.xml").get_data(as_text=True)
