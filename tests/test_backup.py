"""`flask export-json` / `flask import-json`: a full backup and a restore that reproduces it."""

from __future__ import annotations

import json
import zipfile
from dataclasses import replace
from datetime import timedelta
from io import BytesIO
from pathlib import Path

from PIL import Image
from sqlalchemy import func, select
from werkzeug.datastructures import FileStorage

from blog.extensions import db
from blog.models import (
    ApiToken,
    Category,
    Comment,
    Media,
    Post,
    PostStatus,
    Report,
    User,
    utcnow,
)
from blog.sanitize import clean_comment_text
from blog.services import audit, desk
from blog.services import media as media_service
from blog.services import search as search_service
from blog.services import settings as settings_service
from blog.services import users as user_service
from blog.services.media import site_icon


def jpeg(size=(800, 500)) -> bytes:
    """A real JPEG made by Pillow."""
    out = BytesIO()
    Image.new("RGB", size, (30, 90, 160)).save(out, format="JPEG")
    return out.getvalue()


def fill_the_magazine(runner) -> None:
    """The demo magazine plus one of everything else a backup must carry."""
    assert runner.invoke(args=["seed-demo"]).exit_code == 0
    people = {u.username: u for u in db.session.scalars(select(User))}
    admin, editor, author, reader = (people[n] for n in ("admin", "editor", "author", "reader"))
    health = db.session.scalar(select(Category).where(Category.slug == "health"))
    story = db.session.scalar(select(Post).where(Post.title.like("Revolutionizing%")))

    picture = media_service.save_upload(
        FileStorage(stream=BytesIO(jpeg()), filename="ward.jpg"), author, "A hospital ward"
    )
    draft = desk.draft_of(story)
    draft = replace(
        draft,
        body=draft.body + f'<p><img src="{media_service.largest_url(picture)}" alt="Ward"></p>',
        cover_media_id=picture.id,
        cover_alt="A hospital ward",
        slug="car-t-cell-therapy",  # the published story moves: its old address redirects
        coauthors=["reporter", "author"],  # written with others, in this order
    )
    reporter = user_service.create_user("rep@example.com", "reporter", "a long password", "author")
    reporter.links = "https://example.org/reporter"
    desk.save_post(editor, story, draft, story.version, note="Cover")

    first = Comment(
        post=story, author=reader, body="Thank you!", body_html=clean_comment_text("Thank you!"),
        status="approved", ip_address="203.0.113.5",
    )
    reply = Comment(
        post=story, author=editor, parent=first, body="Glad it helped.",
        body_html=clean_comment_text("Glad it helped."), status="approved",
    )
    held = Comment(
        post=story, author=reader, body="Another one", body_html=clean_comment_text("Another one"),
        status="pending", held_reason="first comment",
    )
    db.session.add_all([first, reply, held])
    db.session.flush()
    db.session.add_all(
        [
            Report(reporter=reader, post=story, reason="A typo in the second paragraph."),
            Report(
                reporter=reader, comment=held, reason="Off topic", status="resolved",
                resolution="Removed", resolved_by=admin, resolved_at=utcnow(),
            ),
            ApiToken(user=author, name="laptop", prefix="ct_abcd", token_hash="f" * 64),
        ]
    )
    editor.sections = [health]
    desk.file_post(
        desk.PostDraft("A scheduled piece", "<p>Soon.</p>", category_id=health.id, tags=["later"]),
        author, status=PostStatus.SCHEDULED, published_at=utcnow() + timedelta(days=3),
    )
    desk.file_post(desk.PostDraft("A draft", "<p>Not yet.</p>", category_id=health.id), author)
    audit.record(admin, "post.publish", story, details="restored from a backup test")
    db.session.commit()
    settings_service.update(
        admin,
        {
            "site_name": "My Circle Story",
            "site_slogan": "stories from every corner",
            "site_tagline": "Backed up",
            "posts_per_page": 12,
            "comments_moderated": True,
            "comment_link_limit": 3,
            "comment_blocklist": ["spam"],
        },
    )


def backup_contents(path: Path) -> tuple[dict, dict[str, bytes]]:
    """The data of a backup (without its export time) and its files."""
    with zipfile.ZipFile(path) as archive:
        data = json.loads(archive.read("circle.json"))
        files = {
            name: archive.read(name) for name in archive.namelist() if name.startswith("uploads/")
        }
    data.pop("exported_at")
    return data, files


def one_line_error(result) -> str:
    """The single line a failed command printed."""
    lines = [line for line in result.output.splitlines() if line.strip()]
    assert len(lines) == 1, result.output
    return lines[0]


def test_round_trip_reproduces_the_site_exactly(runner, second_site, tmp_path):
    fill_the_magazine(runner)
    first = tmp_path / "first.zip"
    result = runner.invoke(args=["export-json", str(first)])
    assert result.exit_code == 0, result.output
    assert "Wrote" in result.output and "posts" in result.output
    data, files = backup_contents(first)
    tables = {t["name"]: t for t in data["tables"]}
    assert set(tables) == {t.name for t in db.metadata.sorted_tables} - {"jobs"}
    assert "jobs" not in tables  # work in flight on this queue, not content
    assert "alembic_version" not in tables and "post_search" not in tables
    assert data["alembic_revision"]
    users = tables["users"]
    assert users["rows"] and all(
        row[users["columns"].index("password_hash")] for row in users["rows"]
    )
    for name in ("comments", "reports", "site_settings", "audit_log", "media", "revisions",
                 "redirects", "api_tokens", "editor_sections", "post_tags", "roles",
                 "post_coauthors"):
        assert tables[name]["rows"], name
    picture = db.session.scalars(select(Media).where(Media.original_name == "ward.jpg")).one()
    posts = tables["posts"]
    covers = [row[posts["columns"].index("cover_media_id")] for row in posts["rows"]]
    assert covers.count(picture.id) == 1  # the cover travels as the media item's id
    # Every library image's files travel: the demo's drawn covers and the ward.
    library = db.session.scalars(select(Media)).all()
    assert len(library) > 1
    assert sorted(files) == sorted(
        f"uploads/{n}" for media in library for n in media_service.file_names(media)
    )

    second = tmp_path / "second.zip"
    with second_site.app_context():
        cli = second_site.test_cli_runner()
        restored = cli.invoke(args=["import-json", str(first)])
        assert restored.exit_code == 0, restored.output
        assert "Restored" in restored.output
        again = cli.invoke(args=["export-json", str(second)])
        assert again.exit_code == 0, again.output

        # The restored site works: search was rebuilt and ids continue past the restored ones.
        hits = search_service.search_posts("CAR-T")
        assert hits.total >= 1
        story = db.session.scalar(select(Post).where(Post.slug == "car-t-cell-therapy"))
        assert [p.username for p in story.coauthors] == ["reporter", "author"]
        author = db.session.scalar(select(User).where(User.username == "author"))
        section = db.session.scalar(select(Category).where(Category.slug == "news"))
        newest = desk.file_post(
            desk.PostDraft("After the restore", "<p>New.</p>", category_id=section.id), author
        )
        assert newest.id > max(row[0] for row in tables["posts"]["rows"])
        for media in db.session.scalars(select(Media)):
            for name in media_service.file_names(media):
                assert (media_service.upload_root() / name).is_file()

    assert backup_contents(second) == (data, files)


def test_restore_refuses_a_database_that_is_not_empty(runner, tmp_path, make):
    fill_the_magazine(runner)
    backup = tmp_path / "backup.zip"
    assert runner.invoke(args=["export-json", str(backup)]).exit_code == 0
    posts = db.session.scalar(select(func.count()).select_from(Post))
    result = runner.invoke(args=["import-json", str(backup)])
    assert result.exit_code == 1
    line = one_line_error(result)
    assert "The database is not empty" in line and "--force" in line
    assert db.session.scalar(select(func.count()).select_from(Post)) == posts


def test_force_replaces_everything(runner, tmp_path, make):
    fill_the_magazine(runner)
    backup = tmp_path / "backup.zip"
    assert runner.invoke(args=["export-json", str(backup)]).exit_code == 0
    make.post(title="Written after the backup")
    make.user("reader", username="latecomer")
    result = runner.invoke(args=["import-json", str(backup), "--force"])
    assert result.exit_code == 0, result.output
    assert db.session.scalar(select(Post).where(Post.title == "Written after the backup")) is None
    assert db.session.scalar(select(User).where(User.username == "latecomer")) is None
    after = tmp_path / "after.zip"
    assert runner.invoke(args=["export-json", str(after)]).exit_code == 0
    assert backup_contents(after) == backup_contents(backup)


def _rewritten(source: Path, target: Path, change) -> Path:
    """A copy of a backup whose data went through change(data)."""
    with zipfile.ZipFile(source) as old, zipfile.ZipFile(target, "w") as new:
        for name in old.namelist():
            payload = old.read(name)
            if name == "circle.json":
                data = json.loads(payload)
                change(data)
                payload = json.dumps(data).encode()
            new.writestr(name, payload)
    return target


def test_bad_backups_are_refused_with_one_line(runner, second_site, tmp_path):
    fill_the_magazine(runner)
    good = tmp_path / "good.zip"
    assert runner.invoke(args=["export-json", str(good)]).exit_code == 0
    not_zip = tmp_path / "notes.zip"
    not_zip.write_text("hello")
    no_data = tmp_path / "empty.zip"
    with zipfile.ZipFile(no_data, "w") as archive:
        archive.writestr("readme.txt", "nothing")
    old_schema = _rewritten(
        good, tmp_path / "old.zip", lambda d: d.update(alembic_revision="0001")
    )

    def drop_a_column(data):
        """Remove a column from the users table."""
        users = next(t for t in data["tables"] if t["name"] == "users")
        users["columns"] = users["columns"][:-1]

    wrong_columns = _rewritten(good, tmp_path / "columns.zip", drop_a_column)
    cases = [
        (tmp_path / "missing.zip", "No such file"),
        (not_zip, "not a Circle backup (not a zip file)"),
        (no_data, "no circle.json in it"),
        (old_schema, "schema revision 0001"),
        (wrong_columns, "other columns"),
    ]
    with second_site.app_context():
        cli = second_site.test_cli_runner()
        for path, message in cases:
            result = cli.invoke(args=["import-json", str(path)])
            assert result.exit_code == 1, (path, result.output)
            assert message in one_line_error(result), path
            assert db.session.scalar(select(func.count()).select_from(User)) == 0


def test_export_to_a_missing_folder_fails_with_one_line(runner, tmp_path):
    result = runner.invoke(args=["export-json", str(tmp_path / "nowhere" / "b.zip")])
    assert result.exit_code == 1
    assert "No such folder" in one_line_error(result)


def test_the_site_icon_travels_with_the_backup(runner, second_site, tmp_path, make):
    admin = make.user("admin", username="iconadmin")
    square = BytesIO()
    Image.new("RGB", (64, 64), (200, 40, 40)).save(square, format="PNG")
    square.seek(0)
    links = site_icon.set_icon(admin, FileStorage(stream=square, filename="icon.png"))
    names = site_icon.file_names()
    assert len(names) == 3 and links.custom
    path = tmp_path / "icon.zip"
    assert runner.invoke(args=["export-json", str(path)]).exit_code == 0
    assert {f"uploads/{name}" for name in names} <= set(backup_contents(path)[1])

    with second_site.app_context():
        restored = second_site.test_cli_runner().invoke(args=["import-json", str(path)])
        assert restored.exit_code == 0, restored.output
        for name in names:  # the restored site's <link rel="icon"> points at real files
            assert (media_service.upload_root() / name).is_file()
