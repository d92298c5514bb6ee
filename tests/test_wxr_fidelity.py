"""Import fidelity: slugs in every script, old category addresses, password-protected posts,
SEO plugin fields, dry runs and internal links (issue 16), on a WXR written for these tests."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
from PIL import Image
from sqlalchemy import select

from blog.extensions import db
from blog.models import Post, PostStatus, Revision, Tag
from blog.services import media as media_service
from blog.services import publishing

HEAD = """<?xml version="1.0" encoding="UTF-8" ?>
<rss version="2.0"
	xmlns:excerpt="http://wordpress.org/export/1.2/excerpt/"
	xmlns:content="http://purl.org/rss/1.0/modules/content/"
	xmlns:dc="http://purl.org/dc/elements/1.1/"
	xmlns:wp="http://wordpress.org/export/1.2/"
>
<channel>
	<title>Old magazine</title>
	<link>https://old.example.org</link>
	<wp:wxr_version>1.2</wp:wxr_version>
	<wp:base_site_url>https://old.example.org</wp:base_site_url>
	<wp:base_blog_url>https://old.example.org</wp:base_blog_url>
	<wp:author><wp:author_id>1</wp:author_id><wp:author_login><![CDATA[anna]]></wp:author_login><wp:author_email><![CDATA[anna@example.org]]></wp:author_email><wp:author_display_name><![CDATA[Anna]]></wp:author_display_name></wp:author>
	<wp:category><wp:term_id>2</wp:term_id><wp:category_nicename><![CDATA[news]]></wp:category_nicename><wp:category_parent><![CDATA[]]></wp:category_parent><wp:cat_name><![CDATA[News]]></wp:cat_name></wp:category>
	<wp:category><wp:term_id>3</wp:term_id><wp:category_nicename><![CDATA[reviews]]></wp:category_nicename><wp:category_parent><![CDATA[]]></wp:category_parent><wp:cat_name><![CDATA[Reviews]]></wp:cat_name></wp:category>
	<wp:category><wp:term_id>4</wp:term_id><wp:category_nicename><![CDATA[gadgets]]></wp:category_nicename><wp:category_parent><![CDATA[reviews]]></wp:category_parent><wp:cat_name><![CDATA[Gadgets]]></wp:cat_name></wp:category>
"""


def item(wp_id: int, title: str, name: str, *, body: str = "", password: str = "",
         status: str = "publish", extra: str = "", link: str = "", category: str = "news") -> str:
    """One <item> of a WordPress export."""
    return f"""
	<item>
		<title><![CDATA[{title}]]></title>
		<link>{link or f"https://old.example.org/?p={wp_id}"}</link>
		<dc:creator><![CDATA[anna]]></dc:creator>
		<content:encoded><![CDATA[{body}]]></content:encoded>
		<excerpt:encoded><![CDATA[]]></excerpt:encoded>
		<wp:post_id>{wp_id}</wp:post_id>
		<wp:post_date_gmt><![CDATA[2020-05-{wp_id % 28 + 1:02d} 08:30:00]]></wp:post_date_gmt>
		<wp:post_name><![CDATA[{name}]]></wp:post_name>
		<wp:status><![CDATA[{status}]]></wp:status>
		<wp:post_type><![CDATA[post]]></wp:post_type>
		<wp:post_password><![CDATA[{password}]]></wp:post_password>
		<category domain="category" nicename="{category}"><![CDATA[{category.title()}]]></category>
		{extra}
	</item>"""


def meta(key: str, value: str) -> str:
    """One custom field (wp:postmeta)."""
    return (
        f"<wp:postmeta><wp:meta_key><![CDATA[{key}]]></wp:meta_key>"
        f"<wp:meta_value><![CDATA[{value}]]></wp:meta_value></wp:postmeta>"
    )


def tag(name: str, nicename: str) -> str:
    """One of an item's tags."""
    return f'<category domain="post_tag" nicename="{nicename}"><![CDATA[{name}]]></category>'


def export(folder: Path, *items: str) -> Path:
    """Write a WordPress export of these items and return its path."""
    path = folder / "export.xml"
    path.write_text(HEAD + "".join(items) + "\n</channel>\n</rss>\n", encoding="utf-8")
    return path


def post(wp_id: int) -> Post:
    """The post imported from WordPress post wp_id."""
    return db.session.scalar(select(Post).where(Post.wp_post_id == wp_id))


@pytest.fixture
def news(make):
    """The section the export's posts go to."""
    return make.section("News", slug="news", position=1)


def run_import(runner, path: Path, *args: str):
    """Run import-wxr and return its output, checking that it succeeded."""
    result = runner.invoke(args=["import-wxr", str(path), *args])
    assert result.exit_code == 0, result.output
    return result.output


# -- 1. Slugs and tags in every script --------------------------------------------------------


def test_tags_and_titles_in_any_script_keep_readable_slugs(runner, news, tmp_path):
    tags = "".join(
        [
            tag("Москва", "%d0%bc%d0%be%d1%81%d0%ba%d0%b2%d0%b0"),
            tag("हिंदी", "%e0%a4%b9%e0%a4%bf%e0%a4%82%e0%a4%a6%e0%a5%80"),
            tag("健康", "%e5%81%a5%e5%ba%b7"),
            tag("🔥hot", "hot"),
            tag("🎉", "%f0%9f%8e%89"),
            tag("…", "%e2%80%a6"),
        ]
    )
    path = export(
        tmp_path,
        item(28, "Москва ночью", "", extra=tags),
        item(29, "Καλημέρα🌞κόσμε", ""),
        item(30, "🎉🎉", ""),
    )
    out = run_import(runner, path)

    assert post(28).slug == "москва-ночью"
    assert post(29).slug == "καλημέρα-κόσμε"  # the emoji is out, the words are kept
    assert post(30).slug == "party-popper"  # no letters at all: the emoji's name
    names = {t.name: t.slug for t in post(28).tags}
    assert names == {
        "Москва": "москва",
        "हिंदी": "हिंदी",
        "健康": "健康",
        "🔥hot": "hot",
        "🎉": "party-popper",
    }
    # The one tag that cannot have a slug is named in the report.
    assert "the tag '…'" in out
    assert db.session.scalar(select(Tag).where(Tag.name == "…")) is None
    assert "the tag '🎉' has no letters or digits: its slug is 'party-popper'" in out


# -- 2. Old category addresses ----------------------------------------------------------------


def test_old_category_addresses_with_a_trailing_slash_answer_301(runner, client, news, tmp_path):
    path = export(tmp_path, item(40, "A new phone", "a-new-phone", category="gadgets"))
    run_import(runner, path, "--map", "reviews=news")

    for old, new in [
        ("/category/news/", "/category/news"),
        ("/category/news/feed/", "/category/news/feed.xml"),
        ("/category/reviews/gadgets/", "/category/news"),
        ("/category/reviews/gadgets", "/category/news"),
        ("/category/reviews/gadgets/feed/", "/category/news/feed.xml"),
    ]:
        response = client.get(old)
        assert response.status_code == 301, old
        assert response.headers["Location"].endswith(new), (old, response.headers["Location"])
    assert client.get("/category/news/").status_code == 301
    assert client.get("/category/nothing-here/").status_code == 404
    assert client.get("/category/nothing-here/feed/").status_code == 404


# -- 3. Password-protected posts --------------------------------------------------------------


def test_a_password_protected_post_is_a_dated_draft_and_the_report_says_why(
    runner, make, news, tmp_path
):
    path = export(
        tmp_path,
        item(50, "Members only", "members-only", password="s3cret"),
        item(51, "For everyone", "for-everyone"),
    )
    out = run_import(runner, path)

    locked = post(50)
    assert locked.status == PostStatus.DRAFT
    assert locked.published_at == datetime(2020, 5, 23, 8, 30, tzinfo=UTC)
    assert (
        'post 50 "Members only" was password-protected: imported as a draft, since Circle '
        "has no per-post passwords (publish it to show it to everyone); it keeps its date, "
        "2020-05-23 08:30 UTC"
    ) in out
    assert post(51).status == PostStatus.PUBLISHED
    assert "For everyone" not in out
    # A second run leaves it as it is.
    assert "Created:   nothing" in run_import(runner, path)
    # Published here, it takes its place in the listings by its WordPress date.
    publishing.publish_now(make.user("admin"), post(50))
    assert post(50).published_at == datetime(2020, 5, 23, 8, 30, tzinfo=UTC)


# -- 4. Custom fields: the SEO plugins' title and description ---------------------------------


def test_seo_plugins_fields_fill_the_seo_fields_and_other_fields_are_kept(
    runner, client, news, tmp_path
):
    path = export(
        tmp_path,
        item(60, "Yoast post", "yoast-post", extra=meta(
            "_yoast_wpseo_title", "Sleep, explained %%sep%% %%sitename%%"
        ) + meta("_yoast_wpseo_metadesc", "All about %%title%% in %%primary_category%%.")
          + meta("subtitle", "A night in the lab") + meta("_edit_lock", "1590000000:1")),
        item(61, "Rank Math post", "rank-math-post", extra=meta(
            "rank_math_title", "%title% %sep% %sitename%"
        ) + meta("rank_math_description", "Rank Math says hello.")),
        item(62, "AIOSEO post", "aioseo-post", extra=meta(
            "_aioseo_title", "#post_title — the #1 guide #separator_sa #site_title"
        ) + meta("_aioseo_description", "New AIOSEO description.")),
        item(63, "Old AIOSEO post", "old-aioseo-post", extra=meta(
            "_aioseop_title", "Old AIOSEO title"
        ) + meta("_aioseop_description", "Old AIOSEO description.")),
        item(64, "Puzzling post", "puzzling-post", extra=meta(
            "_yoast_wpseo_title", "%%title%% on %%currentdate%%"
        ) + meta("_yoast_wpseo_metadesc", "A plain description.")),
        item(65, "Plain post", "plain-post"),
    )
    out = run_import(runner, path)

    assert (post(60).seo_title, post(60).seo_description) == (
        "Sleep, explained", "All about Yoast post in News."
    )
    # The plugin's default title is the post's own: the page head shows it already.
    assert (post(61).seo_title, post(61).seo_description) == ("", "Rank Math says hello.")
    assert (post(62).seo_title, post(62).seo_description) == (
        "AIOSEO post — the #1 guide", "New AIOSEO description."
    )
    assert (post(63).seo_title, post(63).seo_description) == (
        "Old AIOSEO title", "Old AIOSEO description."
    )
    assert (post(64).seo_title, post(64).seo_description) == ("", "A plain description.")
    assert (
        """post 64 "Puzzling post": the SEO title '%%title%% on %%currentdate%%' """
        "(_yoast_wpseo_title): Circle cannot fill in %%currentdate%%"
    ) in out
    assert (post(65).seo_title, post(65).seo_description) == ("", "")
    # A custom field readers could see is kept; WordPress's own (underscored) ones are not,
    # and the report names neither.
    assert [(f.key, f.value) for f in post(60).custom_fields] == [
        ("subtitle", "A night in the lab")
    ]
    assert "subtitle" not in out
    assert "_edit_lock" not in out
    assert "custom field 'rank_math_title'" not in out

    # The post's page head uses them, and a second run changes nothing.
    page = client.get("/news/yoast-post").get_data(as_text=True)
    assert "<title>Sleep, explained · " in page
    assert 'content="All about Yoast post in News."' in page
    assert "Created:   nothing" in run_import(runner, path)


# -- 5. A dry run ------------------------------------------------------------------------------


def test_a_dry_run_leaves_the_upload_folder_untouched(runner, news, tmp_path):
    uploads = tmp_path / "wp-uploads"
    (uploads / "2020" / "05").mkdir(parents=True)
    Image.new("RGB", (900, 600), (10, 120, 200)).save(uploads / "2020" / "05" / "sea.jpg")
    attachment = """
	<item>
		<title><![CDATA[sea]]></title>
		<link>https://old.example.org/sea/</link>
		<dc:creator><![CDATA[anna]]></dc:creator>
		<wp:post_id>70</wp:post_id>
		<wp:post_date_gmt><![CDATA[2020-05-01 08:00:00]]></wp:post_date_gmt>
		<wp:status><![CDATA[inherit]]></wp:status>
		<wp:post_type><![CDATA[attachment]]></wp:post_type>
		<wp:attachment_url><![CDATA[https://old.example.org/wp-content/uploads/2020/05/sea.jpg]]></wp:attachment_url>
		""" + meta("_wp_attached_file", "2020/05/sea.jpg") + """
	</item>"""
    path = export(
        tmp_path,
        attachment,
        item(71, "By the sea", "by-the-sea", body=(
            '<img src="https://old.example.org/wp-content/uploads/2020/05/sea.jpg" alt="Sea">'
        )),
    )
    root = media_service.upload_root()
    root.mkdir(parents=True, exist_ok=True)

    def listing() -> list[str]:
        return sorted(str(p.relative_to(root)) for p in root.rglob("*"))

    before = listing()
    out = run_import(runner, path, "--uploads", str(uploads), "--dry-run")
    assert "dry run: nothing was saved" in out and "1 image" in out
    assert listing() == before  # no file, and no empty folder either
    assert post(71) is None

    # The real run stores the image (so the dry run did have something to write).
    run_import(runner, path, "--uploads", str(uploads))
    assert any(name.endswith(".webp") for name in listing())


# -- 6. Internal links -------------------------------------------------------------------------


def test_links_to_the_old_sites_posts_lead_to_their_new_addresses(runner, client, news, tmp_path):
    page = item(82, "About us", "about", link="https://old.example.org/about/").replace(
        "<wp:post_type><![CDATA[post]]>", "<wp:post_type><![CDATA[page]]>"
    )
    path = export(
        tmp_path,
        item(80, "First", "first", body=(
            '<p>Read <a href="https://old.example.org/?p=81" rel="nofollow noopener">the next'
            '</a>, <a href="https://www.old.example.org/2020/05/11/second-story/#end">its end'
            '</a>, <a href="/?page_id=82">us</a>, <a href="https://old.example.org/?p=999">'
            'a lost one</a> and <a href="https://elsewhere.example.com/?p=81">elsewhere</a>.</p>'
        )),
        item(81, "Second story", "second-story",
             link="https://old.example.org/2020/05/11/second-story/",
             body='<p>Back to <a href="http://old.example.org/?p=80">the first</a>.</p>'),
        page,
    )
    out = run_import(runner, path)

    first = post(80)
    assert '<a href="/news/second-story" rel="noopener">the next</a>' in first.body
    assert '<a href="/news/second-story#end" rel="noopener">its end</a>' in first.body
    assert '<a href="/about" rel="noopener">us</a>' in first.body
    # What was not imported, and other sites, stay links out.
    assert 'href="https://old.example.org/?p=999" rel="nofollow noopener"' in first.body
    assert 'href="https://elsewhere.example.com/?p=81" rel="nofollow noopener"' in first.body
    assert "the link to https://old.example.org/?p=999 leads to nothing imported" in out
    assert '<a href="/news/first" rel="noopener">the first</a>' in post(81).body
    newest = db.session.scalar(
        select(Revision).where(Revision.post_id == first.id).order_by(Revision.id.desc())
    )
    assert newest.body == first.body
    assert first.updated_at == datetime(2020, 5, 25, 8, 30, tzinfo=UTC)
    # Readers follow them, and a second run changes nothing.
    assert client.get("/news/second-story").status_code == 200
    again = run_import(runner, path)
    assert "Created:   nothing" in again and "Updated:   nothing" in again
    assert post(80).body == first.body
