"""The moderation queue at /admin/: what each person sees and may do there."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from blog.extensions import db
from blog.models import AuditEntry, Comment, CommentStatus, PostStatus, Report, ReportStatus
from blog.services import comments as comment_service
from blog.services import reports as report_service
from blog.services.users import assign_sections

from .conftest import Auth, csrf_from

ROLES = ["anonymous", "reader", "author", "fashion_editor", "health_editor", "admin"]


@pytest.fixture
def queue(make):
    """A Health post in review, a held comment on a Health post and an open report."""
    health = make.section("Health", slug="health")
    fashion = make.section("Fashion", slug="fashion")
    people = {
        "reader": make.user("reader", username="reader"),
        "author": make.user("author", username="author"),
        "fashion_editor": make.user("editor", username="fashion_editor"),
        "health_editor": make.user("editor", username="health_editor"),
        "admin": make.user("admin", username="admin"),
    }
    assign_sections(people["fashion_editor"], [fashion])
    assign_sections(people["health_editor"], [health])
    live = make.post(author=people["author"], section=health, title="CAR-T explained")
    pending = make.post(
        author=people["author"], section=health, status=PostStatus.PENDING, title="In review"
    )
    comment = comment_service.add_comment(people["reader"], live, "A first thought.")
    report = report_service.report(people["reader"], "This needs a source.", post=live)
    return {
        "health": health,
        "fashion": fashion,
        "live": live,
        "pending": pending,
        "comment": comment,
        "report": report,
        **people,
    }


def _client(app, role):
    client = app.test_client()
    if role != "anonymous":
        assert Auth(client).login(role).status_code == 302
    return client


def _any_token(client) -> str:
    """A valid CSRF token for this client's session, from any page with a form."""
    for url in ("/account", "/register", "/login"):
        page = client.get(url)
        if page.status_code == 200 and 'name="csrf_token"' in page.get_data(as_text=True):
            return csrf_from(page.get_data(as_text=True))
    raise AssertionError("no page with a form")


def _fresh(obj):
    db.session.expire_all()
    return db.session.get(type(obj), obj.id)


@pytest.mark.parametrize("role", ROLES)
def test_who_sees_the_queue(app, queue, role):
    client = _client(app, role)
    response = client.get("/admin/")
    if role == "anonymous":
        assert response.status_code == 302 and "/login" in response.headers["Location"]
        return
    if role in ("reader", "author"):
        assert response.status_code == 403
        return
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    sees_health = role in ("health_editor", "admin")
    assert ("In review" in page) is sees_health
    assert ("A first thought." in page) is sees_health
    assert ("This needs a source." in page) is sees_health


@pytest.mark.parametrize("role", ROLES)
def test_approving_a_comment_by_forged_post(app, queue, role):
    client = _client(app, role)
    response = client.post(
        "/admin/comments/moderate",
        data={
            "csrf_token": _any_token(client),
            "ids": str(queue["comment"].id),
            "action": "approve",
        },
    )
    allowed = role in ("health_editor", "admin")
    status = _fresh(queue["comment"]).status
    if allowed:
        assert response.status_code == 302 and status == CommentStatus.APPROVED
    else:
        assert response.status_code in (302, 403) and status == CommentStatus.PENDING
        if role != "anonymous":
            assert response.status_code == 403


@pytest.mark.parametrize("role", ROLES)
def test_resolving_a_report_by_forged_post(app, queue, role):
    client = _client(app, role)
    response = client.post(
        f"/admin/reports/{queue['report'].id}/resolve",
        data={"csrf_token": _any_token(client), "action": "unpublish_post", "note": "x"},
    )
    report = _fresh(queue["report"])
    post = _fresh(queue["live"])
    if role in ("health_editor", "admin"):
        assert response.status_code == 302
        assert report.status == ReportStatus.RESOLVED and post.status == PostStatus.DRAFT
    else:
        assert report.status == ReportStatus.OPEN and post.status == PostStatus.PUBLISHED
        assert response.status_code == (302 if role == "anonymous" else 403)


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("action", ["publish", "send-back", "schedule"])
def test_review_actions_by_forged_post(app, queue, role, action):
    client = _client(app, role)
    post = queue["pending"]
    client.post(
        f"/editor/posts/{post.id}/{action}",
        data={
            "csrf_token": _any_token(client),
            "version": str(post.version),
            "note": "Please add sources.",
            "publish_at": "2099-01-01T09:00",
            "return_to": "queue",
        },
    )
    status = _fresh(post).status
    if role in ("health_editor", "admin"):
        expected = {
            "publish": PostStatus.PUBLISHED,
            "send-back": PostStatus.DRAFT,
            "schedule": PostStatus.SCHEDULED,
        }[action]
        assert status == expected
    else:
        assert status == PostStatus.PENDING


def test_queue_actions_return_to_the_queue_and_are_audited(app, queue):
    editor = _client(app, "health_editor")
    post = queue["pending"]
    response = editor.post(
        f"/editor/posts/{post.id}/send-back",
        data={
            "csrf_token": _any_token(editor),
            "version": str(post.version),
            "note": "Add sources, please.",
            "return_to": "queue",
        },
    )
    assert response.headers["Location"] == "/admin/"
    editor.post(
        "/admin/comments/moderate",
        data={"csrf_token": _any_token(editor), "ids": str(queue["comment"].id), "action": "spam"},
    )
    actions = set(db.session.scalars(select(AuditEntry.action)))
    assert {"post.reject", "comment.spam"} <= actions
    author = _client(app, "author")
    assert "Add sources, please." in author.get("/editor/").get_data(as_text=True)


def test_bulk_moderation(app, queue, make):
    more = [
        comment_service.add_comment(queue["reader"], queue["live"], f"Thought {n}")
        for n in range(3)
    ]
    editor = _client(app, "health_editor")
    ids = [str(c.id) for c in [queue["comment"], *more]]
    response = editor.post(
        "/admin/comments/moderate",
        data={"csrf_token": _any_token(editor), "ids": ids, "action": "trash"},
    )
    assert response.status_code == 302
    db.session.expire_all()
    statuses = set(db.session.scalars(select(Comment.status)))
    assert statuses == {CommentStatus.TRASH}


def test_staff_navigation_shows_the_waiting_count(app, queue):
    page = _client(app, "health_editor").get("/").get_data(as_text=True)
    assert 'class="badge">3<' in page  # one post, one comment, one report
    assert "Moderation" not in _client(app, "reader").get("/").get_data(as_text=True)


def test_unknown_report_is_404(app, queue):
    admin = _client(app, "admin")
    response = admin.post(
        "/admin/reports/99999/resolve",
        data={"csrf_token": _any_token(admin), "action": "dismiss"},
    )
    assert response.status_code == 404
    assert db.session.scalar(select(Report.status)) == ReportStatus.OPEN
