"""The media library: uploads checked by Pillow, re-encoded without metadata, served safely."""

from __future__ import annotations

import re
from io import BytesIO
from pathlib import Path

import pytest
from PIL import ExifTags, Image, ImageFile
from sqlalchemy import func, select
from werkzeug.datastructures import FileStorage

from blog.extensions import db
from blog.models import Media
from blog.services import Forbidden, ServiceError
from blog.services import media as media_service
from blog.services.media.storage import LocalStorage

from .conftest import csrf_from

FILE_NAME = re.compile(r"^[0-9a-f]{32}-\d+\.(jpg|png|webp)$")
XMP = (
    b'<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/'
    b'22-rdf-syntax-ns#"><rdf:Description>secret-xmp-location</rdf:Description></rdf:RDF>'
    b"</x:xmpmeta>"
)


# -- Images made in memory ------------------------------------------------------------------


def _gradient(size: tuple[int, int], mode: str = "RGB") -> Image.Image:
    """An image with some detail, so that encoders have real work to do."""
    width, height = size
    image = Image.linear_gradient("L").resize(size)
    if mode == "RGB":
        return Image.merge("RGB", (image, image.rotate(90).resize(size), Image.new("L", size, 90)))
    rgba = Image.new("RGBA", size, (20, 120, 200, 255))
    rgba.putalpha(image)  # transparent at the top, opaque at the bottom
    return rgba


def jpeg_with_exif(size=(2000, 1000)) -> bytes:
    """A photo with camera data, a GPS position, XMP, a comment and orientation 6."""
    exif = Image.Exif()
    exif[ExifTags.Base.Orientation] = 6  # stored sideways: shown rotated 90° clockwise
    exif[ExifTags.Base.Make] = "SecretCameraMaker"
    gps = exif.get_ifd(ExifTags.IFD.GPSInfo)
    gps[ExifTags.GPS.GPSLatitudeRef] = "N"
    gps[ExifTags.GPS.GPSLatitude] = (52.0, 12.0, 30.0)
    gps[ExifTags.GPS.GPSLongitudeRef] = "E"
    gps[ExifTags.GPS.GPSLongitude] = (13.0, 24.0, 0.0)
    out = BytesIO()
    _gradient(size).save(out, "JPEG", exif=exif, xmp=XMP, comment=b"secret comment", quality=90)
    return out.getvalue()


def png_with_alpha(size=(600, 400)) -> bytes:
    """A PNG logo with transparency."""
    out = BytesIO()
    _gradient(size, "RGBA").save(out, "PNG")
    return out.getvalue()


def plain_jpeg(size=(3000, 2000)) -> bytes:
    """A large photo without metadata."""
    out = BytesIO()
    _gradient(size).save(out, "JPEG", quality=85)
    return out.getvalue()


def small_jpeg() -> bytes:
    """A small photo, quick to process."""
    return plain_jpeg((640, 480))


SVG = (
    b'<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg" width="10" height="10">'
    b"<script>alert(1)</script></svg>"
)
HTML = b"<!DOCTYPE html><html><body><script>alert(document.cookie)</script></body></html>"


def storage(data: bytes, name: str = "holiday.jpg", mimetype: str = "image/jpeg") -> FileStorage:
    """What Werkzeug hands a view for an uploaded file."""
    return FileStorage(stream=BytesIO(data), filename=name, content_type=mimetype)


# -- Fixtures --------------------------------------------------------------------------------




def files_in(folder: Path) -> list[Path]:
    """Every file under folder, hidden ones included."""
    return sorted(p for p in folder.rglob("*") if p.is_file())


def media_count() -> int:
    """How many media rows exist."""
    return db.session.scalar(select(func.count(Media.id)))


@pytest.fixture
def author_client(client, auth, make):
    """A client signed in as an author; returns (client, author)."""
    author = make.user("author")
    assert auth.login(author.username).status_code == 302
    return client, author


def upload_form(client, data: bytes, name: str = "holiday.jpg", alt: str = "A view of the sea"):
    """Post the library's upload form."""
    token = csrf_from(client.get("/editor/media").get_data(as_text=True))
    return client.post(
        "/editor/media",
        data={"csrf_token": token, "alt": alt, "file": (BytesIO(data), name)},
        content_type="multipart/form-data",
    )


# -- Uploading -------------------------------------------------------------------------------


def test_upload_writes_every_width_and_webp_without_metadata(author_client, uploads):
    client, author = author_client
    response = upload_form(client, jpeg_with_exif(), name="holiday at home.jpg")
    assert response.status_code == 302
    assert response.headers["Location"].endswith("/editor/media")

    media = db.session.scalar(select(Media))
    # Orientation 6 was applied: the 2000×1000 photo stands upright now.
    assert (media.width, media.height) == (1000, 2000)
    assert media.widths == [480, 960, 1000]
    assert media.mime == "image/jpeg" and media.ext == "jpg"
    assert media.alt == "A view of the sea"
    assert media.original_name == "holiday at home.jpg"
    assert media.uploader_id == author.id

    written = files_in(uploads)
    names = sorted(p.name for p in written)
    expected = sorted(f"{media.key}-{w}.{ext}" for w in (480, 960, 1000) for ext in ("jpg", "webp"))
    assert names == expected
    for path in written:
        assert FILE_NAME.match(path.name), path.name  # random, never the original name
        assert "holiday" not in str(path.relative_to(uploads))
        raw = path.read_bytes()
        for secret in (b"Exif", b"SecretCameraMaker", b"secret-xmp-location", b"secret comment"):
            assert secret not in raw, (path.name, secret)
        with Image.open(path) as image:
            assert not image.getexif(), path.name
            assert not {"exif", "xmp", "comment", "XML:com.adobe.xmp"} & set(image.info)
            width = int(path.stem.rsplit("-", 1)[1])
            assert image.size == (width, width * 2)
            assert image.format == ("WEBP" if path.suffix == ".webp" else "JPEG")


def test_png_with_alpha_stays_png_and_transparent(author_client, uploads):
    client, _ = author_client
    assert upload_form(client, png_with_alpha(), name="logo.png").status_code == 302
    media = db.session.scalar(select(Media))
    assert media.ext == "png" and media.widths == [480, 600]
    for path in files_in(uploads):
        with Image.open(path) as image:
            assert image.mode == "RGBA", path.name
            assert image.getextrema()[3][0] < 255  # still has see-through pixels


def test_big_image_is_capped_at_the_widest_size(app, make, uploads):
    author = make.user("author")
    media = media_service.save_upload(storage(plain_jpeg()), author, "A wide field")
    assert media.widths == [480, 960, 1600]
    assert (media.largest_width, media.largest_height) == (1600, 1067)
    assert len(files_in(uploads)) == 6
    assert media_service.srcset(media).count("w, ") == 2
    assert media_service.largest_url(media).endswith(f"/{media.key}-1600.jpg")
    assert media_service.media_url(media, 500, webp=True).endswith(f"/{media.key}-960.webp")


def test_truncated_images_never_load_padded():
    assert ImageFile.LOAD_TRUNCATED_IMAGES is False


BAD_UPLOADS = [
    (b"just some words, not a picture", "notes.jpg", "not an image we accept"),
    (SVG, "drawing.svg", "SVG images are not accepted"),
    (SVG, "drawing.png", "SVG images are not accepted"),
    (HTML, "photo.jpg", "web page (HTML)"),
    (b"", "empty.jpg", "empty"),
]


@pytest.mark.parametrize(("data", "name", "reason"), BAD_UPLOADS)
def test_bad_uploads_come_back_with_the_reason_and_leave_nothing(
    author_client, uploads, data, name, reason
):
    client, _ = author_client
    response = upload_form(client, data, name=name)
    assert response.status_code == 400
    assert reason in response.get_data(as_text=True)
    assert files_in(uploads) == []
    assert media_count() == 0


def test_truncated_images_are_refused(author_client, uploads):
    client, _ = author_client
    jpeg = plain_jpeg((800, 600))
    png = png_with_alpha()
    for data, name in ((jpeg[: len(jpeg) * 2 // 3], "cut.jpg"), (png[: len(png) // 2], "cut.png")):
        response = upload_form(client, data, name=name)
        assert response.status_code == 400, name
        assert "damaged or incomplete" in response.get_data(as_text=True)
    assert files_in(uploads) == []
    assert media_count() == 0


def test_too_large_uploads_are_refused(app, author_client, uploads):
    client, _ = author_client
    old = app.config["MAX_UPLOAD_BYTES"]
    app.config["MAX_UPLOAD_BYTES"] = 10_000
    try:
        response = upload_form(client, small_jpeg())
    finally:
        app.config["MAX_UPLOAD_BYTES"] = old
    assert response.status_code == 400
    assert "too large" in response.get_data(as_text=True)
    assert files_in(uploads) == []
    assert media_count() == 0


def test_requests_over_the_content_limit_get_413_with_the_form(app, author_client, uploads):
    client, _ = author_client
    token = csrf_from(client.get("/editor/media").get_data(as_text=True))
    old = app.config["MAX_CONTENT_LENGTH"]
    app.config["MAX_CONTENT_LENGTH"] = 20_000
    try:
        response = client.post(
            "/editor/media",
            data={
                "csrf_token": token,
                "alt": "x",
                "file": (BytesIO(plain_jpeg((900, 900))), "a.jpg"),
            },
            content_type="multipart/form-data",
        )
    finally:
        app.config["MAX_CONTENT_LENGTH"] = old
    assert response.status_code == 413
    page = response.get_data(as_text=True)
    assert "too large" in page and 'type="file"' in page
    assert files_in(uploads) == [] and media_count() == 0


def test_decompression_bombs_are_refused(make, uploads, monkeypatch):
    author = make.user("author")
    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", 10_000)
    for size in ((120, 100), (400, 400)):  # Pillow warns for the first, fails for the second
        out = BytesIO()
        Image.new("RGB", size, "white").save(out, "PNG")
        with pytest.raises(ServiceError, match="too many pixels"):
            media_service.save_upload(storage(out.getvalue(), "bomb.png"), author, "x")
    assert files_in(uploads) == [] and media_count() == 0


def test_a_failed_write_leaves_no_half_file(make, uploads, monkeypatch):
    author = make.user("author")
    real = LocalStorage._write_temp
    calls = []

    def failing(self, folder, data):
        calls.append(folder)
        if len(calls) == 3:
            raise OSError("disk full")
        return real(self, folder, data)

    monkeypatch.setattr(LocalStorage, "_write_temp", failing)
    with pytest.raises(ServiceError, match="could not be stored"):
        media_service.save_upload(storage(small_jpeg()), author, "x")
    assert files_in(uploads) == [] and media_count() == 0
    assert list(uploads.iterdir()) == []  # the year folder made for it is gone too


def test_alt_text_is_required_on_the_form(author_client, uploads):
    client, _ = author_client
    response = upload_form(client, small_jpeg(), alt="  ")
    assert response.status_code == 400
    assert "Describe the image" in response.get_data(as_text=True)
    assert files_in(uploads) == [] and media_count() == 0


# -- Who may do what -------------------------------------------------------------------------


@pytest.mark.parametrize("method", ["get", "post"])
def test_readers_get_403_and_visitors_are_sent_to_sign_in(client, auth, make, method):
    token = csrf_from(client.get("/login").get_data(as_text=True))
    data = {"csrf_token": token} if method == "post" else None
    response = getattr(client, method)("/editor/media", data=data)
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/login?next=")
    make.user("reader", username="ria")
    auth.login("ria")
    token = csrf_from(client.get("/account").get_data(as_text=True))
    data = {"csrf_token": token} if method == "post" else None
    assert getattr(client, method)("/editor/media", data=data).status_code == 403
    response = client.post("/editor/media/upload.json", headers={"X-CSRFToken": token})
    assert response.status_code == 403


def test_service_refuses_people_without_upload_permission(make, uploads):
    reader = make.user("reader")
    with pytest.raises(Forbidden):
        media_service.save_upload(storage(small_jpeg()), reader, "x")
    assert files_in(uploads) == []


def test_authors_delete_only_their_own_media_and_editors_any(client, auth, make, uploads):
    owner = make.user("author")
    media = media_service.save_upload(storage(small_jpeg()), owner, "A cat")
    make.user("author", username="other_author")
    make.user("editor", username="the_editor")

    auth.login("other_author")
    page = client.get("/editor/media").get_data(as_text=True)
    assert "A cat" in page
    assert f"/editor/media/{media.id}/delete" not in page  # no button for someone else's image
    token = csrf_from(page)
    delete_url = f"/editor/media/{media.id}/delete"
    assert client.post(delete_url, data={"csrf_token": token}).status_code == 403
    assert client.post(
        f"/editor/media/{media.id}/alt", data={f"m{media.id}-alt": "Mine now", "csrf_token": token}
    ).status_code == 403
    assert media_count() == 1 and len(files_in(uploads)) == 4

    auth.logout()
    auth.login("the_editor")
    token = csrf_from(client.get("/editor/media").get_data(as_text=True))
    response = client.post(delete_url, data={"csrf_token": token})
    assert response.status_code == 302
    assert media_count() == 0
    assert files_in(uploads) == []
    assert client.post(delete_url, data={"csrf_token": token}).status_code == 404


def test_owners_delete_their_unused_media(author_client, uploads):
    client, author = author_client
    media = media_service.save_upload(storage(small_jpeg()), author, "A cat")
    page = client.get("/editor/media").get_data(as_text=True)
    assert f"/editor/media/{media.id}/delete" in page
    response = client.post(f"/editor/media/{media.id}/delete", data={"csrf_token": csrf_from(page)})
    assert response.status_code == 302
    assert media_count() == 0 and files_in(uploads) == []


def test_used_media_cannot_be_deleted(client, auth, make, uploads):
    author = make.user("author", username="writer")
    media = media_service.save_upload(storage(small_jpeg()), author, "A cat")
    post = make.post(
        author=author,
        title="Cats of the city",
        body=f'<p>Look:</p><img src="{media_service.media_url(media, 480)}" alt="A cat">',
    )
    assert [p.id for p in media_service.usage(media)] == [post.id]
    with pytest.raises(ServiceError, match="still used"):
        media_service.delete_media(media, author)

    auth.login("writer")
    page = client.get("/editor/media").get_data(as_text=True)
    assert "Cats of the city" in page  # "used in" links to the post
    assert f"/editor/media/{media.id}/delete" not in page
    response = client.post(f"/editor/media/{media.id}/delete", data={"csrf_token": csrf_from(page)})
    assert response.status_code == 409
    assert "still used" in response.get_data(as_text=True)
    assert media_count() == 1 and len(files_in(uploads)) == 4


def test_media_used_as_a_cover_cannot_be_deleted(make, uploads):
    author = make.user("author")
    media = media_service.save_upload(storage(small_jpeg()), author, "A cat")
    make.post(author=author)  # another post, not using it
    post = make.post(author=author)
    media_service.set_cover(post, media, "A cat")
    db.session.commit()
    assert [p.id for p in media_service.usage(media)] == [post.id]
    with pytest.raises(ServiceError, match="still used"):
        media_service.delete_media(media, author)


def test_owner_edits_the_alt_text(author_client, uploads):
    client, author = author_client
    media = media_service.save_upload(storage(small_jpeg()), author, "A cat")
    token = csrf_from(client.get("/editor/media").get_data(as_text=True))
    field = f"m{media.id}-alt"
    response = client.post(f"/editor/media/{media.id}/alt", data={field: " ", "csrf_token": token})
    assert response.status_code == 400
    assert "Describe the image" in response.get_data(as_text=True)
    response = client.post(
        f"/editor/media/{media.id}/alt", data={field: "A black cat asleep", "csrf_token": token}
    )
    assert response.status_code == 302
    db.session.refresh(media)
    assert media.alt == "A black cat asleep"


def test_library_lists_images_with_details_and_pages(author_client, uploads):
    client, author = author_client
    media = media_service.save_upload(storage(small_jpeg(), "kitten.jpg"), author, "A kitten")
    page = client.get("/editor/media").get_data(as_text=True)
    assert 'alt="A kitten"' in page and 'loading="lazy"' in page
    assert 'width="160" height="120"' in page
    assert "kitten.jpg" in page and author.name in page and "Not used yet" in page
    assert media_service.media_url(media, 480, webp=True) in page
    assert client.get("/editor/media?page=2").status_code == 404
    assert client.get("/editor/media?page=abc").status_code == 404


# -- The editor's drag and drop --------------------------------------------------------------


def test_json_upload_answers_what_the_editor_inserts(author_client, uploads):
    client, _ = author_client
    token = csrf_from(client.get("/editor/media").get_data(as_text=True))
    response = client.post(
        "/editor/media/upload.json",
        data={"file": (BytesIO(plain_jpeg((1200, 800))), "drop.jpg"), "alt": "Dropped"},
        headers={"X-CSRFToken": token},
        content_type="multipart/form-data",
    )
    assert response.status_code == 200
    body = response.get_json()
    media = db.session.get(Media, body["id"])
    assert body["url"] == f"/uploads/{media.folder}/{media.key}-1200.jpg"
    assert body["srcset"] == ", ".join(
        f"/uploads/{media.folder}/{media.key}-{w}.webp {w}w" for w in (480, 960, 1200)
    )
    assert (body["width"], body["height"], body["alt"]) == (1200, 800, "Dropped")


def test_json_upload_errors_are_json(app, author_client, uploads):
    client, _ = author_client
    token = csrf_from(client.get("/editor/media").get_data(as_text=True))

    def send(data: bytes, name: str = "x.jpg"):
        return client.post(
            "/editor/media/upload.json",
            data={"file": (BytesIO(data), name)},
            headers={"X-CSRFToken": token},
            content_type="multipart/form-data",
        )

    response = send(HTML, "page.jpg")
    assert response.status_code == 400
    assert "HTML" in response.get_json()["error"]["message"]

    old = app.config["MAX_UPLOAD_BYTES"]
    app.config["MAX_UPLOAD_BYTES"] = 1_000
    try:
        response = send(small_jpeg())
    finally:
        app.config["MAX_UPLOAD_BYTES"] = old
    assert response.status_code == 413
    assert "too large" in response.get_json()["error"]["message"]

    old = app.config["MAX_CONTENT_LENGTH"]
    app.config["MAX_CONTENT_LENGTH"] = 2_000
    try:
        response = send(small_jpeg())
    finally:
        app.config["MAX_CONTENT_LENGTH"] = old
    assert response.status_code == 413
    assert response.get_json()["error"]["status"] == 413

    response = client.post(
        "/editor/media/upload.json", data={"alt": "x"}, headers={"X-CSRFToken": token}
    )
    assert response.status_code == 400
    assert files_in(uploads) == [] and media_count() == 0


def test_json_upload_needs_the_csrf_token(author_client, uploads):
    client, _ = author_client
    response = client.post(
        "/editor/media/upload.json",
        data={"file": (BytesIO(small_jpeg()), "x.jpg")},
        content_type="multipart/form-data",
    )
    assert response.status_code == 400
    assert media_count() == 0


# -- Serving -----------------------------------------------------------------------------------


def test_uploads_are_served_with_a_long_cache(client, make, uploads):
    media = media_service.save_upload(storage(small_jpeg()), make.user("author"), "A cat")
    with client.get(media_service.media_url(media, 480, webp=True)) as response:
        assert response.status_code == 200
        assert response.mimetype == "image/webp"
        cache_control = response.headers["Cache-Control"]
        assert "max-age=31536000" in cache_control and "immutable" in cache_control
        assert response.headers["X-Content-Type-Options"] == "nosniff"
    with client.get(media_service.largest_url(media)) as response:
        assert response.mimetype == "image/jpeg"
        assert response.get_data() == (uploads / media.folder / f"{media.key}-640.jpg").read_bytes()


@pytest.mark.parametrize(
    "url",
    [
        "/uploads/../secret_key",
        "/uploads/%2e%2e/x",
        "/uploads/%2e%2e/secret_key",
        "/uploads/2026/../../secret_key.jpg",
        "/uploads/..%2fsecret_key.jpg",
        "/uploads/%2fetc%2fpasswd",
        "/uploads/notes.txt",
        "/uploads/.hidden.jpg",
        "/uploads/missing-480.jpg",
    ],
)
def test_uploads_refuse_anything_but_stored_images(client, uploads, url):
    (uploads / "notes.txt").write_text("private")
    (uploads / ".hidden.jpg").write_bytes(small_jpeg())
    (uploads.parent / "secret_key.jpg").write_bytes(small_jpeg())
    # Doubled slashes are first redirected to a tidy address, which is then a 404.
    assert client.get(url, follow_redirects=True).status_code == 404


# -- Body images -------------------------------------------------------------------------------


def test_enrich_images_adds_srcset_and_size(app, make, uploads):
    media = media_service.save_upload(storage(plain_jpeg((1200, 800))), make.user("author"), "x")
    src = media_service.media_url(media, 960)
    body = (
        f'<p>Before</p><figure><img alt="A field" src="{src}"><figcaption>A field</figcaption>'
        '</figure><p><img alt="elsewhere" src="https://example.org/a.jpg"></p>'
        f'<img alt="unknown" src="/uploads/2020/01/{"0" * 32}-480.jpg">'
    )
    enriched = media_service.enrich_images(body)
    tag = re.search(r'<img alt="A field"[^>]*>', enriched).group(0)
    assert f'src="{src}"' in tag
    assert f'srcset="{media_service.srcset(media, webp=True)}"' in tag
    assert 'width="1200" height="800"' in tag and 'loading="lazy"' in tag and "sizes=" in tag
    assert '<img alt="elsewhere" src="https://example.org/a.jpg">' in enriched
    assert f'<img alt="unknown" src="/uploads/2020/01/{"0" * 32}-480.jpg">' in enriched
    assert media_service.enrich_images(enriched) == enriched  # running it again changes nothing
    assert media_service.enrich_images("<p>No images</p>") == "<p>No images</p>"


def test_enriched_html_survives_the_sanitiser(app, make, uploads):
    from blog.sanitize import clean_post_html

    media = media_service.save_upload(storage(small_jpeg()), make.user("author"), "x")
    enriched = media_service.enrich_images(
        clean_post_html(f'<img src="{media_service.largest_url(media)}" alt="A cat">')
    )
    assert clean_post_html(enriched) == enriched
