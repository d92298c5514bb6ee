"""Importing a WordPress export, step by step, in one unit of work.

`WordPressImport` checks the file and the options before anything is written;
`run` then brings things over in the order a person would: media (attachments),
then each post or page as the file streams (its people, section, tags, body,
redirects and comments), then the report's summary. The whole run is one unit
of work: a file that breaks half-way leaves nothing behind, and a dry run does
the whole import, reports it and rolls it back.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from contextlib import nullcontext
from pathlib import Path

from ...extensions import db
from ...hosts import site_host
from .. import media as media_service
from .. import planner, unit_of_work
from .. import search as search_service
from .. import users as user_service
from . import posts
from .attachments import import_attachments, remove_new_files
from .context import ImportContext, ImportOptions, check_options, new_context, stops_at, tick
from .known import load_known
from .links import rewrite_internal_links
from .markup import title_text
from .pipeline import conversion_for, prepared_items
from .reader import scan_wxr
from .records import WxrError
from .report import ImportReport
from .sections import import_unused_terms

FLUSH_EVERY = 200
_OTHER_TYPES = {
    "nav_menu_item": "navigation menu entries: Circle's menu is its sections",
    "revision": "WordPress revisions: only the current text is imported",
}


class _DryRun(Exception):
    """Raised at the end of a dry run to roll everything back."""


def _import_items(context: ImportContext) -> None:
    """Bring posts and pages over as the file streams; count the other item types.

    Their bodies and comments are converted and sanitised ahead (pipeline.py); a big
    export is read and prepared by a worker process while this process writes.
    """
    skipped_types: Counter = Counter()
    conversion = conversion_for(context, site_host())
    posts_in_file = context.scan.types.get("post", 0) + context.scan.types.get("page", 0)
    items = prepared_items(conversion, context.path, posts_in_file)
    for n, (item, prepared) in enumerate(items, start=1):
        if item.post_type == "attachment":
            continue
        with stops_at(f"{item.post_type} {item.wp_id} ({title_text(item.title)[:60]!r})"):
            if isinstance(prepared, Exception):
                raise prepared
            if item.post_type in ("post", "page"):
                posts.import_post(context, item, prepared)
            else:
                skipped_types[item.post_type] += 1
                context.report.skipped_counts["item"] += 1
        if n % FLUSH_EVERY == 0:
            db.session.flush()
        tick(context)
    for post_type, count in sorted(skipped_types.items()):
        reason = _OTHER_TYPES.get(
            post_type, f"WordPress {post_type} items: Circle has no such thing"
        )
        context.report.not_brought_over.append(f"{count} {reason}")


def _sum_up(context: ImportContext) -> None:
    """Add what was lost, what stays linked and a word about commenters to the report."""
    report = context.report
    for what, count in sorted(context.lost.items()):
        times = f" ({count} times)" if count > 1 else ""
        report.not_brought_over.append(f"{what}{times}")
    report.linked.extend(sorted(context.linked))
    if report.created["commenter"]:
        report.notes.append(
            "people who commented without an account got a reader account each (one per "
            "email address, or per name when they left none), without a password: they "
            "can set one with 'Forgot password'"
        )


def run_steps(context: ImportContext) -> None:
    """Bring everything over: attachments first, then posts and pages as they stream."""
    user_service.ensure_roles()
    context.known = load_known(posts.IMPORT_NOTE)
    import_attachments(context)
    _import_items(context)
    import_unused_terms(context)
    posts.link_page_parents(context)
    rewrite_internal_links(context)
    _sum_up(context)


class WordPressImport:
    """An import checked and ready to run: the file is a WordPress export, the options fit."""

    def __init__(self, path: Path | str, options: ImportOptions | None = None):
        """Scan the file and check the options; nothing is written yet."""
        path = Path(path)
        if not path.is_file():
            raise WxrError(f"No such file: {path}")
        self.scan = scan_wxr(path)
        self.context = new_context(path, self.scan, options or ImportOptions())
        try:
            check_options(self.context)
        finally:
            db.session.rollback()  # only read so far

    @property
    def total(self) -> int:
        """How many steps the run takes, for a progress bar."""
        return self.context.total

    def run(self, progress: Callable[[int, int], None] | None = None) -> ImportReport:
        """Import everything in one unit of work (rolled back for a dry run); return the report."""
        context = self.context
        context.progress = progress
        dry_run = context.options.dry_run
        try:
            # A dry run checks and sizes every image but writes no file (and no folder).
            with (
                unit_of_work(),
                media_service.writes_discarded() if dry_run else nullcontext(),
                search_service.index_deferred(),  # once at the end, in bulk
            ):
                run_steps(context)
                if dry_run:
                    raise _DryRun
        except _DryRun:
            remove_new_files(context)
            return context.report
        except BaseException:
            remove_new_files(context)
            raise
        planner.refresh_statistics()
        return context.report

