"""Two-factor authentication: set-up, the code step of signing in, recovery codes,
trusted browsers, the staff requirement and the admin's reset."""

from __future__ import annotations

import re
import time

import pyotp
import pytest
from sqlalchemy import select

from blog.auth.pending import BROWSER_COOKIE
from blog.extensions import db
from blog.models import AuditEntry, User
from blog.services import two_factor as two_factor_service

from .conftest import Auth, csrf_from

SECRET_RE = re.compile(r'data-secret="([A-Z2-7]+)"')
CODE_RE = re.compile(r"<li><code>([a-z2-9]{5}-[a-z2-9]{5}-[a-z2-9]{5})</code></li>")
DAY = 24 * 3600


class Clock:
    """A clock the two-factor rules read, moved by hand."""

    def __init__(self) -> None:
        self.now = float(int(time.time()) // 30 * 30 + 10)  # ten seconds into a time step

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        """Move the clock on."""
        self.now += seconds


@pytest.fixture
def clock(monkeypatch):
    """Replace the clock of the two-factor rules."""
    fake = Clock()
    monkeypatch.setattr(two_factor_service, "clock", fake)
    return fake


def _reload(user: User) -> User:
    """Read a person again from the database, after requests changed them."""
    db.session.expire_all()
    return db.session.get(User, user.id)


def _post(client, page_url: str, post_url: str, data: dict):
    """Fetch a page for its CSRF token, then post a form."""
    token = csrf_from(client.get(page_url).get_data(as_text=True))
    return client.post(post_url, data={**data, "csrf_token": token})


def _turn_on(client, clock) -> tuple[str, list[str]]:
    """Set up two-factor for the signed-in person; return the secret and recovery codes."""
    page = client.get("/account/two-factor")
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    secret = SECRET_RE.search(html).group(1)
    token = csrf_from(html)
    answer = client.post(
        "/account/two-factor/enable",
        data={"code": pyotp.TOTP(secret).at(clock.now), "csrf_token": token},
    )
    assert answer.status_code == 200
    codes = CODE_RE.findall(answer.get_data(as_text=True))
    assert len(codes) == 10
    return secret, codes


def _password_step(client, login: str, next_url: str | None = None):
    """Sign in with the password only."""
    return Auth(client).login(login, next_url=next_url)


def _code_step(client, data: dict):
    """Post the code page."""
    return _post(client, "/login/two-factor", "/login/two-factor", data)


@pytest.fixture
def admin_with_2fa(app, make, clock):
    """An admin with two-factor on, signed out again; returns (user, secret, codes, client)."""
    admin = make.user("admin", username="ada")
    client = app.test_client()
    _password_step(client, "ada")
    secret, codes = _turn_on(client, clock)
    Auth(client).logout()
    clock.advance(30)
    return admin, secret, codes, client


# --- Setting it up ---------------------------------------------------------------------


def test_set_up_page_shows_a_qr_code_and_the_key(client, auth, make, clock):
    make.user("editor", username="eve")
    auth.login("eve")

    page = client.get("/account/two-factor")
    html = page.get_data(as_text=True)

    assert page.status_code == 200
    assert 'src="data:image/svg+xml' in html
    assert SECRET_RE.search(html)
    assert "no-store" in page.headers["Cache-Control"]
    # Reloading shows the same key, so a scanned QR code stays valid.
    assert SECRET_RE.search(client.get("/account/two-factor").get_data(as_text=True)).group(
        1
    ) == SECRET_RE.search(html).group(1)


def test_enabling_needs_a_right_code(client, auth, make, clock):
    eve = make.user("editor", username="eve")
    auth.login("eve")
    html = client.get("/account/two-factor").get_data(as_text=True)
    secret = SECRET_RE.search(html).group(1)

    wrong = client.post(
        "/account/two-factor/enable", data={"code": "000000", "csrf_token": csrf_from(html)}
    )
    assert wrong.status_code == 400
    assert "That code is not right" in wrong.get_data(as_text=True)
    assert not _reload(eve).has_two_factor

    right = client.post(
        "/account/two-factor/enable",
        data={"code": pyotp.TOTP(secret).at(clock.now), "csrf_token": csrf_from(html)},
    )
    page = right.get_data(as_text=True)
    assert right.status_code == 200
    assert "shown only this once" in page and len(CODE_RE.findall(page)) == 10
    assert "no-store" in right.headers["Cache-Control"]
    eve = _reload(eve)
    assert eve.has_two_factor
    assert secret not in (eve.totp_secret or "")  # encrypted at rest
    account = client.get("/account").get_data(as_text=True)
    assert "You have 10 unused recovery codes" in account
    assert db.session.scalar(
        select(AuditEntry).where(AuditEntry.action == "user.2fa_enable")
    ).target_id == eve.id


# --- Signing in ------------------------------------------------------------------------


def test_password_alone_does_not_sign_in(admin_with_2fa):
    _admin, _secret, _codes, client = admin_with_2fa

    answer = _password_step(client, "ada", next_url="/admin/")

    assert answer.status_code == 302
    assert answer.headers["Location"] == "/login/two-factor"
    staff_page = client.get("/admin/")
    assert staff_page.status_code == 302 and "/login" in staff_page.headers["Location"]
    assert client.get("/account").status_code == 302


def test_sign_in_with_a_code_reaches_the_staff_page(admin_with_2fa, clock):
    _admin, secret, _codes, client = admin_with_2fa
    _password_step(client, "ada", next_url="/admin/")

    page = client.get("/login/two-factor")
    assert page.status_code == 200 and "Enter your code" in page.get_data(as_text=True)
    answer = _code_step(client, {"code": pyotp.TOTP(secret).at(clock.now)})

    assert answer.status_code == 302
    assert answer.headers["Location"] == "/admin/"
    assert client.get("/admin/").status_code == 200


def test_a_wrong_code_is_refused(admin_with_2fa, clock):
    _admin, _secret, _codes, client = admin_with_2fa
    _password_step(client, "ada")

    answer = _code_step(client, {"code": "123456"})

    assert answer.status_code == 400
    assert "That code is not right" in answer.get_data(as_text=True)
    assert client.get("/admin/").status_code == 302


def test_a_replayed_code_is_refused(admin_with_2fa, clock):
    _admin, secret, _codes, client = admin_with_2fa
    code = pyotp.TOTP(secret).at(clock.now)
    _password_step(client, "ada")
    assert _code_step(client, {"code": code}).status_code == 302
    Auth(client).logout()

    _password_step(client, "ada")
    again = _code_step(client, {"code": code})

    assert again.status_code == 400
    assert client.get("/admin/").status_code == 302
    # An older code, still inside the clock-drift window, is refused too.
    older = pyotp.TOTP(secret).at(clock.now - 30)
    assert _code_step(client, {"code": older}).status_code == 400
    clock.advance(30)
    assert _code_step(client, {"code": pyotp.TOTP(secret).at(clock.now)}).status_code == 302


def test_wrong_codes_count_against_a_limit(admin_with_2fa, clock):
    _admin, secret, _codes, client = admin_with_2fa
    _password_step(client, "ada")
    for _ in range(5):
        assert _code_step(client, {"code": "000000"}).status_code == 400

    blocked = _code_step(client, {"code": pyotp.TOTP(secret).at(clock.now)})

    assert blocked.status_code == 429
    assert client.get("/admin/").status_code == 302


def test_a_recovery_code_works_once(admin_with_2fa, clock):
    admin, _secret, codes, client = admin_with_2fa
    _password_step(client, "ada")

    answer = _code_step(client, {"recovery_code": codes[0].upper().replace("-", " ")})

    assert answer.status_code == 302
    assert client.get("/admin/").status_code == 200
    assert "You have 9 unused recovery codes" in client.get("/account").get_data(as_text=True)
    assert db.session.scalar(
        select(AuditEntry).where(AuditEntry.action == "user.2fa_recovery_used")
    ).target_id == admin.id
    Auth(client).logout()

    _password_step(client, "ada")
    again = _code_step(client, {"recovery_code": codes[0]})
    assert again.status_code == 400
    assert "recovery code is not right" in again.get_data(as_text=True)
    assert client.get("/admin/").status_code == 302


def test_a_waiting_sign_in_expires(admin_with_2fa, clock):
    _admin, secret, _codes, client = admin_with_2fa
    _password_step(client, "ada")
    token = csrf_from(client.get("/login/two-factor").get_data(as_text=True))
    clock.advance(301)

    answer = client.post(
        "/login/two-factor",
        data={"code": pyotp.TOTP(secret).at(clock.now), "csrf_token": token},
    )

    assert answer.status_code == 302 and answer.headers["Location"] == "/login"
    assert "waited too long" in client.get("/login").get_data(as_text=True)
    assert client.get("/admin/").status_code == 302


def test_the_code_page_without_a_waiting_sign_in_goes_to_login(client):
    answer = client.get("/login/two-factor")
    assert answer.status_code == 302 and answer.headers["Location"] == "/login"


# --- Trusted browsers ------------------------------------------------------------------


def _trust_this_browser(client, secret, clock):
    """Sign in with a code, ticking "trust this browser"; then sign out."""
    _password_step(client, "ada")
    answer = _code_step(
        client, {"code": pyotp.TOTP(secret).at(clock.now), "remember_browser": "y"}
    )
    assert answer.status_code == 302
    Auth(client).logout()
    clock.advance(30)
    return answer


def test_a_trusted_browser_skips_the_code_for_30_days(admin_with_2fa, clock):
    _admin, secret, _codes, client = admin_with_2fa
    answer = _trust_this_browser(client, secret, clock)
    cookie = next(c for c in answer.headers.getlist("Set-Cookie") if c.startswith(BROWSER_COOKIE))
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie and "Max-Age=2592000" in cookie

    clock.advance(29 * DAY)
    skipped = _password_step(client, "ada", next_url="/admin/")
    assert skipped.headers["Location"] == "/admin/"
    assert client.get("/admin/").status_code == 200
    Auth(client).logout()

    clock.advance(2 * DAY)  # 31 days after it was trusted
    assert _password_step(client, "ada").headers["Location"] == "/login/two-factor"
    assert client.get("/admin/").status_code == 302


def test_a_forged_or_someone_elses_browser_cookie_does_not_skip(
    admin_with_2fa, app, make, clock
):
    _admin, secret, _codes, client = admin_with_2fa
    _trust_this_browser(client, secret, clock)
    good = client.get_cookie(BROWSER_COOKIE).value
    make.user("admin", username="bea")
    bea = app.test_client()
    _password_step(bea, "bea")
    _turn_on(bea, clock)

    # ada's cookie, signed for ada, does not let bea skip her code.
    Auth(bea).logout()
    clock.advance(30)
    bea.set_cookie(BROWSER_COOKIE, good)
    assert _password_step(bea, "bea").headers["Location"] == "/login/two-factor"
    # A cookie changed by hand is refused.
    client.set_cookie(BROWSER_COOKIE, good[:-2] + ("AA" if not good.endswith("AA") else "BB"))
    assert _password_step(client, "ada").headers["Location"] == "/login/two-factor"


@pytest.mark.parametrize("how", ["forget", "regenerate", "disable", "reset"])
def test_a_trusted_browser_is_forgotten(admin_with_2fa, make, app, clock, how):
    admin, secret, codes, client = admin_with_2fa
    _trust_this_browser(client, secret, clock)
    kept = client.get_cookie(BROWSER_COOKIE).value
    make.user("admin", username="otto")

    if how == "reset":
        boss = app.test_client()
        _password_step(boss, "otto")
        assert _post(
            boss, f"/admin/users/{admin.id}", f"/admin/users/{admin.id}/two-factor/reset", {}
        ).status_code == 302
    else:
        _password_step(client, "ada")
        assert client.get("/admin/").status_code == 200  # still trusted until now
        if how == "forget":
            response = _post(
                client, "/account/two-factor", "/account/two-factor/forget-browsers", {}
            )
            assert response.status_code == 302
        elif how == "regenerate":
            response = _post(
                client,
                "/account/two-factor",
                "/account/two-factor/recovery-codes",
                {"regenerate-code": pyotp.TOTP(secret).at(clock.now)},
            )
            assert response.status_code == 200
            assert len(CODE_RE.findall(response.get_data(as_text=True))) == 10
        else:
            response = _post(
                client,
                "/account/two-factor",
                "/account/two-factor/disable",
                {"disable-code": codes[3]},
            )
            assert response.status_code == 302
            assert not _reload(admin).has_two_factor
        Auth(client).logout()
    action = {
        "forget": "user.2fa_forget_browsers",
        "regenerate": "user.2fa_recovery_codes",
        "disable": "user.2fa_disable",
        "reset": "user.2fa_reset",
    }[how]
    assert db.session.scalar(select(AuditEntry).where(AuditEntry.action == action)) is not None

    # Turn it on again where needed, then come back with the old cookie.
    clock.advance(30)
    if how in ("disable", "reset"):
        _password_step(client, "ada")
        secret, _ = _turn_on(client, clock)
        Auth(client).logout()
        clock.advance(30)
    client.set_cookie(BROWSER_COOKIE, kept)
    assert _password_step(client, "ada").headers["Location"] == "/login/two-factor"


# --- Turning it off and new recovery codes ---------------------------------------------


def test_disabling_needs_a_code(admin_with_2fa, clock):
    admin, _secret, _codes, client = admin_with_2fa
    client.set_cookie(BROWSER_COOKIE, "")
    _password_step(client, "ada")
    _code_step(client, {"code": pyotp.TOTP(_secret).at(clock.now)})

    refused = _post(
        client, "/account/two-factor", "/account/two-factor/disable", {"disable-code": "999999"}
    )

    assert refused.status_code == 400
    assert "That code is not right" in refused.get_data(as_text=True)
    assert _reload(admin).has_two_factor

    clock.advance(30)
    done = _post(
        client,
        "/account/two-factor",
        "/account/two-factor/disable",
        {"disable-code": pyotp.TOTP(_secret).at(clock.now)},
    )
    assert done.status_code == 302
    admin = _reload(admin)
    assert not admin.has_two_factor and admin.totp_secret is None
    assert two_factor_service.remaining_recovery_codes(admin) == 0
    assert db.session.scalar(
        select(AuditEntry).where(AuditEntry.action == "user.2fa_disable")
    ).actor_id == admin.id
    Auth(client).logout()
    assert _password_step(client, "ada").headers["Location"] == "/"


def test_new_recovery_codes_replace_the_old_ones(admin_with_2fa, clock):
    _admin, secret, codes, client = admin_with_2fa
    _password_step(client, "ada")
    _code_step(client, {"code": pyotp.TOTP(secret).at(clock.now)})
    clock.advance(30)
    answer = _post(
        client,
        "/account/two-factor",
        "/account/two-factor/recovery-codes",
        {"regenerate-code": pyotp.TOTP(secret).at(clock.now)},
    )
    new_codes = CODE_RE.findall(answer.get_data(as_text=True))
    assert len(new_codes) == 10 and not set(new_codes) & set(codes)
    Auth(client).logout()

    _password_step(client, "ada")
    assert _code_step(client, {"recovery_code": codes[1]}).status_code == 400
    assert _code_step(client, {"recovery_code": new_codes[1]}).status_code == 302


# --- The staff requirement -------------------------------------------------------------


def _require_two_factor(app, clock, on: bool = True):
    """Turn the site setting on through the admin settings page."""
    boss = app.test_client()
    _password_step(boss, "boss")
    page = boss.get("/admin/settings").get_data(as_text=True)
    assert "Require two-factor authentication for editors and admins" in page
    data = {
        "site_name": "My Circle Story",
        "posts_per_page": "10",
        "comment_link_limit": "2",
        "csrf_token": csrf_from(page),
    }
    if on:
        data["require_staff_two_factor"] = "y"
    return boss.post("/admin/settings", data=data)


def test_the_setting_sends_editors_and_admins_to_set_it_up(app, make, clock):
    make.user("admin", username="boss")
    make.user("editor", username="eve")
    make.user("author", username="ann")
    make.user("reader", username="rex")

    assert _require_two_factor(app, clock).status_code == 302
    assert db.session.scalar(
        select(AuditEntry).where(AuditEntry.action == "settings.change")
    ) is not None

    editor = app.test_client()
    signed_in = _password_step(editor, "eve", next_url="/editor/")
    assert signed_in.status_code == 302
    assert signed_in.headers["Location"].startswith("/account/two-factor")
    page = editor.get(signed_in.headers["Location"]).get_data(as_text=True)
    assert "asks editors and admins to use two-factor" in page
    blocked = editor.get("/editor/")
    assert blocked.status_code == 302
    assert blocked.headers["Location"].startswith("/account/two-factor")
    assert editor.get("/admin/").status_code == 302
    _turn_on(editor, clock)
    assert editor.get("/editor/").status_code == 200

    # The admin who turned it on is held to it as well.
    admin_client = app.test_client()
    _password_step(admin_client, "boss")
    assert admin_client.get("/admin/settings").headers["Location"].startswith(
        "/account/two-factor"
    )

    for name, page_url in (("ann", "/editor/"), ("rex", "/account")):
        other = app.test_client()
        answer = _password_step(other, name)
        assert answer.headers["Location"] == "/"
        assert other.get(page_url).status_code == 200


def test_without_the_setting_staff_need_not_set_it_up(app, make, clock):
    make.user("admin", username="boss")
    make.user("editor", username="eve")
    assert _require_two_factor(app, clock, on=False).status_code == 302

    editor = app.test_client()
    assert _password_step(editor, "eve").headers["Location"] == "/"
    assert editor.get("/editor/").status_code == 200


# --- The admin's reset -----------------------------------------------------------------


def test_an_admin_resets_someone_elses_second_factor(admin_with_2fa, app, make, clock):
    admin, _secret, _codes, _client = admin_with_2fa
    otto = make.user("admin", username="otto")
    boss = app.test_client()
    _password_step(boss, "otto")

    page = boss.get(f"/admin/users/{admin.id}").get_data(as_text=True)
    assert "Reset two-factor authentication" in page
    answer = _post(
        boss, f"/admin/users/{admin.id}", f"/admin/users/{admin.id}/two-factor/reset", {}
    )

    assert answer.status_code == 302
    assert not _reload(admin).has_two_factor
    entry = db.session.scalar(select(AuditEntry).where(AuditEntry.action == "user.2fa_reset"))
    assert entry.actor_id == otto.id and entry.target_id == admin.id
    person = app.test_client()
    assert _password_step(person, "ada", next_url="/admin/").headers["Location"] == "/admin/"
    assert person.get("/admin/").status_code == 200
    assert "Set up two-factor" in person.get("/account").get_data(as_text=True)


def test_the_reset_is_refused_for_oneself_and_for_non_admins(admin_with_2fa, app, make, clock):
    admin, secret, _codes, client = admin_with_2fa
    make.user("editor", username="eve")
    _password_step(client, "ada")
    _code_step(client, {"code": pyotp.TOTP(secret).at(clock.now)})

    own_page = client.get(f"/admin/users/{admin.id}").get_data(as_text=True)
    assert "Reset two-factor authentication</button>" not in own_page
    own = _post(
        client, f"/admin/users/{admin.id}", f"/admin/users/{admin.id}/two-factor/reset", {}
    )
    assert own.status_code == 400
    assert "cannot reset your own" in own.get_data(as_text=True)
    assert _reload(admin).has_two_factor

    editor = app.test_client()
    _password_step(editor, "eve")
    token = csrf_from(editor.get("/account").get_data(as_text=True))
    refused = editor.post(
        f"/admin/users/{admin.id}/two-factor/reset", data={"csrf_token": token}
    )
    assert refused.status_code == 403
    assert editor.post(f"/admin/users/{admin.id}/two-factor/reset").status_code == 400
    assert _reload(admin).has_two_factor
    assert db.session.scalar(
        select(AuditEntry).where(AuditEntry.action == "user.2fa_reset")
    ) is None


def test_a_secret_unreadable_after_a_key_change_refuses_codes(admin_with_2fa, app, clock):
    admin, secret, _codes, client = admin_with_2fa
    admin = _reload(admin)
    admin.totp_secret = "not-a-valid-token"
    db.session.commit()

    _password_step(client, "ada")
    assert _code_step(client, {"code": pyotp.TOTP(secret).at(clock.now)}).status_code == 400
