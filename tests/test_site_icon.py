"""The site icon: an admin uploads a square image; every page links its favicon and touch icon."""

from __future__ import annotations

import re
from io import BytesIO

import pytest
from PIL import Image

from .conftest import Auth, csrf_from

ICON_LINK = re.compile(r'<link rel="icon" href="([^"]+)" sizes="32x32" type="image/png">')
TOUCH_LINK = re.compile(r'<link rel="apple-touch-icon" href="([^"]+)">')


@pytest.fixture
def boss(app, make):
    """A signed-in admin."""
    make.user("admin", username="boss")
    client = app.test_client()
    assert Auth(client).login("boss").status_code == 302
    return client


def _image(size: tuple[int, int], kind: str = "PNG") -> BytesIO:
    """A picture of the given size, as a file to upload."""
    out = BytesIO()
    Image.new("RGB", size, (20, 120, 90)).save(out, format=kind)
    out.seek(0)
    return out


def _upload(client, data: BytesIO, name: str = "icon.png"):
    """Send a file through the settings page's icon form."""
    page = client.get("/admin/settings").get_data(as_text=True)
    return client.post(
        "/admin/settings/icon",
        data={"csrf_token": csrf_from(page), "file": (data, name)},
        content_type="multipart/form-data",
    )


def _fetch(client, url: str):
    """GET a file and close the response (file responses stream from disk)."""
    response = client.get(url)
    response.get_data()
    response.close()
    return response


def _picture(client, url: str) -> Image.Image:
    """The image served at url."""
    return Image.open(BytesIO(_fetch(client, url).data))


def _links(client) -> tuple[str, str]:
    """The favicon and touch icon the home page links to."""
    home = client.get("/").get_data(as_text=True)
    return ICON_LINK.search(home).group(1), TOUCH_LINK.search(home).group(1)


def test_pages_link_circles_own_icon_until_one_is_uploaded(client, app):
    favicon, touch = _links(client)
    assert favicon.startswith("/static/icons/circle-32.png")
    assert touch.startswith("/static/icons/circle-180.png")
    for url in (favicon, touch):
        assert _fetch(client, url).status_code == 200


def test_favicon_ico_answers_with_an_icon_and_the_security_headers(client, app):
    response = _fetch(client, "/favicon.ico")
    assert response.status_code == 200
    assert response.mimetype == "image/vnd.microsoft.icon"
    assert Image.open(BytesIO(response.data)).format == "ICO"
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert "Content-Security-Policy" in response.headers
    assert "max-age=86400" in response.headers["Cache-Control"]


def test_an_uploaded_square_image_becomes_the_icon_on_every_page(cached, client, boss, uploads):
    _links(client)
    assert client.get("/").headers["X-Cache"] == "HIT"  # the home page is in the page cache
    response = _upload(boss, _image((400, 400)))
    assert response.status_code == 302
    assert "The site icon is saved" in boss.get("/admin/settings").get_data(as_text=True)

    favicon, touch = _links(client)
    assert favicon.startswith("/uploads/icons/") and favicon.endswith("-32.png")
    assert touch.startswith("/uploads/icons/") and touch.endswith("-180.png")
    assert _picture(client, favicon).size == (32, 32)
    assert _picture(client, touch).size == (180, 180)
    ico = _picture(client, "/favicon.ico")
    assert ico.format == "ICO" and (32, 32) in ico.info["sizes"]
    # Staff pages link it too.
    settings_page = boss.get("/admin/settings").get_data(as_text=True)
    assert f'<link rel="icon" href="{favicon}"' in settings_page


def test_a_new_icon_replaces_the_old_files_and_removing_it_brings_circles_back(
    client, boss, uploads
):
    _upload(boss, _image((200, 200)))
    first, _ = _links(client)
    _upload(boss, _image((64, 64), "JPEG"), "small.jpg")
    second, _ = _links(client)
    assert second != first
    assert _fetch(client, first).status_code == 404  # the old files are gone
    assert len(list((uploads / "icons").iterdir())) == 3  # 32 px, 180 px and the .ico

    page = boss.get("/admin/settings").get_data(as_text=True)
    boss.post("/admin/settings/icon/remove", data={"csrf_token": csrf_from(page)})
    favicon, _ = _links(client)
    assert favicon.startswith("/static/icons/circle-32.png")
    assert list((uploads / "icons").iterdir()) == []


@pytest.mark.parametrize(
    ("make_file", "name", "message"),
    [
        (lambda: _image((300, 200)), "wide.png", "must be square, and this image is 300 × 200"),
        (lambda: _image((24, 24)), "tiny.png", "at least 48 × 48 pixels"),
        (lambda: BytesIO(b"just some words"), "notes.png", "not an image we accept"),
        (
            lambda: BytesIO(b'<svg xmlns="http://www.w3.org/2000/svg"></svg>'),
            "logo.svg",
            "SVG images are not accepted",
        ),
    ],
)
def test_a_bad_file_is_refused_in_words_and_changes_nothing(
    client, boss, uploads, make_file, name, message
):
    response = _upload(boss, make_file(), name)
    assert response.status_code == 400
    assert message in response.get_data(as_text=True)
    favicon, _ = _links(client)
    assert favicon.startswith("/static/icons/circle-32.png")
    assert not (uploads / "icons").exists() or not list((uploads / "icons").iterdir())


def test_only_those_who_run_the_settings_change_the_icon(app, make, client, uploads):
    make.user("editor", username="eve")
    eve = app.test_client()
    Auth(eve).login("eve")
    page = eve.get("/account").get_data(as_text=True)
    response = eve.post(
        "/admin/settings/icon",
        data={"csrf_token": csrf_from(page), "file": (_image((64, 64)), "icon.png")},
        content_type="multipart/form-data",
    )
    assert response.status_code == 403
    assert _links(client)[0].startswith("/static/icons/circle-32.png")
