"""A big export's bodies and comments are prepared in a worker process, exactly as a small one's.

pipeline.py converts and sanitises ahead: here, item by item, for a small export;
in a spawned worker, chunk by chunk, for a big one. Both must give the same posts.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from sqlalchemy import select

from blog.extensions import db
from blog.models import Comment, Post
from blog.sanitize import clean_comment_html
from blog.services.wordpress import pipeline
from blog.services.wordpress.attachments import gallery_pictures
from blog.services.wordpress.context import ImportOptions, new_context
from blog.services.wordpress.markup import comment_html, comment_text
from blog.services.wordpress.reader import iter_items, scan_wxr

from .test_wxr_import import EXPORT, magazine, run_import, wp_uploads  # noqa: F401


def _exports() -> list[Path]:
    """The tests' export, and WordPress's theme unit test export when it is there."""
    paths = [EXPORT]
    fixture = os.environ.get("CIRCLE_WXR_FIXTURE")
    if fixture and Path(fixture).is_file():
        paths.append(Path(fixture))
    return paths


def _conversion(path: Path) -> pipeline.Conversion:
    """A run's conversion for the file: every attachment re-hosted, one comment known."""
    scan = scan_wxr(path)
    context = new_context(path, scan, ImportOptions())
    images, attached = gallery_pictures(context)
    first_comment = next(
        (c.wp_id for item in iter_items(path) for c in item.comments if c.wp_id), 0
    )
    return pipeline.Conversion(
        old_host=context.site_host,
        site_host="circle.example",
        uploads=context.uploads,
        hosted={wp_id: f"/uploads/{wp_id}.jpg" for wp_id in scan.attachments},
        gallery_images=images,
        attached=attached,
        known_comments=frozenset({first_comment}),
    )


@pytest.mark.parametrize("path", _exports(), ids=lambda p: p.name)
def test_the_worker_prepares_every_item_as_this_process_does(app, path, monkeypatch):
    monkeypatch.setattr(pipeline, "CHUNK", 3)  # the worker's chunks end mid-file
    monkeypatch.setattr(pipeline, "AHEAD", 2)  # and it waits for the queue
    conversion = _conversion(path)
    here = list(pipeline.prepared_items(conversion, path, posts=0))
    there = list(pipeline.prepared_items(conversion, path, posts=pipeline.IN_PROCESS_BELOW))
    assert [item for item, _ in there] == [item for item, _ in here]
    assert [prepared for _, prepared in there] == [prepared for _, prepared in here]
    prepared = [p for _, p in here if p is not None]
    assert all(isinstance(p, pipeline.PreparedItem) for p in prepared)
    assert any(p.body for p in prepared) and any(p.comments for p in prepared)
    assert not any(conversion.known_comments & p.comments.keys() for p in prepared)


def test_a_big_export_imports_through_the_worker_as_a_small_one_does(
    runner, magazine, wp_uploads, monkeypatch  # noqa: F811
):
    calls = []
    from_worker = pipeline._from_worker

    def spy(*args):
        """Note that the worker path was taken."""
        calls.append(args[-1])
        return from_worker(*args)

    monkeypatch.setattr(pipeline, "_from_worker", spy)
    monkeypatch.setattr(pipeline, "IN_PROCESS_BELOW", 0)
    first = run_import(runner, "--uploads", str(wp_uploads))
    assert first.exit_code == 0, first.output
    assert calls == [EXPORT]
    # Comments as the in-process path would clean them.
    for item in iter_items(EXPORT):
        for c in item.comments:
            row = db.session.scalar(select(Comment).where(Comment.wp_comment_id == c.wp_id))
            if row is not None:
                assert (row.body, row.body_html) == (
                    comment_text(c.content), clean_comment_html(comment_html(c.content))
                )
    # The same file prepared here finds every post as the worker wrote it (the import's
    # fingerprint covers the body, excerpt and reading time).
    monkeypatch.undo()
    bodies = dict(db.session.execute(select(Post.wp_post_id, Post.body)).all())
    again = run_import(runner, "--uploads", str(wp_uploads))
    assert again.exit_code == 0, again.output
    assert "Created:   nothing" in again.output and "Updated:   nothing" in again.output
    assert dict(db.session.execute(select(Post.wp_post_id, Post.body)).all()) == bodies
