"""`flask import-wxr`: a WordPress export brought over, checked item by item, re-run unchanged."""

from __future__ import annotations

import os
import re
import tracemalloc
from datetime import UTC, datetime
from pathlib import Path

import pytest
from PIL import Image
from sqlalchemy import func, select

from blog.extensions import db
from blog.models import (
    Category,
    Comment,
    Media,
    Post,
    PostStatus,
    Redirect,
    Revision,
    Tag,
    User,
)
from blog.services import media as media_service
from blog.services.wordpress import posts as wp_posts
from blog.services.wordpress import reader as wp_reader

DATA = Path(__file__).resolve().parent / "data"
EXPORT = DATA / "wordpress-export.xml"


def snapshot() -> dict:
    """Every row of every table, in key order: what a second import must leave alone."""
    rows = {}
    for table in db.metadata.sorted_tables:
        order = list(table.primary_key.columns) or list(table.columns)
        rows[table.name] = db.session.execute(select(table).order_by(*order)).all()
    db.session.rollback()
    return rows


def uploaded_files() -> list[str]:
    """The files in the upload folder, relative to it."""
    root = media_service.upload_root()
    return sorted(str(p.relative_to(root)) for p in root.rglob("*") if p.is_file())


def post(wp_id: int) -> Post | None:
    """The post imported from WordPress post wp_id."""
    return db.session.scalar(select(Post).where(Post.wp_post_id == wp_id))


def comment(wp_id: int) -> Comment:
    """The comment imported from WordPress comment wp_id."""
    return db.session.scalar(select(Comment).where(Comment.wp_comment_id == wp_id))


def count(model) -> int:
    """How many rows a model has."""
    return db.session.scalar(select(func.count()).select_from(model))


@pytest.fixture
def magazine(make):
    """Two sections and a Circle post whose slug the export also uses."""
    health = make.section("Health", slug="health", position=1)
    news = make.section("News", slug="news", position=2)
    make.post(section=news, title="Welcome", slug="welcome")
    return {"health": health, "news": news}


@pytest.fixture
def wp_uploads(tmp_path) -> Path:
    """A local copy of wp-content/uploads holding the export's one real image."""
    folder = tmp_path / "wp-uploads" / "2020" / "05"
    folder.mkdir(parents=True)
    image = Image.new("RGB", (640, 400), (200, 120, 40))
    image.save(folder / "sunrise.jpg", format="JPEG", quality=90)
    return tmp_path / "wp-uploads"


def run_import(runner, *args, path: Path = EXPORT):
    """Run the import command and return its result."""
    return runner.invoke(args=["import-wxr", str(path), *args])


def changed_export(folder: Path, *changes: tuple[str, str]) -> Path:
    """A copy of the export with each (old, new) text replaced, as WordPress changed it."""
    text = EXPORT.read_text(encoding="utf-8")
    for old, new in changes:
        assert old in text, old
        text = text.replace(old, new)
    path = folder / "changed.xml"
    path.write_text(text, encoding="utf-8")
    return path


def one_line_error(result) -> str:
    """The single line a failed command printed."""
    lines = [line for line in result.output.splitlines() if line.strip()]
    assert len(lines) == 1, result.output
    return lines[0]


def test_import_brings_every_item_over(runner, magazine, wp_uploads):
    result = run_import(runner, "--uploads", str(wp_uploads), "--map", "travel=news")
    assert result.exit_code == 0, result.output
    out = result.output

    # Posts: dates, slugs, statuses and sections as WordPress had them.
    sleep = post(101)
    assert sleep.title == "Sleep better tonight"
    assert sleep.slug == "sleep-better-tonight"
    assert sleep.status == PostStatus.PUBLISHED
    assert sleep.published_at == datetime(2020, 5, 12, 8, 30, tzinfo=UTC)
    assert sleep.created_at == datetime(2020, 5, 12, 8, 30, tzinfo=UTC)
    assert sleep.category.slug == "health"  # sleep → wellness → health (nested)
    assert sleep.author.wp_login == "jdoe"
    assert sleep.featured  # sticky
    assert {t.slug for t in sleep.tags} == {"cancer", "sleep-rest"}
    assert sleep.excerpt == "Why sleep matters, and how to get more."
    assert sleep.excerpt_written

    draft = post(102)
    assert draft.status == PostStatus.DRAFT and draft.published_at is None
    assert draft.slug == "a-draft-about-wellness"  # no post_name: from the title
    assert draft.category.slug == "health"
    assert draft.created_at == datetime(2020, 5, 20, 10, 0, tzinfo=UTC)

    private = post(103)
    assert private.status == PostStatus.DRAFT
    recipes = private.category
    assert recipes.slug == "recipes" and recipes.name == "Recipes & Food"
    assert recipes.description == "What we cook."
    assert recipes.position > magazine["news"].position
    assert "uncategorized" not in {t.slug for t in private.tags}

    assert post(104) is None
    assert 'post 104 "Thrown away": in the WordPress trash' in out

    welcome = post(105)
    assert welcome.slug == "welcome-2" and welcome.category.slug == "news"  # --map travel=news
    assert "the slug 'welcome' was taken here; it is 'welcome-2' now" in out

    page = post(106)
    assert page.is_page and page.category_id is None and page.status == PostStatus.PUBLISHED

    scheduled = post(107)
    assert scheduled.status == PostStatus.SCHEDULED
    assert scheduled.published_at == datetime(2030, 1, 1, 9, 0, tzinfo=UTC)
    assert scheduled.category.slug == "admin-2"  # "admin" is a reserved first segment

    assert post(108).status == PostStatus.PENDING
    untitled = post(109)
    assert untitled.title == "Untitled thoughts" and untitled.body == ""

    # Bodies: auto-paragraphs, captions as figures, images re-hosted, the rest reported.
    body = sleep.body
    assert "<p>Most of us sleep too little.<br>\nHere is why it matters.</p>" in body
    assert "<figure><img" in body
    assert "<figcaption>The sun comes up over the bay.</figcaption>" in body
    media = db.session.scalar(select(Media).where(Media.wp_attachment_id == 201))
    assert f'src="{media_service.largest_url(media)}"' in body
    assert "old.example.com/wp-content/uploads/2020/05/sunrise" not in body
    assert "<h2>What the research says</h2>" in body
    assert "<script" not in body and "alert" not in body
    assert '<a href="https://www.youtube.com/embed/abc123"' in body
    assert "<table><tbody><tr><td>Hours</td><td>8</td></tr></tbody></table>" in body
    assert "[gallery" not in body and "[caption" not in body
    # The gallery: 201 re-hosted, 202 (no file under --uploads) left on the old site.
    gallery = body[body.index('<figure class="gallery">') :]
    assert gallery.count("<figure><img") == 2
    assert gallery.index(f'src="{media_service.largest_url(media)}"') < gallery.index(
        'src="http://old.example.com/wp-content/uploads/2020/05/missing.jpg"'
    )
    assert "embedded <iframe>: kept as a link to https://www.youtube.com/embed/abc123" in out
    assert "markup Circle does not keep" not in out  # tables are kept now

    # The featured image, re-hosted from --uploads through the media library.
    assert sleep.cover_image == media_service.largest_url(media)
    assert sleep.cover_media_id == media.id
    assert sleep.cover_alt == "Sunrise over the sea"
    assert media.alt == "Sunrise over the sea" and media.mime == "image/jpeg"
    for name in media_service.file_names(media):
        assert (media_service.upload_root() / name).is_file()
    assert "attachment 202 'missing.jpg': no file 2020/05/missing.jpg under --uploads" in out
    assert "http://old.example.com/wp-content/uploads/2020/05/missing.jpg" in out
    assert "attachment 203 'sleep-study.pdf': not an image" in out

    # Authors: created as authors without passwords, flagged to set one.
    jane = db.session.scalar(select(User).where(User.wp_login == "jdoe"))
    assert jane.role.name == "author" and jane.email == "jane@old.example.com"
    assert jane.display_name == "Jane Doe"
    assert jane.password_hash is None and jane.must_set_password
    bob = db.session.scalar(select(User).where(User.wp_login == "Bob Smith"))
    assert bob.username == "bob-smith" and bob.email == "bob-smith@imported.invalid"
    assert bob.role.name == "author" and bob.must_set_password
    assert private.author_id == bob.id

    # Comments: approval state kept, threads one level deep, pingbacks left out.
    top = comment(501)
    assert top.post_id == sleep.id and top.parent_id is None
    assert top.status == "approved" and top.ip_address == "203.0.113.7"
    assert top.body == "Great piece!\n\nI read the study (https://example.org/study) too."
    assert top.body_html == (  # shown with its link, which nobody endorses
        '<p>Great piece!</p>\n<p>I read <a href="https://example.org/study" '
        'rel="nofollow ugc noopener">the study</a> too.</p>'
    )
    assert top.created_at == datetime(2020, 5, 12, 10, 0, tzinfo=UTC)
    reply, deeper = comment(502), comment(503)
    assert reply.parent_id == top.id
    assert deeper.parent_id == top.id  # depth 3 hangs from the thread's first comment
    assert reply.author_id == jane.id  # the commenter is the imported author
    assert comment(504).status == "pending"
    assert comment(505).status == "spam"
    assert comment(506).status == "trash"
    assert comment(507) is None
    assert "pingbacks (Circle has none)" in out
    riya = top.author
    assert riya.role.name == "reader" and riya.email == "riya@readers.example.org"
    assert riya.must_set_password and riya.password_hash is None
    assert comment(506).author_id == riya.id  # one account per commenter address
    passer_by = comment(504).author
    assert passer_by.email == "a-passer-by@commenters.imported.invalid"

    # The report's totals.
    assert "Created:   2 sections, 2 authors, 3 commenters" in out
    assert "7 posts, 1 page, 6 comments, 1 image" in out
    assert "Failed:    1 attachment" in out
    assert "1 navigation menu entries" in out
    assert count(Revision) == 1 + 8  # the Circle post's, and one per imported post


def test_second_import_changes_nothing(runner, magazine, wp_uploads):
    first = run_import(runner, "--uploads", str(wp_uploads), "--map", "travel=news")
    assert first.exit_code == 0, first.output
    before, files = snapshot(), uploaded_files()

    second = run_import(runner, "--uploads", str(wp_uploads), "--map", "travel=news")
    assert second.exit_code == 0, second.output
    assert snapshot() == before
    assert uploaded_files() == files
    assert "Created:   nothing" in second.output
    assert "Updated:   nothing" in second.output
    assert "unchanged: 7 posts, 1 page, 6 comments, 1 image" in second.output
    assert {p.version for p in db.session.scalars(select(Post))} == {1}


def test_import_redirects_every_old_address(runner, client, magazine, wp_uploads):
    result = run_import(runner, "--uploads", str(wp_uploads), "--map", "travel=news")
    assert result.exit_code == 0, result.output
    walks = {
        "/2020/05/12/sleep-better-tonight/": "/health/sleep-better-tonight",
        "/2020/05/12/sleep-better/": "/health/sleep-better-tonight",  # an older slug
        "/?p=101": "/health/sleep-better-tonight",
        "/2019/01/01/welcome/": "/news/welcome-2",
        "/?p=105": "/news/welcome-2",
        "/about-us/": "/about-us",  # a page, at the top level
        "/?p=106": "/about-us",
        "/category/travel": "/category/news",
        "/category/health/wellness": "/category/health",
        "/category/health/wellness/sleep/": "/category/health",
        "/category/admin": "/category/admin-2",
    }
    for old, new in walks.items():
        response = client.get(old)
        assert response.status_code == 301, old
        assert response.location.endswith(new), (old, response.location)
        assert client.get(response.location).status_code == 200, new
    assert client.get("/?p=102").status_code == 404  # a draft is not shown
    assert client.get("/?p=104").status_code == 404  # left in WordPress's trash


def test_dry_run_reports_and_keeps_nothing(runner, magazine, wp_uploads):
    before, files = snapshot(), uploaded_files()
    result = run_import(runner, "--uploads", str(wp_uploads), "--dry-run")
    assert result.exit_code == 0, result.output
    assert "dry run: nothing was saved" in result.output
    assert "7 posts, 1 page, 6 comments, 1 image" in result.output
    assert snapshot() == before
    assert uploaded_files() == files


def test_without_uploads_images_stay_links(runner, magazine):
    result = run_import(runner)
    assert result.exit_code == 0, result.output
    sleep = post(101)
    # Covers are library images only: a featured image left on the old site gives none.
    assert sleep.cover_image is None and sleep.cover_media_id is None
    assert "featured image 201 (not re-hosted, so no cover)" in result.output
    assert "http://old.example.com/wp-content/uploads/2020/05/sunrise-300x200.jpg" in sleep.body
    assert count(Media) == 0
    assert "no --uploads folder was given" in result.output
    assert "http://old.example.com/wp-content/uploads/2020/05/sunrise.jpg" in result.output


def test_later_run_with_uploads_rehosts_the_images(runner, magazine, wp_uploads):
    assert run_import(runner).exit_code == 0
    result = run_import(runner, "--uploads", str(wp_uploads))
    assert result.exit_code == 0, result.output
    media = db.session.scalar(select(Media).where(Media.wp_attachment_id == 201))
    sleep = post(101)
    assert sleep.cover_image == media_service.largest_url(media)
    assert sleep.version == 2  # updated once, with a revision
    assert "Updated:   1 post" in result.output


def test_a_failure_half_way_leaves_nothing_behind(runner, magazine, wp_uploads, monkeypatch):
    before, files = snapshot(), uploaded_files()
    real = wp_posts.import_post

    def failing(context, item, *prepared):
        """Break on the fifth post, after images, people and posts were written."""
        if item.wp_id == 105:
            raise RuntimeError("the disk is full")
        return real(context, item, *prepared)

    monkeypatch.setattr(wp_posts, "import_post", failing)
    result = run_import(runner, "--uploads", str(wp_uploads))
    assert result.exit_code == 1
    assert "The import stopped at post 105 ('Welcome'): the disk is full." in result.output
    assert "Nothing was saved." in result.output
    assert snapshot() == before
    assert uploaded_files() == files


def test_unknown_section_option_maps_unknown_categories(runner, magazine):
    sections = count(Category)
    result = run_import(runner, "--unknown-section", "news")
    assert result.exit_code == 0, result.output
    assert count(Category) == sections
    assert post(103).category.slug == "news"  # recipes
    assert post(105).category.slug == "news"  # travel
    assert post(107).category.slug == "news"  # admin
    assert post(106).is_page and post(106).category_id is None  # a page has no section
    assert post(101).category.slug == "health"  # known by slug


def test_a_changed_wordpress_post_is_updated_with_a_revision(runner, magazine, tmp_path):
    assert run_import(runner).exit_code == 0
    changed = changed_export(
        tmp_path, ("<![CDATA[Sleep better tonight]]>", "<![CDATA[Sleep much better tonight]]>")
    )
    result = run_import(runner, path=changed)
    assert result.exit_code == 0, result.output
    assert "Updated:   1 post" in result.output
    sleep = post(101)
    assert sleep.title == "Sleep much better tonight" and sleep.version == 2
    assert count(Revision) == 1 + 8 + 1
    assert db.session.scalar(select(func.count()).select_from(Post)) == 1 + 8


def test_a_renamed_wordpress_post_moves_through_the_writer(runner, client, magazine, tmp_path):
    assert run_import(runner).exit_code == 0
    # The Circle post that took 'welcome' first gives it up: the import's 'welcome-2' stays.
    circle = db.session.scalar(select(Post).where(Post.slug == "welcome"))
    circle.slug = "hello-again"
    db.session.commit()
    changed = changed_export(
        tmp_path,
        ("<wp:post_name><![CDATA[sleep-better-tonight]]>", "<wp:post_name><![CDATA[sleep-well]]>"),
        ("Welcome to the old site.", "Welcome to the new site."),
    )
    result = run_import(runner, path=changed)
    assert result.exit_code == 0, result.output
    assert "Updated:   2 posts" in result.output
    # The numbered slug the first run gave stays: its address does not move.
    welcome = post(105)
    assert welcome.slug == "welcome-2" and welcome.version == 2
    assert "new site" in welcome.body
    assert client.get(f"/{welcome.category.slug}/welcome-2").status_code == 200
    # A new WordPress slug moves the post; the writer keeps its old address (301).
    assert post(101).slug == "sleep-well"
    for old in ("/health/sleep-better-tonight", "/2020/05/12/sleep-better-tonight/"):
        response = client.get(old)
        assert response.status_code == 301, old
        assert response.location.endswith("/health/sleep-well")
    assert client.get("/health/sleep-well").status_code == 200
    # Running the renamed file again changes nothing.
    assert "Updated:   nothing" in run_import(runner, path=changed).output


def test_edits_made_in_circle_survive_a_rerun(runner, magazine):
    assert run_import(runner).exit_code == 0
    sleep = post(101)
    sleep.title = "Edited by our editor"
    db.session.commit()
    result = run_import(runner)
    assert result.exit_code == 0, result.output
    assert post(101).title == "Edited by our editor"
    assert "Updated:   nothing" in result.output


def test_import_into_an_empty_site_creates_the_sections(runner):
    result = run_import(runner)
    assert result.exit_code == 0, result.output
    slugs = {s.slug for s in db.session.scalars(select(Category))}
    assert {"health", "recipes", "travel", "admin-2"} <= slugs and "pages" not in slugs
    assert post(106).is_page


@pytest.mark.parametrize(
    "args,message",
    [
        (["missing.xml"], "No such file"),
        ([str(EXPORT), "--map", "travel"], "--map takes OLD=NEW"),
        ([str(EXPORT), "--map", "travel=nowhere"], "no section 'nowhere'"),
        ([str(EXPORT), "--unknown-section", "nowhere"], "--unknown-section: there is no section"),
        ([str(EXPORT), "--uploads", "/no/such/folder"], "is not a folder"),
    ],
)
def test_bad_input_exits_1_with_one_line(runner, magazine, args, message):
    before = snapshot()
    result = runner.invoke(args=["import-wxr", *args])
    assert result.exit_code == 1
    assert message in one_line_error(result)
    assert snapshot() == before


def test_broken_xml_imports_nothing(runner, magazine, tmp_path):
    text = EXPORT.read_text(encoding="utf-8")
    broken = tmp_path / "broken.xml"
    broken.write_text(text[: int(len(text) * 0.8)], encoding="utf-8")  # cut off mid-file
    before, files = snapshot(), uploaded_files()
    result = run_import(runner, path=broken)
    assert result.exit_code == 1
    assert "is not well-formed XML" in one_line_error(result)
    assert "nothing was imported" in result.output
    assert snapshot() == before and uploaded_files() == files


@pytest.mark.parametrize(
    "content,message",
    [
        ('<?xml version="1.0"?><rss version="2.0"><channel><title>A feed</title>'
         "<item><title>Hello</title></item></channel></rss>", "no wp:wxr_version"),
        ("<html><body><p>Hello</p></body></html>", "root element is <html>"),
        ("just some text", "not well-formed XML"),
    ],
)
def test_a_file_that_is_not_a_wordpress_export_is_refused(
    runner, magazine, tmp_path, content, message
):
    path = tmp_path / "not-wxr.xml"
    path.write_text(content, encoding="utf-8")
    before = snapshot()
    result = run_import(runner, path=path)
    assert result.exit_code == 1
    line = one_line_error(result)
    assert message in line and "Nothing was imported" in line or "nothing was imported" in line
    assert snapshot() == before


def test_reading_streams_with_flat_memory(tmp_path):
    """A large export is read one item at a time: memory does not grow with the file."""
    head, _, rest = EXPORT.read_text(encoding="utf-8").partition("<item>")
    item = "<item>" + rest.split("</item>", 1)[0] + "</item>\n"
    big = tmp_path / "big.xml"
    with big.open("w", encoding="utf-8") as out:
        out.write(head)
        for _ in range(3000):
            out.write(item)
        out.write("</channel></rss>\n")
    size = big.stat().st_size
    assert size > 15_000_000
    tracemalloc.start()
    try:
        seen = sum(1 for _ in wp_reader.iter_items(big))
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert seen == 3000
    assert peak < size / 10, f"peak {peak} bytes for a {size}-byte file"


def _theme_unit_test() -> Path:
    """The path of WordPress's theme unit test export, from CIRCLE_WXR_FIXTURE."""
    raw = os.environ.get("CIRCLE_WXR_FIXTURE")
    if not raw:
        if os.environ.get("CI"):
            pytest.fail("CIRCLE_WXR_FIXTURE must be set in CI (see .ci/run)")
        pytest.skip("CIRCLE_WXR_FIXTURE is not set: WordPress's theme unit test export is absent")
    path = Path(raw)
    if not path.is_file():
        pytest.fail(f"CIRCLE_WXR_FIXTURE names a missing file: {path}")
    return path


def test_wordpress_theme_unit_test_imports_and_reimports_unchanged(runner, magazine):
    fixture = _theme_unit_test()
    first = run_import(runner, path=fixture)
    assert first.exit_code == 0, first.output
    out = first.output
    assert "Failed:    nothing" in out
    types = wp_reader.scan_wxr(fixture).types
    assert count(Post) == 1 + types["post"] + types["page"]  # none of them is in the trash
    assert "Not brought over:" in out
    # Tables, headings and captioned images arrive as the editor's own markup.
    blocks = post(8).body  # "WP 6.1 Text category blocks"
    assert re.search(r"<table><thead><tr><th>header label one</th>.*?</thead><tbody><tr>"
                     r"<td>table cell</td>", blocks)
    assert re.findall(r"<(h[1-6])>", blocks) == ["h2", "h2", "h3", "h4", "h4", "h4"]  # h1-h6
    assert "<figcaption>Table caption</figcaption></figure>" in blocks
    aligned = post(1177).body  # "Markup: Image Alignment": [caption] shortcodes
    assert re.search(r'<figure><img alt="Image Alignment 580x300" src="[^"]+"[^>]*>'
                     r"<figcaption>Look at 580x300 getting some <a [^>]*>caption</a> love."
                     r"</figcaption></figure>", aligned)
    assert "[caption" not in aligned and "wp-caption" not in aligned
    # Galleries: shortcodes with ids and without (the post's own images), and blocks.
    assert post(555).body.count('<figure class="gallery">') == 10
    assert post(1752).body.count('<figure class="gallery">') == 8
    assert "[gallery] shortcode" not in out
    assert "pingbacks (Circle has none)" in out and "trackbacks (Circle has none)" in out
    assert "navigation menu entries" in out
    assert "Kept as links to the old site" in out
    assert "https://wpthemetestdata.files.wordpress.com/2008/06/canola2.jpg" in out
    # Odd titles, empty posts and threaded comments came through.
    assert post(1169).title == "Edge case no title"
    assert post(1170).body == ""
    assert post(1173).title == "Markup: Title With Markup"
    assert post(1174).title.endswith("~`!@#$%^&*()-_=+{}[]/\\;:'\"?,.>")
    assert len(post(1175).title) <= 200
    assert post(1153).status == PostStatus.SCHEDULED
    assert post(1164).status == PostStatus.DRAFT
    assert post(1168).status == PostStatus.DRAFT  # password-protected
    # Videos: an address alone on its line, and a block editor embed with its caption.
    assert '<figure class="embed" data-embed="youtube" data-embed-id="SQEQr7c0-dw">' in (
        post(1161).body
    )
    assert 'data-embed-id="ex8fMxXJDJw"' in post(1738).body
    # WordPress pages are pages here, each under its WordPress parent, at /<slug>.
    pages = db.session.scalars(select(Post).where(Post.kind == "page")).all()
    assert len(pages) == types["page"]
    assert all(page.category_id is None and not page.tags for page in pages)
    about = post(2)
    assert about.is_page and about.slug == "about" and about.parent_id is None
    assert post(155).parent_id == about.id and post(1134).parent_id == about.id
    assert post(172).parent_id == post(173).id and post(173).parent_id == post(174).id
    assert post(748).parent_id == post(173).id and post(174).parent_id is None
    assert "comments on pages (Circle's pages take no comments)" in out
    replies = db.session.scalars(select(Comment).where(Comment.parent_id.is_not(None))).all()
    assert replies and all(r.parent.parent_id is None for r in replies)
    logins = {u.wp_login for u in db.session.scalars(select(User)) if u.wp_login}
    assert logins == {"themedemos", "themereviewteam"}  # a stray '>' in one dc:creator
    assert db.session.scalar(select(func.count()).select_from(Tag)) > 100
    assert db.session.scalar(select(func.count()).select_from(Redirect)) > 50

    before = snapshot()
    second = run_import(runner, path=fixture)
    assert second.exit_code == 0, second.output
    assert "Created:   nothing" in second.output and "Updated:   nothing" in second.output
    assert snapshot() == before
