"""The pure part of importing an item, done ahead: bodies converted and sanitised, comments too.

Converting a post's content (markup.py, gallery.py), pointing its images at the
re-hosted copies and sanitising it, and cleaning its comments, needs no database:
only what the run knows once the attachments are in (`Conversion`). A big export
does that work in a second process while this one writes the posts before them,
so the two overlap on two cores; a small one (the tests, a blog of a few hundred
posts) does it here, item by item. Both ways run the same function, `prepare`,
so they give the same result.

The worker is started with 'spawn': a fresh interpreter that never sees this
process's database connection (a forked one would share its socket). It reads
nothing but what it is sent. At most `AHEAD` chunks are in flight, so memory stays
flat however big the file is.
"""

from __future__ import annotations

import multiprocessing
import os
from collections import deque
from collections.abc import Iterable, Iterator, Mapping
from concurrent.futures import Future, ProcessPoolExecutor
from dataclasses import dataclass, field
from itertools import islice
from typing import TYPE_CHECKING

from ...sanitize import clean_comment_html, clean_post_html
from .attachments import gallery_pictures
from .gallery import GalleryImage, GallerySource
from .markup import comment_html, comment_text, convert_body, rewrite_uploads, upload_key
from .records import WxrItem

if TYPE_CHECKING:
    from .context import ImportContext

# Exports with fewer posts and pages than this are prepared in this process.
IN_PROCESS_BELOW = 200
CHUNK = 16  # items sent to the worker at once
AHEAD = 8  # chunks in flight at most
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

_worker_conversion: Conversion | None = None


def _start_worker(conversion: Conversion) -> None:
    """Keep the run's conversion in the worker, sent once."""
    global _worker_conversion
    _worker_conversion = conversion


def _prepare_chunk(jobs: list[Job]) -> list[PreparedItem | Exception]:
    """Prepare each job; a failure is sent back in its place, raised where the item is imported."""
    results: list[PreparedItem | Exception] = []
    for job in jobs:
        try:
            results.append(prepare(_worker_conversion, job))
        except Exception as exc:  # noqa: BLE001 - raised again for its own item
            results.append(exc)
    return results


def _wanted(item: WxrItem) -> bool:
    """Whether the import reads a prepared body for this item."""
    return item.post_type in _PREPARED_TYPES


Prepared = tuple[WxrItem, PreparedItem | Exception | None]


def _in_process(conversion: Conversion, items: Iterable[WxrItem]) -> Iterator[Prepared]:
    """Prepare item by item, here."""
    for item in items:
        if not _wanted(item):
            yield item, None
            continue
        try:
            yield item, prepare(conversion, job_for(item, conversion))
        except Exception as exc:  # noqa: BLE001 - raised again for its own item
            yield item, exc


def _in_worker(
    conversion: Conversion, items: Iterable[WxrItem], workers: int
) -> Iterator[Prepared]:
    """Prepare in worker processes, chunk by chunk, at most AHEAD chunks ahead; in order."""
    pool = ProcessPoolExecutor(
        max_workers=workers,
        mp_context=multiprocessing.get_context("spawn"),
        initializer=_start_worker,
        initargs=(conversion,),
    )
    pending: deque[tuple[list[WxrItem], Future]] = deque()

    def collect() -> Iterator[Prepared]:
        """The oldest chunk's items with what the worker made of them."""
        chunk, future = pending.popleft()
        results = iter(future.result())
        for item in chunk:
            yield item, next(results) if _wanted(item) else None

    try:
        source = iter(items)
        while chunk := list(islice(source, CHUNK)):
            jobs = [job_for(item, conversion) for item in chunk if _wanted(item)]
            pending.append((chunk, pool.submit(_prepare_chunk, jobs)))
            if len(pending) >= AHEAD:
                yield from collect()
        while pending:
            yield from collect()
    finally:
        pool.shutdown(wait=True, cancel_futures=True)


def worker_count() -> int:
    """Worker processes for a big export: one core is left to the process that writes."""
    return max(1, (os.cpu_count() or 2) - 1)


def prepared_items(
    conversion: Conversion, items: Iterable[WxrItem], posts: int
) -> Iterator[Prepared]:
    """Each item with its prepared body and comments (None for items not imported as posts).

    posts: how many posts and pages the file holds; below IN_PROCESS_BELOW the work is
    done here, else in worker processes alongside. A failure to prepare an item comes
    as an exception in its place.
    """
    if posts < IN_PROCESS_BELOW:
        return _in_process(conversion, items)
    return _in_worker(conversion, items, worker_count())


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
