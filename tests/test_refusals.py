"""Refusals map once: a service's NotFound/Forbidden is the same 404/403 everywhere."""

from __future__ import annotations

import re
from pathlib import Path

from blog.models import PostStatus

from .conftest import csrf_from

BLOG = Path(__file__).resolve().parent.parent / "blog"
DOORS = ["public", "auth", "editor", "admin", "api", "media", "cli.py"]


def test_a_hidden_post_is_the_404_page_and_a_read_only_one_the_403_page(app, make, auth):
    author = make.user("author", username="ana")
    other = make.user("author", username="ben")
    hidden = make.post(author=other, status=PostStatus.DRAFT)
    live = make.post(author=other)
    auth.login(author.username)

    missing = auth.client.get(f"/editor/posts/{hidden.id}/edit")
    assert missing.status_code == 404
    assert "We could not find that page." in missing.get_data(as_text=True)

    refused = auth.client.get(f"/editor/posts/{live.id}/edit")
    assert refused.status_code == 403
    assert "You do not have permission to do that." in refused.get_data(as_text=True)


def test_the_api_answers_the_same_refusals_as_json(app, make):
    from blog.services import tokens

    author = make.user("author")
    other_draft = make.post(status=PostStatus.DRAFT)
    _token, secret = tokens.create_token(author, "script")
    response = app.test_client().patch(
        f"/api/v1/posts/{other_draft.id}",
        json={"title": "Mine now", "version": 1},
        headers={"Authorization": f"Bearer {secret}"},
    )
    assert response.status_code == 404
    assert response.get_json()["error"]["status"] == 404


def test_a_form_error_stays_on_the_form(app, make, auth):
    admin = make.user("admin")
    section = make.section("Health", "health")
    auth.login(admin.username)
    page = auth.client.get(f"/admin/categories/{section.id}").get_data(as_text=True)
    response = auth.client.post(
        f"/admin/categories/{section.id}/delete",
        data={"csrf_token": csrf_from(page), "confirm": "wrong"},
    )
    assert response.status_code == 400
    assert "Type health to confirm." in response.get_data(as_text=True)
    assert auth.client.get("/category/health").status_code == 200


def test_no_door_touches_the_database_and_no_service_reads_the_request():
    for door in DOORS:
        path = BLOG / door
        for source in [path] if path.is_file() else path.rglob("*.py"):
            text = source.read_text()
            assert "db.session" not in text, source
            assert "db.paginate" not in text, source
    for source in (BLOG / "services").rglob("*.py"):
        text = source.read_text()
        assert not re.search(r"from flask import[^\n]*\brequest\b", text), source
