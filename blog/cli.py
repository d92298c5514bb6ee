"""Circle's flask commands: thin wrappers around the services."""

from __future__ import annotations

import click
from flask.cli import with_appcontext

from .extensions import db
from .services import ServiceError
from .services import demo as demo_service
from .services import publishing as publishing_service
from .services import search as search_service
from .services import users as user_service


def _fail(message: str) -> None:
    """Stop the command with one clear line and exit status 1."""
    db.session.rollback()
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
    try:
        user = user_service.create_user(
            email, username, password, role=role, display_name=display_name
        )
    except ServiceError as error:
        _fail(error.message)
    click.echo(f"Created {user.role.name} {user.username} <{user.email}>.")


@click.command("seed-demo")
@with_appcontext
def seed_demo_command():
    """Create the demo magazine: sections, people and articles (safe to run again)."""
    with click.progressbar(length=1, label="Seeding articles") as bar:

        def progress(done: int, total: int) -> None:
            bar.length = total
            bar.update(done - bar.pos)

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
    with click.progressbar(length=1, label="Indexing posts") as bar:

        def progress(done: int, total: int) -> None:
            bar.length = total
            bar.update(done - bar.pos)

        count = search_service.rebuild_index(progress=progress)
    click.echo(f"Indexed {count} posts.")


@click.command("publish-due")
@with_appcontext
def publish_due_command():
    """Publish the scheduled posts whose time has come."""
    count = publishing_service.publish_due()
    click.echo(f"Published {count} scheduled post{'s' if count != 1 else ''}.")


commands = [create_user_command, seed_demo_command, search_reindex_command, publish_due_command]
