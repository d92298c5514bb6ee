"""What reader pages tell search engines and link previews: descriptions, noindex, OpenGraph,
JSON-LD and the picture a page shares as; and the covers feeds carry."""

from __future__ import annotations

import json
from html.parser import HTMLParser

import feedparser
import pytest

from blog.extensions import db
from blog.public.meta import DESCRIPTION_LIMIT, cut_description
from blog.services import media as media_service
from blog.services import passwords

LONG = (
    "Harbour towns along the northern coast are rebuilding their fishing fleets after a decade "
    "of decline, and the families who stayed explain why they never left the water behind them "
    "even when everyone told them to go."
)


class _Head(HTMLParser):
    """Collects a page's <meta> tags and its JSON-LD blocks."""

    def __init__(self):
        super().__init__()
        self.meta: dict[str, list[str]] = {}
        self.jsonld: list = []
        self._in_ld = False

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "meta":
            key = attrs.get("property") or attrs.get("name")
            if key:
                self.meta.setdefault(key, []).append(attrs.get("content", ""))
        self._in_ld = tag == "script" and attrs.get("type") == "application/ld+json"

    def handle_data(self, data):
        if self._in_ld:
            found = json.loads(data)
            self.jsonld.extend(found if isinstance(found, list) else [found])
            self._in_ld = False


def head_of(client, url) -> _Head:
    """Fetch a page and parse its meta tags and JSON-LD."""
    response = client.get(url)
    assert response.status_code == 200, url
    parsed = _Head()
    parsed.feed(response.get_data(as_text=True))
    return parsed


def one(head: _Head, key: str) -> str:
    """The content of the one meta tag named key."""
    values = head.meta.get(key, [])
    assert len(values) == 1, (key, values)
    return values[0]


# -- 1. Descriptions -----------------------------------------------------------------------


def test_a_long_description_is_cut_at_a_word_with_an_ellipsis():
    cut = cut_description(LONG)
    assert cut.endswith("…")
    assert len(cut) <= DESCRIPTION_LIMIT + 1
    assert len(cut) > DESCRIPTION_LIMIT - 30
    kept = cut[:-1]
    assert LONG.startswith(kept) and LONG[len(kept)] == " "  # a whole word ends there


def test_a_short_description_is_kept_whole_and_spaces_fold():
    assert cut_description("A  short\n description.") == "A short description."
    assert cut_description("x" * DESCRIPTION_LIMIT) == "x" * DESCRIPTION_LIMIT


def test_one_endless_word_is_cut_at_the_limit():
    cut = cut_description("y" * 400)
    assert cut == "y" * DESCRIPTION_LIMIT + "…"


def test_every_description_on_an_article_page_is_cut(client, make):
    section = make.section("Coast", slug="coast")
    post = make.post(section=section, title="Fleets return", excerpt=LONG)
    head = head_of(client, f"/coast/{post.slug}")
    expected = cut_description(LONG)
    assert one(head, "description") == expected
    assert one(head, "og:description") == expected
    assert one(head, "twitter:description") == expected
    article = next(item for item in head.jsonld if item["@type"] in ("Article", "NewsArticle"))
    assert article["description"] == expected


def test_an_author_bio_and_a_section_description_are_cut(client, make):
    writer = make.user("author", username="longbio", display_name="Long Bio")
    writer.bio = LONG
    db.session.commit()
    section = make.section("Coast", slug="coast", description=LONG)
    make.post(section=section, author=writer)
    assert one(head_of(client, "/author/longbio"), "description") == cut_description(LONG)
    assert one(head_of(client, "/category/coast"), "description") == cut_description(LONG)


def test_an_ampersand_is_not_cut_or_escaped_twice(client, make):
    section = make.section("Food", slug="food", description="Fish & chips. " * 20)
    make.post(section=section)
    description = one(head_of(client, "/category/food"), "description")
    assert description.startswith("Fish & chips. Fish & chips.")
    assert "&amp;" not in description and description.endswith("…")


# -- 2. noindex ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "url", ["/login", "/register", "/reset-password", "/subscribe"]
)
def test_sign_in_join_reset_and_subscribe_are_not_indexed(client, url):
    assert one(head_of(client, url), "robots") == "noindex"


def test_a_reset_link_page_is_not_indexed(client, make):
    token = passwords.make_reset_token(make.user("reader"))
    assert one(head_of(client, f"/reset-password/{token}"), "robots") == "noindex"


def test_reader_pages_stay_indexable(client, make):
    section = make.section("Coast", slug="coast")
    make.post(section=section)
    for url in ("/", "/category/coast"):
        assert "robots" not in head_of(client, url).meta, url


# -- 3. OpenGraph on listings --------------------------------------------------------------


@pytest.fixture
def listing(make):
    """A section with a story by a named writer, with a tag."""
    section = make.section("Coast", slug="coast", description="Life by the sea.")
    writer = make.user("author", username="wren", display_name="Wren Writer")
    make.post(section=section, author=writer, tags=["Boats"])


@pytest.mark.parametrize(
    ("url", "title_starts"),
    [
        ("/", "My Circle Story"),
        ("/category/coast", "Coast"),
        ("/tag/boats", "Stories tagged “Boats”"),
        ("/author/wren", "Wren Writer"),
    ],
)
def test_listing_pages_carry_opengraph_and_a_twitter_card(client, listing, url, title_starts):
    head = head_of(client, url)
    assert one(head, "og:type") == "website"
    assert one(head, "og:site_name") == "My Circle Story"
    assert one(head, "og:title").startswith(title_starts)
    assert one(head, "og:description") == one(head, "description") != ""
    assert one(head, "og:url").startswith("http") and one(head, "og:url").endswith(url)
    assert one(head, "twitter:card") in ("summary", "summary_large_image")
    assert one(head, "og:image").startswith("http")


# -- 4. The home page's site-level JSON-LD -------------------------------------------------


def test_home_page_describes_the_site_and_its_search(client, listing):
    head = head_of(client, "/")
    by_type = {item["@type"]: item for item in head.jsonld}
    website, organization = by_type["WebSite"], by_type["Organization"]
    home = one(head, "og:url")
    assert website["url"] == home and website["name"] == "My Circle Story"
    action = website["potentialAction"]
    assert action["@type"] == "SearchAction"
    target = action["target"]["urlTemplate"]
    assert target == home.rstrip("/") + "/search?q={search_term_string}"
    assert action["query-input"] == "required name=search_term_string"
    assert organization["name"] == "My Circle Story" and organization["url"] == home
    assert organization["logo"].startswith("http") and organization["logo"].split("?")[0].endswith(
        "/static/icons/circle-180.png"
    )
    # The search the action names answers.
    assert client.get(target.split(home.rstrip("/"), 1)[1].replace(
        "{search_term_string}", "boats")).status_code == 200


def test_the_logo_is_the_site_icon_once_one_is_set(client, listing, make, uploads):
    from io import BytesIO

    from PIL import Image
    from werkzeug.datastructures import FileStorage

    from blog.services.media import site_icon

    admin = make.user("admin")
    out = BytesIO()
    Image.new("RGB", (200, 200), (200, 30, 30)).save(out, format="PNG")
    out.seek(0)
    links = site_icon.set_icon(admin, FileStorage(out, "icon.png", content_type="image/png"))
    db.session.commit()
    organization = next(i for i in head_of(client, "/").jsonld if i["@type"] == "Organization")
    logo = organization["logo"]
    assert logo.startswith("http") and logo.endswith(links.touch) and "/uploads/icons/" in logo


def test_other_pages_have_no_site_jsonld(client, listing):
    types = {item["@type"] for item in head_of(client, "/category/coast").jsonld}
    assert "WebSite" not in types and "Organization" not in types


# -- 5. The picture an article shares as ---------------------------------------------------


def _article_image(head: _Head):
    """The JSON-LD image of an article page."""
    article = next(i for i in head.jsonld if i["@type"] in ("Article", "NewsArticle"))
    return article["image"][0]


def test_an_article_with_a_cover_shares_it_with_its_size(client, make, uploads):
    section = make.section("Coast", slug="coast")
    post = make.post(section=section, cover=make.image(), cover_alt="Boats at dawn")
    head = head_of(client, f"/coast/{post.slug}")
    image = one(head, "og:image")
    assert image.startswith("http") and image.endswith(post.cover_image)
    assert one(head, "twitter:image") == image
    assert one(head, "twitter:card") == "summary_large_image"
    assert (one(head, "og:image:width"), one(head, "og:image:height")) == ("320", "180")
    assert _article_image(head) == {
        "@type": "ImageObject", "url": image, "width": 320, "height": 180,
    }


def test_an_article_without_a_cover_shares_its_sections(client, make, uploads):
    section = make.section("Coast", slug="coast")
    media_service.set_cover(section, make.image(), "The harbour")
    db.session.commit()
    post = make.post(section=section)
    assert not post.cover_image
    head = head_of(client, f"/coast/{post.slug}")
    image = one(head, "og:image")
    assert image.startswith("http") and image.endswith(section.cover_image)
    assert one(head, "og:image:alt") == "The harbour"
    assert one(head, "twitter:image") == image
    assert _article_image(head)["url"] == image
    # The section's own page shares its cover too.
    assert one(head_of(client, "/category/coast"), "og:image") == image


def test_an_article_with_no_cover_anywhere_shares_the_site_icon(client, make):
    section = make.section("Coast", slug="coast")
    post = make.post(section=section)
    head = head_of(client, f"/coast/{post.slug}")
    image = one(head, "og:image")
    assert image.startswith("http") and image.split("?")[0].endswith("/static/icons/circle-180.png")
    assert (one(head, "og:image:width"), one(head, "og:image:height")) == ("180", "180")
    assert one(head, "twitter:card") == "summary"
    assert one(head, "twitter:image") == image
    assert _article_image(head)["url"] == image
    icon = client.get(image.split("localhost", 1)[-1])
    assert icon.status_code == 200 and icon.mimetype == "image/png"
    icon.close()


# -- 6. Feeds carry covers -----------------------------------------------------------------


def test_a_feed_entry_carries_its_cover_as_enclosure_and_on_top(client, make, uploads):
    section = make.section("Coast", slug="coast")
    with_cover = make.post(section=section, title="With cover", cover=make.image(),
                           cover_alt="Boats at dawn")
    make.post(section=section, title="No cover")
    for url in ("/feed.xml", "/category/coast/feed.xml"):
        response = client.get(url)
        parsed = feedparser.parse(response.get_data())
        assert parsed.bozo == 0, parsed.get("bozo_exception")
        entries = {entry.title: entry for entry in parsed.entries}
        covered, bare = entries["With cover"], entries["No cover"]
        enclosures = [link for link in covered.links if link.rel == "enclosure"]
        assert len(enclosures) == 1
        enclosure = enclosures[0]
        assert enclosure.type == "image/jpeg"
        assert enclosure.href.startswith("http") and enclosure.href.endswith(with_cover.cover_image)
        stored = uploads / with_cover.cover_image.removeprefix("/uploads/")
        assert int(enclosure.length) == stored.stat().st_size
        content = covered.content[0].value
        first = content.split(">", 2)[1]  # the element right after the opening <p>
        assert content.startswith("<p><img") and f'src="{enclosure.href}"' in first
        assert 'alt="Boats at dawn"' in first and 'width="320"' in first
        assert not [link for link in bare.links if link.rel == "enclosure"]
        assert "<img" not in bare.content[0].value


def test_feed_covers_cost_the_same_queries_for_two_or_six_covered_stories(
    client, make, uploads, queries
):
    section = make.section("Coast", slug="coast")
    writer = make.user("author")

    def feed_queries() -> int:
        with queries() as statements:
            response = client.get("/feed.xml")
        assert response.get_data(as_text=True).count('rel="enclosure"') == covered
        return len(statements)

    for _ in range(2):
        make.post(section=section, author=writer, cover=make.image())
    covered = 2
    client.get("/feed.xml")
    make.post(section=section, author=writer)  # a change: the next fetch builds the feed anew
    two = feed_queries()
    for _ in range(4):
        make.post(section=section, author=writer, cover=make.image())
    covered = 6
    six = feed_queries()
    assert six == two > 0


def test_a_later_page_of_a_listing_shares_its_own_address(client, make, app):
    section = make.section("Coast", slug="coast")
    writer = make.user("author")
    for _ in range(app.config["POSTS_PER_PAGE"] + 1):
        make.post(section=section, author=writer)
    head = head_of(client, "/category/coast?page=2")
    assert one(head, "og:url").endswith("/category/coast?page=2")


# -- 7. The site's default share image -----------------------------------------------------


def _choose_default_share_image(make, media) -> None:
    """Make media the site's default share image, as an admin saving the settings does."""
    from dataclasses import asdict

    from blog.services import settings as site_settings

    values = asdict(site_settings.current()) | {"default_share_image": media.id}
    site_settings.update(make.user("admin"), values)


@pytest.fixture
def default_image(make, uploads):
    """A 1200 × 630 library image chosen as the site's default share image."""
    media = make.image(alt="The Circle masthead", size=(1200, 630))
    _choose_default_share_image(make, media)
    return media


def _assert_shares(head: _Head, media, alt: str, jsonld: bool = True) -> None:
    """The page shares media at its largest size, absolute, with its size and alt text."""
    image = one(head, "og:image")
    assert image.startswith("http://localhost/uploads/") and image.endswith(
        media_service.largest_url(media)
    )
    width, height = str(media.largest_width), str(media.largest_height)
    assert (one(head, "og:image:width"), one(head, "og:image:height")) == (width, height)
    assert one(head, "og:image:alt") == one(head, "twitter:image:alt") == alt
    assert one(head, "twitter:image") == image
    assert one(head, "twitter:card") == "summary_large_image"
    if jsonld:
        assert _article_image(head) == {
            "@type": "ImageObject", "url": image, "width": media.largest_width,
            "height": media.largest_height,
        }


def test_an_article_with_no_cover_anywhere_shares_the_default_image(client, make, default_image):
    post = make.post(section=make.section("Coast", slug="coast"))
    _assert_shares(head_of(client, f"/coast/{post.slug}"), default_image, "The Circle masthead")


def test_a_section_cover_comes_before_the_default_image(client, make, default_image):
    section = make.section("Coast", slug="coast")
    harbour = make.image(size=(800, 450))
    media_service.set_cover(section, harbour, "The harbour")
    db.session.commit()
    post = make.post(section=section)
    _assert_shares(head_of(client, f"/coast/{post.slug}"), harbour, "The harbour")
    _assert_shares(head_of(client, "/category/coast"), harbour, "The harbour", jsonld=False)


def test_an_articles_own_cover_comes_first(client, make, default_image):
    section = make.section("Coast", slug="coast")
    media_service.set_cover(section, make.image(size=(800, 450)), "The harbour")
    db.session.commit()
    boats = make.image(size=(960, 540))
    post = make.post(section=section, cover=boats, cover_alt="Boats at dawn")
    _assert_shares(head_of(client, f"/coast/{post.slug}"), boats, "Boats at dawn")


def test_listings_and_pages_without_covers_share_the_default_image(client, make, default_image):
    writer = make.user("author", username="wren", display_name="Wren Writer")
    make.post(section=make.section("Coast", slug="coast"), author=writer, tags=["Boats"])
    about = make.page(title="About us")
    for url in ("/", "/category/coast", "/tag/boats", "/author/wren", f"/{about.slug}"):
        _assert_shares(head_of(client, url), default_image, "The Circle masthead", jsonld=False)
