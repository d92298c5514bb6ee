"""Circle's flask commands: thin wrappers around the services."""

from __future__ import annotations

import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import click
from flask import current_app
from flask.cli import with_appcontext

from . import queue
from .config import deploy_problems
from .services import ServiceError
from .services import backup as backup_service
from .services import demo as demo_service
from .services import jobs as jobs_service
from .services import publishing as publishing_service
from .services import search as search_service
from .services import users as user_service
from .services.wordpress import context as wp_context
from .services.wordpress import export as wp_export
from .services.wordpress import importer as wp_importer


def _fail(message: str) -> None:
    """Stop the command with one clear line and exit status 1 (a refused unit kept nothing)."""
    raise click.ClickException(message)


@click.command("create-user")
@click.option("--email", help="Email address of the new account.")
@click.option("--username", help="Username of the new account.")
@click.option(
    "--role", default="reader", show_default=True, help="reader, author, editor or admin."
)
@click.option("--password", help="Password; asked for when left out.")
@click.option("--display-name", default="", help="Name shown to readers.")
@with_appcontext
def create_user_command(email, username, role, password, display_name):
    """Create an account with the given role."""
    if not email:
        _fail("--email is required.")
    if not username:
        _fail("--username is required.")
    if password is None:
        password = click.prompt("Password", hide_input=True, confirmation_prompt=True)
    with _refusal_fails():
        user = user_service.create_user(
            email, username, password, role=role, display_name=display_name
        )
    click.echo(f"Created {user.role.name} {user.username} <{user.email}>.")


@contextmanager
def _refusal_fails() -> Iterator[None]:
    """Turn a service's refusal into the command's one-line error and exit status 1."""
    try:
        yield
    except ServiceError as error:
        _fail(error.message)


PROGRESS_LINES = 10  # lines a long command prints when its output is no terminal (a CI log)


def _rate(done: int, started: float) -> str:
    """How many items a second so far, as the progress shows it."""
    seconds = max(time.monotonic() - started, 1e-6)
    return f"{done / seconds:,.0f}/s"


@contextmanager
def _progress(label: str) -> Iterator[Callable[[int, int], None]]:
    """A progress bar, and the (done, total) callback a long service reports through.

    On a terminal the bar moves and shows items a second; elsewhere (a log) a line is
    printed at each tenth of the way, so the log shows progress without a flood.
    """
    started = time.monotonic()
    if not sys.stdout.isatty():
        step = {"next": 0}

        def progress_line(done: int, total: int) -> None:
            """Print done out of total when a further tenth is done (and at the end)."""
            total = max(total, 1)
            if done * PROGRESS_LINES >= step["next"] * total or done == total:
                step["next"] = done * PROGRESS_LINES // total + 1
                click.echo(f"{label}: {done:,}/{total:,} ({done * 100 // total}%), "
                           f"{_rate(done, started)}")

        yield progress_line
        return
    with click.progressbar(
        length=1, label=label, show_pos=True, item_show_func=lambda rate: rate
    ) as bar:

        def progress(done: int, total: int) -> None:
            """Move the bar to done out of total (the first report sets the length)."""
            bar.length = max(total, 1)
            bar.update(done - bar.pos, _rate(done, started))

        yield progress


@click.command("seed-demo")
@with_appcontext
def seed_demo_command():
    """Create the demo magazine: sections, people and articles (safe to run again)."""
    with _progress("Seeding articles") as progress:
        report = demo_service.seed_demo(progress=progress)
    if report.created:
        click.echo(f"Created {len(report.created)} things:")
        for item in report.created:
            click.echo(f"  + {item}")
    else:
        click.echo("The demo content is already there; nothing new was created.")
    click.echo("Demo logins (for trying the site locally):")
    for role, email, username, password in report.logins:
        click.echo(f"  {role:<7} {email:<22} or {username:<7}  password: {password}")


@click.command("search-reindex")
@with_appcontext
def search_reindex_command():
    """Rebuild the full-text search index from the published posts."""
    with _progress("Indexing posts") as progress:
        count = search_service.rebuild_index(progress=progress)
    click.echo(f"Indexed {count} posts.")


@click.command("publish-due")
@with_appcontext
def publish_due_command():
    """Publish the scheduled posts whose time has come."""
    count = publishing_service.publish_due()
    click.echo(f"Published {count} scheduled post{'s' if count != 1 else ''}.")


@click.command("worker")
@click.option(
    "--threads", type=click.IntRange(1, 64), default=None,
    help="Jobs run at once (default WORKER_THREADS, 2).",
)
@click.option("--once", is_flag=True, help="Run the jobs waiting now (retries too), then stop.")
@with_appcontext
def worker_command(threads, once):
    """Run the job queue: mail, newsletters, webhooks and the periodic jobs (publish-due...)."""
    app = current_app._get_current_object()
    if once:
        for name in jobs_service.PERIODIC:
            queue.run_periodic(app, name)
        ran = queue.run_queued(app)
        click.echo(f"Ran {ran} queued job{'s' if ran != 1 else ''}.")
        return
    storage = "Redis" if app.config.get("REDIS_URL") else app.config["JOBS_SQLITE_PATH"]
    click.echo(f"Worker on queue {app.config['JOBS_QUEUE_NAME']!r} ({storage}); Ctrl+C stops it.")
    queue.run_worker(app, threads or app.config["WORKER_THREADS"])


@click.command("import-wxr")
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@click.option(
    "--uploads",
    type=click.Path(path_type=Path),
    help="A local copy of wp-content/uploads: images found there are re-hosted here.",
)
@click.option(
    "--map",
    "mappings",
    multiple=True,
    metavar="OLD=NEW",
    help="Put WordPress category OLD (and its children) into section NEW. Repeatable.",
)
@click.option(
    "--unknown-section",
    metavar="SLUG",
    help="Section for categories that match none; by default a section is created for each.",
)
@click.option(
    "--dry-run", is_flag=True, help="Do the whole import, print the report, keep nothing."
)
@with_appcontext
def import_wxr_command(file, uploads, mappings, unknown_section, dry_run):
    """Import a WordPress export (WXR): posts, pages, sections, tags, people, comments, images."""
    if not file.is_file():
        _fail(f"No such file: {file}")
    with _refusal_fails():
        options = wp_context.ImportOptions(
            uploads=uploads,
            section_map=wp_context.parse_mappings(mappings),
            unknown_section=unknown_section,
            dry_run=dry_run,
        )
        job = wp_importer.WordPressImport(file, options)
    with _refusal_fails(), _progress("Importing") as progress:
        report = job.run(progress=progress)
    for line in report.lines():
        click.echo(line)


def _writable_target(file: Path) -> None:
    """Refuse an output path whose folder does not exist."""
    folder = file.parent if str(file.parent) else Path(".")
    if not folder.is_dir():
        _fail(f"No such folder: {folder}")
    if file.is_dir():
        _fail(f"{file} is a folder; give a file name.")


@click.command("export-wxr")
@click.argument("file", type=click.Path(path_type=Path))
@click.option(
    "--site-url",
    metavar="URL",
    help="This site's public address, for links and image files (default: SITE_URL).",
)
@with_appcontext
def export_wxr_command(file, site_url):
    """Write posts, sections, tags, authors, comments and images as a WordPress export."""
    _writable_target(file)
    with _progress("Exporting posts") as progress:
        summary = wp_export.export_wxr(file, site_url=site_url, progress=progress)
    click.echo(
        f"Wrote {file}: {summary.posts} posts, {summary.pages} pages, "
        f"{summary.attachments} images, "
        f"{summary.comments} comments, {summary.authors} authors, "
        f"{summary.categories} sections, {summary.tags} tags."
    )


@click.command("export-json")
@click.argument("file", type=click.Path(path_type=Path))
@with_appcontext
def export_json_command(file):
    """Back up everything (every table and the media files) into a zip file."""
    _writable_target(file)
    summary = backup_service.export_backup(file)
    click.echo(f"Wrote {file}: {summary.describe()}.")
    for name in summary.missing_files:
        click.echo(f"Warning: the media file {name} is missing from the upload folder.", err=True)


@click.command("import-json")
@click.argument("file", type=click.Path(path_type=Path))
@click.option("--force", is_flag=True, help="Replace everything in a database that is not empty.")
@with_appcontext
def import_json_command(file, force):
    """Restore a backup made by export-json into an empty database."""
    with _refusal_fails():
        restore = backup_service.BackupRestore(file, force=force)
    with _refusal_fails(), _progress("Restoring") as progress:
        summary = restore.run(progress=progress)
    click.echo(f"Restored {file}: {summary.describe()}.")


@click.command("check-deploy")
@with_appcontext
def check_deploy_command():
    """List what is unsafe in this configuration for a public site; exit 1 if anything is."""
    problems = deploy_problems(current_app.config)
    for severity, message in problems:
        click.echo(f"{severity.upper():<7} {message}")
    if problems:
        click.echo(f"{len(problems)} problem(s) found: fix them before going live.")
        raise SystemExit(1)
    click.echo("No problems found in this configuration.")


commands = [
    create_user_command,
    seed_demo_command,
    search_reindex_command,
    publish_due_command,
    worker_command,
    import_wxr_command,
    export_wxr_command,
    export_json_command,
    import_json_command,
    check_deploy_command,
]
