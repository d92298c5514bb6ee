"""Redirects kept by hand: admins list, add, edit and delete old addresses that answer 301."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from blog.extensions import db
from blog.models import AuditEntry, PostStatus, Redirect
from blog.services import audit

from .conftest import Auth, csrf_from


@pytest.fixture
def site(make):
    """Health with a published story and a draft, an admin and an editor."""
    health = make.section("Health", slug="health")
    return {
        "health": health,
        "story": make.post(section=health, title="Sleep well", slug="sleep-well"),
        "draft": make.post(
            section=health, title="Not yet", slug="not-yet", status=PostStatus.DRAFT
        ),
        "boss": make.user("admin", username="boss"),
        "hedda": make.user("editor", username="hedda"),
    }


def _as(app, username):
    """A fresh client signed in as username."""
    client = app.test_client()
    assert Auth(client).login(username).status_code == 302
    return client


def _post(client, url, **data):
    """Post a form with a valid CSRF token."""
    token = csrf_from(client.get("/account").get_data(as_text=True))
    return client.post(url, data={"csrf_token": token, **data})


def _kept(path: str) -> Redirect | None:
    """The redirect stored at path, fresh from the database."""
    db.session.expire_all()
    return db.session.scalar(select(Redirect).where(Redirect.path == path))


def test_editors_may_not_open_redirects_and_admins_may(app, site):
    hedda = _as(app, "hedda")
    assert hedda.get("/admin/redirects").status_code == 403
    assert _post(hedda, "/admin/redirects/new", path="/old", target="/health").status_code == 403
    assert _kept("old") is None
    page = _as(app, "boss").get("/admin/redirects")
    assert page.status_code == 200
    assert "Add a redirect" in page.get_data(as_text=True)


def test_an_added_redirect_answers_301_and_a_deleted_one_404(app, site, client):
    boss = _as(app, "boss")
    response = _post(
        boss, "/admin/redirects/new", path="/old-health/sleep", target="/health/sleep-well"
    )
    assert response.status_code == 302
    assert client.get("/old-health/sleep").headers["Location"].endswith("/health/sleep-well")
    assert client.get("/old-health/sleep").status_code == 301

    kept = _kept("old-health/sleep")
    listing = boss.get("/admin/redirects?q=sleep").get_data(as_text=True)
    assert "/old-health/sleep" in listing and 'data-label="Leads to"' in listing
    assert "/old-health/sleep" not in boss.get("/admin/redirects?q=nothing").get_data(as_text=True)

    confirm = boss.get(f"/admin/redirects/{kept.id}/delete")
    assert "Delete the redirect at /old-health/sleep?" in confirm.get_data(as_text=True)
    assert _kept("old-health/sleep") is not None  # asking deletes nothing
    assert _post(boss, f"/admin/redirects/{kept.id}/delete").status_code == 302
    assert _kept("old-health/sleep") is None
    assert client.get("/old-health/sleep").status_code == 404


def test_editing_moves_the_old_address_and_the_target(app, site, client, make):
    care = make.section("Care", slug="care")
    boss = _as(app, "boss")
    _post(boss, "/admin/redirects/new", path="/old", target="/health/sleep-well")
    kept = _kept("old")
    form = boss.get(f"/admin/redirects/{kept.id}").get_data(as_text=True)
    assert 'value="/health/sleep-well"' in form
    response = _post(
        boss, f"/admin/redirects/{kept.id}", path="/older", target="http://localhost/category/care"
    )
    assert response.status_code == 302
    assert client.get("/old").status_code == 404
    moved = client.get("/older")
    assert moved.status_code == 301 and moved.headers["Location"].endswith(f"/category/{care.slug}")


def test_unicode_old_addresses_work_typed_or_percent_encoded(app, site, client):
    boss = _as(app, "boss")
    assert (
        _post(boss, "/admin/redirects/new", path="/स्वास्थ्य/नींद", target="/health").status_code == 302
    )
    assert _kept("स्वास्थ्य/नींद") is not None
    answer = client.get(
        "/%E0%A4%B8%E0%A5%8D%E0%A4%B5%E0%A4%BE%E0%A4%B8%E0%A5%8D%E0%A4%A5%E0%A5%8D%E0%A4%AF/%E0%A4%A8%E0%A5%80%E0%A4%82%E0%A4%A6"
    )
    assert answer.status_code == 301 and answer.headers["Location"].endswith("/category/health")


@pytest.mark.parametrize(
    ("path", "target", "message"),
    [
        ("/old", "/health/no-such-post", "Nothing is published at /health/no-such-post."),
        ("/old", "/health/not-yet", "Nothing is published at /health/not-yet."),
        ("/old", "https://elsewhere.example/health", "Type an address on this site"),
        ("/health/sleep-well", "/health", "/health/sleep-well is a live address"),
        ("/category/health", "/health/sleep-well", "/category/health is a live address"),
        ("old", "/health", "starting with /"),
        ("/old?x=1", "/health", "without ? or #"),
        ("", "/health", "Type the old address."),
    ],
)
def test_bad_input_is_refused_beside_its_field(app, site, path, target, message):
    response = _post(_as(app, "boss"), "/admin/redirects/new", path=path, target=target)
    assert response.status_code == 400
    assert message in response.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.scalar(select(Redirect)) is None


def test_a_redirect_may_not_lead_to_itself_or_take_a_kept_address(app, site):
    boss = _as(app, "boss")
    _post(boss, "/admin/redirects/new", path="/a", target="/health/sleep-well")
    again = _post(boss, "/admin/redirects/new", path="/a/", target="/health")
    assert again.status_code == 400 and "/a already has a redirect." in again.get_data(as_text=True)
    kept = _kept("a")
    loop = _post(boss, f"/admin/redirects/{kept.id}", path="/a", target="/a")
    assert loop.status_code == 400
    assert "The redirect would lead to itself." in loop.get_data(as_text=True)
    assert _kept("a").post_id == site["story"].id


def test_each_change_reads_as_a_sentence_in_the_audit_log(app, site):
    boss = _as(app, "boss")
    _post(boss, "/admin/redirects/new", path="/old", target="/health/sleep-well")
    kept = _kept("old")
    _post(boss, f"/admin/redirects/{kept.id}/delete")
    entries = db.session.scalars(select(AuditEntry).order_by(AuditEntry.id)).all()
    said = audit.sentences_for(entries)
    texts = [said[entry.id] for entry in entries]
    assert any("added the redirect /old → /health/sleep-well" in text for text in texts)
    assert any("deleted the redirect /old → /health/sleep-well" in text for text in texts)
    assert "added the redirect /old" in boss.get("/admin/audit").get_data(as_text=True)


def test_changes_need_the_csrf_token(app, site):
    boss = _as(app, "boss")
    _post(boss, "/admin/redirects/new", path="/old", target="/health")
    kept = _kept("old")
    assert (
        boss.post("/admin/redirects/new", data={"path": "/x", "target": "/health"}).status_code
        == 400
    )
    assert boss.post(f"/admin/redirects/{kept.id}/delete").status_code == 400
    assert _kept("x") is None and _kept("old") is not None
