"""Custom fields (post meta): kept by import-wxr, edited on the desk, written by export-wxr."""

from __future__ import annotations

import xml.etree.ElementTree as ET

import pytest
from sqlalchemy import func, select

from blog.extensions import db
from blog.models import CustomField, Post, PostStatus
from blog.services import custom_fields

from .conftest import csrf_from
from .test_wxr_fidelity import export, item, meta, post, run_import

WP = "{http://wordpress.org/export/1.2/}"
DRAFT = PostStatus.DRAFT


@pytest.fixture
def news(make):
    """The section the export's posts go to."""
    return make.section("News", slug="news", position=1)


def fields(p: Post) -> list[tuple[str, str]]:
    """A post's custom fields as (key, value), in order."""
    db.session.refresh(p)
    return [(f.key, f.value) for f in p.custom_fields]


# -- Import ------------------------------------------------------------------------------------


def test_import_keeps_readers_custom_fields_in_order_and_reports_what_it_drops(
    runner, news, tmp_path
):
    path = export(
        tmp_path,
        item(70, "Fielded post", "fielded-post", extra=(
            meta("mood", "calm")
            + meta("_edit_lock", "1590000000:1")
            + meta("source", "Reuters")
            + meta("mood", "curious")  # WordPress keeps repeated keys
            + meta("_yoast_wpseo_title", "A fielded title")
            + meta("rank_math_focus_keyword", "fields")
            + meta("_wp_page_template", "templates/wide.php")
            + meta("huge", "x" * (custom_fields.MAX_VALUE + 1))
        )),
    )
    out = run_import(runner, path)
    fielded = post(70)
    assert fields(fielded) == [("mood", "calm"), ("mood", "curious"), ("source", "Reuters")]
    assert fielded.seo_title == "A fielded title"
    # Kept fields are not reported; bookkeeping is skipped silently; the rest is named.
    assert "'mood'" not in out and "_edit_lock" not in out and "rank_math" not in out
    assert "its page template 'templates/wide.php'" in out
    assert "the custom field 'huge'" in out and "10,000 characters" in out

    again = run_import(runner, path)
    assert "Created:   nothing" in again and "Updated:   nothing" in again
    assert db.session.scalar(select(func.count()).select_from(CustomField)) == 3


def test_a_changed_wordpress_post_brings_its_new_fields_without_duplicates(
    runner, news, tmp_path
):
    run_import(runner, export(tmp_path, item(71, "Post", "post-71", extra=meta("a", "1"))))
    run_import(
        runner,
        export(tmp_path, item(71, "Post", "post-71", extra=meta("a", "2") + meta("b", "3"))),
    )
    assert fields(post(71)) == [("a", "2"), ("b", "3")]
    assert db.session.scalar(select(func.count()).select_from(CustomField)) == 2


# -- The desk ----------------------------------------------------------------------------------


def edit_form(client, p: Post) -> dict:
    """The editor's form for p as the page shows it (the fields the test needs)."""
    page = client.get(f"/editor/posts/{p.id}/edit").get_data(as_text=True)
    return {
        "csrf_token": csrf_from(page),
        "title": p.title,
        "body": p.body,
        "category": str(p.category_id),
        "version": str(p.version),
    }


def test_the_editor_shows_changes_adds_and_removes_custom_fields(make, client, auth):
    author = make.user("author")
    story = make.post(
        author=author, status=DRAFT, custom_fields=[("mood", "calm"), ("source", "AP")]
    )
    auth.login(author.username)
    page = client.get(f"/editor/posts/{story.id}/edit").get_data(as_text=True)
    assert "<legend>Custom fields</legend>" in page
    assert 'value="mood"' in page and "\ncalm</textarea>" in page
    assert '<label for="custom_fields-0-key">Name</label>' in page

    data = edit_form(client, story)
    data.update({
        "custom_fields-0-key": "mood", "custom_fields-0-value": "stormy",
        "custom_fields-1-key": "source", "custom_fields-1-value": "AP",
        "custom_fields-1-remove": "y",
        "custom_fields-2-key": "подзаголовок", "custom_fields-2-value": "Ночь в\x00 лаборатории",
        "custom_fields-3-key": "", "custom_fields-3-value": "",
    })
    response = client.post(f"/editor/posts/{story.id}/edit", data=data)
    assert response.status_code == 302
    assert fields(story) == [("mood", "stormy"), ("подзаголовок", "Ночь в лаборатории")]


@pytest.mark.parametrize(
    ("key", "value", "message"),
    [
        ("_secret", "x", "begins with an underscore"),
        ("k" * 256, "x", "A custom field name has at most 255 characters."),
        ("long", "v" * (custom_fields.MAX_VALUE + 1), "is longer than 10,000 characters"),
        ("", "a value without a name", "A custom field needs a name."),
    ],
)
def test_the_editor_refuses_bad_custom_fields(make, client, auth, key, value, message):
    author = make.user("author")
    story = make.post(author=author, status=DRAFT)
    auth.login(author.username)
    data = edit_form(client, story)
    data.update({"custom_fields-0-key": key, "custom_fields-0-value": value})
    response = client.post(f"/editor/posts/{story.id}/edit", data=data)
    assert response.status_code == 400
    assert message in response.get_data(as_text=True)
    assert fields(story) == []


def test_the_editor_refuses_more_fields_than_a_post_keeps(make, client, auth):
    author = make.user("author")
    story = make.post(author=author, status=DRAFT)
    auth.login(author.username)
    data = edit_form(client, story)
    for n in range(custom_fields.MAX_FIELDS + 1):
        data[f"custom_fields-{n}-key"] = f"k{n}"
        data[f"custom_fields-{n}-value"] = "v"
    response = client.post(f"/editor/posts/{story.id}/edit", data=data)
    assert response.status_code == 400
    assert f"at most {custom_fields.MAX_FIELDS} custom fields" in response.get_data(as_text=True)
    assert fields(story) == []


def test_someone_who_may_not_edit_the_post_cannot_change_its_fields(make, client, auth):
    story = make.post(status=DRAFT, custom_fields=[("mood", "calm")])
    other = make.user("author")
    auth.login(other.username)
    data = edit_form(client, story)
    data.update({"custom_fields-0-key": "mood", "custom_fields-0-value": "hijacked"})
    response = client.post(f"/editor/posts/{story.id}/edit", data=data)
    assert response.status_code in (403, 404)
    assert fields(story) == [("mood", "calm")]


def test_an_autosave_leaves_the_custom_fields_alone(make, client, auth):
    author = make.user("author")
    story = make.post(author=author, status=DRAFT, custom_fields=[("mood", "calm")])
    auth.login(author.username)
    data = edit_form(client, story)
    data.update({"body": "<p>New words.</p>", "custom_fields-0-key": "mood",
                 "custom_fields-0-value": "changed by an autosave"})
    response = client.post(
        f"/editor/posts/{story.id}/autosave", data=data, headers={"Accept": "application/json"}
    )
    assert response.status_code == 200
    assert fields(story) == [("mood", "calm")]


def test_a_page_keeps_custom_fields_too(make, client, auth):
    admin = make.user("admin")
    about = make.page(author=admin, title="About", custom_fields=[("team", "four")])
    auth.login(admin.username)
    page = client.get(f"/editor/pages/{about.id}/edit").get_data(as_text=True)
    assert 'value="team"' in page
    data = {
        "csrf_token": csrf_from(page), "title": "About", "body": about.body,
        "version": str(about.version), "parent": "",
        "custom_fields-0-key": "team", "custom_fields-0-value": "five",
    }
    response = client.post(f"/editor/pages/{about.id}/edit", data=data)
    assert response.status_code == 302
    assert fields(about) == [("team", "five")]


# -- Export ------------------------------------------------------------------------------------


def test_export_writes_custom_fields_and_seo_fields_as_postmeta(make, runner, tmp_path):
    story = make.post(
        custom_fields=[("mood", "calm"), ("mood", "a ]]> b")],
        seo_title="Search title", seo_description="Search description",
    )
    path = tmp_path / "site.xml"
    assert runner.invoke(args=["export-wxr", str(path)]).exit_code == 0
    item_ = next(
        i for i in ET.parse(path).getroot().iter("item")
        if i.findtext(f"{WP}post_id") == str(story.id)
    )
    written = [
        (m.findtext(f"{WP}meta_key"), m.findtext(f"{WP}meta_value"))
        for m in item_.findall(f"{WP}postmeta")
    ]
    assert written == [
        ("_yoast_wpseo_title", "Search title"),
        ("_yoast_wpseo_metadesc", "Search description"),
        ("mood", "calm"),
        ("mood", "a ]]> b"),
    ]


def test_a_new_post_is_written_with_its_custom_fields(make, client, auth):
    author = make.user("author")
    section = make.section()
    auth.login(author.username)
    page = client.get("/editor/posts/new").get_data(as_text=True)
    assert 'name="custom_fields-0-key"' in page and 'name="custom_fields-1-key"' in page
    response = client.post("/editor/posts/new", data={
        "csrf_token": csrf_from(page), "title": "With fields", "body": "<p>Words.</p>",
        "category": str(section.id), "custom_fields-0-key": "mood",
        "custom_fields-0-value": "calm", "custom_fields-1-key": "", "custom_fields-1-value": "",
    })
    assert response.status_code == 302
    made = db.session.scalar(select(Post).where(Post.title == "With fields"))
    assert fields(made) == [("mood", "calm")]


def test_the_conflict_page_keeps_the_writers_custom_fields(make, client, auth):
    author = make.user("author")
    story = make.post(author=author, status=DRAFT, custom_fields=[("mood", "calm")])
    auth.login(author.username)
    data = edit_form(client, story)
    data.update({"custom_fields-0-key": "mood", "custom_fields-0-value": "mine"})
    data["version"] = str(story.version - 1)  # someone saved since the page was opened
    response = client.post(f"/editor/posts/{story.id}/edit", data=data)
    assert response.status_code == 409
    page = response.get_data(as_text=True)
    assert 'name="custom_fields-0-value"' in page and "\nmine</textarea>" in page
    assert fields(story) == [("mood", "calm")]
