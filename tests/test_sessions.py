"""Sessions that end: revocation, remember-me rotation, CSRF renewal, foreign origins,
lifetimes, re-authentication and the list of devices on the account page."""

from __future__ import annotations

import hashlib
from datetime import timedelta

import pytest
from sqlalchemy import select, update

from blog.extensions import db
from blog.models import User, UserSession, utcnow
from blog.services import sessions as session_service
from blog.services import tokens as token_service

from .conftest import Auth, csrf_from
from .factories import PASSWORD

FIREFOX = "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0"
CHROME_WINDOWS = (
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 "
    "(KHTML, like Gecko) Chrome/126.0.0.0 Safari/537.36"
)


def _signed_in(app, username: str, remember: bool = False, **environ):
    """A fresh client signed in through the login form."""
    client = app.test_client()
    if environ:
        client.environ_base.update(environ)
    token = csrf_from(client.get("/login").get_data(as_text=True))
    data = {"login": username, "password": PASSWORD, "csrf_token": token}
    if remember:
        data["remember"] = "y"
    assert client.post("/login", data=data).status_code == 302
    return client


def _copy_session(app, source):
    """A second browser holding a copy of source's session cookie, as a thief would."""
    thief = app.test_client()
    thief.set_cookie("session", source.get_cookie("session").value)
    return thief


def _secret(app, client) -> str:
    """The session secret inside a client's signed cookie."""
    serializer = app.session_interface.get_signing_serializer(app)
    return serializer.loads(client.get_cookie("session").value)[session_service.SESSION_KEY]


def _row(app, client) -> UserSession:
    """The server-side row of a client's session."""
    db.session.expire_all()
    digest = hashlib.sha256(_secret(app, client).encode()).hexdigest()
    return db.session.scalar(select(UserSession).where(UserSession.token_hash == digest))


def _age(row: UserSession, **fields: timedelta) -> None:
    """Move the clock: make a session's timestamps this much older."""
    values = {name: getattr(row, name) - delta for name, delta in fields.items()}
    db.session.execute(update(UserSession).where(UserSession.id == row.id).values(**values))
    db.session.commit()


def _post(client, page: str, url: str, headers: dict | None = None, **data):
    """Fetch a page for its CSRF token, then post a form."""
    token = csrf_from(client.get(page).get_data(as_text=True))
    return client.post(url, data={"csrf_token": token, **data}, headers=headers or {})


def _user(username: str) -> User:
    """A fresh copy of a person from the database."""
    db.session.expire_all()
    return db.session.scalar(select(User).where(User.username == username))


@pytest.fixture
def people(make):
    """An admin, a second admin, an author and a reader."""
    return {
        "boss": make.user("admin", username="boss"),
        "deputy": make.user("admin", username="deputy"),
        "ana": make.user("author", username="ana"),
        "riya": make.user("reader", username="riya"),
    }


# -- Revocation --------------------------------------------------------------------------


def test_the_cookie_holds_a_secret_the_server_keeps_only_hashed(app, people):
    boss = _signed_in(app, "boss")
    secret = _secret(app, boss)
    stored = db.session.scalars(select(UserSession.token_hash)).all()
    assert secret not in stored
    assert hashlib.sha256(secret.encode()).hexdigest() in stored
    assert "session_token" not in User.__table__.c


def test_a_session_cookie_copied_before_logout_is_refused_after_it(app, people):
    boss = _signed_in(app, "boss")
    thief = _copy_session(app, boss)
    assert thief.get("/admin/").status_code == 200
    Auth(boss).logout()
    refused = thief.get("/admin/")
    assert refused.status_code == 302 and refused.headers["Location"].startswith("/login")
    assert thief.get("/account").status_code == 302
    assert _user("boss").id  # the account itself is untouched


def test_a_password_change_ends_copies_of_other_sessions(app, people):
    laptop = _signed_in(app, "ana")
    phone = _signed_in(app, "ana")
    thief = _copy_session(app, phone)
    assert thief.get("/editor/").status_code == 200
    changed = _post(
        laptop, "/account", "/account/password",
        current_password=PASSWORD, new_password="another long password",
        confirm="another long password",
    )
    assert changed.status_code == 302
    assert laptop.get("/editor/").status_code == 200  # this session carries on
    assert phone.get("/editor/").status_code == 302
    assert thief.get("/editor/").status_code == 302


def test_a_password_reset_ends_every_session(app, people):
    from blog.services.passwords import reset_password

    ana = _signed_in(app, "ana")
    with app.test_request_context():
        from blog.services.passwords import make_reset_token

        token = make_reset_token(_user("ana"))
    reset_password(token, "a whole new password")
    assert ana.get("/editor/").status_code == 302


@pytest.mark.parametrize(
    "action,data",
    [("suspend", {"reason": "Posting spam"}), ("role", {"role": "reader"})],
)
def test_suspension_and_role_change_end_copied_sessions(app, people, action, data):
    ana = _signed_in(app, "ana")
    thief = _copy_session(app, ana)
    assert thief.get("/editor/").status_code == 200
    boss = _signed_in(app, "boss")
    ana_id = people["ana"].id
    done = _post(boss, f"/admin/users/{ana_id}", f"/admin/users/{ana_id}/{action}", **data)
    assert done.status_code == 302
    for client in (ana, thief):
        answer = client.get("/editor/")
        assert answer.status_code == 302 and answer.headers["Location"].startswith("/login")
    assert boss.get("/admin/").status_code == 200  # the admin's own session is untouched


# -- Remember me ---------------------------------------------------------------------------


def _remember_cookie(client) -> str:
    """The value of a client's remember-me cookie."""
    cookie = client.get_cookie(session_service.REMEMBER_COOKIE)
    assert cookie is not None, "no remember-me cookie"
    return cookie.value


def _browser_with_remember_cookie(app, value: str):
    """A browser restarted with only the remember-me cookie."""
    client = app.test_client()
    client.set_cookie(session_service.REMEMBER_COOKIE, value)
    return client


def test_only_keep_me_signed_in_sets_a_remember_cookie(app, people):
    assert _signed_in(app, "riya").get_cookie(session_service.REMEMBER_COOKIE) is None
    remembered = _signed_in(app, "riya", remember=True)
    cookie = remembered.get_cookie(session_service.REMEMBER_COOKIE)
    assert cookie.http_only and cookie.expires is not None
    assert cookie.value not in db.session.scalars(select(UserSession.remember_hash)).all()
    assert remembered.get_cookie("remember_token") is None  # Flask-Login's own, never set


def test_the_remember_cookie_rotates_on_use(app, people):
    riya = _signed_in(app, "riya", remember=True)
    first = _remember_cookie(riya)

    restarted = _browser_with_remember_cookie(app, first)
    page = restarted.get("/account")
    assert page.status_code == 200 and "riya" in page.get_data(as_text=True)
    second = _remember_cookie(restarted)
    assert second != first
    assert restarted.get("/account").status_code == 200  # its new session carries on

    replayed = _browser_with_remember_cookie(app, first)
    assert replayed.get("/account").status_code == 302
    assert replayed.get_cookie(session_service.REMEMBER_COOKIE) is None  # deleted
    # The rotated token still works once, and only once.
    again = _browser_with_remember_cookie(app, second)
    assert again.get("/account").status_code == 200


def test_the_remember_cookie_dies_with_logout(app, people):
    riya = _signed_in(app, "riya", remember=True)
    value = _remember_cookie(riya)
    Auth(riya).logout()
    assert riya.get_cookie(session_service.REMEMBER_COOKIE) is None
    replay = _browser_with_remember_cookie(app, value)
    assert replay.get("/account").status_code == 302


def test_a_restored_session_still_ends_after_its_absolute_lifetime(app, people):
    riya = _signed_in(app, "riya", remember=True)
    value = _remember_cookie(riya)
    _age(_row(app, riya), created_at=timedelta(days=15), remember_expires_at=timedelta(days=15))
    replay = _browser_with_remember_cookie(app, value)
    assert replay.get("/account").status_code == 302


# -- CSRF ----------------------------------------------------------------------------------


def test_a_csrf_token_from_before_sign_in_is_refused_after_it(app, people):
    client = app.test_client()
    before = csrf_from(client.get("/login").get_data(as_text=True))
    signed_in = client.post(
        "/login", data={"login": "riya", "password": PASSWORD, "csrf_token": before}
    )
    assert signed_in.status_code == 302
    stale = client.post("/account", data={"display_name": "Hijacked", "csrf_token": before})
    assert stale.status_code == 400
    assert "form expired" in stale.get_data(as_text=True)
    assert _user("riya").display_name != "Hijacked"
    fresh = _post(client, "/account", "/account", display_name="Riya R.")
    assert fresh.status_code == 302 and _user("riya").display_name == "Riya R."


def test_a_csrf_token_from_before_logout_is_refused_after_it(app, people):
    client = _signed_in(app, "riya")
    before = csrf_from(client.get("/account").get_data(as_text=True))
    assert client.post("/logout", data={"csrf_token": before}).status_code == 302
    stale = client.post(
        "/login", data={"login": "riya", "password": PASSWORD, "csrf_token": before}
    )
    assert stale.status_code == 400
    assert client.get("/account").status_code == 302


# -- Requests from other sites --------------------------------------------------------------


@pytest.mark.parametrize(
    "headers",
    [
        {"Origin": "https://evil.example"},
        {"Origin": "http://localhost.evil.example"},
        {"Origin": "null"},
        {"Sec-Fetch-Site": "cross-site"},
        {"Origin": "http://localhost", "Sec-Fetch-Site": "cross-site"},
    ],
)
def test_a_post_from_another_site_is_refused(app, people, headers):
    client = _signed_in(app, "riya")
    refused = _post(client, "/account", "/account", headers=headers, display_name="Evil")
    assert refused.status_code == 403
    assert "another site" in refused.get_data(as_text=True)
    assert _user("riya").display_name != "Evil"


@pytest.mark.parametrize(
    "headers",
    [
        {},
        {"Origin": "http://localhost"},
        {"Origin": "HTTP://LOCALHOST:80"},
        {"Origin": "http://localhost", "Sec-Fetch-Site": "same-origin"},
    ],
)
def test_a_post_from_this_site_is_accepted(app, people, headers):
    client = _signed_in(app, "riya")
    saved = _post(client, "/account", "/account", headers=headers, display_name="Riya R.")
    assert saved.status_code == 302
    assert _user("riya").display_name == "Riya R."


def test_sign_in_from_another_site_is_refused(app, people):
    client = app.test_client()
    token = csrf_from(client.get("/login").get_data(as_text=True))
    refused = client.post(
        "/login",
        data={"login": "riya", "password": PASSWORD, "csrf_token": token},
        headers={"Origin": "https://evil.example"},
    )
    assert refused.status_code == 403
    assert client.get("/account").status_code == 302


def test_the_api_with_a_token_and_no_cookie_ignores_the_origin(app, people):
    _token, secret = token_service.create_token(_user("ana"), "script")
    headers = {"Authorization": f"Bearer {secret}", "Origin": "https://tools.example"}
    client = app.test_client()
    response = client.post("/api/v1/posts", json={"title": "x"}, headers=headers)
    assert response.status_code != 403  # the API's own checks answer (here 400/422)
    with_cookie = _signed_in(app, "ana")
    refused = with_cookie.post("/api/v1/posts", json={"title": "x"}, headers=headers)
    assert refused.status_code == 403


# -- Lifetimes -------------------------------------------------------------------------------


def test_a_staff_session_ends_after_twelve_idle_hours(app, people):
    ana = _signed_in(app, "ana")
    _age(_row(app, ana), last_seen_at=timedelta(hours=12, minutes=1))
    ended = ana.get("/editor/", follow_redirects=True)
    assert "signed out after 12 hours without activity" in ended.get_data(as_text=True)
    assert ana.get("/editor/").status_code == 302
    db.session.expire_all()
    assert db.session.scalar(select(UserSession.revoked_at)) is not None


def test_a_reader_may_stay_idle_longer_than_staff(app, people):
    riya = _signed_in(app, "riya")
    _age(_row(app, riya), last_seen_at=timedelta(hours=13))
    assert riya.get("/account").status_code == 200
    _age(_row(app, riya), last_seen_at=timedelta(days=8))
    ended = riya.get("/account", follow_redirects=True)
    assert "signed out after 7 days without activity" in ended.get_data(as_text=True)


def test_a_session_ends_after_its_absolute_lifetime_even_when_busy(app, people):
    ana = _signed_in(app, "ana")
    _age(_row(app, ana), created_at=timedelta(days=14, minutes=1))
    ended = ana.get("/editor/", follow_redirects=True)
    assert "14 days after signing in" in ended.get_data(as_text=True)
    assert ana.get("/editor/").status_code == 302


def test_lifetimes_are_settings(app, people):
    app.config["SESSION_IDLE_MINUTES_STAFF"] = 5
    try:
        ana = _signed_in(app, "ana")
        _age(_row(app, ana), last_seen_at=timedelta(minutes=6))
        ended = ana.get("/editor/", follow_redirects=True)
    finally:
        app.config["SESSION_IDLE_MINUTES_STAFF"] = 720
    assert "signed out after 5 minutes without activity" in ended.get_data(as_text=True)


def test_last_seen_is_written_at_most_once_a_minute(app, people, queries):
    riya = _signed_in(app, "riya")
    row = _row(app, riya)
    _age(row, last_seen_at=timedelta(minutes=5))
    before = _row(app, riya).last_seen_at
    assert riya.get("/account").status_code == 200
    touched = _row(app, riya).last_seen_at
    assert touched > before + timedelta(minutes=4)
    assert riya.get("/account").status_code == 200
    assert _row(app, riya).last_seen_at == touched


# -- Re-authentication -----------------------------------------------------------------------


def _stale_password(app, client) -> None:
    """Make the last password entry of this session eleven minutes old."""
    _age(_row(app, client), authenticated_at=timedelta(minutes=11))


def _reauthenticate(client, location: str, password: str = PASSWORD):
    """Confirm the password on the page a sensitive action sent us to."""
    return _post(client, location, location, password=password)


def test_a_password_change_asks_for_the_password_after_ten_minutes(app, people):
    riya = _signed_in(app, "riya")
    _stale_password(app, riya)
    new = {"current_password": PASSWORD, "new_password": "another long password",
           "confirm": "another long password"}
    asked = _post(riya, "/account", "/account/password", **new)
    assert asked.status_code == 302
    location = asked.headers["Location"]
    assert location.startswith("/reauthenticate?next=")
    page = riya.get(location).get_data(as_text=True)
    assert "Please enter your password again" in page
    assert Auth(app.test_client()).login("riya").status_code == 302  # old password still set

    wrong = _reauthenticate(riya, location, "not my password")
    assert wrong.status_code == 200 and "That password is not right" in wrong.get_data(as_text=True)
    confirmed = _reauthenticate(riya, location)
    assert confirmed.status_code == 302 and confirmed.headers["Location"] == "/account"
    assert _post(riya, "/account", "/account/password", **new).status_code == 302
    assert Auth(app.test_client()).login("riya", "another long password").status_code == 302


def test_within_ten_minutes_no_password_is_asked(app, people):
    riya = _signed_in(app, "riya")
    _age(_row(app, riya), authenticated_at=timedelta(minutes=9))
    changed = _post(
        riya, "/account", "/account/password",
        current_password=PASSWORD, new_password="another long password",
        confirm="another long password",
    )
    assert changed.status_code == 302 and changed.headers["Location"] == "/account"


def test_a_remembered_session_asks_for_the_password_for_a_role_change(app, people):
    boss = _signed_in(app, "boss", remember=True)
    restored = _browser_with_remember_cookie(app, _remember_cookie(boss))
    assert restored.get("/admin/").status_code == 200
    _stale_password(app, restored)
    ana_id = people["ana"].id
    asked = _post(restored, f"/admin/users/{ana_id}", f"/admin/users/{ana_id}/role", role="editor")
    assert asked.status_code == 302
    assert asked.headers["Location"] == f"/reauthenticate?next=/admin/users/{ana_id}"
    assert _user("ana").role.name == "author"
    back = _reauthenticate(restored, asked.headers["Location"])
    assert back.headers["Location"] == f"/admin/users/{ana_id}"  # the form, not a replay
    assert _user("ana").role.name == "author"
    done = _post(restored, f"/admin/users/{ana_id}", f"/admin/users/{ana_id}/role", role="editor")
    assert done.status_code == 302 and _user("ana").role.name == "editor"


@pytest.mark.parametrize(
    "url",
    [
        "/account/two-factor/enable",
        "/account/two-factor/disable",
        "/account/two-factor/recovery-codes",
        "/account/two-factor/forget-browsers",
    ],
)
def test_two_factor_changes_ask_for_the_password_after_ten_minutes(app, people, url):
    boss = _signed_in(app, "boss")
    assert boss.get("/account/two-factor").status_code == 200
    _stale_password(app, boss)
    assert boss.get("/account/two-factor").headers["Location"].startswith("/reauthenticate")
    asked = _post(boss, "/account", url, code="123456")
    assert asked.status_code == 302
    assert asked.headers["Location"] == "/reauthenticate?next=/account/two-factor"


def test_an_admins_two_factor_reset_asks_for_the_password_after_ten_minutes(app, people):
    boss = _signed_in(app, "boss")
    _stale_password(app, boss)
    deputy_id = people["deputy"].id
    asked = _post(boss, "/account", f"/admin/users/{deputy_id}/two-factor/reset")
    assert asked.status_code == 302
    assert asked.headers["Location"] == f"/reauthenticate?next=/admin/users/{deputy_id}"


def test_creating_an_api_token_asks_for_the_password_after_ten_minutes(app, people):
    ana = _signed_in(app, "ana")
    fresh = _post(ana, "/account", "/account/tokens", name="first")
    assert fresh.status_code == 200 and "Your new token is ready" in fresh.get_data(as_text=True)
    _stale_password(app, ana)
    asked = _post(ana, "/account", "/account/tokens", name="second")
    assert asked.status_code == 302 and asked.headers["Location"].startswith("/reauthenticate")
    assert [t.name for t in token_service.list_tokens(_user("ana"))] == ["first"]


@pytest.mark.parametrize("target", ["https://evil.example/", "//evil.example", "javascript:x"])
def test_reauthentication_returns_only_to_this_site(app, people, target):
    riya = _signed_in(app, "riya")
    url = f"/reauthenticate?next={target}"
    answer = _reauthenticate(riya, url)
    assert answer.status_code == 302 and answer.headers["Location"] == "/account"


def test_reauthentication_is_rate_limited(app, people):
    riya = _signed_in(app, "riya")
    for _ in range(5):
        assert _reauthenticate(riya, "/reauthenticate", "wrong password!").status_code == 200
    assert _reauthenticate(riya, "/reauthenticate", "wrong password!").status_code == 429


# -- The devices on the account page -----------------------------------------------------------


def test_the_account_page_lists_devices_with_address_and_this_device(app, people):
    laptop = _signed_in(app, "riya", HTTP_USER_AGENT=FIREFOX, REMOTE_ADDR="203.0.113.9")
    _signed_in(app, "riya", HTTP_USER_AGENT=CHROME_WINDOWS, REMOTE_ADDR="198.51.100.7")
    _signed_in(app, "boss")  # someone else's session is not listed
    page = laptop.get("/account").get_data(as_text=True)
    assert "Firefox on Linux" in page and "203.0.113.9" in page
    assert "Chrome on Windows" in page and "198.51.100.7" in page
    assert page.count("(this device)") == 1
    assert page.index("Firefox on Linux") < page.index("(this device)")
    assert page.count('/end">') == 2  # a sign-out button for each of her own two sessions


def test_signing_out_one_device_from_the_list(app, people):
    laptop = _signed_in(app, "riya")
    phone = _signed_in(app, "riya")
    ended = _post(laptop, "/account", f"/account/sessions/{_row(app, phone).id}/end")
    assert ended.status_code == 302
    assert phone.get("/account").status_code == 302
    assert laptop.get("/account").status_code == 200
    boss = _signed_in(app, "boss")  # nobody signs out someone else's session
    laptop_row = _row(app, laptop).id
    assert _post(boss, "/account", f"/account/sessions/{laptop_row}/end").status_code == 404
    assert laptop.get("/account").status_code == 200


def test_sign_out_on_every_other_device_keeps_this_one(app, people):
    laptop = _signed_in(app, "riya")
    phone = _signed_in(app, "riya")
    done = _post(laptop, "/account", "/account/sessions/end-others")
    assert done.status_code == 302
    assert "every other device (1 session)" in laptop.get("/account").get_data(as_text=True)
    assert phone.get("/account").status_code == 302


def test_sign_out_everywhere_ends_another_browsers_session_and_this_one(app, people):
    laptop = _signed_in(app, "riya", remember=True)
    phone = _signed_in(app, "riya")
    remembered = _remember_cookie(laptop)
    done = _post(laptop, "/account", "/account/sessions/end-all")
    assert done.status_code == 302
    assert "signed out everywhere" in laptop.get("/").get_data(as_text=True)
    assert laptop.get("/account").status_code == 302
    assert phone.get("/account").status_code == 302
    assert _browser_with_remember_cookie(app, remembered).get("/account").status_code == 302


@pytest.mark.parametrize(
    "agent,summary",
    [
        (FIREFOX, "Firefox on Linux"),
        (CHROME_WINDOWS, "Chrome on Windows"),
        (
            "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 "
            "(KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1",
            "Safari on iOS",
        ),
        (
            "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like "
            "Gecko) Chrome/126.0.0.0 Safari/537.36 Edg/126.0.0.0",
            "Edge on macOS",
        ),
        ("curl/8.5.0", "curl"),
        ("", "Unknown device"),
        ("<script>", "Unknown device"),
    ],
)
def test_devices_are_summarised_from_the_user_agent(agent, summary):
    assert session_service.describe_device(agent) == summary


def test_signed_in_pages_run_one_query_for_the_session(app, people, queries):
    riya = _signed_in(app, "riya")
    assert riya.get("/account").status_code == 200
    with queries() as statements:
        assert riya.get("/account").status_code == 200
    session_reads = [s for s in statements if "user_sessions" in s]
    assert len(session_reads) == 2  # the check itself, and the page's own list of devices
    check = [s for s in session_reads if "WHERE user_sessions.token_hash" in s]
    assert len(check) == 1 and "JOIN roles" in check[0]  # person, role and session at once
    assert not any(s.lstrip().upper().startswith("UPDATE") for s in statements)


def test_ended_sessions_are_purged_at_the_next_sign_in(app, people):
    old = _signed_in(app, "riya")
    Auth(old).logout()
    _signed_in(app, "riya")
    db.session.expire_all()
    rows = db.session.scalars(select(UserSession).where(UserSession.user_id == people["riya"].id))
    assert [row.revoked_at for row in rows] == [None]
    assert utcnow()  # timestamps stay aware
