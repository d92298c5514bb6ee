"""Media on S3-compatible object storage (MEDIA_STORAGE=s3), against moto's S3 server.

moto runs as a real HTTP server on a free local port; Circle talks to it with boto3
exactly as it would to AWS, MinIO or any S3-compatible store. Each test gets a bucket
of its own, and nothing may land on the local disk.
"""

from __future__ import annotations

import re
import socket
import zipfile
from io import BytesIO

import boto3
import feedparser
import pytest
from botocore.exceptions import ClientError
from moto.server import ThreadedMotoServer
from PIL import Image
from sqlalchemy import func, select
from werkzeug.datastructures import FileStorage

from blog.config import ConfigError, deploy_problems, load_config
from blog.extensions import db
from blog.models import Media
from blog.services import StoreUnavailable
from blog.services import media as media_service
from blog.services.media import site_icon

from .conftest import csrf_from

PREFIX = "circle-media"
CREDENTIALS = {"S3_ACCESS_KEY_ID": "testing", "S3_SECRET_ACCESS_KEY": "testing"}
NOT_STORED = "The media store did not accept the file; nothing was saved."
JSON = {"Accept": "application/json"}


def _free_port() -> int:
    """A port nothing listens on just now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture(scope="module")
def s3_endpoint():
    """moto's S3 server on this machine, for the tests of this module."""
    port = _free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    yield f"http://127.0.0.1:{port}"
    server.stop()


def _client(endpoint: str):
    """A boto3 client of our own, to look into the bucket as an operator would."""
    return boto3.client(
        "s3",
        endpoint_url=endpoint,
        region_name="us-east-1",
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )


_buckets = iter(range(1, 10_000))


def _settings(endpoint: str, bucket: str, **extra) -> dict:
    return {
        "MEDIA_STORAGE": "s3",
        "S3_BUCKET": bucket,
        "S3_ENDPOINT_URL": endpoint,
        "S3_REGION": "us-east-1",
        "S3_PREFIX": PREFIX,
        "S3_PUBLIC_URL": None,
        **CREDENTIALS,
        **extra,
    }


@pytest.fixture
def bucket(app, uploads, s3_endpoint):
    """The app switched to a fresh bucket on moto's server; the local folder must stay empty."""
    name = f"circle-test-{next(_buckets)}"
    s3 = _client(s3_endpoint)
    s3.create_bucket(Bucket=name)
    saved = {key: app.config.get(key) for key in _settings(s3_endpoint, name)}
    app.config.update(_settings(s3_endpoint, name))
    yield {"name": name, "s3": s3, "endpoint": s3_endpoint}
    app.config.update(saved)
    assert _files(uploads) == [], "nothing may be written to the local disk"


def _files(folder) -> list:
    return sorted(p for p in folder.rglob("*") if p.is_file())


def _keys(bucket: dict) -> list[str]:
    """Every key in the bucket."""
    answer = bucket["s3"].list_objects_v2(Bucket=bucket["name"])
    return sorted(item["Key"] for item in answer.get("Contents", []))


def _object(bucket: dict, name: str) -> dict:
    return bucket["s3"].get_object(Bucket=bucket["name"], Key=f"{PREFIX}/{name}")


def jpeg(size=(1200, 800)) -> bytes:
    """A photo with some detail."""
    out = BytesIO()
    image = Image.linear_gradient("L").resize(size).convert("RGB")
    image.save(out, "JPEG", quality=85)
    return out.getvalue()


def _upload(data: bytes, name: str = "sea.jpg") -> FileStorage:
    return FileStorage(stream=BytesIO(data), filename=name, content_type="image/jpeg")


@pytest.fixture
def author_client(client, auth, make):
    """A client signed in as an author; returns (client, author)."""
    author = make.user("author")
    assert auth.login(author.username).status_code == 302
    return client, author


def _library_token(client) -> str:
    return csrf_from(client.get("/editor/media").get_data(as_text=True))


# -- Uploading and serving -------------------------------------------------------------------


def test_an_upload_puts_every_size_in_the_bucket_and_circle_serves_it(author_client, bucket):
    client, _ = author_client
    response = client.post(
        "/editor/media",
        data={
            "csrf_token": _library_token(client),
            "alt": "The sea",
            "file": (BytesIO(jpeg()), "sea.jpg"),
        },
        content_type="multipart/form-data",
    )
    assert response.status_code == 302
    media = db.session.scalar(select(Media))
    assert media.widths == [480, 960, 1200]
    names = media_service.file_names(media)
    assert len(names) == 6  # three widths, each as JPEG and WebP
    assert _keys(bucket) == sorted(f"{PREFIX}/{name}" for name in names)
    head = bucket["s3"].head_object(Bucket=bucket["name"], Key=f"{PREFIX}/{names[0]}")
    assert head["CacheControl"] == "public, max-age=31536000, immutable"

    # Without S3_PUBLIC_URL Circle streams the objects through its own /uploads addresses.
    for webp in (False, True):
        url = media_service.media_url(media, 960, webp=webp)
        assert url.startswith("/uploads/")
        served = client.get(url)
        assert served.status_code == 200
        stored = _object(bucket, url.removeprefix("/uploads/"))["Body"].read()
        assert served.data == stored
        assert served.mimetype == ("image/webp" if webp else "image/jpeg")
        with Image.open(BytesIO(served.data)) as image:
            assert image.size == (960, 640)
        assert served.headers["X-Content-Type-Options"] == "nosniff"
        assert "frame-ancestors 'none'" in served.headers["Content-Security-Policy"]
        assert "immutable" in served.headers["Cache-Control"]
        again = client.get(url, headers={"If-None-Match": served.headers["ETag"]})
        assert again.status_code == 304
    assert client.get(f"/uploads/{media.folder}/{'0' * 32}-960.jpg").status_code == 404


def test_with_a_public_url_articles_point_readers_at_it(client, make, bucket, app):
    app.config["S3_PUBLIC_URL"] = "https://media.example/circle/"
    author = make.user("author")
    media = media_service.save_upload(_upload(jpeg()), author, "The sea")
    stored_src = media_service.largest_url(media)
    post = make.post(author=author, body=f'<p><img src="{stored_src}" alt="The sea"></p>')
    media_service.set_cover(post, media, "The sea from above")
    db.session.commit()
    # What is stored never names the store, so S3_PUBLIC_URL may change later.
    assert "media.example" not in post.body and post.cover_image == stored_src

    page = client.get(f"/{post.category.slug}/{post.slug}").get_data(as_text=True)
    public = f"https://media.example/circle/{media.folder}/{media.key}-1200.jpg"
    tag = re.search(r'<img[^>]*alt="The sea"[^>]*>', page).group(0)
    assert f'src="{public}"' in tag
    srcset = re.search(r'srcset="([^"]*)"', tag).group(1)
    assert srcset.count("https://media.example/circle/") == 3
    cover = re.search(r'<img[^>]*alt="The sea from above"[^>]*>', page).group(0)
    assert f'src="{public}"' in cover
    assert f'<meta property="og:image" content="{public}">' in page
    assert "/uploads/" not in page
    # The address is the object's: the bucket holds it under the prefix.
    name = public.removeprefix("https://media.example/circle/")
    assert _object(bucket, name)["ContentType"] == "image/jpeg"


def test_a_feed_names_a_cover_in_the_bucket_with_its_length(client, make, bucket, app):
    app.config["S3_PUBLIC_URL"] = "https://media.example/circle/"
    author = make.user("author")
    media = media_service.save_upload(_upload(jpeg()), author, "The sea")
    post = make.post(author=author)
    media_service.set_cover(post, media, "The sea from above")
    db.session.commit()
    feed = feedparser.parse(client.get("/feed.xml").get_data())
    assert feed.bozo == 0
    (enclosure,) = [link for link in feed.entries[0].links if link.rel == "enclosure"]
    public = f"https://media.example/circle/{media.folder}/{media.key}-1200.jpg"
    assert enclosure.href == public and enclosure.type == "image/jpeg"
    name = public.removeprefix("https://media.example/circle/")
    assert int(enclosure.length) == _object(bucket, name)["ContentLength"]
    assert f'src="{public}"' in feed.entries[0].content[0].value


def test_deleting_a_media_item_deletes_its_objects(author_client, bucket):
    client, author = author_client
    keep = media_service.save_upload(_upload(jpeg()), author, "Kept")
    gone = media_service.save_upload(_upload(jpeg((800, 600))), author, "Deleted")
    token = _library_token(client)
    response = client.post(f"/editor/media/{gone.id}/delete", data={"csrf_token": token})
    assert response.status_code == 302
    assert db.session.scalar(select(func.count(Media.id))) == 1
    assert _keys(bucket) == sorted(f"{PREFIX}/{name}" for name in media_service.file_names(keep))


def test_the_site_icon_lives_in_the_bucket_and_favicon_ico_serves_it(app, client, make, bucket):
    admin = make.user("admin")
    out = BytesIO()
    Image.new("RGB", (64, 64), (200, 40, 40)).save(out, "PNG")
    with app.test_request_context():
        site_icon.set_icon(admin, FileStorage(stream=BytesIO(out.getvalue()), filename="i.png"))
    keys = _keys(bucket)
    assert len(keys) == 3 and all(k.startswith(f"{PREFIX}/icons/") for k in keys)
    ico = next(k for k in keys if k.endswith(".ico"))
    response = client.get("/favicon.ico")
    assert response.status_code == 200 and response.mimetype == "image/vnd.microsoft.icon"
    assert response.data == bucket["s3"].get_object(Bucket=bucket["name"], Key=ico)["Body"].read()
    with app.test_request_context():
        site_icon.remove_icon(admin)
    assert _keys(bucket) == []


def test_a_new_picture_of_a_person_replaces_the_old_objects(make, bucket):
    author = make.user("author")
    media_service.set_avatar(author, _upload(jpeg((400, 300))))
    first = _keys(bucket)
    assert len(first) == 2  # one 256-pixel square, as JPEG and WebP
    media_service.set_avatar(author, _upload(jpeg((500, 500))))
    second = _keys(bucket)
    assert len(second) == 2 and not set(first) & set(second)
    assert author.avatar_image.startswith("/uploads/")
    media_service.remove_avatar(author)
    assert _keys(bucket) == []


# -- Backups -------------------------------------------------------------------------------


def test_a_backup_carries_the_objects_and_a_restore_puts_them_in_another_bucket(
    runner, make, bucket, second_site, tmp_path
):
    author = make.user("author")
    media = media_service.save_upload(_upload(jpeg()), author, "The sea")
    names = media_service.file_names(media)
    backup = tmp_path / "backup.zip"
    result = runner.invoke(args=["export-json", str(backup)])
    assert result.exit_code == 0, result.output
    with zipfile.ZipFile(backup) as archive:
        held = {n: archive.read(n) for n in archive.namelist() if n.startswith("uploads/")}
    assert sorted(held) == sorted(f"uploads/{name}" for name in names)
    for name in names:
        assert held[f"uploads/{name}"] == _object(bucket, name)["Body"].read()

    other = f"{bucket['name']}-restored"
    bucket["s3"].create_bucket(Bucket=other)
    second_site.config.update(_settings(bucket["endpoint"], other))
    with second_site.app_context():
        restored = second_site.test_cli_runner().invoke(args=["import-json", str(backup)])
        assert restored.exit_code == 0, restored.output
        assert db.session.scalar(select(func.count(Media.id))) == 1
    answer = bucket["s3"].list_objects_v2(Bucket=other)
    assert sorted(item["Key"] for item in answer["Contents"]) == sorted(
        f"{PREFIX}/{name}" for name in names
    )
    for name in names:
        copy = bucket["s3"].get_object(Bucket=other, Key=f"{PREFIX}/{name}")
        assert copy["Body"].read() == held[f"uploads/{name}"]
    # The restored site serves them.
    second_site.config["WTF_CSRF_ENABLED"] = False
    served = second_site.test_client().get(f"/uploads/{names[0]}")
    assert served.status_code == 200 and served.data == held[f"uploads/{names[0]}"]


# -- Failures ------------------------------------------------------------------------------


def test_a_store_that_fails_half_way_keeps_nothing(author_client, bucket, monkeypatch):
    client, author = author_client
    s3 = media_service.storage().client
    real = s3.put_object
    calls = []

    def refusing(**kwargs):
        calls.append(kwargs["Key"])
        if len(calls) == 4:
            raise ClientError({"Error": {"Code": "SlowDown", "Message": "slow down"}}, "PutObject")
        return real(**kwargs)

    monkeypatch.setattr(s3, "put_object", refusing)
    response = client.post(
        "/editor/media/upload.json",
        data={"csrf_token": _library_token(client), "alt": "x", "file": (BytesIO(jpeg()), "a.jpg")},
        content_type="multipart/form-data",
        headers=JSON,
    )
    assert response.status_code == 503
    assert response.get_json()["error"]["message"] == NOT_STORED
    assert len(calls) == 4  # three objects were put before the refusal ...
    assert _keys(bucket) == []  # ... and taken back
    assert db.session.scalar(select(func.count(Media.id))) == 0


def test_a_missing_bucket_refuses_with_the_message(author_client, bucket, app):
    client, _ = author_client
    app.config["S3_BUCKET"] = "no-such-bucket"
    page = client.post(
        "/editor/media",
        data={"csrf_token": _library_token(client), "alt": "x", "file": (BytesIO(jpeg()), "a.jpg")},
        content_type="multipart/form-data",
    )
    assert NOT_STORED in page.get_data(as_text=True)
    assert db.session.scalar(select(func.count(Media.id))) == 0
    assert _keys(bucket) == []


def test_an_unreachable_store_refuses_and_nothing_is_recorded(make, bucket, app):
    app.config["S3_ENDPOINT_URL"] = f"http://127.0.0.1:{_free_port()}"  # nothing listens
    author = make.user("author")
    with pytest.raises(StoreUnavailable, match="nothing was saved"):
        media_service.save_upload(_upload(jpeg((600, 400))), author, "x")
    assert db.session.scalar(select(func.count(Media.id))) == 0
    with pytest.raises(StoreUnavailable, match="not available"):
        media_service.storage().get("2026/01/x.jpg")


# -- Configuration ---------------------------------------------------------------------------


def test_s3_without_a_bucket_refuses_to_start(monkeypatch, tmp_path):
    monkeypatch.setenv("SECRET_KEY", "c2f1a9e07b4d4e6f8a3b5c7d9e1f2a4b6c8d0e2f")
    monkeypatch.setenv("SITE_URL", "https://mycirclestory.example")
    monkeypatch.setenv("MEDIA_STORAGE", "s3")
    monkeypatch.delenv("S3_BUCKET", raising=False)
    with pytest.raises(ConfigError, match="MEDIA_STORAGE=s3 needs S3_BUCKET"):
        load_config(tmp_path, "production")
    monkeypatch.setenv("S3_BUCKET", "circle-media")
    config = load_config(tmp_path, "production")
    assert config.MEDIA_STORAGE == "s3" and config.S3_BUCKET == "circle-media"
    monkeypatch.setenv("MEDIA_STORAGE", "ftp")
    with pytest.raises(ConfigError, match="MEDIA_STORAGE must be 'local' or 's3'"):
        load_config(tmp_path, "production")


def test_check_deploy_names_a_bucketless_s3_store():
    problems = deploy_problems({"MEDIA_STORAGE": "s3", "S3_BUCKET": None})
    assert any(
        severity == "error" and message.startswith("MEDIA_STORAGE=s3 needs S3_BUCKET")
        for severity, message in problems
    )
    assert not [m for _s, m in deploy_problems({"MEDIA_STORAGE": "local"}) if "MEDIA" in m]


def test_local_disk_is_the_default(monkeypatch, app, uploads):
    monkeypatch.delenv("MEDIA_STORAGE", raising=False)
    assert load_config(uploads, "testing").MEDIA_STORAGE == "local"
    assert media_service.storage().root == uploads
