"""Accounts: registration, sign-in, rate limits, safe redirects, passwords, resets."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from blog.extensions import db
from blog.models import User

from .conftest import csrf_from
from .factories import PASSWORD


def _post_form(client, page_url, post_url, data):
    """Submit a form the way a browser does: fetch the page, then post with its token."""
    token = csrf_from(client.get(page_url).get_data(as_text=True))
    return client.post(post_url, data={**data, "csrf_token": token})


def test_register_creates_a_signed_in_reader(client):
    response = _post_form(
        client,
        "/register",
        "/register",
        {
            "username": "newreader",
            "email": "New.Reader@Example.com",
            "password": "a long enough password",
            "confirm": "a long enough password",
        },
    )
    assert response.status_code == 302
    assert response.headers["Location"] == "/account"
    page = client.get("/account").get_data(as_text=True)
    assert "newreader" in page and "new.reader@example.com" in page
    user = db.session.scalar(select(User).where(User.username == "newreader"))
    assert user.role.name == "reader"
    assert (
        user.password_hash.startswith(("scrypt", "pbkdf2")) and "a long" not in user.password_hash
    )


@pytest.mark.parametrize(
    "field,value,message",
    [
        ("username", "x", "3"),
        ("email", "not-an-email", "Invalid email"),
        ("password", "short", "at least 10"),
    ],
)
def test_register_refuses_bad_input_and_creates_nothing(client, field, value, message):
    data = {
        "username": "fine_name",
        "email": "fine@example.com",
        "password": "a long enough password",
        "confirm": "a long enough password",
    }
    data[field] = value
    if field == "password":
        data["confirm"] = value
    response = _post_form(client, "/register", "/register", data)
    assert response.status_code == 200
    assert message in response.get_data(as_text=True)
    assert db.session.scalar(select(User).where(User.username == "fine_name")) is None


def test_register_refuses_a_taken_email(client, make):
    make.user("reader", username="first", email="taken@example.com")
    response = _post_form(
        client,
        "/register",
        "/register",
        {
            "username": "second",
            "email": "TAKEN@example.com",
            "password": "a long enough password",
            "confirm": "a long enough password",
        },
    )
    assert "already taken" in response.get_data(as_text=True)
    assert db.session.scalar(select(User).where(User.username == "second")) is None


def test_login_by_username_or_email(client, auth, make):
    make.user("reader", username="riya", email="riya@example.com")
    assert auth.login("riya").status_code == 302
    assert "riya" in client.get("/account").get_data(as_text=True)
    auth.logout()
    assert auth.login("RIYA@example.com").status_code == 302
    assert client.get("/account").status_code == 200


def test_wrong_password_and_unknown_account_get_the_same_answer(client, auth, make):
    make.user("reader", username="riya")
    wrong = auth.login("riya", "not the password")
    unknown = auth.login("nobody-here", "not the password")
    assert wrong.status_code == unknown.status_code == 200

    def message(response):
        return re.search(
            r'<p class="flash flash--error">(.*?)</p>', response.get_data(as_text=True)
        )[1]

    assert message(wrong) == message(unknown)
    assert "do not match an account" in message(wrong)
    assert client.get("/account").status_code == 302  # still signed out


def test_sixth_quick_wrong_password_for_one_account_is_refused(client, auth, make):
    make.user("reader", username="riya")
    for _ in range(5):
        assert auth.login("riya", "wrong password!").status_code == 200
    refused = auth.login("riya", "wrong password!")
    assert refused.status_code == 429
    assert "Too many attempts" in refused.get_data(as_text=True)
    # Even the right password waits until the limit passes.
    assert auth.login("riya").status_code == 429


def test_limit_is_per_account_not_per_office(client, auth, make):
    make.user("reader", username="riya")
    make.user("reader", username="omar")
    for _ in range(5):
        auth.login("riya", "wrong password!")
    assert auth.login("riya", "wrong password!").status_code == 429
    # A colleague at the same address can still sign in.
    assert auth.login("omar").status_code == 302


def test_successful_logins_do_not_lock_anyone_out(client, auth, make):
    make.user("reader", username="riya")
    for _ in range(8):
        assert auth.login("riya").status_code == 302
        auth.logout()


def test_post_without_csrf_token_is_refused(client, make):
    make.user("reader", username="riya")
    response = client.post("/login", data={"login": "riya", "password": PASSWORD})
    assert response.status_code == 400
    assert "form expired" in response.get_data(as_text=True)
    assert client.get("/account").status_code == 302


def test_logout_needs_post(client, auth, make):
    make.user("reader", username="riya")
    auth.login("riya")
    assert client.get("/logout").status_code == 405
    assert client.get("/account").status_code == 200
    assert auth.logout().status_code == 302
    assert client.get("/account").status_code == 302


@pytest.mark.parametrize(
    "target",
    [
        "//evil.example",
        "https://evil.example",
        "http://evil.example/path",
        "/\\evil.example",
        "javascript:alert(1)",
        "evil.example",
        "%2F%2Fevil.example",
    ],
)
def test_next_never_leaves_the_site(client, auth, make, target):
    make.user("reader", username="riya")
    response = auth.login("riya", next_url=target)
    assert response.status_code == 302
    location = response.headers["Location"]
    assert location == "/", location


def test_next_leads_to_a_path_on_the_site(client, auth, make):
    make.user("author", username="ana")
    response = client.get("/editor/")
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/login?next=")
    response = auth.login("ana", next_url="/editor/")
    assert response.headers["Location"] == "/editor/"


def test_profile_and_password_change(client, auth, make):
    user = make.user("reader", username="riya")
    auth.login("riya")
    token = csrf_from(client.get("/account").get_data(as_text=True))
    client.post("/account", data={"display_name": "Riya R.", "bio": "I read.", "csrf_token": token})
    page = client.get("/account").get_data(as_text=True)
    assert 'value="Riya R."' in page and "I read." in page

    token = csrf_from(page)
    bad = client.post(
        "/account/password",
        data={
            "current_password": "not it at all",
            "new_password": "brand new password",
            "confirm": "brand new password",
            "csrf_token": token,
        },
    )
    assert bad.status_code == 400 and "current password is not right" in bad.get_data(as_text=True)

    ok = client.post(
        "/account/password",
        data={
            "current_password": PASSWORD,
            "new_password": "brand new password",
            "confirm": "brand new password",
            "csrf_token": token,
        },
    )
    assert ok.status_code == 302
    assert client.get("/account").status_code == 200  # this session carries on
    auth.logout()
    assert auth.login("riya").status_code == 200  # old password no longer works
    assert auth.login("riya", "brand new password").status_code == 302
    assert user.id


def test_password_change_ends_other_sessions(app, make):
    make.user("reader", username="riya")
    laptop, phone = app.test_client(), app.test_client()
    from .conftest import Auth

    Auth(laptop).login("riya")
    Auth(phone).login("riya")
    token = csrf_from(laptop.get("/account").get_data(as_text=True))
    laptop.post(
        "/account/password",
        data={
            "current_password": PASSWORD,
            "new_password": "brand new password",
            "confirm": "brand new password",
            "csrf_token": token,
        },
    )
    assert laptop.get("/account").status_code == 200
    assert phone.get("/account").status_code == 302


def _reset_link(outbox) -> str:
    """Return the path of the reset link in the last mail."""
    url = re.search(r"http://[^/\s]+(/reset-password/\S+)", outbox[-1]["body"])
    assert url, outbox[-1]["body"]
    return url[1]


def test_password_reset_is_single_use(client, auth, make, outbox):
    make.user("reader", username="riya", email="riya@example.com")
    response = _post_form(
        client, "/reset-password", "/reset-password", {"email": "riya@example.com"}
    )
    assert response.status_code == 302
    assert outbox and outbox[-1]["to"] == "riya@example.com"
    link = _reset_link(outbox)

    page = client.get(link)
    assert page.status_code == 200
    token = csrf_from(page.get_data(as_text=True))
    done = client.post(
        link,
        data={"password": "fresh password 1", "confirm": "fresh password 1", "csrf_token": token},
    )
    assert done.status_code == 302 and done.headers["Location"] == "/login"
    assert auth.login("riya", "fresh password 1").status_code == 302
    auth.logout()

    # The same link a second time is refused and changes nothing.
    again = client.get(link, follow_redirects=True)
    assert "already been used" in again.get_data(as_text=True)
    assert auth.login("riya", "fresh password 1").status_code == 302


def test_reset_request_says_the_same_for_unknown_addresses(client, make, outbox):
    make.user("reader", username="riya", email="riya@example.com")
    known = _post_form(client, "/reset-password", "/reset-password", {"email": "riya@example.com"})
    unknown = _post_form(client, "/reset-password", "/reset-password", {"email": "who@example.com"})
    assert known.status_code == unknown.status_code == 302
    assert len(outbox) == 1


def test_expired_or_forged_reset_links_are_refused(app, client, make):
    user = make.user("reader", username="riya")
    from blog.services.passwords import make_reset_token

    with app.test_request_context():
        token = make_reset_token(user)
    forged = client.get(f"/reset-password/{token[:-3]}abc", follow_redirects=True)
    assert "not valid" in forged.get_data(as_text=True)
    app.config["PASSWORD_RESET_MAX_AGE"] = -1
    try:
        expired = client.get(f"/reset-password/{token}", follow_redirects=True)
    finally:
        app.config["PASSWORD_RESET_MAX_AGE"] = 3600
    assert "expired" in expired.get_data(as_text=True)


def test_session_cookie_flags(client, auth, make):
    make.user("reader", username="riya")
    response = auth.login("riya")
    cookies = response.headers.getlist("Set-Cookie")
    cookie = next(c for c in cookies if c.startswith("session="))
    assert "HttpOnly" in cookie
    assert "SameSite=Lax" in cookie
    # Scripts may read the signed-in marker, which holds nothing but "1".
    marker = next(c for c in cookies if c.startswith("circle_signed_in="))
    assert marker.startswith("circle_signed_in=1;") and "SameSite=Lax" in marker


def test_suspended_people_cannot_sign_in_and_lose_their_sessions(app, client, auth, make):
    from blog.models import utcnow

    user = make.user("author", username="sus")
    assert auth.login("sus").status_code == 302
    assert client.get("/editor/").status_code == 200
    user.suspended_at = utcnow()
    db.session.commit()
    assert client.get("/editor/").status_code == 302  # sent to sign in
    refused = auth.login("sus")
    assert refused.status_code == 200
    assert client.get("/editor/").status_code == 302  # still not signed in


def test_a_suspended_person_with_the_right_password_is_told_so(app, client, auth, make):
    from blog.models import utcnow

    user = make.user("reader", username="sus")
    user.suspended_at = utcnow()
    db.session.commit()
    told = auth.login("sus").get_data(as_text=True)
    assert "Your account is suspended" in told
    assert "do not match an account" not in told
    assert client.get("/account").status_code == 302  # not signed in


def test_a_wrong_password_for_a_suspended_account_reveals_nothing(app, client, auth, make):
    from blog.models import utcnow

    user = make.user("reader", username="sus")
    user.suspended_at = utcnow()
    db.session.commit()
    wrong = auth.login("sus", password="not the password").get_data(as_text=True)
    unknown = auth.login("nobody-here", password="not the password").get_data(as_text=True)
    assert "do not match an account" in wrong and "do not match an account" in unknown
    assert "suspended" not in wrong.lower()


def test_timestamps_are_timezone_aware(make):
    user = make.user("reader")
    db.session.expire_all()
    fresh = db.session.get(User, user.id)
    assert fresh.created_at.tzinfo is not None
    assert fresh.created_at.utcoffset().total_seconds() == 0
