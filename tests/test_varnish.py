"""Varnish in front of Circle (deploy/varnish/circle.vcl): fresh after every change, never personal.

varnishd runs on a free port with the project's VCL, its backend pointed at a live
server of the test app; Circle purges it through CIRCLE_PURGE_URLS (PURGE_URLS).
"""

from __future__ import annotations

import re
import shutil
import socket
import subprocess
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest
from werkzeug.serving import make_server

from blog.extensions import db
from blog.models import PostStatus
from blog.services import comments as comment_service
from blog.services import publishing
from blog.services import settings as settings_service

from .conftest import Auth

VCL = Path(__file__).resolve().parent.parent / "deploy" / "varnish" / "circle.vcl"
INSTALL = "apt-get install -y varnish varnish-modules (bash .ci/run installs them)"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _varnishd() -> str:
    found = shutil.which("varnishd") or next(
        (p for p in ("/usr/sbin/varnishd", "/usr/local/sbin/varnishd") if Path(p).exists()), None
    )
    if found is None:
        pytest.fail(f"varnishd is not installed: {INSTALL}")
    return found


@pytest.fixture(scope="module")
def backend(_app):
    """A live server of the test app on a free port."""
    server = make_server("127.0.0.1", 0, _app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, name="varnish-backend", daemon=True)
    thread.start()
    yield server.server_port
    server.shutdown()
    server.server_close()
    thread.join(timeout=5)


def _start_varnish(folder: Path, backend_port: int, change=lambda vcl: vcl):
    """Start varnishd with the project's VCL (its backend the live server, then change
    applied); return the process and its base URL."""
    binary = _varnishd()
    vcl, count = re.subn(
        r'(backend app1 \{\s*\.host = )"[^"]*";(\s*\.port = )"[^"]*";',
        rf'\1"127.0.0.1";\2"{backend_port}";',
        VCL.read_text(),
    )
    assert count == 1, "the VCL's backend app1 is not where the test expects it"
    (folder / "circle.vcl").write_text(change(vcl))
    port = _free_port()
    log = folder / "varnishd.log"
    with log.open("wb") as output:
        process = subprocess.Popen(
            [binary, "-F", "-a", f"127.0.0.1:{port}", "-f", str(folder / "circle.vcl")]
            + ["-n", str(folder / "work"), "-s", "malloc,32m", "-T", "none", "-j", "none"],
            stdout=output,
            stderr=subprocess.STDOUT,
        )
    base = f"http://127.0.0.1:{port}"
    for _ in range(300):  # compiling the VCL takes a few seconds on a busy machine
        if process.poll() is not None:
            output = log.read_text(errors="replace")
            if "xkey" in output and "vmod" in output.lower():
                pytest.fail(f"varnish-modules (xkey) is missing: {INSTALL}\n{output}")
            pytest.fail(f"varnishd did not start:\n{output}")
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return process, base
        except OSError:
            time.sleep(0.1)
    process.kill()
    pytest.fail(f"varnishd did not listen on {base}:\n{log.read_text(errors='replace')}")


def _stop(process) -> None:
    process.terminate()
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        process.kill()


@pytest.fixture(scope="module")
def varnish(backend, tmp_path_factory):
    """varnishd with the project's VCL, its backend the live server; yields its base URL."""
    process, base = _start_varnish(tmp_path_factory.mktemp("varnish"), backend)
    yield base
    _stop(process)


@pytest.fixture
def front(app, varnish):
    """The app with its page cache on and purging this Varnish; Varnish emptied first."""
    app.config["PAGE_CACHE"] = True
    app.config["PURGE_URLS"] = (varnish,)
    _send(varnish, "/", method="PURGE", headers={"xkey-purge": "all"})
    yield varnish
    app.config["PAGE_CACHE"] = False
    app.config["PURGE_URLS"] = ()


def _send(base: str, path: str, method: str = "GET", headers: dict | None = None):
    """One request to Varnish: (status, headers, body); redirects are not followed."""

    class Stay(urllib.request.HTTPRedirectHandler):
        def redirect_request(self, *args, **kwargs):
            return None

    request = urllib.request.Request(base + path, method=method, headers=headers or {})
    opener = urllib.request.build_opener(Stay)
    try:
        with opener.open(request, timeout=10) as answer:
            return answer.status, answer.headers, answer.read().decode(errors="replace")
    except urllib.error.HTTPError as error:
        return error.code, error.headers, error.read().decode(errors="replace")


def _hit(base: str, path: str, **headers) -> tuple[str, str]:
    """Ask twice; return how the second answer was served and its body."""
    _send(base, path, headers=headers)
    status, answer, body = _send(base, path, headers=headers)
    assert status == 200, (path, status)
    return answer["X-Cache"], body


@pytest.fixture
def site(make):
    """A section, an author, an editor and a published story."""
    health = make.section("Health", slug="health")
    author = make.user("author", username="ana")
    return {
        "health": health,
        "author": author,
        "editor": make.user("editor", username="eddie"),
        "admin": make.user("admin", username="ada"),
        "reader": make.user("reader", username="rue"),
        "post": make.post(author=author, section=health, title="First Story"),
    }


ARTICLE = "/health/first-story"


def test_a_publish_is_fresh_through_varnish(front, site, make):
    assert _hit(front, "/")[0] == "HIT"
    draft = make.post(
        author=site["author"], section=site["health"], title="Fresh News", status=PostStatus.DRAFT
    )
    assert _hit(front, "/")[0] == "HIT"  # a draft purges nothing
    publishing.publish_now(site["editor"], draft)
    status, answer, body = _send(front, "/")
    assert answer["X-Cache"] == "MISS" and "Fresh News" in body
    assert "Fresh News" in _send(front, "/category/health")[2]


def test_an_edit_and_an_unpublish_are_fresh_through_varnish(front, site):
    assert _hit(front, ARTICLE)[0] == "HIT"
    assert _hit(front, "/feed.xml")[0] == "HIT"
    site["post"].title = "First Story, Revised"
    db.session.commit()
    assert "First Story, Revised" in _send(front, ARTICLE)[2]
    assert "First Story, Revised" in _send(front, "/feed.xml")[2]
    assert _hit(front, ARTICLE)[0] == "HIT"
    publishing.unpublish(site["editor"], site["post"])
    assert _send(front, ARTICLE)[0] == 404
    assert "First Story" not in _send(front, "/")[2]


def test_an_approved_comment_is_fresh_and_purges_only_its_article(front, site):
    assert _hit(front, ARTICLE)[0] == "HIT"
    assert _hit(front, "/category/health")[0] == "HIT"
    comment = comment_service.add_comment(site["reader"], site["post"], "A kind word.")
    comment_service.moderate(site["editor"], comment, "approve")
    status, answer, body = _send(front, ARTICLE)
    assert answer["X-Cache"] == "MISS" and "A kind word." in body
    assert _send(front, "/category/health")[1]["X-Cache"] == "HIT"


def test_a_settings_change_is_fresh_everywhere(front, site):
    for path in ("/", ARTICLE, "/category/health"):
        assert _hit(front, path)[0] == "HIT"
    values = {
        "site_name": "Circle Weekly",
        "site_slogan": "s",
        "site_tagline": "t",
        "posts_per_page": 10,
        "comments_moderated": True,
        "comment_link_limit": 2,
        "comment_blocklist": "",
    }
    settings_service.update(site["admin"], values)
    for path in ("/", ARTICLE, "/category/health"):
        status, answer, body = _send(front, path)
        assert answer["X-Cache"] == "MISS" and "Circle Weekly" in body, path


def test_personal_pages_and_cookies_never_enter_varnish(front, app, site):
    # The sign-in form sets a cookie (its token): never stored.
    for _ in range(2):
        status, answer, _body = _send(front, "/login")
        assert answer["X-Cache"] == "MISS" and answer.get("Set-Cookie")
    # A signed-in person's requests pass through Varnish, and never reach anyone else:
    # reader pages are the shared page from the app's cache; their own parts are private.
    person = app.test_client()
    Auth(person).login("eddie")
    person.get("/account")  # shows the welcome message, which would make a page theirs
    cookie = "; ".join(f"{c.key}={c.value}" for c in person._cookies.values())
    for path in ("/", ARTICLE, "/account", f"/me/parts?post={site['post'].id}"):
        for _ in range(2):
            status, answer, body = _send(front, path, headers={"Cookie": cookie})
            assert answer["X-Cache"] == "MISS", path
        if path in ("/", ARTICLE):
            assert answer["X-App-Cache"] == "HIT", path
            assert "Writing desk" not in body and "csrf_token" not in body, path
        else:
            assert answer["Cache-Control"] == "private, no-store", path
    assert "Writing desk" in body and "Eddie" in body  # the parts, theirs alone
    for path in ("/", ARTICLE):
        status, answer, body = _send(front, path)
        assert "Writing desk" not in body and "eddie" not in body.lower(), path
    # An anonymous /account is a redirect to sign in, not a shared page.
    for _ in range(2):
        assert _send(front, "/account")[1]["X-Cache"] == "MISS"


def test_other_cookies_are_dropped_and_purges_need_the_acl_header(front, site):
    assert _hit(front, ARTICLE, Cookie="_ga=GA1.2.3")[0] == "HIT"
    assert _send(front, "/", method="PURGE")[0] == 400
    assert _send(front, "/", method="PURGE", headers={"xkey-purge": "post-999999"})[0] == 200
    assert _send(front, ARTICLE)[1]["X-Cache"] == "HIT"


def test_purges_from_outside_the_acl_are_refused(app, backend, tmp_path, site):
    def outsiders_only(vcl: str) -> str:
        acl = re.search(r"acl purgers \{[^}]*\}", vcl)
        assert acl, "the VCL's purgers ACL is not where the test expects it"
        return vcl.replace(acl.group(0), 'acl purgers {\n    "192.0.2.1";\n}')

    process, base = _start_varnish(tmp_path, backend, outsiders_only)
    try:
        app.config["PAGE_CACHE"] = True
        app.config["PURGE_URLS"] = (base,)  # Circle sends xkey only to a purge front
        assert _hit(base, ARTICLE)[0] == "HIT"
        status, _answer, _body = _send(base, "/", "PURGE", {"xkey-purge": "all"})
        assert status == 403
        assert _send(base, ARTICLE)[1]["X-Cache"] == "HIT"
    finally:
        app.config["PAGE_CACHE"] = False
        app.config["PURGE_URLS"] = ()
        _stop(process)
