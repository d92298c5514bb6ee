"""Where upload files live: the local disk (the default) or S3-compatible object storage.

Every writer and reader of upload files (the library's sizes, the site icon, avatars,
backups, WordPress imports, the /uploads route) goes through `storage()`, chosen by
MEDIA_STORAGE. Names are paths relative to the store ("2026/05/<key>-960.webp",
"icons/<key>.ico"); they carry random keys and are never rewritten.

- LocalStorage writes under UPLOAD_DIR: a temporary file, then a rename, files 0644 and
  folders 0755 so nginx can serve them as another user.
- S3Storage puts objects in S3_BUCKET (under S3_PREFIX) with their content type and a
  year-long immutable Cache-Control. Readers fetch them from S3_PUBLIC_URL when it is set
  (a CDN or the bucket's address); otherwise Circle streams them through /uploads, so a
  private bucket works too. Any error of the store is a `StoreUnavailable` in a person's
  words, and a group of files is put whole or not at all.
"""

from __future__ import annotations

import contextlib
import logging
import os
import tempfile
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import BinaryIO

from flask import current_app, g, has_app_context
from werkzeug.security import safe_join

from .. import StoreUnavailable

log = logging.getLogger(__name__)

# Where uploads are served; stored post bodies hold these addresses, so they never change.
UPLOAD_URL = "/uploads"
# nginx serves uploads from disk as another user: files 0644, folders 0755.
FILE_MODE = 0o644
FOLDER_MODE = 0o755
# Names carry random keys and are never rewritten, so caches may keep them for a year.
IMMUTABLE = "public, max-age=31536000, immutable"
CONTENT_TYPES = {
    "jpg": "image/jpeg",
    "png": "image/png",
    "webp": "image/webp",
    "ico": "image/vnd.microsoft.icon",
}
NOT_STORED = "The media store did not accept the file; nothing was saved."
NOT_READ = "The media store is not available just now. Please try again in a moment."
DELETE_BATCH = 1000  # the most keys one DeleteObjects request takes
CHUNK = 64 * 1024

Data = bytes | BinaryIO


def content_type(name: str) -> str:
    """The media type of an upload file, from its extension."""
    return CONTENT_TYPES.get(name.rsplit(".", 1)[-1].lower(), "application/octet-stream")


@dataclass
class StoredFile:
    """One file opened for reading: its bytes as chunks, and what a response says of it."""

    chunks: Iterator[bytes]
    size: int | None
    content_type: str
    etag: str | None
    modified: datetime | None
    close: Callable[[], None]


def _as_bytes(data: Data) -> bytes:
    """The bytes of data, read from a file when it is one."""
    return data if isinstance(data, bytes | bytearray) else data.read()


# -- Local disk ----------------------------------------------------------------------------


class LocalStorage:
    """Upload files in a folder on this machine (UPLOAD_DIR)."""

    def __init__(self, root: Path):
        """Store under root."""
        self.root: Path | None = root

    def path(self, name: str) -> Path:
        """The file name stands for; a name that leaves the folder is refused."""
        joined = safe_join(str(self.root), name)
        if joined is None:
            raise ValueError(f"not an upload name: {name!r}")
        return Path(joined)

    def put(self, name: str, data: Data, content_type_: str | None = None) -> None:
        """Write one file atomically."""
        self.put_all([(name, data, content_type_)])

    def put_all(self, files: list[tuple[str, Data, str | None]]) -> None:
        """Write every file under a temporary name, then rename all into place; on any
        failure nothing is left, not even the folders made for them."""
        created: list[Path] = []
        temps: list[tuple[Path, Path]] = []
        done: list[Path] = []
        try:
            for name, data, _type in files:
                target = self.path(name)
                created += [d for d in self.make_folder(target.parent) if d not in created]
                temps.append((self._write_temp(target.parent, data), target))
            for temp, target in temps:
                os.replace(temp, target)
                done.append(target)
        except BaseException:
            self._unlink([temp for temp, _ in temps] + done)
            for folder in sorted(created, key=lambda p: len(p.parts), reverse=True):
                with contextlib.suppress(OSError):  # not empty: another upload lives there
                    folder.rmdir()
            raise

    def make_folder(self, target: Path) -> list[Path]:
        """Create target and its missing parents (0755); return those it made, deepest first."""
        missing = []
        path = target
        while not path.exists() and path != path.parent:
            missing.append(path)
            path = path.parent
        target.mkdir(parents=True, exist_ok=True)
        for folder in missing:
            folder.chmod(FOLDER_MODE)  # explicitly: a umask of 077 must not hide the images
        return missing

    def _write_temp(self, folder: Path, data: Data) -> Path:
        """Write data into a hidden temporary file in folder, readable by the web server.

        mkstemp makes files only their owner can read; nginx serves uploads
        straight from disk, so they must be readable by others.
        """
        fd, name = tempfile.mkstemp(prefix=".upload-", suffix=".part", dir=folder)
        path = Path(name)
        try:
            os.fchmod(fd, FILE_MODE)
            with os.fdopen(fd, "wb") as handle:
                handle.write(_as_bytes(data))
        except BaseException:
            path.unlink(missing_ok=True)
            raise
        return path

    def get(self, name: str) -> bytes | None:
        """The file's bytes, or None when there is no such file."""
        try:
            return self.path(name).read_bytes()
        except (FileNotFoundError, IsADirectoryError, ValueError):
            return None

    def open(self, name: str) -> StoredFile | None:
        """The file opened for reading, or None."""
        try:
            path = self.path(name)
            handle = path.open("rb")
        except (FileNotFoundError, IsADirectoryError, ValueError):
            return None
        stat = os.fstat(handle.fileno())
        return StoredFile(
            iter(lambda: handle.read(CHUNK), b""),
            stat.st_size,
            content_type(name),
            None,
            datetime.fromtimestamp(stat.st_mtime, UTC),
            handle.close,
        )

    def size(self, name: str) -> int | None:
        """The file's length in bytes, or None when it is not there."""
        try:
            return self.path(name).stat().st_size
        except (OSError, ValueError):
            return None

    def exists(self, name: str) -> bool:
        """Whether the file is there."""
        try:
            return self.path(name).is_file()
        except ValueError:
            return False

    def delete(self, names: Iterable[str]) -> None:
        """Delete the files; never raises (a file left behind is harmless)."""
        paths = []
        for name in names:
            with contextlib.suppress(ValueError):
                paths.append(self.path(name))
        self._unlink(paths)

    @staticmethod
    def _unlink(paths: list[Path]) -> None:
        """Remove files, logging those that would not go."""
        for path in paths:
            try:
                path.unlink(missing_ok=True)
            except OSError:
                log.warning("could not remove %s", path)

    def url(self, name: str) -> str:
        """Where readers fetch the file: Circle's (or nginx's) /uploads."""
        return f"{UPLOAD_URL}/{name}"


# -- S3-compatible object storage ------------------------------------------------------------


class S3Storage:
    """Upload files as objects in an S3-compatible bucket (AWS S3, MinIO, moto, ...)."""

    root = None  # no folder on this machine

    def __init__(self, config):
        """Connect a client from the app's configuration (credentials: given, else boto3's own)."""
        # Imported here: sites on local storage never load boto3 (it adds to every start).
        import boto3
        from botocore.config import Config

        self.bucket = config["S3_BUCKET"]
        prefix = (config.get("S3_PREFIX") or "").strip("/")
        self.prefix = f"{prefix}/" if prefix else ""
        public = config.get("S3_PUBLIC_URL") or ""
        self.public_url = public.rstrip("/") or None
        endpoint = config.get("S3_ENDPOINT_URL") or None
        self.client = boto3.client(
            "s3",
            endpoint_url=endpoint,
            region_name=config.get("S3_REGION") or None,
            aws_access_key_id=config.get("S3_ACCESS_KEY_ID") or None,
            aws_secret_access_key=config.get("S3_SECRET_ACCESS_KEY") or None,
            config=Config(
                connect_timeout=5,
                read_timeout=30,
                retries={"max_attempts": 3, "mode": "standard"},
                # S3-compatible servers (MinIO, moto) address buckets by path.
                s3={"addressing_style": "path" if endpoint else "auto"},
            ),
        )

    def key(self, name: str) -> str:
        """The object key of an upload name."""
        return self.prefix + name

    @staticmethod
    def _errors() -> tuple[type[Exception], ...]:
        """What botocore raises when the store refuses or cannot be reached."""
        from botocore.exceptions import BotoCoreError, ClientError

        return (BotoCoreError, ClientError)

    @staticmethod
    def _missing(error: Exception) -> bool:
        """Whether a client error says there is no such object."""
        code = str(getattr(error, "response", {}).get("Error", {}).get("Code", ""))
        return code in ("404", "NoSuchKey", "NotFound")

    def put(self, name: str, data: Data, content_type_: str | None = None) -> None:
        """Put one object."""
        self.put_all([(name, data, content_type_)])

    def put_all(self, files: list[tuple[str, Data, str | None]]) -> None:
        """Put every object; if one fails, delete those already put and refuse."""
        done: list[str] = []
        try:
            for name, data, type_ in files:
                self.client.put_object(
                    Bucket=self.bucket,
                    Key=self.key(name),
                    Body=_as_bytes(data),
                    ContentType=type_ or content_type(name),
                    CacheControl=IMMUTABLE,
                )
                done.append(name)
        except self._errors() as exc:
            log.error("the media store refused %s: %s", self.key(files[len(done)][0]), exc)
            self.delete(done)
            raise StoreUnavailable(NOT_STORED) from exc
        except BaseException:
            self.delete(done)
            raise

    def get(self, name: str) -> bytes | None:
        """The object's bytes, or None when there is no such object."""
        stored = self.open(name)
        if stored is None:
            return None
        try:
            return b"".join(stored.chunks)
        except self._errors() as exc:
            raise StoreUnavailable(NOT_READ) from exc
        finally:
            stored.close()

    def open(self, name: str) -> StoredFile | None:
        """The object opened for streaming, or None."""
        try:
            answer = self.client.get_object(Bucket=self.bucket, Key=self.key(name))
        except self._errors() as exc:
            if self._missing(exc):
                return None
            log.error("the media store could not give %s: %s", self.key(name), exc)
            raise StoreUnavailable(NOT_READ) from exc
        body = answer["Body"]
        return StoredFile(
            body.iter_chunks(CHUNK),
            answer.get("ContentLength"),
            answer.get("ContentType") or content_type(name),
            (answer.get("ETag") or "").strip('"') or None,
            answer.get("LastModified"),
            body.close,
        )

    def size(self, name: str) -> int | None:
        """The object's length in bytes, or None when it is not there or the store is down."""
        try:
            answer = self.client.head_object(Bucket=self.bucket, Key=self.key(name))
        except self._errors():
            return None
        return answer.get("ContentLength")

    def exists(self, name: str) -> bool:
        """Whether the object is there."""
        try:
            self.client.head_object(Bucket=self.bucket, Key=self.key(name))
        except self._errors() as exc:
            if self._missing(exc):
                return False
            raise StoreUnavailable(NOT_READ) from exc
        return True

    def delete(self, names: Iterable[str]) -> None:
        """Delete the objects, a thousand a request; never raises (a leftover is harmless)."""
        keys = [self.key(name) for name in names]
        for start in range(0, len(keys), DELETE_BATCH):
            batch = keys[start : start + DELETE_BATCH]
            try:
                answer = self.client.delete_objects(
                    Bucket=self.bucket,
                    Delete={"Objects": [{"Key": key} for key in batch], "Quiet": True},
                )
            except self._errors() as exc:
                log.warning("could not delete %d objects from the media store: %s", len(batch), exc)
                continue
            for error in answer.get("Errors", []):
                log.warning("could not delete %s: %s", error.get("Key"), error.get("Message"))

    def url(self, name: str) -> str:
        """Where readers fetch the object: S3_PUBLIC_URL, else Circle's /uploads."""
        if self.public_url:
            return f"{self.public_url}/{name}"
        return f"{UPLOAD_URL}/{name}"


# -- The store in force ------------------------------------------------------------------


_S3_SETTINGS = (
    "S3_BUCKET",
    "S3_PREFIX",
    "S3_PUBLIC_URL",
    "S3_ENDPOINT_URL",
    "S3_REGION",
    "S3_ACCESS_KEY_ID",
    "S3_SECRET_ACCESS_KEY",
)


def upload_root() -> Path:
    """The folder uploads are stored in with local storage (MEDIA_STORAGE=local)."""
    return Path(current_app.config["UPLOAD_DIR"])


class DiscardingStorage:
    """The app's store, read as it is, whose writes and deletions are dropped (a dry run)."""

    def __init__(self, store: LocalStorage | S3Storage):
        """Read from store; write nothing to it."""
        self.store = store
        self.root = store.root
        self.public_url = getattr(store, "public_url", None)

    def put(self, name: str, data: Data, content_type_: str | None = None) -> None:
        """Write nothing."""

    def put_all(self, files: list[tuple[str, Data, str | None]]) -> None:
        """Write nothing."""

    def delete(self, names: Iterable[str]) -> None:
        """Delete nothing."""

    def __getattr__(self, name: str):
        """Reading (get, open, exists …) goes to the real store."""
        return getattr(self.store, name)


@contextlib.contextmanager
def writes_discarded() -> Iterator[None]:
    """Within: `storage()` writes and deletes nothing, so a dry run leaves the store as it was."""
    previous = g.get("circle_media_discarding", False)
    g.circle_media_discarding = True
    try:
        yield
    finally:
        g.circle_media_discarding = previous


def storage() -> LocalStorage | S3Storage | DiscardingStorage:
    """The store MEDIA_STORAGE names for this app: "local" (the default) or "s3"."""
    store = _configured_storage()
    if has_app_context() and g.get("circle_media_discarding", False):
        return DiscardingStorage(store)
    return store


def _configured_storage() -> LocalStorage | S3Storage:
    """The store MEDIA_STORAGE names, without regard to a dry run."""
    config = current_app.config
    if (config.get("MEDIA_STORAGE") or "local") != "s3":
        return LocalStorage(upload_root())
    settings = tuple(config.get(name) for name in _S3_SETTINGS)
    cached = current_app.extensions.get("circle_media_s3")
    if cached is None or cached[0] != settings:  # one client per app, thread-safe
        cached = (settings, S3Storage(config))
        current_app.extensions["circle_media_s3"] = cached
    return cached[1]


def public_base() -> str | None:
    """The base address readers fetch media from when it is not this site (S3_PUBLIC_URL)."""
    return getattr(storage(), "public_url", None)


def public_address(address: str | None) -> str | None:
    """Where readers fetch a stored upload address ("/uploads/…"): the same, or under
    S3_PUBLIC_URL when media is served from there. Other addresses are returned as they are."""
    prefix = UPLOAD_URL + "/"
    base = public_base()
    if base is None or not address or not address.startswith(prefix):
        return address
    return f"{base}/{address[len(prefix) :]}"
