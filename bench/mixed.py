"""The writer of the bench's mixed run: staff at work while readers read.

    python bench/mixed.py --base http://127.0.0.1:PORT --article /health/slug \
        --section health --duration 60

bench/run.py --mixed starts it beside wrk (bench/mixed.lua) with the app's
environment. Through the app's own services, as staff would, it approves one
reader comment on the article a second (a new reader's first comment is held,
then approved by an editor) and edits the title of the section's newest post
once a minute (that post is on the home page and the section's page 1). After
every write it asks for each page that shows the change, as an anonymous reader,
and counts a page that does not show it yet as stale. At the end it puts the
titles back and prints one line, "MIXED_JSON {...}". The comments stay: they are
part of the bench database from then on (--reseed builds it again).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
import urllib.request
from dataclasses import replace
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def fetch(url: str) -> tuple[str, str]:
    """An anonymous reader's view of a page: its text and X-Cache header."""
    request = urllib.request.Request(url, headers={"X-Forwarded-For": "10.254.0.1"})
    with urllib.request.urlopen(request, timeout=30) as response:
        return response.read().decode("utf-8", "replace"), response.headers.get("X-Cache", "-")


def main(argv: list[str] | None = None) -> int:
    """Write for --duration seconds, check every page after every write, print the summary."""
    parser = argparse.ArgumentParser(description="The mixed run's writer.")
    parser.add_argument("--base", required=True)
    parser.add_argument("--article", required=True, help="the article's path, /section/slug")
    parser.add_argument("--section", required=True)
    parser.add_argument("--duration", type=float, default=60)
    parser.add_argument("--comment-every", type=float, default=1.0)
    parser.add_argument("--edit-every", type=float, default=60.0)
    args = parser.parse_args(argv)

    from markupsafe import escape
    from sqlalchemy import select

    from blog import create_app
    from blog.extensions import db
    from blog.models import Category, Post, PostStatus, User
    from blog.services import comments, desk
    from blog.services import users as user_service

    app = create_app()
    run = f"{int(time.time())}"
    checks = {"comment": 0, "edit": 0}
    stale: list[str] = []
    writes = {"comment": 0, "edit": 0}
    with app.app_context():

        def person(username: str, role: str) -> User:
            user = db.session.scalar(select(User).where(User.username == username))
            if user is None:
                user = user_service.create_user(
                    f"{username}@bench.example", username, None, role=role
                )
            return user

        editor = person("bench-editor", "admin")
        slug = args.article.rstrip("/").rsplit("/", 1)[-1]
        article = db.session.scalar(select(Post).where(Post.slug == slug))
        section = db.session.scalar(select(Category).where(Category.slug == args.section))
        newest = db.session.scalar(
            select(Post)
            .where(Post.category_id == section.id, Post.status == PostStatus.PUBLISHED.value)
            .order_by(Post.published_at.desc())
            .limit(1)
        )
        original_title = newest.title
        newest_path = f"/{section.slug}/{newest.slug}"
        edit_pages = ["/", f"/category/{section.slug}", newest_path]

        def check(kind: str, pages: list[str], text: str) -> None:
            for page in pages:
                body, _cache = fetch(args.base + page)
                checks[kind] += 1
                if str(escape(text)) not in body:
                    stale.append(f"{kind} {text!r} not on {page}")

        started = time.monotonic()
        next_comment, n = started, 0
        next_edit = started + min(args.edit_every / 2, args.duration / 3)
        while time.monotonic() - started < args.duration:
            now = time.monotonic()
            if now >= next_comment:
                n += 1
                reader = person(f"bench-reader-{run}-{n}", "reader")
                text = f"Mixed run {run} comment {n} on this article"  # nothing to escape
                comment = comments.add_comment(reader, article, text)
                if comment.status != "approved":
                    comments.moderate(editor, comment, "approve")
                writes["comment"] += 1
                check("comment", [args.article], text)
                next_comment += args.comment_every
            if now >= next_edit:
                title = f"{original_title} (edited {writes['edit'] + 1})"
                post = db.session.get(Post, newest.id)
                desk.save_post(
                    editor,
                    post,
                    replace(desk.draft_of(post), title=title),
                    post.version,
                    note="bench mixed run",
                )
                writes["edit"] += 1
                check("edit", edit_pages, title)
                next_edit += args.edit_every
            time.sleep(max(0.0, min(next_comment, next_edit) - time.monotonic()))
        if writes["edit"]:
            post = db.session.get(Post, newest.id)
            desk.save_post(
                editor,
                post,
                replace(desk.draft_of(post), title=original_title),
                post.version,
                note="bench mixed run: title put back",
            )
    print(
        "MIXED_JSON " + json.dumps({"writes": writes, "checks": checks, "stale": stale}), flush=True
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
