"""People's pictures and public profiles: upload, crop, remove; bio and links on the author page."""

from __future__ import annotations

import re
from io import BytesIO

import pytest
from PIL import Image

from blog.extensions import db
from blog.models import Media, User

from .conftest import Auth, csrf_from


def _image(size=(400, 300), fmt="JPEG", colour=(200, 40, 40)) -> BytesIO:
    out = BytesIO()
    Image.new("RGB", size, colour).save(out, format=fmt)
    out.seek(0)
    return out


@pytest.fixture
def ana(make):
    """An author with one published story."""
    person = make.user("author", username="ana", display_name="Ana Alves")
    make.post(author=person, section=make.section("Health", slug="health"), title="Night nurses")
    return person


def _signed_in(app, username):
    client = app.test_client()
    assert Auth(client).login(username).status_code == 302
    return client


def _upload(client, data: BytesIO, name="me.jpg"):
    token = csrf_from(client.get("/account").get_data(as_text=True))
    return client.post(
        "/account/avatar",
        data={"csrf_token": token, "file": (data, name)},
        content_type="multipart/form-data",
    )


def _person(username) -> User:
    db.session.expire_all()
    return db.session.scalar(db.select(User).where(User.username == username))


def _file_of(uploads, address: str):
    return uploads / address.removeprefix("/uploads/")


def test_an_upload_becomes_a_square_webp(app, uploads, ana):
    client = _signed_in(app, "ana")
    response = _upload(client, _image((400, 300)))
    assert response.status_code == 302
    assert "Your picture is saved." in client.get("/account").get_data(as_text=True)
    address = _person("ana").avatar_image
    assert address.startswith("/uploads/") and address.endswith(".webp")
    with Image.open(_file_of(uploads, address)) as picture:
        assert picture.format == "WEBP"
        assert picture.size == (256, 256)
        # Centre-cropped: the middle of a red picture is red, no bars were added.
        assert picture.convert("RGB").getpixel((2, 128))[0] > 150


def test_the_picture_shows_on_the_author_page_and_the_article(app, client, uploads, ana):
    _upload(_signed_in(app, "ana"), _image())
    address = _person("ana").avatar_image
    author_page = client.get("/author/ana").get_data(as_text=True)
    # The name is beside it, so the picture is not described again.
    assert f'<img class="avatar" src="{address}" alt=""' in author_page
    article = client.get("/health/night-nurses").get_data(as_text=True)
    assert f'src="{address}"' in article


def test_a_new_picture_replaces_the_old_one_and_its_files(app, uploads, ana):
    client = _signed_in(app, "ana")
    _upload(client, _image(colour=(0, 0, 200)))
    first = _person("ana").avatar_image
    _upload(client, _image(colour=(0, 200, 0)))
    second = _person("ana").avatar_image
    assert first != second
    assert not _file_of(uploads, first).exists() and _file_of(uploads, second).exists()
    assert db.session.scalar(db.select(db.func.count()).select_from(Media)) == 1


def test_remove_picture_goes_back_to_initials(app, client, uploads, ana):
    browser = _signed_in(app, "ana")
    _upload(browser, _image())
    address = _person("ana").avatar_image
    token = csrf_from(browser.get("/account").get_data(as_text=True))
    assert browser.post("/account/avatar/remove", data={"csrf_token": token}).status_code == 302
    assert _person("ana").avatar_image is None
    assert not _file_of(uploads, address).exists()
    page = client.get("/author/ana").get_data(as_text=True)
    assert 'class="avatar avatar--initials"' in page and '<img class="avatar"' not in page


def test_a_file_that_is_not_an_image_is_refused_with_the_reason(app, uploads, ana):
    client = _signed_in(app, "ana")
    response = _upload(client, BytesIO(b"%PDF-1.4 not a picture at all"), name="cv.jpg")
    assert response.status_code == 400
    assert "That file is not an image we accept." in response.get_data(as_text=True)
    svg = BytesIO(b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>')
    response = _upload(client, svg, name="me.svg")
    assert response.status_code == 400
    assert "SVG images are not accepted" in response.get_data(as_text=True)
    assert _person("ana").avatar_image is None


def test_an_oversized_image_is_refused_with_the_limit(app, uploads, ana):
    old = app.config["MAX_UPLOAD_BYTES"]
    app.config["MAX_UPLOAD_BYTES"] = 10_000
    try:
        big = _image((1200, 1200), fmt="PNG")
        big = BytesIO(big.getvalue() + b"\0" * 20_000)  # past the limit, whatever PNG makes
        response = _upload(_signed_in(app, "ana"), big, name="big.png")
    finally:
        app.config["MAX_UPLOAD_BYTES"] = old
    assert response.status_code == 413
    assert "That file is too large: images may be at most 10 KB." in response.get_data(as_text=True)
    assert _person("ana").avatar_image is None


def test_a_reader_has_no_picture_to_upload(app, uploads, make):
    make.user("reader", username="rita")
    client = _signed_in(app, "rita")
    assert 'action="/account/avatar"' not in client.get("/account").get_data(as_text=True)
    assert _upload(client, _image()).status_code == 403


# -- The public profile ------------------------------------------------------------------------


def _save_profile(client, **fields):
    token = csrf_from(client.get("/account").get_data(as_text=True))
    data = {"csrf_token": token, "display_name": "Ana Alves", "bio": "", "links": "", **fields}
    return client.post("/account", data=data)


def test_the_author_page_shows_bio_paragraphs_and_links(app, client, ana):
    response = _save_profile(
        _signed_in(app, "ana"),
        bio="Nurse for <b>twenty</b> years.\r\n\r\nNow I write.",
        links="https://example.org/ana\nhttps://mastodon.example/@ana",
    )
    assert response.status_code == 302
    page = client.get("/author/ana").get_data(as_text=True)
    assert "<p>Nurse for &lt;b&gt;twenty&lt;/b&gt; years.</p><p>Now I write.</p>" in page
    links = re.findall(r'<a href="([^"]+)" rel="me noopener">', page)
    assert links == ["https://example.org/ana", "https://mastodon.example/@ana"]


@pytest.mark.parametrize(
    "links",
    [
        "javascript:alert(1)",
        "http://example.org/ana",
        "data:text/html,<script>alert(1)</script>",
        "https://",
        "example.org",
        "https://user:pw@example.org/",
        "\n".join(f"https://example.org/{n}" for n in range(6)),
    ],
)
def test_profile_links_must_be_https_addresses(app, client, ana, links):
    response = _save_profile(_signed_in(app, "ana"), links=links)
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert "A link must be a whole https:// address" in page or "5 links or fewer" in page
    assert _person("ana").links == ""
    assert 'rel="me noopener"' not in client.get("/author/ana").get_data(as_text=True)


def test_staff_people_pages_show_the_picture_or_the_initial(app, uploads, make, ana):
    make.user("admin", username="root")
    _upload(_signed_in(app, "ana"), _image())
    address = _person("ana").avatar_image
    admin = _signed_in(app, "root")
    people = admin.get("/admin/users").get_data(as_text=True)
    assert f'src="{address}" alt=""' in people
    assert 'avatar--initials avatar--small" aria-hidden="true">R</span>' in people
    page = admin.get(f"/admin/users/{_person('ana').id}").get_data(as_text=True)
    assert f'src="{address}"' in page
