"""Titles, tags, sections and slugs in every script: kept, addressed and imported, never dropped."""

from __future__ import annotations

import unicodedata
from pathlib import Path
from urllib.parse import quote

import pytest
from sqlalchemy import select

from blog.extensions import db
from blog.models import Category, Post, PostStatus, Redirect, Tag
from blog.services import desk, slugs
from blog.services import tokens as token_service

from .conftest import csrf_from
from .test_desk import _as, _fresh, _write

TAGS = ["हिंदी", "健康", "Москва", "مرحبا", "🎉 party"]
TITLES = {
    "hindi": ("हिंदी में स्वास्थ्य की बातें", "हिंदी-में-स्वास्थ्य-की-बातें"),
    "chinese": ("健康的生活方式", "健康的生活方式"),
    "russian": ("Москва ночью", "москва-ночью"),
    "arabic": ("مرحبا بالعالم", "مرحبا-بالعالم"),
    "emoji": ("🎉 Party time! 🎉", "party-time"),
}


def _url(*parts: str) -> str:
    """An address as a browser sends it: every part percent-encoded (UTF-8)."""
    return "/" + "/".join(quote(part, safe="") for part in parts)


@pytest.fixture
def desk_people(make):
    """A section, an author and an editor who may publish there."""
    section = make.section("Health", slug="health")
    make.user("author", username="ana")
    make.user("editor", username="eda")
    return {"health": section}


# -- The slug rule ----------------------------------------------------------------------------


@pytest.mark.parametrize("title,slug", TITLES.values(), ids=TITLES.keys())
def test_titles_in_any_script_make_slugs_in_that_script(app, title, slug):
    assert slugs.slugify(title) == slug
    assert slugs.is_slug(slug)


def test_slugs_fold_latin_accents_keep_marks_and_refuse_shapes():
    assert slugs.slugify("Café Straße") == "cafe-strasse"
    assert slugs.slugify("Don’t stop") == "dont-stop"
    assert slugs.slugify("तेरा नाम") == "तेरा-नाम"  # vowel signs (combining marks) survive
    assert slugs.slugify("Ｋ ｔ") == "ｋ-ｔ"
    assert slugs.slugify("🎉🎉") == ""
    assert slugs.slugify("❤️ love, 1️⃣ place") == "love-1-place"  # emoji's dress goes with it
    for bad in ("Москва", "my story", "a--b", "-a", "a_b", "My-Story", "ok!"):
        assert not slugs.is_slug(bad), bad
    assert slugs.typed_slug(quote("москва")) == "москва"  # pasted from an address bar


def test_transliteration_is_a_setting(app):
    app.config["SLUG_TRANSLITERATE"] = True
    try:
        assert slugs.slugify("Москва ночью") == "moskva-nochiu"
        assert slugs.slugify("健康") == "jian-kang"
        assert slugs.slugify("हिंदी") == "hindii"
    finally:
        app.config["SLUG_TRANSLITERATE"] = False
    assert slugs.slugify("Москва") == "москва"


# -- The desk's form --------------------------------------------------------------------------


@pytest.mark.parametrize("title,slug", TITLES.values(), ids=TITLES.keys())
def test_the_form_keeps_titles_and_tags_in_any_script(app, desk_people, title, slug):
    ana = _as(app, "ana")
    response = _write(ana, desk_people["health"], title=title, tags=", ".join(TAGS))
    assert response.status_code == 302
    post = db.session.scalar(select(Post))
    assert post.title == title
    assert post.slug == slug
    assert sorted(tag.name for tag in post.tags) == sorted(TAGS)
    page = ana.get(f"/editor/posts/{post.id}/edit").get_data(as_text=True)
    assert title in page
    for tag in TAGS:
        assert tag in page  # shown back in the tags field, ready to save again


def test_an_emoji_only_title_gets_a_numbered_post_slug(app, desk_people):
    ana = _as(app, "ana")
    for _ in range(2):
        assert _write(ana, desk_people["health"], title="🎉🎉🎉").status_code == 302
    titles = db.session.execute(select(Post.title, Post.slug).order_by(Post.id)).all()
    assert [tuple(row) for row in titles] == [("🎉🎉🎉", "post"), ("🎉🎉🎉", "post-2")]


@pytest.mark.parametrize(
    "tags,message",
    [
        ("health, !!!", "“!!!” has none"),
        ("🎉", "“🎉” has none"),
        ("ok, " + "क" * 81, "80 characters or fewer"),
        (", ".join(f"tag{n}" for n in range(101)), "100 tags or fewer"),
    ],
)
def test_a_tag_that_cannot_be_kept_is_refused_not_dropped(app, desk_people, tags, message):
    ana = _as(app, "ana")
    response = _write(ana, desk_people["health"], title="Tagged", tags=tags)
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert message in page.replace("&#34;", '"')
    assert db.session.scalar(select(Post)) is None
    assert tags in page  # what was typed is still in the field


def test_a_unicode_slug_can_be_typed_and_an_uppercase_one_is_refused(app, desk_people):
    ana = _as(app, "ana")
    assert _write(ana, desk_people["health"], slug="москва-ночью").status_code == 302
    assert db.session.scalar(select(Post.slug)) == "москва-ночью"
    # Pasted from the address bar, percent-encoded: the same slug, so it is taken.
    taken = _write(ana, desk_people["health"], title="Again", slug=quote("москва-ночью"))
    assert taken.status_code == 400
    assert "already has that slug" in taken.get_data(as_text=True)
    refused = _write(ana, desk_people["health"], title="Other", slug="Москва")
    assert refused.status_code == 400
    assert "lower-case letters" in refused.get_data(as_text=True)


def test_an_admin_names_a_section_in_any_script(app, client, make):
    make.user("admin", username="boss")
    boss = _as(app, "boss")
    token = csrf_from(boss.get("/admin/categories").get_data(as_text=True))
    response = boss.post(
        "/admin/categories/new", data={"name": "Новости дня", "slug": "", "csrf_token": token}
    )
    assert response.status_code == 302
    section = db.session.scalar(select(Category))
    assert (section.name, section.slug) == ("Новости дня", "новости-дня")
    assert client.get(_url("category", "новости-дня")).status_code == 200


# -- Addresses ----------------------------------------------------------------------------------


def test_a_unicode_post_answers_at_its_address_and_in_listings(client, make):
    section = make.section("स्वास्थ्य")
    assert section.slug == "स्वास्थ्य"
    post = make.post(section=section, title="Москва ночью", tags=["Москва", "健康"])
    address = _url("स्वास्थ्य", "москва-ночью")
    page = client.get(address)
    assert page.status_code == 200
    assert "Москва ночью" in page.get_data(as_text=True)
    # Links are percent-encoded, as browsers send them.
    for listing in ("/", _url("category", "स्वास्थ्य"), _url("tag", "москва"), _url("tag", "健康")):
        response = client.get(listing)
        assert response.status_code == 200, listing
        html = response.get_data(as_text=True)
        assert "Москва ночью" in html and f'href="{address}"' in html, listing
    sitemap = client.get("/sitemap.xml").get_data(as_text=True)
    feed = client.get("/feed.xml").get_data(as_text=True)
    for xml in (sitemap, feed):
        assert address in xml and "москва-ночью" not in xml
    assert post.is_published


def test_an_address_with_decomposed_letters_leads_to_the_usual_one(client, make):
    section = make.section("Culture", slug="culture")
    make.post(section=section, title="Αθήνα")
    usual = _url("culture", "αθήνα")
    assert client.get(usual).status_code == 200
    decomposed = _url("culture", unicodedata.normalize("NFD", "αθήνα"))
    assert decomposed != usual
    moved = client.get(decomposed)
    assert moved.status_code == 301
    assert moved.headers["Location"].endswith(usual)


def test_a_moved_unicode_post_keeps_its_old_address(client, make):
    section = make.section("Новости")
    post = make.post(section=section, title="Москва ночью")
    old = _url("новости", "москва-ночью")
    desk.file_post(
        desk.PostDraft(
            title="Москва утром", body=post.body, category_id=section.id, slug="москва-утром"
        ),
        post.author,
        status=PostStatus.PUBLISHED,
        post=post,
    )
    stored = db.session.scalar(select(Redirect.path))
    assert stored == "новости/москва-ночью"  # kept decoded, as Flask hands over the path
    moved = client.get(old)
    assert moved.status_code == 301
    assert moved.headers["Location"].endswith(_url("новости", "москва-утром"))
    assert client.get(moved.headers["Location"]).status_code == 200


# -- The API ------------------------------------------------------------------------------------


def _bearer(user) -> dict:
    _token, secret = token_service.create_token(user, "tests")
    return {"Authorization": f"Bearer {secret}"}


def test_the_api_keeps_titles_and_tags_in_any_script(client, make):
    section = make.section("Health", slug="health")
    writer = _bearer(make.user("editor", username="eda"))
    created = client.post(
        "/api/v1/posts",
        json={"title": "健康的生活方式", "category": "health", "tags": TAGS, "body": "<p>好</p>"},
        headers=writer,
    )
    assert created.status_code == 201, created.get_json()
    data = created.get_json()["data"]
    assert data["title"] == "健康的生活方式" and data["slug"] == "健康的生活方式"
    post = db.session.scalar(select(Post))
    assert sorted(tag.name for tag in post.tags) == sorted(TAGS)
    updated = client.patch(
        f"/api/v1/posts/{post.id}",
        json={"title": "مرحبا بالعالم", "tags": ["مرحبا", "हिंदी"], "version": data["version"]},
        headers=writer,
    )
    assert updated.status_code == 200, updated.get_json()
    post = _fresh(post)
    assert post.title == "مرحبا بالعالم"
    assert sorted(tag.name for tag in post.tags) == sorted(["مرحبا", "हिंदी"])
    published = client.post(
        f"/api/v1/posts/{post.id}/publish", json={"version": post.version}, headers=writer
    )
    assert published.status_code == 200, published.get_json()
    assert client.get(_url("health", post.slug)).status_code == 200
    assert section.slug == "health"


def test_the_api_refuses_a_tag_it_cannot_keep(client, make):
    make.section("Health", slug="health")
    writer = _bearer(make.user("author", username="ana"))
    refused = client.post(
        "/api/v1/posts",
        json={"title": "Tagged", "category": "health", "tags": ["健康", "!!!"]},
        headers=writer,
    )
    assert refused.status_code == 422  # the API's answer for a refused field, as for a title
    error = refused.get_json()["error"]
    assert "“!!!” has none" in error["message"]
    assert "“!!!” has none" in error["fields"]["tags"]
    assert db.session.scalar(select(Post)) is None


# -- The WordPress import -----------------------------------------------------------------------

WXR = """<?xml version="1.0" encoding="UTF-8" ?>
<rss version="2.0" xmlns:excerpt="http://wordpress.org/export/1.2/excerpt/"
  xmlns:content="http://purl.org/rss/1.0/modules/content/"
  xmlns:dc="http://purl.org/dc/elements/1.1/" xmlns:wp="http://wordpress.org/export/1.2/">
<channel>
  <title>Old site</title><link>http://old.example.com</link>
  <wp:wxr_version>1.2</wp:wxr_version>
  <wp:base_site_url>http://old.example.com</wp:base_site_url>
  <wp:base_blog_url>http://old.example.com</wp:base_blog_url>
  <wp:author><wp:author_id>1</wp:author_id><wp:author_login><![CDATA[राम]]></wp:author_login>
    <wp:author_email><![CDATA[ram@old.example.com]]></wp:author_email>
    <wp:author_display_name><![CDATA[राम]]></wp:author_display_name></wp:author>
  <wp:category><wp:term_id>2</wp:term_id><wp:category_nicename><![CDATA[{hindi_cat}]]></wp:category_nicename>
    <wp:category_parent><![CDATA[]]></wp:category_parent><wp:cat_name><![CDATA[स्वास्थ्य]]></wp:cat_name></wp:category>
  {items}
</channel>
</rss>
"""

ITEM = """<item>
  <title><![CDATA[{title}]]></title>
  <link>http://old.example.com/{quoted_name}/</link>
  <dc:creator><![CDATA[राम]]></dc:creator>
  <content:encoded><![CDATA[<p>{title}</p>]]></content:encoded>
  <excerpt:encoded><![CDATA[]]></excerpt:encoded>
  <wp:post_id>{wp_id}</wp:post_id>
  <wp:post_date><![CDATA[2020-05-12 09:30:00]]></wp:post_date>
  <wp:post_date_gmt><![CDATA[2020-05-12 08:30:00]]></wp:post_date_gmt>
  <wp:post_name><![CDATA[{quoted_name}]]></wp:post_name>
  <wp:status><![CDATA[publish]]></wp:status>
  <wp:post_type><![CDATA[post]]></wp:post_type>
  <category domain="category" nicename="{hindi_cat}"><![CDATA[स्वास्थ्य]]></category>
  {tags}
</item>"""


def _wxr(folder: Path) -> Path:
    """A tiny WordPress export, percent-encoded as WordPress writes its nicenames and slugs."""
    hindi_cat = quote("स्वास्थ्य").lower()
    items = []
    for wp_id, (title, slug) in enumerate(TITLES.values(), start=101):
        tags = "".join(
            f'<category domain="post_tag" nicename="{quote(slugs.slugify(t)).lower()}">'
            f"<![CDATA[{t}]]></category>"
            for t in TAGS
        )
        items.append(
            ITEM.format(
                title=title,
                quoted_name=quote(slug).lower(),
                wp_id=wp_id,
                hindi_cat=hindi_cat,
                tags=tags,
            )
        )
    path = folder / "unicode.xml"
    path.write_text(WXR.format(hindi_cat=hindi_cat, items="".join(items)), encoding="utf-8")
    return path


def test_a_wordpress_import_keeps_titles_sections_and_tags_in_any_script(
    runner, client, make, tmp_path
):
    make.section("News", slug="news")
    result = runner.invoke(args=["import-wxr", str(_wxr(tmp_path))])
    assert result.exit_code == 0, result.output
    section = db.session.scalar(select(Category).where(Category.name == "स्वास्थ्य"))
    assert section is not None and section.slug == "स्वास्थ्य"
    assert sorted(db.session.scalars(select(Tag.name))) == sorted(TAGS)
    for title, slug in TITLES.values():
        post = db.session.scalar(select(Post).where(Post.title == title))
        assert post is not None, title
        assert post.slug == slug
        assert sorted(tag.name for tag in post.tags) == sorted(TAGS)
        assert client.get(_url(section.slug, post.slug)).status_code == 200
    # WordPress's own address (percent-encoded, lower-case hex) leads to the post.
    moved = client.get("/" + quote("москва-ночью").lower() + "/")
    assert moved.status_code == 301
    assert moved.headers["Location"].endswith(_url("स्वास्थ्य", "москва-ночью"))
    tag_page = client.get(_url("tag", "москва")).get_data(as_text=True)
    assert all(title in tag_page for title, _ in TITLES.values())


def test_an_export_writes_slugs_as_wordpress_does_and_imports_back(
    runner, make, second_site, tmp_path
):
    section = make.section("स्वास्थ्य")
    make.post(section=section, title="Москва ночью", tags=["健康", "🎉 party"])
    path = tmp_path / "site.xml"
    assert runner.invoke(args=["export-wxr", str(path)]).exit_code == 0
    text = path.read_text(encoding="utf-8")
    # WordPress stores and exports non-ASCII slugs percent-encoded in lower-case hex.
    assert f"<wp:post_name><![CDATA[{quote('москва-ночью').lower()}]]>" in text
    assert f'nicename="{quote("स्वास्थ्य").lower()}"' in text
    with second_site.app_context():
        result = second_site.test_cli_runner().invoke(args=["import-wxr", str(path)])
        assert result.exit_code == 0, result.output
        post = db.session.scalar(select(Post))
        assert (post.title, post.slug, post.category.slug) == (
            "Москва ночью", "москва-ночью", "स्वास्थ्य"
        )
        assert sorted(tag.name for tag in post.tags) == ["健康", "🎉 party"]
