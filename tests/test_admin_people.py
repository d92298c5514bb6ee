"""People: search and filters, roles, editors' sections, suspension and restore."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import func, select

from blog.extensions import db
from blog.models import AuditEntry, Comment, CommentStatus, User
from blog.services import ServiceError
from blog.services import users as user_service

from .conftest import Auth, csrf_from


@pytest.fixture
def staff(make):
    """Two sections, two admins, an editor, an author and a reader."""
    health = make.section("Health", slug="health")
    fashion = make.section("Fashion", slug="fashion")
    return {
        "health": health,
        "fashion": fashion,
        "boss": make.user("admin", username="boss"),
        "deputy": make.user("admin", username="deputy"),
        "hedda": make.user("editor", username="hedda", display_name="Hedda Gabler"),
        "ana": make.user("author", username="ana"),
        "rita": make.user("reader", username="rita", email="rita@readers.example"),
    }


def _as(app, username):
    """A fresh client signed in as username."""
    client = app.test_client()
    assert Auth(client).login(username).status_code == 302
    return client


def _token(client) -> str:
    """A valid CSRF token for this client's session."""
    return csrf_from(client.get("/account").get_data(as_text=True))


def _post(client, url, follow_redirects=False, **data):
    """Post a form with a valid CSRF token."""
    return client.post(
        url, data={"csrf_token": _token(client), **data}, follow_redirects=follow_redirects
    )


def _fresh(user) -> User:
    """Reload a person from the database."""
    db.session.expire_all()
    return db.session.get(User, user.id)


def _audit(action) -> list[AuditEntry]:
    """The audit entries with this action, oldest first."""
    return list(
        db.session.scalars(select(AuditEntry).where(AuditEntry.action == action).order_by("id"))
    )


# --- The list -------------------------------------------------------------------


def test_people_list_searches_and_filters(app, staff):
    boss = _as(app, "boss")
    page = boss.get("/admin/users").get_data(as_text=True)
    for name in ("boss", "hedda", "ana", "rita"):
        assert f">{name}</a>" in page
    found = boss.get("/admin/users?q=gabler").get_data(as_text=True)
    assert ">hedda</a>" in found and ">ana</a>" not in found
    by_email = boss.get("/admin/users?q=READERS.example").get_data(as_text=True)
    assert ">rita</a>" in by_email and ">hedda</a>" not in by_email
    admins = boss.get("/admin/users?role=admin").get_data(as_text=True)
    assert ">boss</a>" in admins and ">deputy</a>" in admins and ">rita</a>" not in admins
    # Wildcards typed in the box are taken literally.
    assert ">boss</a>" not in boss.get("/admin/users?q=%25").get_data(as_text=True)


def test_people_list_filters_by_state_and_pages(app, staff, make):
    user_service.suspend(staff["boss"], staff["rita"], "spam")
    boss = _as(app, "boss")
    suspended = boss.get("/admin/users?state=suspended").get_data(as_text=True)
    assert ">rita</a>" in suspended and ">ana</a>" not in suspended
    active = boss.get("/admin/users?state=active").get_data(as_text=True)
    assert ">rita</a>" not in active and ">ana</a>" in active
    for n in range(user_service.PEOPLE_PER_PAGE):
        make.user("reader", username=f"crowd{n:02d}")
    assert boss.get("/admin/users?page=2").status_code == 200
    second = boss.get("/admin/users?role=reader&page=2").get_data(as_text=True)
    assert "Page 2 of 2" in second
    for bad in ("0", "-1", "abc", "99", "1e3"):
        assert boss.get(f"/admin/users?page={bad}").status_code == 404, bad


def test_person_page_shows_the_forms(app, staff):
    boss = _as(app, "boss")
    page = boss.get(f"/admin/users/{staff['hedda'].id}").get_data(as_text=True)
    assert "Change role" in page and "Save sections" in page and "Suspend hedda" in page
    reader_page = boss.get(f"/admin/users/{staff['rita'].id}").get_data(as_text=True)
    assert "Save sections" not in reader_page  # only editors have sections
    assert boss.get("/admin/users/99999").status_code == 404


# --- Roles ----------------------------------------------------------------------


def test_admin_changes_a_role_and_it_is_audited(app, staff):
    boss = _as(app, "boss")
    response = _post(boss, f"/admin/users/{staff['ana'].id}/role", role="editor")
    assert response.status_code == 302
    assert _fresh(staff["ana"]).role.name == "editor"
    [entry] = _audit("user.role")
    assert entry.actor_name == "boss" and entry.target_label == "ana"
    assert entry.details == "author → editor" and entry.ip_address == "127.0.0.1"


def test_a_new_role_takes_effect_on_the_next_request(app, staff):
    ana = _as(app, "ana")
    assert ana.get("/editor/").status_code == 200
    user_service.change_role(staff["boss"], staff["ana"], "reader")
    # A role change ends her sessions; signed in again, she holds only the new role.
    assert ana.get("/editor/").status_code == 302
    assert Auth(ana).login("ana").status_code == 302
    assert ana.get("/editor/").status_code == 403


def test_unknown_role_is_refused(app, staff):
    boss = _as(app, "boss")
    response = _post(boss, f"/admin/users/{staff['ana'].id}/role", role="overlord")
    assert response.status_code == 400
    assert _fresh(staff["ana"]).role.name == "author"


def test_admin_cannot_demote_themselves(app, staff):
    boss = _as(app, "boss")
    response = _post(boss, f"/admin/users/{staff['boss'].id}/role", role="editor")
    assert response.status_code == 400
    assert "cannot demote yourself" in response.get_data(as_text=True)
    assert _fresh(staff["boss"]).role.name == "admin"
    assert not _audit("user.role")


def test_the_last_admin_cannot_demote_or_suspend_themselves(app, make):
    make.section("Health", slug="health")
    only = make.user("admin", username="only")
    client = _as(app, "only")
    demoted = _post(client, f"/admin/users/{only.id}/role", role="reader")
    assert demoted.status_code == 400
    assert "only active admin" in demoted.get_data(as_text=True)
    suspended = _post(client, f"/admin/users/{only.id}/suspend", reason="tired")
    assert suspended.status_code == 400
    assert "only active admin" in suspended.get_data(as_text=True)
    only = _fresh(only)
    assert only.role.name == "admin" and only.is_active
    assert client.get("/admin/users").status_code == 200  # still signed in, still admin


def test_a_suspended_admin_does_not_count_as_another_admin(app, make):
    only = make.user("admin", username="only")
    gone = make.user("admin", username="gone")
    helper = make.user("admin", username="helper")
    user_service.suspend(helper, gone, "left the magazine")
    user_service.change_role(only, helper, "editor")
    # Now 'only' is the one active admin; the suspended 'gone' does not count.
    with pytest.raises(ServiceError, match="only active admin"):
        user_service.change_role(only, only, "editor")
    with pytest.raises(ServiceError, match="only active admin"):
        user_service.suspend(only, only, "bye")
    assert _fresh(only).role.name == "admin" and _fresh(only).is_active


def test_services_check_the_actor_themselves(app, staff):
    from blog.services import Forbidden

    with pytest.raises(Forbidden):
        user_service.change_role(staff["hedda"], staff["ana"], "editor")
    with pytest.raises(Forbidden):
        user_service.suspend(staff["hedda"], staff["rita"], "spam")
    with pytest.raises(Forbidden):
        user_service.set_sections(staff["hedda"], staff["hedda"], [staff["fashion"]])
    assert _fresh(staff["ana"]).role.name == "author" and _fresh(staff["rita"]).is_active


# --- Sections of an editor --------------------------------------------------------


def test_admin_assigns_an_editors_sections(app, staff):
    boss = _as(app, "boss")
    hedda = staff["hedda"]
    response = _post(boss, f"/admin/users/{hedda.id}/sections", sections=[str(staff["health"].id)])
    assert response.status_code == 302
    assert [s.slug for s in _fresh(hedda).sections] == ["health"]
    page = boss.get(f"/admin/users/{hedda.id}").get_data(as_text=True)
    assert re.search(rf'<input checked[^>]*value="{staff["health"].id}"', page)
    assert not re.search(rf'<input checked[^>]*value="{staff["fashion"].id}"', page)
    [entry] = _audit("user.sections")
    assert entry.details == "all sections → Health"
    # Choosing none means every section again.
    assert _post(boss, f"/admin/users/{hedda.id}/sections").status_code == 302
    assert _fresh(hedda).sections == []


def test_sections_only_for_editors_and_only_real_ones(app, staff):
    boss = _as(app, "boss")
    for_author = _post(
        boss, f"/admin/users/{staff['ana'].id}/sections", sections=[str(staff["health"].id)]
    )
    assert for_author.status_code == 400
    assert "Only editors have sections" in for_author.get_data(as_text=True)
    bogus = _post(boss, f"/admin/users/{staff['hedda'].id}/sections", sections=["99999"])
    assert bogus.status_code == 400
    assert _fresh(staff["ana"]).sections == [] and _fresh(staff["hedda"]).sections == []


# --- Suspension -----------------------------------------------------------------


def test_suspension_needs_a_reason(app, staff):
    boss = _as(app, "boss")
    response = _post(boss, f"/admin/users/{staff['rita'].id}/suspend", reason="   ")
    assert response.status_code == 400
    assert "Give the reason" in response.get_data(as_text=True)
    assert _fresh(staff["rita"]).is_active


def test_admin_cannot_suspend_themselves(app, staff):
    boss = _as(app, "boss")
    response = _post(boss, f"/admin/users/{staff['boss'].id}/suspend", reason="holiday")
    assert response.status_code == 400
    assert "cannot suspend yourself" in response.get_data(as_text=True)
    assert _fresh(staff["boss"]).is_active


def test_suspended_person_is_signed_out_and_cannot_sign_in(app, staff):
    rita = _as(app, "rita")  # signed in before the suspension
    assert rita.get("/account").status_code == 200
    boss = _as(app, "boss")
    response = _post(boss, f"/admin/users/{staff['rita'].id}/suspend", reason="Spam links")
    assert response.status_code == 302
    after = rita.get("/account")
    assert after.status_code == 302 and after.headers["Location"].startswith("/login")
    fresh = Auth(app.test_client())
    failed = fresh.login("rita")
    assert failed.status_code == 200
    assert "Your account is suspended" in failed.get_data(as_text=True)  # right password
    person = _fresh(staff["rita"])
    assert person.suspended_reason == "Spam links" and person.suspended_at is not None
    [entry] = _audit("user.suspend")
    assert entry.details == "Spam links" and entry.target_label == "rita"
    page = boss.get(f"/admin/users/{person.id}").get_data(as_text=True)
    assert "Suspended" in page and "Spam links" in page and "Restore rita" in page


def test_restore_lets_them_sign_in_again(app, staff):
    user_service.suspend(staff["boss"], staff["rita"], "Spam links")
    boss = _as(app, "boss")
    assert _post(boss, f"/admin/users/{staff['rita'].id}/restore").status_code == 302
    person = _fresh(staff["rita"])
    assert person.is_active and person.suspended_reason == ""
    assert Auth(app.test_client()).login("rita").status_code == 302
    assert _audit("user.restore")
    # Restoring someone who is not suspended changes nothing.
    again = _post(boss, f"/admin/users/{person.id}/restore", follow_redirects=True)
    assert "is not suspended" in again.get_data(as_text=True)
    assert len(_audit("user.restore")) == 1


def _approved_comment(post, author, text) -> Comment:
    """An approved comment, written straight to the database."""
    comment = Comment(
        post=post,
        author=author,
        body=text,
        body_html=f"<p>{text}</p>",
        status=CommentStatus.APPROVED,
    )
    db.session.add(comment)
    db.session.commit()
    return comment


def test_a_suspended_persons_comments_leave_the_article(app, client, staff, make):
    post = make.post(section=staff["health"])
    _approved_comment(post, staff["rita"], "Marvellous reporting on sleep")
    url = f"/health/{post.slug}"
    assert "Marvellous reporting on sleep" in client.get(url).get_data(as_text=True)
    boss = _as(app, "boss")
    _post(boss, f"/admin/users/{staff['rita'].id}/suspend", reason="Abuse")
    assert "Marvellous reporting on sleep" not in client.get(url).get_data(as_text=True)
    _post(boss, f"/admin/users/{staff['rita'].id}/restore")
    assert "Marvellous reporting on sleep" in client.get(url).get_data(as_text=True)


# --- Who may do it ----------------------------------------------------------------

ROLES = ["anonymous", "reader", "author", "editor", "admin"]


def _people_actions(staff):
    """(url, form data, check that nothing changed) for every People POST."""
    rita, ana, hedda = staff["rita"], staff["ana"], staff["hedda"]
    return {
        "role": (
            f"/admin/users/{ana.id}/role",
            {"role": "editor"},
            lambda: _fresh(ana).role.name == "author",
        ),
        "sections": (
            f"/admin/users/{hedda.id}/sections",
            {"sections": [str(staff["health"].id)]},
            lambda: _fresh(hedda).sections == [],
        ),
        "suspend": (
            f"/admin/users/{rita.id}/suspend",
            {"reason": "forged"},
            lambda: _fresh(rita).is_active,
        ),
    }


@pytest.mark.parametrize("action", ["role", "sections", "suspend", "restore"])
@pytest.mark.parametrize("role", ROLES)
def test_only_admins_manage_people(app, staff, make, role, action):
    if action == "restore":
        user_service.suspend(staff["boss"], staff["rita"], "earlier")
        url, data = f"/admin/users/{staff['rita'].id}/restore", {}
        unchanged = lambda: not _fresh(staff["rita"]).is_active  # noqa: E731
    else:
        url, data, unchanged = _people_actions(staff)[action]
    if role == "anonymous":
        client = app.test_client()
        token = csrf_from(client.get("/login").get_data(as_text=True))
    else:
        make.user(role, username=f"the_{role}")
        client = _as(app, f"the_{role}")
        token = _token(client)
    before = db.session.scalar(select(func.count()).select_from(AuditEntry))
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
    assert db.session.scalar(select(func.count()).select_from(AuditEntry)) == before


def test_posts_without_the_csrf_token_are_refused(app, staff):
    boss = _as(app, "boss")
    response = boss.post(f"/admin/users/{staff['rita'].id}/suspend", data={"reason": "x"})
    assert response.status_code == 400
    assert _fresh(staff["rita"]).is_active
