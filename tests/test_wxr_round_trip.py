"""The export round trip: export-wxr, then import-wxr into an empty Circle, brings it all back."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import select

from blog.extensions import db
from blog.models import Category, Comment, Post, PostStatus, Tag, User
from blog.sanitize import clean_comment_text
from blog.services import desk
from blog.services import users as user_service

from .test_wxr_fidelity import export, item, post, run_import

WHEN = datetime(2025, 3, 14, 9, 26, 53, tzinfo=UTC)


def comment(post: Post, author: User, body: str, parent: Comment | None = None) -> Comment:
    """An approved comment."""
    row = Comment(
        post=post, author=author, parent=parent, body=body,
        body_html=clean_comment_text(body), status="approved", created_at=WHEN,
    )
    db.session.add(row)
    return row


def site_shape() -> dict:
    """What a reader and an editor would notice about the site, independent of row ids."""
    posts = db.session.scalars(select(Post).order_by(Post.slug)).all()
    return {
        "posts": {
            p.slug: (
                p.title, p.kind, p.status, p.body, p.published_at,
                p.category.name if p.category else None,
                p.parent.slug if p.parent else None,
                sorted((t.name, t.slug) for t in p.tags),
                [(f.key, f.value) for f in p.custom_fields],
                (p.seo_title, p.seo_description),
                p.author.email,
            )
            for p in posts
        },
        "sections": sorted(
            (s.name, s.slug, s.description) for s in db.session.scalars(select(Category))
        ),
        "tags": sorted((t.name, t.slug) for t in db.session.scalars(select(Tag))),
        "comments": sorted(
            (
                c.post.slug, c.body, c.status,
                c.parent.body if c.parent else None,
                c.author.email, c.author.name, c.author.role.name,
            )
            for c in db.session.scalars(select(Comment))
        ),
    }


def test_an_export_imported_into_an_empty_circle_brings_the_same_site_back(
    make, runner, second_site, tmp_path
):
    writer = make.user("author", username="maria", display_name="Мария")
    health = make.section("Здоровье", slug="zdorove", description="О здоровье.")
    make.section("Empty section", slug="empty-section", description="Nothing yet.")
    desk.get_or_create_tags(["без постов"])  # a tag no post has
    story = make.post(
        author=writer, section=health, title="Сон и память", published_at=WHEN,
        body="<h2>Ночь</h2><p>Во сне память <strong>крепнет</strong>.</p>",
        tags=["Москва", "健康", "हिंदी"],
        custom_fields=[("subtitle", "Ночь в лаборатории"), ("source", "AP"), ("source", "Reuters")],
        seo_title="Как сон помогает памяти", seo_description="Коротко о сне и памяти.",
    )
    make.post(author=writer, section=health, title="A draft", status=PostStatus.DRAFT)
    about = make.page(author=writer, title="About us", published_at=WHEN,
                      custom_fields=[("team size", "4")])
    make.page(author=writer, title="Our team", parent=about, published_at=WHEN)

    rita = make.user("reader", username="rita", display_name="Rita")  # signed up herself
    guest = user_service.create_user(  # what an import makes for a WordPress guest
        "guest@example.net", "wp-guest", None, role="reader", display_name="A guest"
    )
    first = comment(story, rita, "Спасибо, очень ясно!")
    comment(story, guest, "Agreed.", parent=first)
    comment(story, guest, "Another thought.")
    db.session.commit()
    wanted = site_shape()
    assert len(wanted["posts"]) == 4 and len(wanted["comments"]) == 3

    path = tmp_path / "site.xml"
    result = runner.invoke(args=["export-wxr", str(path)])
    assert result.exit_code == 0, result.output
    written = path.read_text(encoding="utf-8")
    assert "<wp:comment_user_id>0</wp:comment_user_id>" in written  # the guest's

    with second_site.app_context():
        imported = second_site.test_cli_runner().invoke(args=["import-wxr", str(path)])
        assert imported.exit_code == 0, imported.output
        assert "Failed:    nothing" in imported.output
        got = site_shape()
        assert got["posts"] == wanted["posts"]
        assert got["sections"] == wanted["sections"]
        assert got["tags"] == wanted["tags"]
        assert got["comments"] == wanted["comments"]
        # The registered commenter is a user of the export, a reader again (never an
        # author); the guest is a guest again.
        back = db.session.scalar(select(User).where(User.email == rita.email))
        assert (back.username, back.wp_login, back.role.name) == ("rita", "rita", "reader")
        guest_back = db.session.scalar(select(User).where(User.email == guest.email))
        assert guest_back.wp_login is None and guest_back.role.name == "reader"

        again = second_site.test_cli_runner().invoke(args=["import-wxr", str(path)])
        assert "Created:   nothing" in again.output and "Updated:   nothing" in again.output
        assert site_shape() == got


def test_empty_categories_become_sections_and_unused_tags_tags(runner, make, tmp_path):
    make.section("News", slug="news", position=1)
    unused_tag = (
        "<wp:tag><wp:term_id>9</wp:term_id><wp:tag_slug><![CDATA[%d0%bd%d0%be%d0%b2%d0%be%d0%b5]]>"
        "</wp:tag_slug><wp:tag_name><![CDATA[Новое]]></wp:tag_name></wp:tag>"
    )
    path = export(tmp_path, item(80, "Only news", "only-news"))
    path.write_text(path.read_text().replace("\t<item>", unused_tag + "\n\t<item>", 1))
    out = run_import(runner, path)
    # 'reviews' (and its child 'gadgets') hold no item: an empty section, as in WordPress.
    assert "section 'Reviews' (/category/reviews) was created" in out
    assert db.session.scalar(select(Tag).where(Tag.name == "Новое")).slug == "новое"
    assert "Created:   nothing" in run_import(runner, path)


def test_a_category_used_beside_a_section_makes_no_empty_section(runner, make, tmp_path):
    make.section("News", slug="news", position=1)
    extra = '<category domain="category" nicename="reviews"><![CDATA[Reviews]]></category>'
    run_import(runner, export(tmp_path, item(81, "News and reviews", "nr", extra=extra)))
    assert db.session.scalar(select(Category).where(Category.slug == "reviews")) is None
    assert [t.name for t in post(81).tags] == ["Reviews"]


def test_post_formats_are_named_as_not_brought_over(runner, make, tmp_path):
    make.section("News", slug="news", position=1)
    aside = (
        '<category domain="post_format" nicename="post-format-aside">'
        "<![CDATA[Aside]]></category>"
    )
    out = run_import(runner, export(tmp_path, item(82, "An aside", "an-aside", extra=aside)))
    assert "post formats (Circle has none: such posts are standard posts here)" in out
    assert post(82).title == "An aside"
