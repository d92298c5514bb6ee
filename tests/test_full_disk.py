"""A full disk: the database and the upload folder on a small tmpfs, filled to the brim.

Saving a post or uploading an image then answers a clear error (507, in JSON for the
desk's script, or a page that says storage is full) and the writer's text is kept: the
JSON says so (keeper.js holds it in the browser) and the page shows it back. Mounting
needs root; where mounting is not permitted the test is skipped and says why, except
under CI=true, where it fails.
"""

from __future__ import annotations

import io
import os
import subprocess
from pathlib import Path

import pytest
from flask_migrate import upgrade
from PIL import Image
from sqlalchemy import text

from blog import create_app
from blog.extensions import db
from blog.models import Post, PostStatus

from . import factories
from .conftest import Auth, IsolatedClient, csrf_from

STORAGE_FULL = (
    "The server could not store your text (storage is full). "
    "Your text is kept in this browser; try again later."
)
JSON = {"Accept": "application/json"}
# Enough words that no page SQLite still has free could hold them.
LONG_TEXT = "<p>" + " ".join(f"word{n}" for n in range(40_000)) + " the last words.</p>"


def _mount_small_disk(folder: Path) -> None:
    """Mount a 4 MB tmpfs on folder; skip (or under CI fail) when that is not permitted."""
    done = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=4m", "tmpfs", str(folder)],
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0:
        reason = f"cannot mount a tmpfs to fill (needs root): {done.stderr.strip()}"
        if os.environ.get("CI") == "true":
            pytest.fail(reason, pytrace=False)
        pytest.skip(reason)


def _fill(folder: Path) -> None:
    """Write zeros until the disk says it is full."""
    # Unbuffered: a buffered file would keep the last partial write and fail again on close.
    with open(folder / "filler", "wb", buffering=0) as filler:
        try:
            while True:
                filler.write(b"\0" * 65536)
                filler.flush()
        except OSError:
            pass


@pytest.fixture
def small_disk_site(tmp_path):
    """A Circle whose database and uploads live on a 4 MB tmpfs; unmounted afterwards."""
    disk = tmp_path / "small-disk"
    disk.mkdir()
    _mount_small_disk(disk)
    site = None
    try:
        site = create_app(
            {
                "CIRCLE_ENV": "testing",
                "SQLALCHEMY_DATABASE_URI": f"sqlite:///{disk / 'circle.sqlite'}",
                "UPLOAD_DIR": str(disk / "uploads"),
                "CACHE_GENERATION_DIR": str(tmp_path),
                "SERVER_NAME_FOR_LINKS": "http://localhost",
            }
        )
        site.test_client_class = IsolatedClient
        with site.app_context():
            upgrade()
            from blog.services.users import ensure_roles

            ensure_roles()
            make = factories.Factory()
            section = make.section("Health", slug="health")
            author = make.user("author", username="ana")
            post = make.post(
                author=author,
                section=section,
                status=PostStatus.DRAFT,
                title="Kept",
                body="<p>The saved text.</p>",
            )
            db.session.commit()
            yield {"site": site, "disk": disk, "section_id": section.id, "post_id": post.id}
    finally:
        if site is not None:
            with site.app_context():
                db.session.remove()
                db.engine.dispose()
        subprocess.run(["umount", str(disk)], check=False)


def _form(site_info, token, version=None, **overrides):
    data = {
        "title": "Kept",
        "body": LONG_TEXT,
        "excerpt": "",
        "category": str(site_info["section_id"]),
        "tags": "",
        "slug": "",
        "csrf_token": token,
        **overrides,
    }
    if version is not None:
        data["version"] = str(version)
    return data


def _signed_in(site_info):
    """Ana, signed in, with the edit page's token and version (read before the disk fills)."""
    client = site_info["site"].test_client()
    assert Auth(client).login("ana").status_code == 302
    page = client.get(f"/editor/posts/{site_info['post_id']}/edit").get_data(as_text=True)
    version = int(page.split('name="version" type="hidden" value="')[1].split('"')[0])
    return client, csrf_from(page), version


def _checkpoint(site) -> None:
    """Fold SQLite's write-ahead log into the database and empty it, so writes must grow it."""
    with site.app_context():
        db.session.execute(text("PRAGMA wal_checkpoint(TRUNCATE)"))
        db.session.commit()


def _jpeg() -> bytes:
    out = io.BytesIO()
    Image.effect_noise((900, 600), 90).convert("RGB").save(out, format="JPEG", quality=95)
    return out.getvalue()


def test_a_full_disk_answers_a_clear_error_and_keeps_the_text(small_disk_site):
    site = small_disk_site["site"]
    post_id = small_disk_site["post_id"]
    client, token, version = _signed_in(small_disk_site)
    picture = _jpeg()
    _checkpoint(site)
    _fill(small_disk_site["disk"])

    # The desk's script: autosave, Save and a new draft each answer 507 and say the text is kept.
    for url in (f"/editor/posts/{post_id}/autosave", f"/editor/posts/{post_id}/edit"):
        reply = client.post(
            url, data=_form(small_disk_site, token, version), headers={**JSON, "X-CSRFToken": token}
        )
        assert reply.status_code == 507, reply.get_data(as_text=True)[:300]
        assert reply.get_json()["error"] == {
            "status": 507,
            "message": STORAGE_FULL,
            "reason": "storage_full",
        }
    created = client.post(
        "/editor/posts/draft.json",
        data=_form(small_disk_site, token),
        headers={**JSON, "X-CSRFToken": token},
    )
    assert created.status_code == 507
    assert created.get_json()["error"]["reason"] == "storage_full"

    # The form without the script: a page saying storage is full, with the text on it.
    page = client.post(f"/editor/posts/{post_id}/edit", data=_form(small_disk_site, token, version))
    assert page.status_code == 507
    html = page.get_data(as_text=True)
    assert "Storage is full" in html and STORAGE_FULL in html
    assert "the last words." in html

    # An image dropped into the story: the upload says the same, in JSON.
    upload = client.post(
        "/editor/media/upload.json",
        data={"file": (io.BytesIO(picture), "ward.jpg")},
        headers={**JSON, "X-CSRFToken": token},
    )
    assert upload.status_code == 507, upload.get_data(as_text=True)[:300]
    assert "storage is full" in upload.get_json()["error"]["message"]
    assert not list((small_disk_site["disk"] / "uploads").rglob("*.jpg"))  # no half image

    # Nothing half-written: the post is as it was, and saves once there is room again.
    (small_disk_site["disk"] / "filler").unlink()
    with site.app_context():
        assert db.session.get(Post, post_id).body == "<p>The saved text.</p>"
    again = client.post(
        f"/editor/posts/{post_id}/autosave",
        data=_form(small_disk_site, token, version),
        headers={**JSON, "X-CSRFToken": token},
    )
    assert again.status_code == 200
    with site.app_context():
        assert db.session.get(Post, post_id).body.endswith("the last words.</p>")
