"""Bad input never answers 500: ids past a column's range, hostile addresses, covers by id."""

from __future__ import annotations

import re

import pytest
from flask_migrate import upgrade
from sqlalchemy import select, text
from werkzeug.routing import IntegerConverter

from blog import create_app
from blog.extensions import db
from blog.models import Category, Comment, Post, PostStatus, User
from blog.services import media as media_service
from blog.services import tokens as token_service
from blog.validators import MAX_ID, bounded_int, is_usable_address, url_problem

from .conftest import Auth, csrf_from

TWENTY_DIGITS = "99999999999999999999"  # past PostgreSQL's integer and SQLite's 2**63


def _int_rules(app) -> list:
    """Every URL rule with an <int:…> part, with a method it answers."""
    rules = []
    for rule in app.url_map.iter_rules():
        if any(isinstance(c, IntegerConverter) for c in rule._converters.values()):
            method = sorted((rule.methods or {"GET"}) - {"HEAD", "OPTIONS"})[0]
            rules.append((rule.rule, method))
    return sorted(rules)


def _with(rule: str, value: str) -> str:
    """The rule's path with every int part set to value."""
    return re.sub(r"<int(?:\([^)]*\))?:\w+>", value, rule)


@pytest.fixture
def admin_client(app, make):
    """A signed-in admin, so no permission check hides what the id does."""
    make.user("admin", username="boss")
    client = app.test_client()
    Auth(client).login("boss")
    return client


def test_every_int_rule_is_found(app):
    paths = [rule for rule, _method in _int_rules(app)]
    # The routes the issue names are among them: the test covers what it says it does.
    for wanted in ("/admin/users/<int:user_id>", "/editor/posts/<int:post_id>/edit",
                   "/comments/<int:comment_id>/edit", "/admin/categories/<int:section_id>",
                   "/api/v1/posts/<int:post_id>"):
        assert wanted in paths
    assert len(paths) >= 30


@pytest.mark.parametrize("value", [TWENTY_DIGITS, str(MAX_ID + 1), "9" * 400])
def test_ids_past_the_column_answer_404_on_every_route(app, admin_client, value):
    token = csrf_from(admin_client.get("/account").get_data(as_text=True))
    failures = {}
    for rule, method in _int_rules(app):
        url = _with(rule, value)
        response = admin_client.open(url, method=method, data={"csrf_token": token})
        if response.status_code != 404:
            failures[f"{method} {url[:80]}"] = response.status_code
    assert failures == {}


def test_the_largest_id_a_column_holds_is_an_ordinary_404(app, admin_client):
    token = csrf_from(admin_client.get("/account").get_data(as_text=True))
    statuses = {}
    for rule, method in _int_rules(app):
        url = _with(rule, str(MAX_ID))
        response = admin_client.open(url, method=method, data={"csrf_token": token})
        statuses[f"{method} {rule}"] = response.status_code
    assert {k: v for k, v in statuses.items() if v >= 500} == {}
    assert statuses["GET /admin/users/<int:user_id>"] == 404
    assert statuses["GET /editor/posts/<int:post_id>/edit"] == 404
    assert statuses["GET /admin/categories/<int:section_id>"] == 404


def test_real_ids_still_work(app, admin_client, make):
    post = make.post(title="Still here")
    assert admin_client.get(f"/editor/posts/{post.id}/edit").status_code == 200
    assert admin_client.get(f"/api/v1/posts/{post.id}").status_code == 200


@pytest.mark.parametrize(
    "url",
    [
        f"/?page={TWENTY_DIGITS}",
        "/?page=0",
        "/?page=-1",
        "/?page=1e3",
        "/?page=%EF%BC%91",  # a full-width digit one
        f"/?p={TWENTY_DIGITS}",
        f"/category/health?page={TWENTY_DIGITS}",
        f"/search?q=care&page={TWENTY_DIGITS}",
        f"/admin/users?page={TWENTY_DIGITS}",
        f"/admin/audit?page={TWENTY_DIGITS}",
        f"/editor/media?page={TWENTY_DIGITS}",
    ],
)
def test_page_numbers_past_the_end_are_no_such_page(admin_client, make, url):
    make.section("Health", slug="health")
    assert admin_client.get(url).status_code == 404


def test_other_query_numbers_are_bounded(admin_client, make):
    post = make.post(title="Compared")
    # An id too large for a filter is no filter, not a crash.
    assert admin_client.get(f"/admin/audit?section={TWENTY_DIGITS}").status_code == 200
    compare = f"/editor/posts/{post.id}/revisions/compare?a={TWENTY_DIGITS}&b=1"
    assert admin_client.get(compare).status_code == 404


def test_form_ids_are_bounded(app, admin_client, make):
    section = make.section("Health", slug="health")
    post = make.post(section=section, title="Talked about")
    page = admin_client.get(f"/health/{post.slug}").get_data(as_text=True)
    reply = admin_client.post(
        f"/health/{post.slug}/comments",
        data={
            "csrf_token": csrf_from(page),
            "body": "A reply to nothing",
            "parent_id": TWENTY_DIGITS,
        },
    )
    assert reply.status_code < 500
    token = csrf_from(admin_client.get("/admin/").get_data(as_text=True))
    bulk = admin_client.post(
        "/admin/comments/moderate",
        data={"csrf_token": token, "action": "approve", "ids": [TWENTY_DIGITS, "12abc"]},
    )
    assert bulk.status_code == 302
    assert "Choose at least one comment" in admin_client.get("/admin/").get_data(as_text=True)
    assert db.session.scalar(select(Comment).where(Comment.body.contains("A reply to nothing"))
                             .where(Comment.parent_id.isnot(None))) is None


# -- The API -------------------------------------------------------------------------------


@pytest.fixture
def writer(make):
    """An editor's API token and a section to write in."""
    editor = make.user("editor", username="eda")
    make.section("Health", slug="health")
    _token, secret = token_service.create_token(editor, "tests")
    return {"Authorization": f"Bearer {secret}"}


@pytest.mark.parametrize(
    "query",
    [f"page={TWENTY_DIGITS}", f"per_page={TWENTY_DIGITS}", f"page={MAX_ID + 1}", "page=-5"],
)
def test_api_query_numbers_out_of_range_are_400(client, query):
    response = client.get(f"/api/v1/posts?{query}")
    assert response.status_code == 400
    assert response.get_json()["error"]["message"]


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"title": "T", "category": 10**20}, "category"),
        ({"title": "T", "category": "health", "cover_media_id": 10**20}, "cover_media_id"),
        ({"title": "T", "category": "health", "cover_media_id": 0}, "cover_media_id"),
        ({"title": "T", "category": "health", "cover_media_id": "/uploads/x.jpg"},
         "cover_media_id"),
    ],
)
def test_api_body_numbers_out_of_range_are_400(client, writer, body, field):
    response = client.post("/api/v1/posts", json=body, headers=writer)
    assert response.status_code == 400
    assert field in response.get_json()["error"]["fields"]
    assert db.session.scalar(select(Post)) is None


@pytest.mark.parametrize(
    "address",
    ["javascript:alert(1)", "https://evil.example/x.png", "/uploads/2026/11/x-960.jpg", ""],
)
def test_api_refuses_cover_addresses_with_422(client, writer, address):
    response = client.post(
        "/api/v1/posts",
        json={"title": "T", "category": "health", "cover_image": address},
        headers=writer,
    )
    assert response.status_code == 422
    error = response.get_json()["error"]
    assert "cover_media_id" in error["message"] and "cover_image" in error["fields"]
    assert db.session.scalar(select(Post)) is None


def test_api_unknown_cover_is_422_and_a_library_cover_is_kept(client, writer, make):
    missing = client.post(
        "/api/v1/posts",
        json={"title": "T", "category": "health", "cover_media_id": 424242},
        headers=writer,
    )
    assert missing.status_code == 422
    assert "media library" in missing.get_json()["error"]["fields"]["cover_media_id"]
    image = make.image(alt="Boats")
    made = client.post(
        "/api/v1/posts",
        json={"title": "T", "category": "health", "cover_media_id": image.id},
        headers=writer,
    )
    assert made.status_code == 201, made.get_json()
    shown = made.get_json()["data"]
    assert shown["cover_media_id"] == image.id
    assert shown["cover_image"] == media_service.largest_url(image)
    assert shown["cover_alt"] == "Boats"  # the library's description by default
    cleared = client.patch(
        f"/api/v1/posts/{shown['id']}",
        json={"cover_media_id": None, "version": shown["version"]},
        headers=writer,
    )
    assert cleared.status_code == 200
    assert cleared.get_json()["data"]["cover_image"] is None


@pytest.mark.parametrize("header", ['"99999999999"', f'"{TWENTY_DIGITS}"', "W/\"0\""])
def test_api_versions_past_the_column_are_400(client, writer, make, header):
    post = make.post(title="Versioned", status=PostStatus.DRAFT,
                     author=db.session.scalar(select(User).where(User.username == "eda")))
    response = client.patch(
        f"/api/v1/posts/{post.id}", json={"title": "New"},
        headers={**writer, "If-Match": header},
    )
    assert response.status_code in (400, 409)
    body = client.patch(
        f"/api/v1/posts/{post.id}", json={"title": "New", "version": 10**20}, headers=writer
    )
    assert body.status_code == 400 and "version" in body.get_json()["error"]["fields"]


# -- Addresses -------------------------------------------------------------------------------

REFUSED = [
    "javascript:alert(1)",
    "JaVaScRiPt:alert(1)",
    " javascript:alert(1)",
    "\t\njavascript:alert(1)",
    "java\tscript:alert(1)",
    "vbscript:msgbox(1)",
    "data:image/svg+xml,<svg onload=alert(1)>",
    "data:text/html;base64,PHNjcmlwdD4=",
    "//evil.example/x.png",
    "\\\\evil.example",
    "/\\evil.example",
    "https:evil.example",
    "https://",
    "ftp://example.org/x.png",
    "file:///etc/passwd",
]
ACCEPTED = [
    "https://example.org/cover.png",
    "http://example.org/a.jpg?x=1",
    "/uploads/2026/11/0123456789abcdef0123456789abcdef-960.jpg",
    "/static/logo.png",
]


@pytest.mark.parametrize("address", REFUSED)
def test_hostile_addresses_are_refused_with_a_reason(address):
    assert url_problem(address) == (
        "Give an address starting with https://, http:// or / (an address on this site)."
    )
    assert not is_usable_address(address)


@pytest.mark.parametrize("address", ACCEPTED)
def test_web_and_site_addresses_are_accepted(address):
    assert url_problem(address) is None and is_usable_address(address)


def test_bounded_int():
    assert bounded_int("42") == 42 and bounded_int(42) == 42
    assert bounded_int(str(MAX_ID)) == MAX_ID
    for bad in (TWENTY_DIGITS, str(MAX_ID + 1), "0", "-1", "1.0", " ", None, True, "٣", "9" * 5000):
        assert bounded_int(bad) is None, bad
    assert bounded_int("0", low=0) == 0


def test_a_stored_hostile_address_is_never_rendered(client, make):
    """Rows from before covers were library items cannot put a script in a page."""
    section = make.section("Health", slug="health")
    author = make.user("author", username="mallory")
    post = make.post(author=author, section=section, title="Old cover")
    post.cover_image, post.cover_alt = "javascript:alert(1)", "x"
    section.cover_image, section.cover_alt = " vbscript:msgbox(1)", "y"
    author.avatar_image = "data:image/svg+xml,<svg onload=alert(1)>"
    db.session.commit()
    for url in ("/", "/category/health", f"/health/{post.slug}", "/author/mallory"):
        page = client.get(url).get_data(as_text=True).lower()
        assert "javascript:" not in page and "vbscript:" not in page, url
        assert "data:image" not in page, url


# -- Covers from the library -----------------------------------------------------------------


def test_desk_offers_library_images_and_shows_the_chosen_cover(app, client, make):
    section = make.section("Health", slug="health")
    make.user("editor", username="edda")
    image = make.image(alt="Boats in a harbour")
    desk = app.test_client()
    Auth(desk).login("edda")
    form = desk.get("/editor/posts/new").get_data(as_text=True)
    assert f'<option value="{image.id}">harbour.jpg — Boats in a harbour</option>' in form
    response = desk.post(
        "/editor/posts/new",
        data={"csrf_token": csrf_from(form), "title": "Harbour news", "category": str(section.id),
              "cover_media_id": str(image.id), "cover_alt": ""},
    )
    assert response.status_code == 302
    post = db.session.scalar(select(Post).where(Post.title == "Harbour news"))
    assert post.cover_media_id == image.id
    assert post.cover_image == media_service.largest_url(image)
    assert post.cover_alt == "Boats in a harbour"
    # The library knows the image is in use, and will not delete it.
    assert [p.id for p in media_service.usage(image)] == [post.id]


def test_a_section_cover_keeps_its_image_from_deletion(make):
    section = make.section("Health", slug="health")
    image = make.image()
    media_service.set_cover(section, image, "A park")
    db.session.commit()
    assert media_service.other_uses(image) == ["the cover of the Health section"]
    with pytest.raises(Exception, match="still used as the cover of the Health section"):
        media_service.delete_media(image, db.session.get(User, image.uploader_id))


def test_deleting_a_media_row_leaves_no_cover_id(make):
    """ON DELETE SET NULL: a media row removed under the service leaves no dangling id."""
    section = make.section("Health", slug="health")
    image = make.image()
    media_service.set_cover(section, image, "A park")
    db.session.commit()
    db.session.execute(text("DELETE FROM media WHERE id = :id"), {"id": image.id})
    db.session.commit()
    db.session.expire_all()
    assert db.session.get(Category, section.id).cover_media_id is None


def test_the_migration_links_library_covers_and_drops_the_rest(empty_database_url):
    site = create_app({"CIRCLE_ENV": "testing", "SQLALCHEMY_DATABASE_URI": empty_database_url})
    key = "0123456789abcdef0123456789abcdef"
    with site.app_context():
        upgrade(revision="0007")
        db.session.execute(text(
            "INSERT INTO media (id, key, folder, ext, original_name, mime, width, height, bytes, "
            "widths, alt, created_at) VALUES (7, :key, '2026/11', 'jpg', 'a.jpg', 'image/jpeg', "
            "1600, 900, 1000, '[480, 960, 1600]', 'A', '2026-11-01 00:00:00')"
        ), {"key": key})
        rows = [
            (1, "library", f"/uploads/2026/11/{key}-480.jpg"),
            (2, "outside", "https://example.org/x.jpg"),
            (3, "script", "javascript:alert(1)"),
            (4, "static", "/static/uploads/x.jpg"),
        ]
        for row_id, slug, cover in rows:
            db.session.execute(text(
                "INSERT INTO categories (id, name, slug, description, position, cover_image, "
                "cover_alt, created_at) VALUES (:id, :slug, :slug, '', :id, :cover, 'alt', "
                "'2026-11-01 00:00:00')"
            ), {"id": row_id, "slug": slug, "cover": cover})
        db.session.commit()
        upgrade()
        got = {
            row.slug: (row.cover_media_id, row.cover_image, row.cover_alt)
            for row in db.session.execute(
                text("SELECT slug, cover_media_id, cover_image, cover_alt FROM categories")
            )
        }
        db.session.remove()
        db.engine.dispose()
    assert got == {
        "library": (7, f"/uploads/2026/11/{key}-1600.jpg", "alt"),
        "outside": (None, None, ""),
        "script": (None, None, ""),
        "static": (None, None, ""),
    }
