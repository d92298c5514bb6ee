"""Covers as readers get them: every size in WebP for the browser to choose from, the room
the picture takes, and when it loads (the page's lead picture first, the rest lazily)."""

from __future__ import annotations

from html.parser import HTMLParser

import pytest

from blog.extensions import db
from blog.services import media as media_service

WIDE = (1000, 563)  # written at 480, 960 and 1000 pixels wide


class _Images(HTMLParser):
    """Collects a page's <img> tags' attributes, in order."""

    def __init__(self):
        super().__init__()
        self.images: list[dict[str, str | None]] = []

    def handle_starttag(self, tag, attrs):
        if tag == "img":
            self.images.append(dict(attrs))


def images_of(client, url: str) -> list[dict]:
    """The <img> tags of a page."""
    response = client.get(url)
    assert response.status_code == 200, url
    parser = _Images()
    parser.feed(response.get_data(as_text=True))
    return parser.images


def showing(images: list[dict], media) -> list[dict]:
    """The tags among images that show media."""
    return [i for i in images if media.key in (i.get("src") or "")]


def assert_responsive(tag: dict, media) -> None:
    """tag offers every size of media in WebP, with its real size and a sizes rule."""
    srcset = [part.strip().split(" ") for part in tag["srcset"].split(",")]
    assert [width for _address, width in srcset] == ["480w", "960w", "1000w"]
    assert all(address.endswith(".webp") and media.key in address for address, _w in srcset)
    assert tag["src"].endswith(f"{media.key}-1000.jpg")  # the fallback: the largest JPEG
    assert tag["sizes"] and "vw" in tag["sizes"]
    assert (tag["width"], tag["height"]) == ("1000", "563")


@pytest.fixture
def coast(make):
    """The Coast section."""
    return make.section("Coast", slug="coast")


def test_an_articles_cover_leads_the_page(client, make, uploads, coast):
    image = make.image(size=WIDE)
    post = make.post(section=coast, cover=image, cover_alt="Boats at dawn")
    [lead] = showing(images_of(client, f"/coast/{post.slug}"), image)
    assert_responsive(lead, image)
    assert lead["alt"] == "Boats at dawn"
    assert lead["fetchpriority"] == "high"
    assert "loading" not in lead


def test_a_pages_cover_leads_the_page(client, make, uploads):
    image = make.image(size=WIDE)
    page = make.page(title="About us", cover_media_id=image.id, cover_alt="Our office")
    [lead] = showing(images_of(client, f"/{page.slug}"), image)
    assert_responsive(lead, image)
    assert lead["fetchpriority"] == "high" and "loading" not in lead


def test_a_sections_cover_heads_its_page(client, make, uploads, coast):
    image = make.image(size=WIDE)
    media_service.set_cover(coast, image, "The harbour wall")
    db.session.commit()
    make.post(section=coast)
    [header] = showing(images_of(client, "/category/coast"), image)
    assert_responsive(header, image)
    assert header["alt"] == "The harbour wall" and header["fetchpriority"] == "high"


def test_home_featured_picture_leads_and_cards_below_load_lazily(client, make, uploads, coast):
    writer = make.user("author")
    pictures = [make.image(size=WIDE) for _ in range(5)]
    for picture in pictures[:4]:
        make.post(section=coast, author=writer, cover=picture, cover_alt="A boat")
    make.post(section=coast, author=writer, cover=pictures[4], featured=True)
    images = images_of(client, "/")
    [hero] = showing(images, pictures[4])
    assert_responsive(hero, pictures[4])
    assert hero["fetchpriority"] == "high" and "loading" not in hero
    # The latest stories, newest first: three above the fold, then lazy ones.
    newest_first = list(reversed(pictures[:4]))
    cards = [showing(images, p)[0] for p in newest_first]
    for card, picture in zip(cards, newest_first, strict=True):
        assert_responsive(card, picture)
        assert "fetchpriority" not in card
    assert [c.get("loading") for c in cards] == [None, None, None, "lazy"]
    assert cards[3]["decoding"] == "async"


def test_without_a_featured_story_the_first_card_leads_the_home_page(client, make, uploads, coast):
    writer = make.user("author")
    pictures = [make.image(size=WIDE) for _ in range(2)]
    for picture in pictures:
        make.post(section=coast, author=writer, cover=picture)
    images = images_of(client, "/")
    first, second = showing(images, pictures[1])[0], showing(images, pictures[0])[0]
    assert first["fetchpriority"] == "high" and "loading" not in first
    assert "fetchpriority" not in second
    # The same story's card elsewhere does not lead: its section's page has its own lead.
    assert "fetchpriority" not in showing(images_of(client, "/category/coast"), pictures[1])[0]


@pytest.mark.parametrize("url", ["/tag/boats", "/author/wren"])
def test_listing_cards_offer_webp_sizes_and_load_lazily_below_the_fold(
    client, make, uploads, coast, url
):
    writer = make.user("author", username="wren", display_name="Wren Writer")
    pictures = [make.image(size=WIDE) for _ in range(4)]
    for picture in pictures:
        make.post(section=coast, author=writer, cover=picture, tags=["Boats"])
    images = images_of(client, url)
    cards = [showing(images, p)[0] for p in reversed(pictures)]
    for card, picture in zip(cards, reversed(pictures), strict=True):
        assert_responsive(card, picture)
        assert "fetchpriority" not in card
    assert [c.get("loading") for c in cards] == [None, None, None, "lazy"]


def test_a_cover_alt_text_falls_back_to_the_librarys(client, make, uploads, coast):
    image = make.image(size=WIDE, alt="Nets drying on the quay")
    post = make.post(section=coast, cover=image)
    [lead] = showing(images_of(client, f"/coast/{post.slug}"), image)
    assert lead["alt"] == "Nets drying on the quay"


def test_cards_with_covers_cost_no_query_per_cover(client, make, uploads, queries):
    writer = make.user("author")
    few, many = make.section("Few", slug="few"), make.section("Many", slug="many")
    for section, count in ((few, 2), (many, 6)):
        for _ in range(count):
            make.post(section=section, author=writer, cover=make.image())
    client.get("/")  # the site's settings and sections, read once for both

    def listing_queries(slug: str, covers: int) -> int:
        with queries() as statements:
            response = client.get(f"/category/{slug}")
        assert response.get_data(as_text=True).count(" srcset=") == covers
        return len(statements)

    assert listing_queries("many", 6) == listing_queries("few", 2)
