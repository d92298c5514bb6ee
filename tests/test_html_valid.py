"""Every public page is valid HTML, checked by the Nu HTML Checker (vnu.jar).

The checker is the `vnu-jar` npm package (`make test` installs it) run with
the machine's Java (`.ci/run` installs it). Both are required: when either is
missing the test fails with a message saying how to get it, it never skips.
All pages are checked by one Java process, since starting the JVM is slow.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path

from sqlalchemy import select

from blog.extensions import db
from blog.models import Category, User
from blog.services import passwords as password_service

from .conftest import csrf_from

ROOT = Path(__file__).resolve().parent.parent
VNU_JAR = ROOT / "node_modules" / "vnu-jar" / "build" / "dist" / "vnu.jar"
CAR_T = "/health/revolutionizing-cancer-treatment-the-promise-of-car-t-cell-therapy"
# An article with a table, a pull quote, an image figure, a gallery and a video embed.
MAGAZINE = "/health/night-shift"
# A comment brought from WordPress, with the formatting comments keep.
FORMATTED_COMMENT = (
    '<p>See <a href="https://example.org/rota">the <em>rota</em></a>, <strong>really</strong>: '
    "<code>22:00</code>.</p><blockquote>Nights are long.</blockquote><p>Thanks.</p>"
)
SECTIONS = ["fashion", "business", "news", "storybook", "health"]
VNU_TIMEOUT_S = 300


def _java() -> str:
    """Return the java executable, or fail saying how to install it."""
    java = shutil.which("java")
    assert java, (
        "java is missing, so the Nu HTML Checker cannot run: "
        "sudo apt-get install -y default-jre-headless (.ci/run installs it)"
    )
    assert VNU_JAR.is_file(), (
        f"{VNU_JAR.relative_to(ROOT)} is missing: run `make node` "
        "(npm ci --ignore-scripts), which `make test` does first"
    )
    return java


def html_errors(pages: dict[str, str], folder: Path) -> list[str]:
    """Check pages (name -> HTML) with the Nu HTML Checker; return its errors, one line each."""
    java = _java()
    files = {}
    for n, (name, html) in enumerate(pages.items()):
        path = folder / f"page{n}.html"
        path.write_text(html, encoding="utf-8")
        files[str(path)] = name
    completed = subprocess.run(
        [java, "-jar", str(VNU_JAR), "--errors-only", "--format", "json", *files],
        capture_output=True,
        text=True,
        timeout=VNU_TIMEOUT_S,
        check=False,
    )
    # vnu writes its JSON report to stderr and exits 1 when it found errors.
    report_text = completed.stderr.strip() or completed.stdout.strip()
    try:
        report = json.loads(report_text)
    except json.JSONDecodeError:
        raise AssertionError(
            f"vnu.jar gave no JSON report (exit {completed.returncode}):\n{report_text[:2000]}"
        ) from None
    return [
        f"{files.get(m.get('url', '').removeprefix('file:'), '?')} line {m.get('lastLine')}: "
        f"{m.get('message')} {m.get('extract', '').strip()}"
        for m in report.get("messages", [])
        if m.get("type") in ("error", "non-document-error")
    ]


def _add_avatar() -> None:
    """Give the demo's editor a picture, so avatar markup is checked beside the seed's covers."""
    editor = db.session.scalar(select(User).where(User.username == "editor"))
    editor.avatar_image = "/static/uploads/editor.jpg"
    db.session.commit()


def _public_pages(client) -> dict[str, str]:
    """Fetch every kind of public page; return its address (or a description) -> html."""
    urls = ["/", "/?page=2"]
    urls += [f"/category/{slug}" for slug in SECTIONS]
    urls += ["/category/news?page=2"]
    urls += [CAR_T, MAGAZINE, "/tag/immunotherapy", "/tag/community"]
    urls += ["/author/editor", "/author/author", "/about"]  # /about: the demo's page
    urls += [
        "/search",
        "/search?q=leukapheresis",
        "/search?q=community&category=news",
        "/search?q=the",
        "/search?q=the&page=2",
        "/search?q=zzzznothing",
        "/search?q=%21%21%21",
        "/login",
        "/register",
        "/reset-password",
        "/subscribe",
        "/subscribe/sent",
    ]
    # One article in every section, found from the section pages.
    for slug in SECTIONS:
        html = client.get(f"/category/{slug}").get_data(as_text=True)
        match = re.search(rf'href="(/{slug}/[^"/]+)"', html)
        assert match, f"no article link on /category/{slug}"
        urls.append(match.group(1))

    pages: dict[str, str] = {}
    for url in dict.fromkeys(urls):
        response = client.get(url)
        if url.endswith("page=2") and response.status_code == 404:
            continue  # that listing has a single page
        assert response.status_code == 200, f"{url} answered {response.status_code}"
        pages[url] = response.get_data(as_text=True)

    missing = client.get("/no/such/page")
    assert missing.status_code == 404
    pages["404"] = missing.get_data(as_text=True)

    # Forms that come back with errors (aria-invalid, aria-describedby, flashes).
    token = csrf_from(pages["/login"])
    failed = client.post(
        "/login", data={"login": "editor", "password": "wrong", "csrf_token": token}
    )
    pages["/login (wrong password)"] = failed.get_data(as_text=True)
    token = csrf_from(pages["/register"])
    failed = client.post(
        "/register",
        data={
            "username": "x",
            "email": "nope",
            "password": "a",
            "confirm": "b",
            "csrf_token": token,
        },
    )
    pages["/register (errors)"] = failed.get_data(as_text=True)

    reader = db.session.scalar(select(User).where(User.username == "reader"))
    reset = f"/reset-password/{password_service.make_reset_token(reader)}"
    response = client.get(reset)
    assert response.status_code == 200
    pages["/reset-password/<token>"] = response.get_data(as_text=True)
    return pages


def test_every_public_page_is_valid_html(client, runner, make, tmp_path):
    _java()  # say at once what is missing
    result = runner.invoke(args=["seed-demo"])
    assert result.exit_code == 0, result.output
    _add_avatar()
    health = db.session.scalar(select(Category).where(Category.slug == "health"))
    body = (ROOT / "tests" / "data" / "magazine-body.html").read_text(encoding="utf-8")
    night = make.post(section=health, title="Night shift", slug="night-shift", body=body)
    make.imported_comment(night, FORMATTED_COMMENT)

    pages = _public_pages(client)
    assert CAR_T in pages and MAGAZINE in pages and "/search?q=leukapheresis" in pages
    assert '<figure class="gallery">' in pages[MAGAZINE]
    assert "<blockquote>Nights are long.</blockquote>" in pages[MAGAZINE]
    # The seed's covers are checked too: a lead picture, cards and a section's cover.
    for url in ("/", CAR_T, "/category/health", "/tag/community"):
        assert ".webp 1600w" in pages[url] and ' sizes="' in pages[url], url
    assert 'fetchpriority="high"' in pages["/"] and 'fetchpriority="high"' in pages[CAR_T]
    errors = html_errors(pages, tmp_path)
    assert not errors, f"{len(errors)} HTML errors:\n" + "\n".join(errors)
