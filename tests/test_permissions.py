"""Who may open what: the role × URL matrix, and the per-object rules behind it.

Add a row to PAGES for every new page; the matrix then checks every role.
"""

from __future__ import annotations

import pytest

from blog.models import Permission, PostStatus
from blog.permissions import can_edit, can_publish, can_view_post

ROLES = ["anonymous", "reader", "author", "editor", "admin"]

# url -> the least role that may open it (None: everyone)
PAGES = {
    "/": None,
    "/category/health": None,
    "/login": None,
    "/register": None,
    "/reset-password": None,
    "/account": "reader",
    "/editor/": "author",
    "/editor/posts/new": "author",
    "/editor/media": "author",
    "/admin/": "editor",
    "/admin/users": "admin",
    "/admin/categories": "admin",
    "/admin/settings": "admin",
    "/admin/trash": "admin",
    "/admin/audit": "editor",
    "/admin/comments": "editor",
}
SIGNED_OUT_ONLY = {"/login", "/register"}


def _rank(role: str) -> int:
    return ROLES.index(role)


@pytest.fixture
def signed_in(client, auth, make):
    """Sign in as the given role (or stay anonymous) and return the client."""

    def as_role(role: str):
        make.section("Health", slug="health")
        if role != "anonymous":
            make.user(role, username=f"the_{role}")
            assert auth.login(f"the_{role}").status_code == 302
        return client

    return as_role


@pytest.mark.parametrize("url", PAGES)
@pytest.mark.parametrize("role", ROLES)
def test_role_url_matrix(signed_in, role, url):
    client = signed_in(role)
    response = client.get(url)
    least = PAGES[url]
    if url in SIGNED_OUT_ONLY and role != "anonymous":
        assert response.status_code == 302  # already signed in
    elif least is None or (role != "anonymous" and _rank(role) >= _rank(least)):
        assert response.status_code == 200, (role, url)
    elif role == "anonymous":
        assert response.status_code == 302
        assert response.headers["Location"].startswith("/login?next=")
    else:
        assert response.status_code == 403, (role, url)
        assert "permission" in response.get_data(as_text=True)


def test_role_permissions_follow_spec(make):
    reader, author = make.user("reader"), make.user("author")
    editor, admin = make.user("editor"), make.user("admin")
    assert reader.can(Permission.COMMENT) and reader.can(Permission.REPORT)
    assert not reader.can(Permission.WRITE)
    assert author.can(Permission.WRITE) and author.can(Permission.UPLOAD)
    assert not author.can(Permission.PUBLISH)
    assert editor.can(Permission.PUBLISH) and editor.can(Permission.REVIEW)
    assert editor.can(Permission.MODERATE) and not editor.can(Permission.MANAGE_USERS)
    assert all(admin.can(p) for p in Permission)


def test_editor_sections_limit_their_power(make):
    health, fashion = make.section("Health"), make.section("Fashion")
    health_editor = make.user("editor")
    from blog.services.users import assign_sections

    assign_sections(health_editor, [health])
    roaming_editor = make.user("editor")
    author = make.user("author")
    health_post = make.post(author=author, section=health, status=PostStatus.DRAFT)
    fashion_post = make.post(author=author, section=fashion, status=PostStatus.DRAFT)

    assert can_publish(health_editor, health_post)
    assert can_edit(health_editor, health_post)
    assert not can_publish(health_editor, fashion_post)
    assert not can_edit(health_editor, fashion_post)
    assert not can_view_post(health_editor, fashion_post)
    # No sections assigned means every section.
    assert can_publish(roaming_editor, fashion_post)


def test_authors_edit_only_their_own_drafts(make):
    section = make.section()
    ana, ben = make.user("author"), make.user("author")
    draft = make.post(author=ana, section=section, status=PostStatus.DRAFT)
    pending = make.post(author=ana, section=section, status=PostStatus.PENDING)
    assert can_edit(ana, draft) and can_view_post(ana, draft)
    assert not can_edit(ben, draft) and not can_view_post(ben, draft)
    assert not can_edit(ana, pending)  # in review: the desk has it now
    assert not can_publish(ana, draft)


def test_suspended_people_can_do_nothing(make):
    from blog.extensions import db
    from blog.models import utcnow

    admin = make.user("admin")
    admin.suspended_at = utcnow()
    db.session.commit()
    assert not admin.can(Permission.COMMENT)
    assert not admin.can(Permission.MANAGE_USERS)
