"""Personal API tokens and writing through the API, with the desk's rules."""

from __future__ import annotations

import hashlib
import re
from datetime import timedelta
from io import BytesIO

import pytest
from PIL import Image
from sqlalchemy import select

from blog.extensions import db
from blog.models import ApiToken, Media, Post, PostStatus, utcnow
from blog.services import Forbidden
from blog.services import tokens as token_service
from blog.services import users as user_service

from .conftest import csrf_from

SECRET_RE = re.compile(r'id="new-api-token"[^>]*>(circle_[^<]+)</textarea>')


@pytest.fixture
def desk(make):
    """Health and News, an author, an editor for each section and a draft by the author."""
    health = make.section("Health", slug="health")
    news = make.section("News", slug="news")
    arun = make.user("author", username="arun")
    hedda = make.user("editor", username="hedda")
    user_service.assign_sections(hedda, [health])
    nadia = make.user("editor", username="nadia")
    user_service.assign_sections(nadia, [news])
    draft = make.post(arun, health, PostStatus.DRAFT, title="Arun's draft")
    return {"health": health, "news": news, "arun": arun, "hedda": hedda, "nadia": nadia,
            "draft": draft}


def bearer(user) -> dict:
    """An Authorization header with a fresh token of user."""
    _token, secret = token_service.create_token(user, "tests")
    return {"Authorization": f"Bearer {secret}"}


def _post(client, url, headers, **json):
    """POST JSON to the API."""
    return client.post(url, json=json, headers=headers)


# -- Tokens on the account page ------------------------------------------------------------


def _create_on_account_page(client, name="newsroom script"):
    """Create a token through the account page's form; return the answer."""
    token = csrf_from(client.get("/account").get_data(as_text=True))
    return client.post("/account/tokens", data={"csrf_token": token, "name": name})


def test_a_token_is_shown_once_and_stored_as_a_hash(client, auth, desk):
    """The secret appears once, in the answer to the form; the database keeps its hash."""
    auth.login("arun")
    response = _create_on_account_page(client)
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "private, no-store"  # as every account page
    secret = SECRET_RE.search(response.get_data(as_text=True)).group(1)
    stored = db.session.scalar(select(ApiToken))
    assert stored.name == "newsroom script" and stored.user_id == desk["arun"].id
    assert stored.token_hash == hashlib.sha256(secret.encode()).hexdigest()
    assert secret not in (stored.token_hash, stored.prefix, stored.name)
    assert secret.startswith(f"circle_{stored.prefix}_")
    listing = client.get("/account").get_data(as_text=True)
    assert "newsroom script" in listing and f"circle_{stored.prefix}_" in listing
    assert secret not in listing  # never shown again
    used = client.get("/api/v1/posts", headers={"Authorization": f"Bearer {secret}"})
    assert used.status_code == 200


def test_a_token_needs_a_name(client, auth, desk):
    """A token without a name is refused and nothing is stored."""
    auth.login("arun")
    response = _create_on_account_page(client, name="   ")
    assert response.status_code == 400
    assert db.session.scalar(select(ApiToken)) is None


def test_a_reader_cannot_create_tokens(client, auth, make):
    """Readers are told tokens are for writers, by the service and the page."""
    reader = make.user("reader", username="riya")
    with pytest.raises(Forbidden):
        token_service.create_token(reader, "mine")
    auth.login("riya")
    assert "API tokens" not in client.get("/account").get_data(as_text=True)
    token = csrf_from(client.get("/account").get_data(as_text=True))
    response = client.post("/account/tokens", data={"csrf_token": token, "name": "mine"})
    assert response.status_code == 403
    assert "API tokens are for authors" in response.get_data(as_text=True)
    assert db.session.scalar(select(ApiToken)) is None


def test_a_revoked_token_is_refused(client, auth, desk):
    """A revoked token is refused (401) for reads and writes, and leaves the list."""
    headers = bearer(desk["arun"])
    assert client.get("/api/v1/posts", headers=headers).status_code == 200
    token = db.session.scalar(select(ApiToken))
    auth.login("arun")
    csrf = csrf_from(client.get("/account").get_data(as_text=True))
    response = client.post(f"/account/tokens/{token.id}/revoke", data={"csrf_token": csrf})
    assert response.status_code == 302
    db.session.expire_all()
    assert db.session.get(ApiToken, token.id).revoked_at is not None
    refused = client.get("/api/v1/posts", headers=headers)
    assert refused.status_code == 401
    assert refused.headers["WWW-Authenticate"].startswith("Bearer")
    assert refused.get_json()["error"]["status"] == 401
    write = _post(client, "/api/v1/posts", headers, title="Too late", category="health")
    assert write.status_code == 401
    assert "<td>tests<br>" not in client.get("/account").get_data(as_text=True)


def test_nobody_revokes_someone_elses_token(client, auth, desk):
    """Revoking another person's token is a 404 and changes nothing."""
    bearer(desk["hedda"])
    token = db.session.scalar(select(ApiToken))
    auth.login("arun")
    csrf = csrf_from(client.get("/account").get_data(as_text=True))
    response = client.post(f"/account/tokens/{token.id}/revoke", data={"csrf_token": csrf})
    assert response.status_code == 404
    db.session.expire_all()
    assert db.session.get(ApiToken, token.id).revoked_at is None


def test_last_used_is_noted_at_most_once_a_minute(client, desk):
    """last_used_at follows use, written at most once a minute."""
    token, secret = token_service.create_token(desk["arun"], "script")
    assert token.last_used_at is None
    headers = {"Authorization": f"Bearer {secret}"}
    client.get("/api/v1/posts", headers=headers)
    db.session.expire_all()
    first = db.session.get(ApiToken, token.id).last_used_at
    assert first is not None and utcnow() - first < timedelta(seconds=30)
    client.get("/api/v1/posts", headers=headers)
    db.session.expire_all()
    assert db.session.get(ApiToken, token.id).last_used_at == first
    db.session.get(ApiToken, token.id).last_used_at = first - timedelta(minutes=5)
    db.session.commit()
    client.get("/api/v1/posts", headers=headers)
    db.session.expire_all()
    assert db.session.get(ApiToken, token.id).last_used_at > first - timedelta(minutes=5)


def test_a_suspended_persons_token_is_refused(client, desk):
    """Suspending a person stops their tokens at once."""
    headers = bearer(desk["arun"])
    desk["arun"].suspended_at = utcnow()
    db.session.commit()
    assert client.get("/api/v1/posts", headers=headers).status_code == 401


@pytest.mark.parametrize(
    "header", ["Bearer", "Bearer ", "Basic YXJ1bjpwYXNz", "Bearer circle_nope_nope", "Bearer x"]
)
def test_malformed_or_unknown_tokens_are_401(client, desk, header):
    """Anything but a known Bearer token is a 401 with the Bearer challenge."""
    response = client.get("/api/v1/posts", headers={"Authorization": header})
    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"].startswith('Bearer realm="Circle API"')


# -- Writing -------------------------------------------------------------------------------


def test_an_author_writes_and_updates_a_draft(client, desk):
    """An author drafts (sanitised), saves with a version, and meets a 409 or 428."""
    headers = bearer(desk["arun"])
    created = _post(
        client, "/api/v1/posts", headers,
        title="Notes from the ward", category="health", tags=["Care", "Nursing"],
        body='<p>Hello</p><script>alert("x")</script><p onclick="steal()">there</p>',
    )
    assert created.status_code == 201, created.get_json()
    post = created.get_json()["data"]
    assert created.headers["Location"] == f"http://localhost/api/v1/posts/{post['id']}"
    assert post["status"] == "draft" and post["author"]["username"] == "arun"
    assert post["section"]["slug"] == "health" and post["slug"] == "notes-from-the-ward"
    assert "<script" not in post["body"] and "onclick" not in post["body"]
    assert "Hello" in post["body"]
    assert [tag["name"] for tag in post["tags"]] == ["Care", "Nursing"]

    url = f"/api/v1/posts/{post['id']}"
    updated = client.patch(url, json={"title": "Notes from the night ward",
                                      "version": post["version"]}, headers=headers)
    assert updated.status_code == 200, updated.get_json()
    again = updated.get_json()["data"]
    assert again["title"] == "Notes from the night ward"
    assert again["version"] == post["version"] + 1
    assert again["body"] == post["body"] and again["tags"] == post["tags"]  # untouched fields

    stale = client.patch(url, json={"title": "Mine wins", "version": post["version"]},
                         headers=headers)
    assert stale.status_code == 409
    assert stale.get_json()["error"]["current_version"] == again["version"]
    db.session.expire_all()
    assert db.session.get(Post, post["id"]).title == "Notes from the night ward"

    by_header = client.patch(url, json={"excerpt": "Short."},
                             headers={**headers, "If-Match": f'"{again["version"]}"'})
    assert by_header.status_code == 200 and by_header.get_json()["data"]["excerpt"] == "Short."
    missing = client.patch(url, json={"excerpt": "No version"}, headers=headers)
    assert missing.status_code == 428


def test_an_author_cannot_publish_but_can_submit(client, desk):
    """Authors may submit their draft for review but never publish or schedule."""
    headers = bearer(desk["arun"])
    draft = desk["draft"]
    publish = _post(client, f"/api/v1/posts/{draft.id}/publish", headers)
    assert publish.status_code == 403
    schedule = _post(client, f"/api/v1/posts/{draft.id}/schedule", headers,
                     publish_at=(utcnow() + timedelta(days=1)).isoformat())
    assert schedule.status_code == 403
    db.session.expire_all()
    assert db.session.get(Post, draft.id).status == PostStatus.DRAFT
    submitted = _post(client, f"/api/v1/posts/{draft.id}/submit", headers, version=draft.version)
    assert submitted.status_code == 200
    assert submitted.get_json()["data"]["status"] == "pending"
    # In review, the author may no longer change it, and may not submit it twice.
    edit = client.patch(f"/api/v1/posts/{draft.id}", json={"title": "Sneaky", "version": 2},
                        headers=headers)
    assert edit.status_code == 403
    assert _post(client, f"/api/v1/posts/{draft.id}/submit", headers).status_code == 409


def test_the_sections_editor_publishes_and_another_editor_cannot(client, desk):
    """Only an editor of the post's section may publish or unpublish it."""
    draft = desk["draft"]
    _post(client, f"/api/v1/posts/{draft.id}/submit", bearer(desk["arun"]))
    other = _post(client, f"/api/v1/posts/{draft.id}/publish", bearer(desk["nadia"]))
    assert other.status_code == 404  # a health post in review is not hers to see
    hedda = bearer(desk["hedda"])
    published = _post(client, f"/api/v1/posts/{draft.id}/publish", hedda)
    assert published.status_code == 200
    assert published.get_json()["data"]["status"] == "published"
    assert client.get(f"/api/v1/posts/{draft.id}").status_code == 200  # readers see it now
    unpublish = _post(client, f"/api/v1/posts/{draft.id}/unpublish", bearer(desk["nadia"]))
    assert unpublish.status_code == 403  # she sees it, but it is not her section


def test_scheduling_needs_a_future_time_with_its_zone(client, desk):
    """Scheduling takes an ISO 8601 time with its zone, in the future."""
    hedda = bearer(desk["hedda"])
    url = f"/api/v1/posts/{desk['draft'].id}/schedule"
    naive = _post(client, url, hedda, publish_at="2099-01-01T09:00:00")
    assert naive.status_code == 422 and "publish_at" in naive.get_json()["error"]["fields"]
    past = _post(client, url, hedda, publish_at="2001-01-01T09:00:00+00:00")
    assert past.status_code == 422
    nonsense = _post(client, url, hedda, publish_at="next tuesday")
    assert nonsense.status_code == 400
    assert _post(client, url, hedda).status_code == 400
    when = "2099-01-01T09:00:00+02:00"
    scheduled = _post(client, url, hedda, publish_at=when)
    assert scheduled.status_code == 200
    data = scheduled.get_json()["data"]
    assert data["status"] == "scheduled" and data["published_at"] == "2099-01-01T07:00:00+00:00"


def test_stale_versions_of_status_changes_are_conflicts(client, desk):
    """A status change based on an old version is a 409 with the current one."""
    draft = desk["draft"]
    response = _post(client, f"/api/v1/posts/{draft.id}/submit", bearer(desk["arun"]),
                     version=draft.version + 5)
    assert response.status_code == 409
    assert response.get_json()["error"]["current_version"] == draft.version


def test_an_author_cannot_see_or_change_another_authors_draft(client, make, desk):
    """Another author's draft is a 404, to read, change or trash."""
    bea = bearer(make.user("author", username="bea"))
    draft = desk["draft"]
    assert client.get(f"/api/v1/posts/{draft.id}", headers=bea).status_code == 404
    patch = client.patch(f"/api/v1/posts/{draft.id}", json={"title": "Mine", "version": 1},
                         headers=bea)
    assert patch.status_code == 404
    assert _post(client, f"/api/v1/posts/{draft.id}/trash", bea).status_code == 404


def test_an_author_trashes_their_own_draft(client, desk):
    """An author may move their own draft to the trash."""
    response = _post(client, f"/api/v1/posts/{desk['draft'].id}/trash", bearer(desk["arun"]))
    assert response.status_code == 200 and response.get_json()["data"]["status"] == "trash"


@pytest.mark.parametrize(
    "body,field",
    [
        ({"category": "health"}, "title"),
        ({"title": "No section"}, "category"),
        ({"title": 5, "category": "health"}, "title"),
        ({"title": "x", "category": True}, "category"),
        ({"title": "x", "category": "health", "tags": "one, two"}, "tags"),
        ({"title": "x", "category": "health", "featured": "yes"}, "featured"),
        ({"title": "x", "category": "health", "status": "published"}, "status"),
        ({"title": "x" * 201, "category": "health"}, "title"),
    ],
)
def test_malformed_posts_are_400_with_the_field(client, desk, body, field):
    """Missing, mistyped, unknown or too long fields are a 400 naming them."""
    response = client.post("/api/v1/posts", json=body, headers=bearer(desk["arun"]))
    assert response.status_code == 400
    assert field in response.get_json()["error"]["fields"]
    assert db.session.scalar(select(Post).where(Post.title != "Arun's draft")) is None


@pytest.mark.parametrize(
    "body,field",
    [
        ({"title": "   ", "category": "health"}, "title"),
        ({"title": "Lost", "category": "nowhere"}, "category"),
        ({"title": "Lost", "category": 99999}, "category"),
        ({"title": "Bad slug", "category": "health", "slug": "Not A Slug"}, "slug"),
        ({"title": "Cover", "category": "health", "cover_media_id": 424242}, "cover_media_id"),
    ],
)
def test_posts_the_rules_refuse_are_422_with_the_field(client, desk, body, field):
    """Well-formed posts the desk's rules refuse are a 422 naming the field."""
    response = client.post("/api/v1/posts", json=body, headers=bearer(desk["arun"]))
    assert response.status_code == 422
    assert field in response.get_json()["error"]["fields"]


def test_bodies_must_be_json_objects(client, desk):
    """Writes take a JSON object: forms are a 415, other JSON a 400."""
    headers = bearer(desk["arun"])
    form = client.post("/api/v1/posts", data={"title": "x"}, headers=headers)
    assert form.status_code == 415
    array = client.post("/api/v1/posts", json=["x"], headers=headers)
    assert array.status_code == 400
    broken = client.post("/api/v1/posts", data="{", content_type="application/json",
                         headers=headers)
    assert broken.status_code == 400


def test_a_signed_in_browser_cannot_write_without_a_token(client, auth, desk):
    """The session cookie neither writes nor shows drafts through the API."""
    auth.login("arun")
    response = client.post("/api/v1/posts", json={"title": "By cookie", "category": "health"})
    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"].startswith("Bearer")
    draft = desk["draft"]
    assert client.get(f"/api/v1/posts/{draft.id}").status_code == 404  # the cookie shows nothing
    assert db.session.scalar(select(Post).where(Post.title == "By cookie")) is None


def test_a_reader_token_may_not_write(client, make, desk):
    """A token whose owner became a reader may not write (403)."""
    riya = make.user("author", username="riya")
    headers = bearer(riya)
    riya.role = user_service.get_role("reader")
    db.session.commit()
    response = _post(client, "/api/v1/posts", headers, title="x", category="health")
    assert response.status_code == 403


def _png() -> bytes:
    """A small real PNG."""
    out = BytesIO()
    Image.new("RGB", (64, 48), (200, 40, 90)).save(out, format="PNG")
    return out.getvalue()


def test_upload_media_through_the_api(app, client, desk, tmp_path):
    """Images upload through the API; anything else is a 400 naming the file."""
    app.config["UPLOAD_DIR"], saved = str(tmp_path), app.config["UPLOAD_DIR"]
    try:
        headers = bearer(desk["arun"])
        response = client.post(
            "/api/v1/media",
            data={"file": (BytesIO(_png()), "dot.png"), "alt": "A red dot"},
            headers=headers,
        )
        assert response.status_code == 201, response.get_json()
        media = response.get_json()["data"]
        assert media["alt"] == "A red dot" and media["width"] == 64
        assert media["url"].startswith("/uploads/")
        refused = client.post(
            "/api/v1/media",
            data={"file": (BytesIO(b"<html><script>x</script></html>"), "cat.png")},
            headers=headers,
        )
        assert refused.status_code == 400
        assert "file" in refused.get_json()["error"]["fields"]
        missing = client.post("/api/v1/media", data={"alt": "nothing"}, headers=headers,
                              content_type="multipart/form-data")
        assert missing.status_code == 400
        assert db.session.query(Media).count() == 1
    finally:
        app.config["UPLOAD_DIR"] = saved


def test_writes_are_rate_limited_per_token(app, client, desk):
    """Each token has its own write budget; past it, a JSON 429 with Retry-After."""
    headers = bearer(desk["arun"])
    app.config["API_WRITE_LIMIT"] = "2 per minute"
    try:
        for _ in range(2):
            response = _post(client, "/api/v1/posts", headers, title="Again", category="health")
            assert response.status_code == 201
        limited = _post(client, "/api/v1/posts", headers, title="Again", category="health")
        assert limited.status_code == 429
        assert limited.is_json and limited.get_json()["error"]["status"] == 429
        assert limited.headers.get("Retry-After")
        other = _post(client, "/api/v1/posts", bearer(desk["hedda"]), title="Mine",
                      category="health")
        assert other.status_code == 201  # another token has its own budget
    finally:
        app.config.pop("API_WRITE_LIMIT")


def test_reads_are_rate_limited_per_address(app, client, desk):
    """Reads share one budget per address; past it, a 429."""
    app.config["API_READ_LIMIT"] = "3 per minute"
    try:
        statuses = [client.get("/api/v1/sections").status_code for _ in range(4)]
    finally:
        app.config.pop("API_READ_LIMIT")
    assert statuses == [200, 200, 200, 429]
