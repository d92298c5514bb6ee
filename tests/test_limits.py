"""Limits that hold: lock-outs, credential stuffing, registration, search, quotas, zip bombs.

Every limit lives in a storage all workers share (Redis, or a SQLite file
without it), so the last tests run the limits from other processes.
"""

from __future__ import annotations

import json
import os
import re
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
import zipfile
from http.cookiejar import CookieJar
from io import BytesIO
from pathlib import Path

import pytest
from limits import parse
from limits.storage import storage_from_string
from limits.strategies import MovingWindowRateLimiter
from sqlalchemy import func, select, text

from blog.extensions import db
from blog.models import AuditEntry, Media, Post
from blog.services.users import COMMON_PASSWORD_REFUSED, PASSWORD_IS_NAME_REFUSED

from . import factories
from .conftest import csrf_from
from .test_media import files_in, small_jpeg, storage

ROOT = Path(__file__).resolve().parent.parent
CSRF_VALUE = re.compile(r'value="[^"]*"')


def _page_without_tokens(response) -> str:
    """A page's text with its form tokens blanked, to compare two answers."""
    return CSRF_VALUE.sub('value=""', response.get_data(as_text=True))


@pytest.fixture
def setting(app):
    """Change app settings for one test, putting them back afterwards."""
    saved: dict = {}

    def change(**values):
        for key, value in values.items():
            saved.setdefault(key, app.config.get(key))
            app.config[key] = value

    yield change
    app.config.update(saved)


def audit_rows(action: str) -> list[AuditEntry]:
    """Entries of one kind, oldest first."""
    db.session.expire_all()
    return list(
        db.session.scalars(select(AuditEntry).where(AuditEntry.action == action).order_by("id"))
    )


# -- Sign-in --------------------------------------------------------------------------------


def test_lockout_refuses_the_right_password_exactly_like_a_wrong_one(client, auth, make):
    make.user("reader", username="riya")
    for _ in range(5):
        assert auth.login("riya", "wrong password!").status_code == 200
    wrong = auth.login("riya", "still the wrong one")
    right = auth.login("riya", factories.PASSWORD)
    assert wrong.status_code == right.status_code == 429
    assert "Too many attempts" in right.get_data(as_text=True)
    assert _page_without_tokens(wrong) == _page_without_tokens(right)
    assert "Set-Cookie" not in right.headers or "remember" not in right.headers["Set-Cookie"]
    assert client.get("/account").status_code == 302  # still signed out


def test_one_address_trying_many_accounts_is_refused(client, auth, make):
    make.user("reader", username="victim-41")
    statuses = [auth.login(f"victim-{n}", "password-guess-1").status_code for n in range(25)]
    assert statuses[:20] == [200] * 20  # each account was tried only once
    assert statuses[20:] == [429] * 5
    # Even an account with its right password waits, from this address.
    assert auth.login("victim-41").status_code == 429


def test_a_made_up_forwarded_for_header_does_not_give_a_fresh_budget(client, auth):
    """Without CIRCLE_PROXY_COUNT, the key is the socket's address, whatever the headers say."""
    token = csrf_from(client.get("/login").get_data(as_text=True))
    statuses = []
    for n in range(22):
        response = client.post(
            "/login",
            data={"login": f"someone-{n}", "password": "password-guess-1", "csrf_token": token},
            headers={"X-Forwarded-For": f"203.0.113.{n}", "X-Real-IP": f"198.51.100.{n}"},
        )
        statuses.append(response.status_code)
    assert statuses[:20] == [200] * 20
    assert statuses[20:] == [429, 429]


def test_failures_and_lockouts_are_in_the_audit_log(client, auth, make):
    make.user("reader", username="riya")
    admin = make.user("admin", username="ada")
    for _ in range(5):
        auth.login("riya", "my secret guess 1")
    for _ in range(3):
        assert auth.login("riya", "my secret guess 1").status_code == 429
    failed = audit_rows("sign-in.failed")
    assert len(failed) == 5
    assert all(row.details == "login tried: riya" for row in failed)
    assert all(row.ip_address == "127.0.0.1" for row in failed)
    assert all(row.target_label == "riya" for row in failed)  # the account exists
    lockouts = audit_rows("sign-in.lockout")
    assert len(lockouts) == 1  # one entry per lock-out, however often it refuses
    assert "riya" in lockouts[0].details
    every_row = " ".join(
        f"{r.details} {r.target_label} {r.actor_name}"
        for r in db.session.scalars(select(AuditEntry))
    )
    assert "my secret guess" not in every_row

    assert auth.login(admin.username).status_code == 302
    page = client.get("/admin/audit").get_data(as_text=True)
    assert "sign-in.failed" in page and "sign-in.lockout" in page
    assert "login tried: riya" in page


def test_unknown_logins_are_logged_too(client, auth):
    auth.login("nobody-at-all", "some password 1")
    (row,) = audit_rows("sign-in.failed")
    assert row.details == "login tried: nobody-at-all" and row.target_id is None


# -- Registration and passwords ---------------------------------------------------------------


def _register(client, username: str, email: str, password: str = factories.PASSWORD):
    """Post the registration form."""
    token = csrf_from(client.get("/register").get_data(as_text=True))
    return client.post(
        "/register",
        data={
            "email": email,
            "username": username,
            "password": password,
            "confirm": password,
            "csrf_token": token,
        },
    )


def test_registration_is_limited_and_taken_answers_count(client, make):
    make.user("reader", username="riya", email="riya@example.com")
    for n in range(10):
        answer = _register(client, "riya", f"new-{n}@example.com")
        assert answer.status_code == 200
        assert "That username is already taken." in answer.get_data(as_text=True)
    refused = _register(client, "riya", "new-10@example.com")
    assert refused.status_code == 429
    assert "already taken" not in refused.get_data(as_text=True)
    assert _register(client, "fresh-person", "fresh@example.com").status_code == 429


@pytest.mark.parametrize("password", ["password123", "PASSWORD123", "qwertyuiop", "1234567890"])
def test_common_passwords_are_refused_with_the_reason(client, password):
    answer = _register(client, "new-reader", "new@example.com", password)
    assert answer.status_code == 200
    assert COMMON_PASSWORD_REFUSED in answer.get_data(as_text=True).replace("&#39;", "'")
    assert client.get("/account").status_code == 302


def test_a_password_equal_to_the_username_or_email_is_refused(client):
    for password in ("new-reader-7", "NEW@example.com"):
        answer = _register(client, "new-reader-7", "new@example.com", password)
        assert PASSWORD_IS_NAME_REFUSED in answer.get_data(as_text=True)
    assert _register(client, "new-reader-7", "new@example.com").status_code == 302


def test_create_user_refuses_a_common_password(runner):
    result = runner.invoke(
        args=["create-user", "--email", "x@example.com", "--username", "xavier",
              "--password", "Password123"]
    )
    assert result.exit_code == 1
    assert COMMON_PASSWORD_REFUSED in result.output


def test_a_password_change_refuses_a_common_password(client, auth, make):
    user = make.user("reader", username="riya")
    auth.login("riya")
    token = csrf_from(client.get("/account").get_data(as_text=True))
    answer = client.post(
        "/account/password",
        data={
            "current_password": factories.PASSWORD,
            "new_password": "iloveyou123",
            "confirm": "iloveyou123",
            "csrf_token": token,
        },
    )
    assert answer.status_code == 400
    assert COMMON_PASSWORD_REFUSED in answer.get_data(as_text=True).replace("&#39;", "'")
    db.session.refresh(user)
    assert auth.client.get("/account").status_code == 200


def test_the_demo_and_test_passwords_are_not_on_the_list():
    from blog.services.demo import DEMO_PEOPLE
    from blog.services.users import common_passwords

    assert factories.PASSWORD not in common_passwords()
    assert not {person[3] for person in DEMO_PEOPLE} & common_passwords()
    assert len(common_passwords()) > 40_000


# -- Search ---------------------------------------------------------------------------------


def test_search_is_limited_per_address_on_the_site_and_the_api(client, setting):
    setting(SEARCH_LIMIT_PER_ADDRESS="4 per minute")
    assert [client.get(f"/search?q=word{n}").status_code for n in range(3)] == [200] * 3
    assert client.get("/api/v1/search?q=word").status_code == 200
    page = client.get("/search?q=again")
    assert page.status_code == 429 and "Too many attempts" in page.get_data(as_text=True)
    api = client.get("/api/v1/search?q=again")
    assert api.status_code == 429 and api.get_json()["error"]["status"] == 429


# -- Upload quota -----------------------------------------------------------------------------




def _bearer(user) -> dict:
    """An API token header for user."""
    from blog.services import tokens as token_service

    _token, secret = token_service.create_token(user, "tests")
    return {"Authorization": f"Bearer {secret}"}


def test_the_hourly_upload_count_is_refused_with_a_message(client, make, setting, uploads):
    from blog.services import media as media_service

    setting(UPLOAD_LIMIT_PER_HOUR=2)
    author = make.user("author")
    for _ in range(2):
        media_service.save_upload(storage(small_jpeg()), author, "A photo")
    before = files_in(uploads)
    answer = client.post(
        "/api/v1/media",
        data={"file": (BytesIO(small_jpeg()), "third.jpg"), "alt": "A third photo"},
        headers=_bearer(author),
        content_type="multipart/form-data",
    )
    assert answer.status_code == 429
    assert "2 images in the last hour" in answer.get_json()["error"]["message"]
    assert files_in(uploads) == before
    assert db.session.scalar(select(func.count(Media.id))) == 2


def test_the_byte_quota_is_refused_on_the_desk_form(client, auth, make, setting, uploads):
    photo = small_jpeg()
    setting(UPLOAD_QUOTA_BYTES=len(photo) + 100)
    author = make.user("author")
    auth.login(author.username)

    def upload():
        token = csrf_from(client.get("/editor/media").get_data(as_text=True))
        return client.post(
            "/editor/media",
            data={"csrf_token": token, "alt": "A photo", "file": (BytesIO(photo), "a.jpg")},
            content_type="multipart/form-data",
        )

    assert upload().status_code == 302
    before = files_in(uploads)
    refused = upload()
    assert refused.status_code == 400
    assert "past your quota of" in refused.get_data(as_text=True)
    assert files_in(uploads) == before
    assert db.session.scalar(select(func.count(Media.id))) == 1


def test_admins_have_no_upload_quota(make, setting, uploads):
    from blog.services import media as media_service

    setting(UPLOAD_LIMIT_PER_HOUR=1, UPLOAD_QUOTA_BYTES=10)
    admin = make.user("admin")
    for _ in range(2):
        media_service.save_upload(storage(small_jpeg()), admin, "A photo")
    assert db.session.scalar(select(func.count(Media.id))) == 2


# -- Archives ---------------------------------------------------------------------------------


def _state(upload_root: Path) -> tuple[int, list[Path]]:
    """Posts in the database and files in the upload folder."""
    db.session.expire_all()
    return db.session.scalar(select(func.count(Post.id))), files_in(upload_root)


def _zip_of_zeros(path: Path, size: int, name: str = "circle.json") -> Path:
    """A zip holding one entry of size zero bytes, deflated (so the file stays small)."""
    chunk = b"\0" * (1 << 20)
    with (
        zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=1) as archive,
        archive.open(name, "w") as member,
    ):
        for _ in range(size // len(chunk)):
            member.write(chunk)
    return path


def test_import_json_refuses_a_one_gigabyte_zip_bomb(runner, tmp_path, make, uploads):
    make.post(title="Already here")
    before = _state(uploads)
    bomb = _zip_of_zeros(tmp_path / "bomb.zip", 1 << 30)
    assert bomb.stat().st_size < 10 * 1024 * 1024
    result = runner.invoke(args=["import-json", str(bomb), "--force"])
    assert result.exit_code == 1
    lines = result.output.strip().splitlines()
    assert len(lines) == 1 and "zip bomb" in lines[0] and "Nothing was imported" in lines[0]
    assert _state(uploads) == before


def test_import_json_refuses_an_archive_past_the_size_or_entry_limit(
    runner, tmp_path, make, setting, uploads
):
    make.post(title="Already here")
    before = _state(uploads)
    setting(IMPORT_MAX_EXPANDED_BYTES=1024 * 1024, IMPORT_MAX_RATIO=10_000)
    big = _zip_of_zeros(tmp_path / "big.zip", 2 * 1024 * 1024)
    result = runner.invoke(args=["import-json", str(big), "--force"])
    assert result.exit_code == 1 and "IMPORT_MAX_EXPANDED_BYTES" in result.output
    setting(IMPORT_MAX_ENTRIES=3)
    many = tmp_path / "many.zip"
    with zipfile.ZipFile(many, "w") as archive:
        for n in range(4):
            archive.writestr(f"uploads/{n}.txt", "x")
    result = runner.invoke(args=["import-json", str(many), "--force"])
    assert result.exit_code == 1 and "4 entries" in result.output
    assert _state(uploads) == before


def test_import_json_refuses_a_zip_whose_header_lies_about_the_size(
    runner, tmp_path, make, uploads
):
    make.post(title="Already here")
    before = _state(uploads)
    liar = _zip_of_zeros(tmp_path / "liar.zip", 64 * 1024 * 1024)
    data = bytearray(liar.read_bytes())
    # Claim 1,000 bytes in the local header and the central directory.
    for offset in _size_fields(bytes(data)):
        data[offset : offset + 4] = (1000).to_bytes(4, "little")
    liar.write_bytes(bytes(data))
    with zipfile.ZipFile(liar) as archive:
        assert archive.infolist()[0].file_size == 1000  # the central directory now lies
    result = runner.invoke(args=["import-json", str(liar), "--force"])
    assert result.exit_code == 1
    assert "Nothing was imported" in result.output
    assert _state(uploads) == before


def _size_fields(data: bytes) -> list[int]:
    """Offsets of the uncompressed-size fields of a one-entry zip (header and directory)."""
    return [data.index(b"PK\x03\x04") + 22, data.rindex(b"PK\x01\x02") + 24]


BILLION_LAUGHS = """<?xml version="1.0"?>
<!DOCTYPE lolz [
 <!ENTITY lol "lol">
 <!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
 <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
 <!ENTITY lol4 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">
 <!ENTITY lol5 "&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;">
 <!ENTITY lol6 "&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;">
 <!ENTITY lol7 "&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;">
 <!ENTITY lol8 "&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;">
 <!ENTITY lol9 "&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;">
]>
<rss version="2.0"><channel><title>&lol9;</title></channel></rss>
"""


def test_import_wxr_refuses_entity_expansion(runner, tmp_path, make, uploads):
    make.post(title="Already here")
    before = _state(uploads)
    laughs = tmp_path / "laughs.xml"
    laughs.write_text(BILLION_LAUGHS)
    result = runner.invoke(args=["import-wxr", str(laughs)])
    assert result.exit_code == 1
    assert "declares a DTD or entities" in result.output
    assert _state(uploads) == before


def test_import_wxr_refuses_a_file_past_the_size_limit(runner, tmp_path, setting, uploads):
    setting(IMPORT_MAX_EXPANDED_BYTES=1000)
    big = tmp_path / "big.xml"
    big.write_text("<rss><channel>" + " " * 2000 + "</channel></rss>")
    result = runner.invoke(args=["import-wxr", str(big)])
    assert result.exit_code == 1 and "IMPORT_MAX_EXPANDED_BYTES" in result.output


# -- Limits shared by every worker --------------------------------------------------------------


def test_two_storages_on_one_uri_share_their_counts(app):
    """Two storage objects (as two workers would open) see each other's hits."""
    uri = app.config["RATELIMIT_STORAGE_URI"]
    options = app.config.get("RATELIMIT_STORAGE_OPTIONS") or {}
    first = MovingWindowRateLimiter(storage_from_string(uri, **options))
    second = MovingWindowRateLimiter(storage_from_string(uri, **options))
    limit = parse("3 per minute")
    key = f"shared-{time.time_ns()}"
    assert all(first.hit(limit, "test", key) for _ in range(3))
    assert not second.hit(limit, "test", key)
    assert second.get_window_stats(limit, "test", key).remaining == 0


SIGN_IN_SCRIPT = """
import json, sys
from blog import create_app
app = create_app(json.loads(sys.argv[1]))
client = app.test_client()
statuses = [
    client.post("/login", data={"login": "riya", "password": sys.argv[2]}).status_code
    for _ in range(int(sys.argv[3]))
]
print(json.dumps(statuses))
"""


def _sign_in_elsewhere(app, password: str, times: int) -> list[int]:
    """Sign in from another process running its own app on the same database and limits."""
    overrides = {
        "CIRCLE_ENV": "testing",
        "SQLALCHEMY_DATABASE_URI": app.config["SQLALCHEMY_DATABASE_URI"],
        "RATELIMIT_STORAGE_URI": app.config["RATELIMIT_STORAGE_URI"],
        "RATELIMIT_KEY_PREFIX": app.config["RATELIMIT_KEY_PREFIX"],
        "RATELIMIT_STORAGE_OPTIONS": app.config.get("RATELIMIT_STORAGE_OPTIONS") or {},
        "WTF_CSRF_ENABLED": False,
        "UPLOAD_DIR": app.config["UPLOAD_DIR"],
    }
    done = subprocess.run(
        [sys.executable, "-c", SIGN_IN_SCRIPT, json.dumps(overrides), password, str(times)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_failures_in_one_app_instance_lock_the_account_in_another(app, auth, make):
    make.user("reader", username="riya")
    assert _sign_in_elsewhere(app, "wrong password!", 3) == [200, 200, 200]
    assert [auth.login("riya", "wrong password!").status_code for _ in range(2)] == [200, 200]
    # Five failures in all, across two processes: both now refuse the right password.
    assert _sign_in_elsewhere(app, factories.PASSWORD, 1) == [429]
    assert auth.login("riya").status_code == 429


def _free_port() -> int:
    """A TCP port nobody listens on."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_gunicorn_workers_share_the_lockout(app, make, tmp_path):
    """`make run`'s set-up, without Redis: two workers, attempts over HTTP."""
    make.user("reader", username="riya")
    port = _free_port()
    env = {
        **os.environ,
        "CIRCLE_ENV": "development",
        "SECRET_KEY": "a-secret-for-this-test-only-0123456789",
        "DATABASE_URL": app.config["SQLALCHEMY_DATABASE_URI"],
        "UPLOAD_DIR": str(tmp_path / "uploads"),
        "BIND": f"127.0.0.1:{port}",
        "WEB_CONCURRENCY": "2",
        "CIRCLE_PAGE_CACHE": "off",
    }
    env.pop("REDIS_URL", None)
    env["RATELIMIT_STORAGE_URI"] = f"circle-sqlite://{tmp_path / 'ratelimits.sqlite'}"
    server = subprocess.Popen(
        [str(Path(sys.executable).parent / "gunicorn"), "-c", "gunicorn.conf.py", "wsgi:app"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        base = f"http://127.0.0.1:{port}"
        _wait_for(base + "/healthz", server)
        statuses = []
        for attempt in range(7):
            password = factories.PASSWORD if attempt == 6 else "wrong password!"
            statuses.append(_http_login(base, "riya", password))
        assert statuses == [200] * 5 + [429, 429]
    finally:
        if server.returncode is None:
            server.terminate()
            _out, err = server.communicate(timeout=30)
    assert err.count("Booting worker") >= 2, err  # two processes, each with its own memory


def _wait_for(url: str, server: subprocess.Popen) -> None:
    """Wait until the server answers; if it never does, say what it printed."""
    deadline = time.monotonic() + 120
    last = None
    while time.monotonic() < deadline and server.poll() is None:
        try:
            urllib.request.urlopen(url, timeout=2).close()
            return
        except urllib.error.HTTPError as error:
            last = f"{error.code} {error.read()[:300]!r}"
        except (urllib.error.URLError, ConnectionError, OSError) as error:
            last = repr(error)
        time.sleep(0.2)
    server.terminate()
    _out, err = server.communicate(timeout=30)
    raise AssertionError(
        f"the server never answered {url}: last {last}; the database was busy with "
        f"{_database_activity()}; the server printed:\n{err[-3000:]}"
    )


def _database_activity() -> list:
    """What the other PostgreSQL sessions were doing (waits, open transactions)."""
    if db.engine.dialect.name != "postgresql":
        return []
    with db.engine.connect() as conn:
        rows = conn.execute(
            text(
                "SELECT state, wait_event_type, wait_event, left(query, 120) FROM pg_stat_activity"
                " WHERE datname = current_database() AND pid <> pg_backend_pid()"
            )
        )
        return [tuple(row) for row in rows]


def _http_login(base: str, login: str, password: str) -> int:
    """Fetch the form and post it over HTTP, as a fresh browser; return the status."""
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(CookieJar()))
    with opener.open(base + "/login", timeout=10) as page:
        token = csrf_from(page.read().decode())
    body = urllib.parse.urlencode({"login": login, "password": password, "csrf_token": token})
    try:
        with opener.open(base + "/login", data=body.encode(), timeout=30) as answer:
            return answer.status
    except urllib.error.HTTPError as error:
        return error.code
