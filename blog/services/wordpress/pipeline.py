"""The pure part of importing an item, done ahead: bodies converted and sanitised, comments too.

Converting a post's content (markup.py, gallery.py), pointing its images at the
re-hosted copies and sanitising it, and cleaning its comments, needs no database:
only what the run knows once the attachments are in (`Conversion`). For a big
export a second process reads the file and does that work while this one writes
the posts before them, so the two overlap on two cores; a small one (the tests, a
blog of a few hundred posts) is read and prepared here, item by item. Both ways run
the same function, `prepare`, so they give the same result.

The worker is started with 'spawn': a fresh interpreter that never sees this
process's database connection (a forked one would share its socket), and is sent
only the conversion and the file's path. Like every use of 'spawn', it imports the
program's main module again: a script that starts an import must guard its work
with `if __name__ == "__main__"` (the flask command does). At most `AHEAD` chunks
wait in the queue, so memory stays flat however big the file is.
"""

from __future__ import annotations

import multiprocessing
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from itertools import islice
from multiprocessing.queues import Queue
from pathlib import Path
from queue import Empty
from typing import TYPE_CHECKING

from ...sanitize import clean_comment_html, clean_post_html
from .attachments import gallery_pictures
from .gallery import GalleryImage, GallerySource
from .markup import comment_html, comment_text, convert_body, rewrite_uploads, upload_key
from .reader import iter_items
from .records import WxrError, WxrItem

if TYPE_CHECKING:
    from .context import ImportContext

# Exports with fewer posts and pages than this are prepared in this process.
IN_PROCESS_BELOW = 200
CHUNK = 16  # items the worker sends at once
AHEAD = 8  # chunks read ahead at most
_PREPARED_TYPES = ("post", "page")
_PINGS = ("pingback", "trackback")


@dataclass(frozen=True)
class Conversion:
    """What converting a body needs to know, read-only, fixed once the attachments are in.

    old_host: the export's site; site_host: this site (the sanitiser marks other
    sites' links); uploads: upload_key → attachment id; hosted: attachment id →
    its address here; gallery_images and attached as `GallerySource` holds them;
    known_comments: WordPress comment ids an earlier run brought over (not cleaned again).
    """

    old_host: str | None
    site_host: str | None
    uploads: Mapping[str, int]
    hosted: Mapping[int, str]
    gallery_images: Mapping[int, GalleryImage]
    attached: Mapping[int, list[int]]
    known_comments: frozenset[int] = frozenset()

    def rehosted(self, url: str) -> str | None:
        """This site's address for a WordPress upload, when it was imported."""
        key = upload_key(url, self.old_host)
        if key is None:
            return None
        attachment_id = self.uploads.get(key)
        return self.hosted.get(attachment_id) if attachment_id is not None else None


@dataclass
class Job:
    """What `prepare` reads of an item: its id, content and its comments' (id, content)."""

    wp_id: int
    content: str
    comments: list[tuple[int, str]]


@dataclass
class PreparedItem:
    """An item's converted, sanitised body (images not yet sized), and its comments'.

    lost: what the body lost on the way (for the report); linked: the old site's
    files it still links to; comments: WordPress comment id → (plain text, HTML).
    """

    body: str
    lost: list[str] = field(default_factory=list)
    linked: set[str] = field(default_factory=set)
    comments: dict[int, tuple[str, str]] = field(default_factory=dict)


def job_for(item: WxrItem, conversion: Conversion) -> Job:
    """The part of an item `prepare` reads: pings and known comments are left out."""
    comments = [
        (c.wp_id, c.content)
        for c in item.comments
        if c.type not in _PINGS and c.wp_id and c.wp_id not in conversion.known_comments
    ]
    return Job(item.wp_id, item.content, comments)


def prepare(conversion: Conversion, job: Job) -> PreparedItem:
    """Convert and sanitise an item's body and comments (pure: no database)."""
    prepared = PreparedItem(body="")
    galleries = GallerySource(conversion.gallery_images, conversion.attached.get(job.wp_id, ()))
    text = convert_body(job.content, prepared.lost, galleries)
    text = rewrite_uploads(text, conversion.old_host, conversion.rehosted, prepared.linked)
    prepared.body = clean_post_html(text, conversion.site_host)
    for wp_id, content in job.comments:
        html = clean_comment_html(comment_html(content))
        prepared.comments[wp_id] = (comment_text(content), html)
    return prepared


# -- In a worker process ---------------------------------------------------------------------


def _wanted(item: WxrItem) -> bool:
    """Whether the import reads a prepared body for this item."""
    return item.post_type in _PREPARED_TYPES


Prepared = tuple[WxrItem, PreparedItem | Exception | None]


def _prepared(conversion: Conversion, items: Iterable[WxrItem]) -> Iterator[Prepared]:
    """Each item with its prepared body and comments; a failure comes in its place."""
    for item in items:
        if not _wanted(item):
            yield item, None
            continue
        try:
            yield item, prepare(conversion, job_for(item, conversion))
        except Exception as exc:  # noqa: BLE001 - raised again where its item is imported
            yield item, exc


def _produce(conversion: Conversion, path: Path, chunks: Queue, size: int) -> None:
    """The worker: read the file and prepare its items, size (CHUNK) at a time, into chunks.

    The queue holds at most AHEAD chunks: the worker waits while it is full. The end
    is None; a file that cannot be read ends with the error instead.
    """
    try:
        prepared = _prepared(conversion, iter_items(path, size_checked=True))
        while chunk := list(islice(prepared, size)):
            chunks.put(chunk)
        chunks.put(None)
    except Exception as exc:  # noqa: BLE001 - the import stops with it
        chunks.put(exc if isinstance(exc, WxrError) else WxrError(str(exc)))


def _from_worker(conversion: Conversion, path: Path) -> Iterator[Prepared]:
    """Read and prepare in a worker process, at most AHEAD chunks ahead; in order."""
    context = multiprocessing.get_context("spawn")
    chunks = context.Queue(maxsize=AHEAD)
    worker = context.Process(
        target=_produce, args=(conversion, path, chunks, CHUNK), name="wxr-prepare", daemon=True
    )
    worker.start()
    try:
        while True:
            try:
                chunk = chunks.get(timeout=5)
            except Empty:
                if not worker.is_alive():
                    raise WxrError(
                        f"The worker preparing {path.name} stopped (exit code "
                        f"{worker.exitcode}). Nothing was saved."
                    ) from None
                continue
            if chunk is None:
                break
            if isinstance(chunk, Exception):
                raise chunk
            yield from chunk
    finally:
        if worker.is_alive():  # the import stopped early: the rest is not wanted
            worker.terminate()
        worker.join()
        chunks.close()


def prepared_items(conversion: Conversion, path: Path, posts: int) -> Iterator[Prepared]:
    """Each item of the file with its prepared body and comments (None for other items).

    posts: how many posts and pages the file holds; below IN_PROCESS_BELOW the file is
    read and prepared here, else in a worker process alongside. A failure to prepare an
    item comes as an exception in its place.
    """
    if posts < IN_PROCESS_BELOW:
        return _prepared(conversion, iter_items(path))
    return _from_worker(conversion, path)


def conversion_for(context: ImportContext, site_host: str | None) -> Conversion:
    """The run's conversion, once its attachments are in; site_host: this site's host."""
    images, attached = gallery_pictures(context)
    return Conversion(
        old_host=context.site_host,
        site_host=site_host,
        uploads=dict(context.uploads),
        hosted={wp_id: url for wp_id, (url, _alt, _id) in context.media.items()},
        gallery_images=images,
        attached=attached,
        known_comments=frozenset(context.known.comments),
    )
