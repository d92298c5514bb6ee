"""One import run's shared state: the options, the report, and what the steps found so far.

Each step module (people, sections, attachments, posts, comments, redirects) takes
the `ImportContext` as its first argument and reads or fills its maps of WordPress
identities to Circle rows. Maps keep ids rather than rows where a huge export
could otherwise keep every row in memory.
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

from sqlalchemy import select

from ...extensions import db
from ...models import Category, Media, User
from .. import ServiceError
from .known import KnownRows
from .markup import upload_key
from .people import valid_email
from .records import WxrError, WxrScan
from .report import ImportReport

log = logging.getLogger(__name__)


@dataclass
class ImportOptions:
    """How to bring a WordPress site over."""

    uploads: Path | None = None
    section_map: dict[str, str] = field(default_factory=dict)
    unknown_section: str | None = None
    dry_run: bool = False


def parse_mappings(values: list[str] | tuple[str, ...]) -> dict[str, str]:
    """Turn repeated --map OLD=NEW values into a dict, refusing bad ones."""
    mappings: dict[str, str] = {}
    for value in values:
        old, sep, new = (value or "").partition("=")
        old, new = old.strip(), new.strip()
        if not sep or not old or not new:
            raise WxrError(f"--map takes OLD=NEW (a WordPress category slug = a section slug), "
                           f"not {value!r}.")
        mappings[old] = new
    return mappings


@dataclass
class ImportContext:
    """One import run: the file, its options and report, and WordPress ids mapped to rows."""

    path: Path
    scan: WxrScan
    options: ImportOptions
    report: ImportReport
    total: int = 0
    done: int = 0
    progress: Callable[[int, int], None] | None = None
    site_host: str | None = None
    # WordPress category nicename → section; author login → account.
    sections: dict[str, Category] = field(default_factory=dict)
    people: dict[str, User] = field(default_factory=dict)
    # Commenter key → account id; tag slug → tag id; author email → login.
    commenters: dict[str, int] = field(default_factory=dict)
    tags: dict[str, int] = field(default_factory=dict)
    author_emails: dict[str, str] = field(default_factory=dict)
    # A wp:author's id (what wp:comment_user_id names) → login.
    author_logins: dict[int, str] = field(default_factory=dict)
    # Attachment id → (url, alt, media id) on this site; upload_key → attachment id.
    media: dict[int, tuple[str, str, int]] = field(default_factory=dict)
    uploads: dict[str, int] = field(default_factory=dict)
    new_media: list[Media] = field(default_factory=list)
    linked: set[str] = field(default_factory=set)
    not_hosted: int = 0
    lost: Counter = field(default_factory=Counter)
    # The sections the options name, checked before anything is written.
    section_map: dict[str, Category] = field(default_factory=dict)
    unknown_section: Category | None = None
    # Circle page id → its WordPress parent's id, linked once every item is in.
    page_parents: dict[int, int] = field(default_factory=dict)
    # Circle post ids whose bodies link to the old site's posts (see links.py).
    internal_links: set[int] = field(default_factory=set)
    # What earlier imports left (see known.py), read when the run starts.
    known: KnownRows = field(default_factory=KnownRows)


def new_context(path: Path, scan: WxrScan, options: ImportOptions) -> ImportContext:
    """Prepare a run over a scanned file with these options."""
    context = ImportContext(
        path=path,
        scan=scan,
        options=options,
        report=ImportReport(source=path.name, dry_run=options.dry_run),
        total=len(scan.attachments) + scan.items - scan.types.get("attachment", 0),
        site_host=urlsplit(scan.site_url).hostname,
    )
    context.author_emails = {
        email: author.login
        for author in scan.authors.values()
        if (email := valid_email(author.email))
    }
    context.author_logins = {
        author.wp_id: author.login for author in scan.authors.values() if author.wp_id
    }
    for attachment in scan.attachments.values():
        for source in (attachment.url, f"/wp-content/uploads/{attachment.file}"):
            key = upload_key(source, context.site_host)
            if key:
                context.uploads.setdefault(key, attachment.wp_id)
    return context


def _section_named(slug: str, option: str) -> Category:
    """Return the section an option names, or refuse the import."""
    section = db.session.scalar(select(Category).where(Category.slug == slug))
    if section is None:
        raise WxrError(f"{option}: there is no section {slug!r} (create it first).")
    return section


def check_options(context: ImportContext) -> None:
    """Refuse options that name sections that do not exist, before anything is written."""
    options = context.options
    if options.uploads is not None and not options.uploads.is_dir():
        raise WxrError(f"--uploads: {options.uploads} is not a folder.")
    for old, new in options.section_map.items():
        context.section_map[old] = _section_named(new, f"--map {old}={new}")
        if old not in context.scan.categories:
            context.report.notes.append(f"--map {old}={new}: the file has no category {old!r}")
    if options.unknown_section:
        context.unknown_section = _section_named(options.unknown_section, "--unknown-section")


def tick(context: ImportContext) -> None:
    """Move the progress bar on by one."""
    context.done += 1
    if context.progress:
        context.progress(context.done, context.total)


@contextmanager
def stops_at(what: str) -> Iterator[None]:
    """Turn any failure into one clear error that names the item (the unit rolls back)."""
    try:
        yield
    except WxrError:
        raise
    except ServiceError as error:
        raise WxrError(
            f"The import stopped at {what}: {error.message} Nothing was saved."
        ) from error
    except Exception as exc:
        log.exception("the WordPress import failed at %s", what)
        raise WxrError(f"The import stopped at {what}: {exc}. Nothing was saved.") from exc
