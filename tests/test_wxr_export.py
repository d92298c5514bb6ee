"""`flask export-wxr`: a WordPress export of the magazine, parsed and imported again."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from io import BytesIO

import pytest
from PIL import Image
from sqlalchemy import func, select
from werkzeug.datastructures import FileStorage

from blog.extensions import db
from blog.models import Category, Comment, Media, Post, PostKind, PostStatus, User
from blog.sanitize import clean_comment_text
from blog.services import bylines, desk
from blog.services import media as media_service

WP = "{http://wordpress.org/export/1.2/}"
CONTENT = "{http://purl.org/rss/1.0/modules/content/}"
DC = "{http://purl.org/dc/elements/1.1/}"


def jpeg() -> bytes:
    """A real JPEG made by Pillow."""
    out = BytesIO()
    Image.new("RGB", (700, 400), (20, 140, 80)).save(out, format="JPEG")
    return out.getvalue()


@pytest.fixture
def magazine(runner):
    """The demo magazine, a threaded discussion, a cover image and posts in other states."""
    assert runner.invoke(args=["seed-demo"]).exit_code == 0
    people = {u.username: u for u in db.session.scalars(select(User))}
    story = db.session.scalar(select(Post).where(Post.title.like("Revolutionizing%")))
    picture = media_service.save_upload(
        FileStorage(stream=BytesIO(jpeg()), filename="lab.jpg"), people["author"], "A lab bench"
    )
    media_service.set_cover(story, picture, "A lab bench")
    bylines.set_people(None, story, None, ["author", "admin"])  # written with two others
    first = Comment(
        post=story, author=people["reader"], body="Thank you!\n\nVery clear.",
        body_html=clean_comment_text("Thank you!\n\nVery clear."), status="approved",
    )
    reply = Comment(
        post=story, author=people["editor"], parent=first, body="Glad it helped.",
        body_html=clean_comment_text("Glad it helped."), status="approved",
    )
    held = Comment(
        post=story, author=people["reader"], body="Is it <safe>?",
        body_html=clean_comment_text("Is it <safe>?"), status="pending",
    )
    db.session.add_all([first, reply, held])
    health = db.session.scalar(select(Category).where(Category.slug == "health"))
    tricky = desk.PostDraft(
        "A draft with ]]> inside", "<p>Tricky ]]> text &amp; more.</p>",
        category_id=health.id, tags=["odd ]]> tag"],
    )
    desk.file_post(tricky, people["author"])
    waiting = desk.PostDraft("Waiting for review", "<p>Please.</p>", category_id=health.id)
    desk.file_post(waiting, people["author"], status=PostStatus.PENDING)
    db.session.commit()
    return {"story": story, "picture": picture}


def export(runner, path) -> ET.Element:
    """Run export-wxr and parse what it wrote."""
    result = runner.invoke(args=["export-wxr", str(path)])
    assert result.exit_code == 0, result.output
    assert f"Wrote {path}" in result.output
    return ET.parse(path).getroot()


def test_export_is_a_wordpress_export(runner, magazine, tmp_path):
    root = export(runner, tmp_path / "site.xml")
    assert root.tag == "rss" and root.get("version") == "2.0"
    channel = root.find("channel")
    assert channel.findtext(f"{WP}wxr_version") == "1.2"
    assert channel.findtext(f"{WP}base_site_url") == "http://localhost"

    authors = {a.findtext(f"{WP}author_login") for a in channel.findall(f"{WP}author")}
    assert {"editor", "author"} <= authors
    categories = {c.findtext(f"{WP}category_nicename") for c in channel.findall(f"{WP}category")}
    assert categories == {"fashion", "business", "news", "storybook", "health"}
    tags = {t.findtext(f"{WP}tag_slug") for t in channel.findall(f"{WP}tag")}
    assert {"cancer", "immunotherapy", "car-t"} <= tags
    names = {t.findtext(f"{WP}tag_name") for t in channel.findall(f"{WP}tag")}
    assert "odd ]]> tag" in names  # a CDATA end inside CDATA is split, as WordPress does

    items = channel.findall("item")
    by_type: dict[str, list] = {}
    for item in items:
        by_type.setdefault(item.findtext(f"{WP}post_type"), []).append(item)
    assert len(by_type["post"]) == db.session.scalar(
        select(func.count()).select_from(Post).where(Post.kind == "post")
    )
    (about,) = by_type["page"]  # the demo's About page: no section, no parent
    assert about.findtext("link") == "http://localhost/about"
    assert about.findtext(f"{WP}post_parent") == "0" and about.find("category") is None
    # Every library image: the demo's drawn covers and the lab bench.
    assert len(by_type["attachment"]) == db.session.scalar(select(func.count()).select_from(Media))
    ids = [int(item.findtext(f"{WP}post_id")) for item in items]
    assert len(ids) == len(set(ids))  # posts and attachments share WordPress's id space

    picture = magazine["picture"]
    url = "http://localhost" + media_service.largest_url(picture)
    [attachment] = [
        a for a in by_type["attachment"] if a.findtext(f"{WP}attachment_url") == url
    ]
    meta = {
        m.findtext(f"{WP}meta_key"): m.findtext(f"{WP}meta_value")
        for m in attachment.findall(f"{WP}postmeta")
    }
    assert meta["_wp_attached_file"] == url.split("/uploads/", 1)[1]
    assert meta["_wp_attachment_image_alt"] == "A lab bench"

    story = magazine["story"]
    item = next(i for i in by_type["post"] if i.findtext(f"{WP}post_name") == story.slug)
    assert item.findtext("title") == story.title
    assert item.findtext("link") == f"http://localhost/health/{story.slug}"
    assert item.findtext(f"{WP}status") == "publish"
    assert item.findtext(f"{DC}creator") == story.author.username
    assert item.findtext(f"{WP}post_date_gmt") == story.published_at.strftime("%Y-%m-%d %H:%M:%S")
    assert item.findtext(f"{CONTENT}encoded").startswith("<p>")
    terms = {(c.get("domain"), c.get("nicename")) for c in item.findall("category")}
    assert ("category", "health") in terms and ("post_tag", "car-t") in terms
    thumbnail = [
        m.findtext(f"{WP}meta_value")
        for m in item.findall(f"{WP}postmeta")
        if m.findtext(f"{WP}meta_key") == "_thumbnail_id"
    ]
    assert thumbnail == [attachment.findtext(f"{WP}post_id")]
    comments = item.findall(f"{WP}comment")
    assert len(comments) == 3
    by_content = {c.findtext(f"{WP}comment_content"): c for c in comments}
    first, reply = by_content["Thank you!\n\nVery clear."], by_content["Glad it helped."]
    assert reply.findtext(f"{WP}comment_parent") == first.findtext(f"{WP}comment_id")
    assert first.findtext(f"{WP}comment_approved") == "1"
    assert by_content["Is it &lt;safe&gt;?"].findtext(f"{WP}comment_approved") == "0"

    statuses = {i.findtext("title"): i.findtext(f"{WP}status") for i in by_type["post"]}
    assert statuses["A draft with ]]&gt; inside"] == "draft"  # titles are HTML in WordPress
    assert statuses["Waiting for review"] == "pending"


def test_export_imports_into_an_empty_site(runner, magazine, second_site, tmp_path):
    path = tmp_path / "site.xml"
    source_uploads = media_service.upload_root()

    def shape(p: Post) -> tuple:
        """What a post or page must come back as (a page: no section, its parent's slug)."""
        section = p.category.slug if p.category else None
        parent = p.parent.slug if p.parent else None
        return (p.title, p.slug, p.status, p.kind, section, parent, tuple(t.slug for t in p.tags))

    about = db.session.scalar(select(Post).where(Post.slug == "about"))
    assert about is not None and about.is_page  # the demo's About page
    desk.file_post(
        desk.PostDraft("Our team", "<p>Who we are.</p>", parent_id=about.id),
        about.author, status=PostStatus.PUBLISHED, kind=PostKind.PAGE,
    )
    db.session.commit()
    export(runner, path)
    wanted = {shape(p) for p in db.session.scalars(select(Post))}
    threads = {
        (c.body, c.status, c.parent.body if c.parent else None, c.author.email)
        for c in db.session.scalars(select(Comment))
    }
    byline = [p.name for p in magazine["story"].authors]
    assert len(byline) == 3

    with second_site.app_context():
        result = second_site.test_cli_runner().invoke(
            args=["import-wxr", str(path), "--uploads", str(source_uploads)]
        )
        assert result.exit_code == 0, result.output
        assert "Failed:    nothing" in result.output
        got = {shape(p) for p in db.session.scalars(select(Post))}
        assert got == wanted
        assert ("Our team", "our-team", "published", "page", None, "about", ()) in got
        assert {
            (c.body, c.status, c.parent.body if c.parent else None, c.author.email)
            for c in db.session.scalars(select(Comment))
        } == threads
        story = db.session.scalar(select(Post).where(Post.slug == magazine["story"].slug))
        media = db.session.scalars(select(Media).where(Media.alt == "A lab bench")).one()
        assert story.cover_image == media_service.largest_url(media)
        assert story.cover_media_id == media.id
        assert media.alt == "A lab bench"
        assert [p.name for p in story.authors] == byline
        again = second_site.test_cli_runner().invoke(
            args=["import-wxr", str(path), "--uploads", str(source_uploads)]
        )
        assert "Created:   nothing" in again.output and "Updated:   nothing" in again.output


def test_export_to_a_missing_folder_fails_with_one_line(runner, tmp_path):
    result = runner.invoke(args=["export-wxr", str(tmp_path / "nowhere" / "site.xml")])
    assert result.exit_code == 1
    lines = [line for line in result.output.splitlines() if line.strip()]
    assert len(lines) == 1 and "No such folder" in lines[0]
