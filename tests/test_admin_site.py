"""The site as a whole: settings, the trash, the audit log, and valid admin pages."""

from __future__ import annotations

import json
import subprocess

import pytest
from flask import g
from sqlalchemy import func, select

from blog.extensions import db
from blog.models import AuditEntry, Comment, CommentStatus, Post, PostStatus, Revision
from blog.services import Forbidden, ServiceError, publishing
from blog.services import media as media_service
from blog.services import settings as site_settings
from blog.services import trash as trash_service
from blog.services import users as user_service

from .conftest import Auth, csrf_from

ROLES = ["anonymous", "reader", "author", "editor", "admin"]


@pytest.fixture
def office(make):
    """Two sections with stories, an admin, section editors, an author and a reader."""
    health = make.section("Health", slug="health", position=1)
    fashion = make.section("Fashion", slug="fashion", position=2)
    people = {
        "boss": make.user("admin", username="boss"),
        "hedda": make.user("editor", username="hedda"),
        "fay": make.user("editor", username="fay"),
        "ana": make.user("author", username="ana"),
        "rita": make.user("reader", username="rita"),
    }
    user_service.assign_sections(people["hedda"], [health])
    user_service.assign_sections(people["fay"], [fashion])
    return {"health": health, "fashion": fashion, **people}


def _as(app, username):
    """A fresh client signed in as username."""
    client = app.test_client()
    assert Auth(client).login(username).status_code == 302
    return client


def _token(client) -> str:
    """A valid CSRF token for this client's session (or a signed-out one)."""
    page = client.get("/account")
    if page.status_code != 200:
        page = client.get("/login")
    return csrf_from(page.get_data(as_text=True))


def _post(client, url, follow_redirects=False, **data):
    """Post a form with a valid CSRF token."""
    return client.post(
        url, data={"csrf_token": _token(client), **data}, follow_redirects=follow_redirects
    )


def _comment(post, author, text, status=CommentStatus.APPROVED, parent=None) -> Comment:
    """A comment written straight to the database."""
    comment = Comment(
        post=post,
        author=author,
        parent=parent,
        body=text,
        body_html=f"<p>{text}</p>",
        status=status,
    )
    db.session.add(comment)
    db.session.commit()
    return comment


def _count(model, *where) -> int:
    """How many rows of model match."""
    db.session.expire_all()
    return db.session.scalar(select(func.count()).select_from(model).where(*where))


def _audit(action) -> list[AuditEntry]:
    """The audit entries with this action, oldest first."""
    return list(
        db.session.scalars(select(AuditEntry).where(AuditEntry.action == action).order_by("id"))
    )


def _settings() -> site_settings.Settings:
    """The settings in force now, read afresh.

    The tests share one app context, so its `g` would otherwise keep a copy
    from an earlier read (or an earlier test).
    """
    g.pop("circle_settings", None)
    try:
        return site_settings.current()
    finally:
        g.pop("circle_settings", None)


def _settings_form(**overrides) -> dict:
    """A full settings form."""
    data = {
        "site_name": "My Circle Story",
        "site_slogan": "stories from every corner",
        "site_tagline": "A magazine.",
        "posts_per_page": "10",
        "comments_moderated": "y",
        "comment_link_limit": "2",
        "comment_blocklist": "",
    }
    data.update(overrides)
    return {k: v for k, v in data.items() if v is not None}


# --- Settings -------------------------------------------------------------------


def test_settings_page_shows_the_current_values(app, office):
    page = _as(app, "boss").get("/admin/settings").get_data(as_text=True)
    current = _settings()
    assert f'value="{current.site_name}"' in page
    assert f'value="{current.posts_per_page}"' in page


def test_new_site_name_shows_on_the_home_page_at_once(app, client, office):
    assert "The Circle Weekly" not in client.get("/").get_data(as_text=True)
    boss = _as(app, "boss")
    response = _post(
        boss,
        "/admin/settings",
        **_settings_form(
            site_name="The Circle Weekly",
            site_slogan="small stories, told well",
            comment_blocklist="Casino\n  cheap pills \n\ncasino\n",
            comments_moderated=None,
            comment_link_limit="0",
            posts_per_page="7",
        ),
    )
    assert response.status_code == 302
    home = client.get("/").get_data(as_text=True)
    assert '<a class="masthead__name" href="/">The Circle Weekly</a>' in home
    assert "small stories, told well" in home
    now = _settings()
    assert now.comment_blocklist == ["casino", "cheap pills"]
    assert now.comments_moderated is False and now.comment_link_limit == 0
    assert now.posts_per_page == 7
    page = boss.get("/admin/settings").get_data(as_text=True)
    assert "casino\ncheap pills</textarea>" in page
    [entry] = _audit("settings.change")
    assert entry.actor_name == "boss" and "The Circle Weekly" in entry.details


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"site_name": "   "}, "The site needs a name"),
        ({"site_name": ""}, "The site needs a name"),
        ({"posts_per_page": "0"}, "between 1 and 100"),
        ({"posts_per_page": "1000"}, "between 1 and 100"),
        ({"posts_per_page": "ten"}, "whole number"),
        ({"comment_link_limit": "-1"}, "between 0 and 50"),
        ({"site_slogan": "x" * 201}, "200 characters"),
    ],
)
def test_bad_settings_change_nothing(app, client, office, overrides, message):
    before = _settings()
    boss = _as(app, "boss")
    response = _post(
        boss, "/admin/settings", **_settings_form(**{"site_name": "Changed", **overrides})
    )
    assert response.status_code == 400
    assert message in response.get_data(as_text=True)
    assert before.site_name in client.get("/").get_data(as_text=True)
    assert not _audit("settings.change")


def test_an_admin_chooses_the_default_share_image_from_the_library(
    app, client, office, make, uploads
):
    picture = make.image(alt="The Circle masthead", size=(1200, 630))
    boss = _as(app, "boss")
    page = boss.get("/admin/settings").get_data(as_text=True)
    assert f'<option value="{picture.id}">harbour.jpg — The Circle masthead</option>' in page
    response = _post(
        boss, "/admin/settings", **_settings_form(default_share_image=str(picture.id))
    )
    assert response.status_code == 302
    assert _settings().default_share_image == picture.id
    page = boss.get("/admin/settings").get_data(as_text=True)
    assert f'<option selected value="{picture.id}">' in page
    home = client.get("/").get_data(as_text=True)
    address = f"http://localhost{media_service.largest_url(picture)}"
    assert f'<meta property="og:image" content="{address}">' in home
    # In use, the image cannot be deleted from the library.
    with pytest.raises(ServiceError, match="used as the site's default share image"):
        media_service.delete_media(picture, office["boss"])
    # Choosing none goes back to the site icon.
    none = _post(boss, "/admin/settings", **_settings_form(default_share_image=""))
    assert none.status_code == 302
    assert _settings().default_share_image is None


def test_an_unknown_default_share_image_is_refused(app, office):
    boss = _as(app, "boss")
    response = _post(boss, "/admin/settings", **_settings_form(default_share_image="424242"))
    assert response.status_code == 400
    assert "Choose a cover image from the media library." in response.get_data(as_text=True)
    assert _settings().default_share_image is None


# --- Trash ----------------------------------------------------------------------


@pytest.fixture
def rubbish(office, make):
    """A trashed post with a comment and a revision, a trashed comment with a reply."""
    live = make.post(section=office["health"], title="Still here")
    gone = make.post(section=office["fashion"], title="Old news", status=PostStatus.TRASH)
    on_gone = _comment(gone, office["rita"], "A comment on a deleted post")
    bad = _comment(live, office["rita"], "Rude words", status=CommentStatus.TRASH)
    reply = _comment(live, office["ana"], "A kind reply", parent=bad)
    kept = _comment(live, office["ana"], "A good comment")
    return {
        "live": live,
        "gone": gone,
        "on_gone": on_gone,
        "bad": bad,
        "reply": reply,
        "kept": kept,
    }


def test_trash_lists_posts_and_comments(app, rubbish):
    page = _as(app, "boss").get("/admin/trash").get_data(as_text=True)
    assert "Old news" in page and "Rude words" in page
    assert f"/admin/trash/posts/{rubbish['gone'].id}/restore" in page
    assert f"/admin/trash/posts/{rubbish['live'].id}/restore" not in page
    assert "A good comment" not in page and "A comment on a deleted post" not in page


def test_restore_a_post_as_a_draft(app, rubbish):
    boss = _as(app, "boss")
    gone = rubbish["gone"]
    assert _post(boss, f"/admin/trash/posts/{gone.id}/restore").status_code == 302
    db.session.expire_all()
    assert db.session.get(Post, gone.id).status == PostStatus.DRAFT
    [entry] = _audit("post.restore")
    assert entry.target_id == gone.id and entry.category_id == gone.category_id
    # Not in the trash any more: nothing to restore.
    assert _post(boss, f"/admin/trash/posts/{gone.id}/restore").status_code == 404
    assert _post(boss, f"/admin/trash/posts/{rubbish['live'].id}/restore").status_code == 404


def test_restore_a_comment_for_moderation(app, rubbish):
    boss = _as(app, "boss")
    bad = rubbish["bad"]
    assert _post(boss, f"/admin/trash/comments/{bad.id}/restore").status_code == 302
    db.session.expire_all()
    assert db.session.get(Comment, bad.id).status == CommentStatus.PENDING
    assert _audit("comment.restore")
    assert _post(boss, f"/admin/trash/comments/{bad.id}/restore").status_code == 404


@pytest.mark.parametrize("typed", [None, "", "empty", "yes", "EMPTY!"])
def test_emptying_needs_the_typed_word(app, rubbish, typed):
    boss = _as(app, "boss")
    data = {} if typed is None else {"confirm": typed}
    response = _post(boss, "/admin/trash/empty", **data)
    assert response.status_code == 400
    assert "Type EMPTY" in response.get_data(as_text=True)
    assert _count(Post, Post.status == PostStatus.TRASH) == 1
    assert _count(Comment, Comment.status == CommentStatus.TRASH) == 1
    assert not _audit("trash.empty")


def test_emptying_deletes_for_good_and_keeps_replies(app, client, rubbish):
    ids = {name: thing.id for name, thing in rubbish.items()}
    live_slug = rubbish["live"].slug
    boss = _as(app, "boss")
    response = _post(boss, "/admin/trash/empty", confirm="EMPTY", follow_redirects=True)
    assert response.status_code == 200
    assert "1 post(s) and 1 comment(s) deleted for good" in response.get_data(as_text=True)
    assert _count(Post, Post.id == ids["gone"]) == 0
    assert _count(Revision, Revision.post_id == ids["gone"]) == 0
    assert _count(Comment, Comment.id.in_([ids["bad"], ids["on_gone"]])) == 0
    # The reply to the deleted comment stays, now at the top level; others are untouched.
    reply = db.session.get(Comment, ids["reply"])
    assert reply is not None and reply.parent_id is None
    assert db.session.get(Comment, ids["kept"]) is not None
    assert db.session.get(Post, ids["live"]) is not None
    article = client.get(f"/health/{live_slug}").get_data(as_text=True)
    assert "A kind reply" in article and "Rude words" not in article
    [entry] = _audit("trash.empty")
    assert json.loads(entry.details) == {
        "posts": 1,
        "comments": 1,
        "comments_on_deleted_posts": 1,
    }
    again = _post(boss, "/admin/trash/empty", confirm="EMPTY")
    assert again.status_code == 400 and "already empty" in again.get_data(as_text=True)


def test_trash_service_checks_the_actor(app, office, rubbish):
    with pytest.raises(Forbidden):
        trash_service.empty_trash(office["hedda"], "EMPTY")
    with pytest.raises(Forbidden):
        trash_service.restore_post(office["hedda"], rubbish["gone"])
    with pytest.raises(ServiceError):
        trash_service.empty_trash(office["boss"], "empty")
    assert _count(Post, Post.status == PostStatus.TRASH) == 1


# --- Audit log ------------------------------------------------------------------


@pytest.fixture
def history(app, office, make):
    """Things that happened in Health, in Fashion, to people and to the settings."""
    health_post = make.post(section=office["health"], status=PostStatus.DRAFT, title="Sleep")
    fashion_post = make.post(section=office["fashion"], status=PostStatus.DRAFT, title="Coats")
    publishing.publish_now(office["hedda"], health_post)
    publishing.publish_now(office["fay"], fashion_post)
    publishing.unpublish(office["fay"], fashion_post)
    user_service.change_role(office["boss"], office["ana"], "editor")
    user_service.suspend(office["boss"], office["rita"], "spam")
    return {"health_post": health_post, "fashion_post": fashion_post}


def _rows(html: str) -> int:
    """How many entries a page of the log shows."""
    body = html[html.find("<tbody>") :]
    return body.count("<tr>")


def test_admin_sees_every_entry_with_who_what_when_where(app, history):
    page = _as(app, "boss").get("/admin/audit").get_data(as_text=True)
    for text in ("post.publish", "post.unpublish", "user.role", "user.suspend", "Sleep", "Coats"):
        assert text in page
    assert "hedda" in page and "fay" in page and "boss" in page
    assert "<time datetime=" in page
    assert _rows(page) == 5


def test_audit_filters(app, office, history):
    boss = _as(app, "boss")
    only_unpublish = boss.get("/admin/audit?action=post.unpublish").get_data(as_text=True)
    assert _rows(only_unpublish) == 1 and "Coats" in only_unpublish
    by_fay = boss.get("/admin/audit?person=fay").get_data(as_text=True)
    assert _rows(by_fay) == 2 and "Sleep" not in by_fay
    health = boss.get(f"/admin/audit?section={office['health'].id}").get_data(as_text=True)
    assert _rows(health) == 1 and "Sleep" in health
    people = boss.get("/admin/audit?type=user").get_data(as_text=True)
    assert _rows(people) == 2 and "user.suspend" in people and "Sleep" not in people
    combined = boss.get(f"/admin/audit?person=fay&section={office['health'].id}")
    assert _rows(combined.get_data(as_text=True)) == 0
    assert boss.get("/admin/audit?section=abc").status_code == 200  # ignored, not a crash


def test_section_editor_sees_only_their_sections(app, office, history):
    hedda = _as(app, "hedda")
    page = hedda.get("/admin/audit").get_data(as_text=True)
    assert "Sleep" in page and "Coats" not in page
    assert "user.role" not in page and "user.suspend" not in page
    assert _rows(page) == 1
    # Asking for another section's entries shows nothing rather than leaking them.
    sneaky = hedda.get(f"/admin/audit?section={office['fashion'].id}").get_data(as_text=True)
    assert _rows(sneaky) == 0 and "Coats" not in sneaky
    assert _rows(hedda.get("/admin/audit?type=user").get_data(as_text=True)) == 0
    # The section filter offers only Health.
    assert f'<option value="{office["fashion"].id}"' not in page


def test_audit_log_pages_and_bad_pages(app, office, history, make):
    from blog.services import audit

    for n in range(60):
        audit.record(office["boss"], "post.publish", history["health_post"], f"n{n}")
    db.session.commit()
    boss = _as(app, "boss")
    assert _rows(boss.get("/admin/audit").get_data(as_text=True)) == 50
    second = boss.get("/admin/audit?page=2").get_data(as_text=True)
    assert _rows(second) == 15 and "Page 2 of 2" in second
    filtered = boss.get("/admin/audit?action=post.publish&page=2").get_data(as_text=True)
    assert _rows(filtered) == 12
    for bad in ("0", "3", "x", "-2", "99999999"):
        assert boss.get(f"/admin/audit?page={bad}").status_code == 404, bad


def test_the_log_cannot_be_changed_from_the_site(app, office, history):
    boss = _as(app, "boss")
    before = _count(AuditEntry)
    for method in (boss.post, boss.put, boss.delete):
        assert method("/admin/audit", data={"csrf_token": _token(boss)}).status_code == 405
    assert _count(AuditEntry) == before


def test_actions_through_the_site_record_the_address(app, office):
    boss = _as(app, "boss")
    _post(boss, f"/admin/users/{office['ana'].id}/role", role="editor")
    [entry] = _audit("user.role")
    assert entry.ip_address == "127.0.0.1"
    assert "127.0.0.1" in boss.get("/admin/audit").get_data(as_text=True)


# --- Navigation between the admin pages -------------------------------------------


def test_admin_navigation_offers_what_each_person_may_open(app, office):
    admin_nav = _as(app, "boss").get("/admin/audit").get_data(as_text=True)
    for url in ("/admin/users", "/admin/categories", "/admin/audit", "/admin/trash"):
        assert f'href="{url}"' in admin_nav
    assert 'href="/admin/settings"' in admin_nav
    editor_nav = _as(app, "hedda").get("/admin/audit").get_data(as_text=True)
    assert 'href="/admin/audit" aria-current="page"' in editor_nav
    for url in ("/admin/users", "/admin/categories", "/admin/trash", "/admin/settings"):
        assert f'href="{url}"' not in editor_nav


# --- Who may do it ----------------------------------------------------------------


def _site_actions(rubbish):
    """(url, form data, check that nothing changed) for the settings and trash POSTs."""
    gone, bad = rubbish["gone"].id, rubbish["bad"].id
    name = _settings().site_name

    return {
        "settings": (
            "/admin/settings",
            _settings_form(site_name="Forged Name"),
            lambda: _settings().site_name == name,
        ),
        "restore_post": (
            f"/admin/trash/posts/{gone}/restore",
            {},
            lambda: _count(Post, Post.id == gone, Post.status == PostStatus.TRASH) == 1,
        ),
        "restore_comment": (
            f"/admin/trash/comments/{bad}/restore",
            {},
            lambda: _count(Comment, Comment.id == bad, Comment.status == "trash") == 1,
        ),
        "empty": (
            "/admin/trash/empty",
            {"confirm": "EMPTY"},
            lambda: _count(Post, Post.id == gone) == 1,
        ),
    }


@pytest.mark.parametrize("action", ["settings", "restore_post", "restore_comment", "empty"])
@pytest.mark.parametrize("role", ROLES)
def test_only_admins_change_settings_and_the_trash(app, office, rubbish, make, role, action):
    url, data, unchanged = _site_actions(rubbish)[action]
    if role == "anonymous":
        client = app.test_client()
    else:
        make.user(role, username=f"the_{role}")
        client = _as(app, f"the_{role}")
    token = _token(client)
    before = _count(AuditEntry)
    response = client.post(url, data={"csrf_token": token, **data})
    if role == "admin":
        assert response.status_code == 302, response.get_data(as_text=True)
        assert not unchanged()
        return
    if role == "anonymous":
        assert response.status_code == 302
        assert response.headers["Location"].startswith("/login")
    else:
        assert response.status_code == 403
    assert unchanged()
    assert _count(AuditEntry) == before


@pytest.mark.parametrize("role", ROLES)
def test_detail_pages_are_for_admins_only(app, office, make, role):
    urls = [f"/admin/users/{office['rita'].id}", f"/admin/categories/{office['health'].id}"]
    if role == "anonymous":
        client = app.test_client()
    else:
        make.user(role, username=f"the_{role}")
        client = _as(app, f"the_{role}")
    for url in urls:
        response = client.get(url)
        if role == "admin":
            assert response.status_code == 200, url
        elif role == "anonymous":
            assert response.status_code == 302 and "/login" in response.headers["Location"]
        else:
            assert response.status_code == 403, (role, url)


# --- Valid HTML -------------------------------------------------------------------


def test_admin_pages_are_valid_html(app, office, rubbish, history, tmp_path):
    from .test_html_valid import VNU_JAR, _java

    java = _java()
    boss = _as(app, "boss")
    health = office["health"]
    pages = {
        url: boss.get(url)
        for url in (
            "/admin/users",
            "/admin/users?q=zzz",
            f"/admin/users/{office['hedda'].id}",
            f"/admin/users/{office['rita'].id}",
            "/admin/categories",
            f"/admin/categories/{health.id}",
            f"/admin/categories/{office['fashion'].id}",
            "/admin/settings",
            "/admin/trash",
            "/admin/audit",
            "/admin/audit?action=zzz",
        )
    }
    pages["sections errors"] = _post(boss, "/admin/categories/new", name="", slug="BAD")
    pages["section errors"] = _post(
        boss, f"/admin/categories/{health.id}", name="", slug="", cover_media_id="x"
    )
    pages["person errors"] = _post(boss, f"/admin/users/{office['ana'].id}/suspend", reason="")
    pages["settings errors"] = _post(boss, "/admin/settings", **_settings_form(posts_per_page="0"))
    pages["trash errors"] = _post(boss, "/admin/trash/empty", confirm="no")
    pages["editor's audit"] = _as(app, "hedda").get("/admin/audit")
    files = {}
    for n, (name, response) in enumerate(pages.items()):
        assert response.status_code in (200, 400), name
        path = tmp_path / f"page{n}.html"
        path.write_text(response.get_data(as_text=True), encoding="utf-8")
        files[str(path)] = name
    done = subprocess.run(
        [java, "-jar", str(VNU_JAR), "--errors-only", "--format", "json", *files],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    report = json.loads(done.stderr.strip() or done.stdout.strip())
    errors = [
        f"{files.get(m.get('url', '').removeprefix('file:'), '?')}: {m.get('message')} "
        f"{m.get('extract', '').strip()}"
        for m in report.get("messages", [])
        if m.get("type") in ("error", "non-document-error")
    ]
    assert not errors, "\n".join(errors)
