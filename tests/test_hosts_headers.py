"""Trusted hosts, links from SITE_URL only, and the headers every response carries."""

from __future__ import annotations

import http.client
import os
import re
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from blog import create_app
from blog.config import HSTS
from blog.extensions import db
from blog.models import PostStatus
from blog.services import publishing, reading
from blog.services import tokens as token_service

from .conftest import csrf_from
from .test_media import small_jpeg, upload_form

ROOT = Path(__file__).resolve().parent.parent
SITE = "https://mycirclestory.example"
STRONG_SECRET = "5b0e7c1d9f2a4e8b6c3d1f0a7e9b2c4d6f8a1e3c5b7d9f0e"
PRODUCTION_ENV = {"SECRET_KEY": STRONG_SECRET, "SITE_URL": SITE}


@pytest.fixture
def production_app(monkeypatch, database_url, tmp_path):
    """Build production-configured Circles on the test database (mail kept in an outbox)."""
    built = []

    def build(**overrides):
        for name, value in PRODUCTION_ENV.items():
            monkeypatch.setenv(name, value)
        for name in ("ALLOWED_HOSTS", "REDIS_URL", "DATABASE_URL"):
            monkeypatch.delenv(name, raising=False)
        settings = {
            "CIRCLE_ENV": "production",
            "SQLALCHEMY_DATABASE_URI": database_url,
            "UPLOAD_DIR": str(tmp_path / "uploads"),
            "CACHE_GENERATION_DIR": str(tmp_path),
            # Keeps sent mail in the app's outbox; everything else stays production.
            "TESTING": True,
            # Flask-WTF's HTTPS Referer check would need a browser's headers; hosts are the point.
            "WTF_CSRF_ENABLED": False,
        }
        settings.update(overrides)
        site = create_app(settings)
        site.extensions["circle_outbox"] = []
        built.append(site)
        return site

    yield build
    for site in built:
        with site.app_context():
            db.session.remove()
            db.engine.dispose()


def assert_security_headers(response, hsts: bool = False) -> None:
    """Every security header is on the response, and nothing names the server software."""
    headers = response.headers
    csp = headers.get("Content-Security-Policy", "")
    assert "default-src 'self'" in csp and "frame-ancestors 'none'" in csp, (
        response.status_code, dict(headers))
    assert "script-src 'self'" in csp and "unsafe-inline" not in csp
    assert headers.get("X-Content-Type-Options") == "nosniff"
    assert headers.get("X-Frame-Options") == "DENY"
    assert headers.get("Referrer-Policy") == "strict-origin-when-cross-origin"
    assert headers.get("Cross-Origin-Opener-Policy") == "same-origin"
    assert "camera=()" in headers.get("Permissions-Policy", "")
    assert "Server" not in headers and "X-Powered-By" not in headers
    if hsts:
        assert headers.get("Strict-Transport-Security") == HSTS
    else:
        assert "Strict-Transport-Security" not in headers


# -- The reset mail: only SITE_URL, whatever Host the request names -----------------------


@pytest.mark.parametrize("how", ["host", "forwarded-host"])
def test_reset_mail_links_only_to_site_url(production_app, make, how):
    make.user("reader", username="vic", email="victim@example.com")
    site = production_app(
        ALLOWED_HOSTS=["mycirclestory.example", "evil.example"], PROXY_COUNT=1,
    )
    client = site.test_client()
    if how == "host":
        response = client.post(
            "/reset-password", data={"email": "victim@example.com"},
            base_url="https://evil.example",
            headers={"X-Forwarded-Proto": "https", "X-Forwarded-For": "203.0.113.9"},
        )
    else:
        response = client.post(
            "/reset-password", data={"email": "victim@example.com"},
            base_url=SITE,
            headers={"X-Forwarded-Host": "evil.example", "X-Forwarded-Proto": "https",
                     "X-Forwarded-For": "203.0.113.9"},
        )
    assert response.status_code == 302
    outbox = site.extensions["circle_outbox"]
    assert len(outbox) == 1 and outbox[0]["to"] == "victim@example.com"
    body = outbox[0]["body"]
    links = re.findall(r"\w+://[^\s]+", body)
    assert links and all(link.startswith(SITE + "/reset-password/") for link in links), body
    assert "evil" not in body


def test_a_foreign_host_is_refused_in_production(production_app, make):
    make.user("reader", username="vic", email="victim@example.com")
    site = production_app()
    assert site.config["ALLOWED_HOSTS"] == ["mycirclestory.example"]
    client = site.test_client()
    refused = client.post(
        "/reset-password", data={"email": "victim@example.com"}, base_url="https://evil.example"
    )
    assert refused.status_code == 400
    assert refused.get_data(as_text=True).startswith("Bad request")
    assert_security_headers(refused, hsts=True)
    assert site.extensions["circle_outbox"] == []
    # The real name is answered, with the port or in capitals too.
    assert client.get("/robots.txt", base_url=SITE).status_code == 200
    shouted = client.get("/robots.txt", base_url="https://MyCircleStory.example:443")
    assert shouted.status_code == 200


def test_a_forwarded_host_is_trusted_only_through_the_proxy_and_still_checked(production_app):
    proxied = production_app(PROXY_COUNT=1)
    client = proxied.test_client()
    forged = client.get("/robots.txt", base_url=SITE, headers={"X-Forwarded-Host": "evil.example"})
    assert forged.status_code == 400
    direct = production_app()
    ignored = direct.test_client().get(
        "/robots.txt", base_url=SITE, headers={"X-Forwarded-Host": "evil.example"}
    )
    assert ignored.status_code == 200
    assert "evil" not in ignored.get_data(as_text=True)


def test_a_foreign_host_is_refused_in_development_and_tests(client, make, outbox):
    make.user("reader", username="vic", email="victim@example.com")
    page = client.get("/reset-password")
    token = csrf_from(page.get_data(as_text=True))
    refused = client.post(
        "/reset-password", data={"email": "victim@example.com", "csrf_token": token},
        headers={"Host": "evil.example"},
    )
    assert refused.status_code == 400
    assert outbox == []
    # Without CIRCLE_PROXY_COUNT, X-Forwarded-Host is not even read.
    sent = client.post(
        "/reset-password", data={"email": "victim@example.com", "csrf_token": token},
        headers={"X-Forwarded-Host": "evil.example"},
    )
    assert sent.status_code == 302
    body = outbox[-1]["body"]
    assert "evil" not in body and "http://localhost/reset-password/" in body


def test_every_absolute_link_comes_from_site_url(production_app, make):
    section = make.section("Health", slug="health")
    post = make.post(section=section, title="Sleep well", cover=make.image())
    assert post.cover_image.startswith("/uploads/")
    site = production_app(
                          ALLOWED_HOSTS=["mycirclestory.example", "mirror.example"])
    client = site.test_client()
    urls = ["/", "/health/sleep-well", "/feed.xml", "/category/health/feed.xml", "/sitemap.xml",
            "/robots.txt", "/api/v1/posts", f"/api/v1/posts/{post.id}"]
    for url in urls:
        response = client.get(url, base_url="https://mirror.example")
        assert response.status_code == 200, url
        text = response.get_data(as_text=True)
        assert "mirror.example" not in text, url
        assert SITE in text, url
    page = client.get("/health/sleep-well", base_url="https://mirror.example").get_data(as_text=True)
    assert f'<meta property="og:image" content="{SITE}{post.cover_image}">' in page
    assert f'<link rel="canonical" href="{SITE}/health/sleep-well">' in page


def test_no_code_builds_links_from_the_request():
    """One helper (blog/hosts.py) builds absolute addresses; nothing else may."""
    offenders = []
    for path in [*ROOT.joinpath("blog").rglob("*.py"), *ROOT.joinpath("templates").rglob("*.*")]:
        if path.name == "hosts.py":
            continue
        text = path.read_text(encoding="utf-8", errors="replace")
        for needle in ("_external=", "host_url", "url_root", "X-Forwarded-Host"):
            if needle in text:
                offenders.append(f"{path.relative_to(ROOT)}: {needle}")
    assert offenders == []


# -- Security headers on every kind of response -------------------------------------------


def test_headers_on_a_page_cache_miss_and_hit(cached, client, make):
    make.post(section=make.section("Health", slug="health"), title="Sleep well")
    for url in ["/", "/category/health", "/health/sleep-well", "/feed.xml", "/api/v1/posts"]:
        miss = client.get(url)
        hit = client.get(url)
        assert (miss.headers["X-Cache"], hit.headers["X-Cache"]) == ("MISS", "HIT"), url
        assert_security_headers(miss)
        assert_security_headers(hit)


@pytest.mark.parametrize(
    "url,status",
    [
        ("/category/missing", 404),
        ("/api/v1/nothing-here", 404),
        ("/api/v1/categories", 200),
        ("/feed.xml", 200),
        ("/sitemap.xml", 200),
        ("/feed/", 301),
        ("/editor/", 302),
        ("/static/css/site.css", 200),
        ("/healthz", 200),
    ],
)
def test_headers_on_every_kind_of_response(client, url, status):
    response = client.get(url)
    response.close()  # static files are sent from an open file
    assert response.status_code == status
    assert_security_headers(response)


def test_headers_on_errors_400_429_and_500(client, make, monkeypatch):
    assert_security_headers(client.post("/login", data={"login": "x", "password": "y"}))  # CSRF
    bad_host = client.get("/", headers={"Host": "evil.example"})
    assert bad_host.status_code == 400
    assert_security_headers(bad_host)

    make.user("reader", username="vic", email="victim@example.com")
    token = csrf_from(client.get("/reset-password").get_data(as_text=True))
    statuses = [
        client.post("/reset-password", data={"email": "victim@example.com", "csrf_token": token})
        for _ in range(6)
    ]
    assert statuses[-1].status_code == 429
    assert_security_headers(statuses[-1])

    def broken(*args, **kwargs):
        raise RuntimeError("boom")

    monkeypatch.setattr(reading, "latest", broken)
    crashed = client.get("/")
    assert crashed.status_code == 500
    assert_security_headers(crashed)


def test_production_sends_hsts_on_every_response(production_app, make):
    make.section("Health", slug="health")
    site = production_app()
    client = site.test_client()
    for url, status in [("/", 200), ("/feed.xml", 200), ("/category/missing", 404),
                        ("/feed/", 301), ("/static/css/site.css", 200),
                        ("/api/v1/categories", 200), ("/login", 200)]:
        first = client.get(url, base_url=SITE)
        again = client.get(url, base_url=SITE)  # from the page cache, where it keeps pages
        first.close(), again.close()
        assert first.status_code == again.status_code == status, url
        assert_security_headers(first, hsts=True)
        assert_security_headers(again, hsts=True)


# -- Cache-Control: personal pages are never kept -----------------------------------------


def test_staff_account_and_preview_pages_are_private_no_store(client, auth, make):
    editor = make.user("admin", username="ada")
    draft = make.post(author=editor, status=PostStatus.DRAFT, title="Not yet")
    anonymous = ["/login", "/register", "/reset-password", "/reset-password/not-a-token"]
    for url in anonymous:
        assert client.get(url).headers["Cache-Control"] == "private, no-store", url
    with client.application.test_request_context():
        shared = f"/editor/preview/{publishing.preview_token(editor, draft)}"
    shared_page = client.get(shared)
    assert shared_page.status_code == 200 and "Not yet" in shared_page.get_data(as_text=True)
    assert shared_page.headers["Cache-Control"] == "private, no-store"

    assert auth.login("ada").status_code == 302
    for url in ["/account", "/admin/", "/editor/", f"/editor/posts/{draft.id}/preview",
                f"/editor/posts/{draft.id}/edit", shared, "/admin/no-such-page"]:
        response = client.get(url)
        assert response.status_code in (200, 404), url
        assert response.headers["Cache-Control"] == "private, no-store", url


def test_token_api_answers_are_private_no_store(client, make):
    author = make.user("author", username="ana")
    _token, secret = token_service.create_token(author, "tests")
    db.session.commit()
    response = client.get("/api/v1/posts", headers={"Authorization": f"Bearer {secret}"})
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "private, no-store"
    refused = client.get("/api/v1/posts", headers={"Authorization": "Bearer circle_nope_nope"})
    assert refused.status_code == 401
    assert refused.headers["Cache-Control"] == "private, no-store"


def test_reader_pages_stay_cacheable(cached, client, auth, make):
    make.post(section=make.section("Health", slug="health"), title="Sleep well")
    for url in ["/", "/category/health", "/health/sleep-well", "/feed.xml"]:
        for response in (client.get(url), client.get(url)):
            cache_control = response.headers["Cache-Control"]
            assert cache_control.startswith("public") and "no-store" not in cache_control, url
    assert client.get("/api/v1/posts").headers["Cache-Control"].startswith("public")
    # A page showing a signed-in reader's message is theirs alone; then they share again.
    make.user("reader", username="rue")
    auth.login("rue")
    assert client.get("/").headers["Cache-Control"].startswith("private")
    assert client.get("/").headers["Cache-Control"].startswith("public")


# -- Uploads nginx can read --------------------------------------------------------------


def test_uploads_are_readable_by_the_web_server_whatever_the_umask(client, auth, make, app,
                                                                  tmp_path):
    folder = tmp_path / "uploads"
    old_dir, app.config["UPLOAD_DIR"] = app.config["UPLOAD_DIR"], str(folder)
    old_umask = os.umask(0o077)
    try:
        make.user("author", username="ana")
        auth.login("ana")
        assert upload_form(client, small_jpeg()).status_code == 302
    finally:
        os.umask(old_umask)
        app.config["UPLOAD_DIR"] = old_dir
    files = [p for p in folder.rglob("*") if p.is_file()]
    folders = [p for p in folder.rglob("*") if p.is_dir()]
    assert files and folders
    assert {oct(p.stat().st_mode & 0o777) for p in files} == {oct(0o644)}
    assert {oct(p.stat().st_mode & 0o777) for p in folders} == {oct(0o755)}


# -- Gunicorn says nothing about itself -----------------------------------------------------


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def test_gunicorn_does_not_name_itself(tmp_path):
    port = _free_port()
    env = dict(os.environ, BIND=f"127.0.0.1:{port}", WEB_CONCURRENCY="1", CIRCLE_ENV="testing",
               CIRCLE_PAGE_CACHE="off")
    env.pop("REDIS_URL", None)
    server = subprocess.Popen(
        [str(Path(sys.executable).parent / "gunicorn"), "-c", "gunicorn.conf.py", "wsgi:app"],
        cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
                conn.request("GET", "/static/css/site.css", headers={"Host": "localhost"})
                response = conn.getresponse()
                response.read()
                break
            except OSError:
                assert server.poll() is None, "gunicorn stopped"
                assert time.monotonic() < deadline, "gunicorn did not start"
                time.sleep(0.2)
        assert response.status == 200
        assert "gunicorn" not in (response.getheader("Server") or "").lower()
        assert response.getheader("X-Powered-By") is None
        assert response.getheader("X-Content-Type-Options") == "nosniff"
        conn.request("GET", "/robots.txt", headers={"Host": "evil.example"})
        refused = conn.getresponse()
        refused.read()
        assert refused.status == 400
        assert "gunicorn" not in (refused.getheader("Server") or "").lower()
    finally:
        server.terminate()
        server.wait(timeout=10)
