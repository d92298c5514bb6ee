"""The bench's WordPress export (bench/wxr.py) is a real one: `flask import-wxr` takes all of it."""

from __future__ import annotations

import importlib.util
import sys
import xml.etree.ElementTree as ET
from dataclasses import asdict
from pathlib import Path

import pytest
from sqlalchemy import func, select

from blog.extensions import db
from blog.models import Category, Comment, Post, PostKind, PostStatus, Tag, post_tags

WXR_PY = Path(__file__).resolve().parent.parent / "bench" / "wxr.py"
POSTS = 60


@pytest.fixture(scope="module")
def wxr():
    """The bench's generator, loaded from its file (bench/ is scripts, not a package)."""
    spec = importlib.util.spec_from_file_location("bench_wxr", WXR_PY)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up
    spec.loader.exec_module(module)
    return module


@pytest.fixture
def export(wxr, tmp_path):
    """A 60-post export and its manifest."""
    path = tmp_path / "magazine.wxr"
    return path, wxr.generate(path, POSTS)


def count(*where, model=Post) -> int:
    """How many rows of model match."""
    return db.session.scalar(select(func.count()).select_from(model).where(*where))


def test_the_same_seed_writes_the_same_file(wxr, tmp_path):
    first, second = tmp_path / "a.wxr", tmp_path / "b.wxr"
    assert asdict(wxr.generate(first, 20)) | {"seconds": 0} == asdict(wxr.generate(second, 20)) | {
        "seconds": 0
    }
    assert first.read_bytes() == second.read_bytes()


def test_the_export_is_well_formed_wxr(export):
    path, manifest = export
    root = ET.parse(path).getroot()
    wp = "{http://wordpress.org/export/1.2/}"
    channel = root.find("channel")
    assert channel.findtext(f"{wp}wxr_version") == "1.2"
    items = channel.findall("item")
    assert len(items) == POSTS + manifest.pages
    statuses = [i.findtext(f"{wp}status") for i in items if i.findtext(f"{wp}post_type") == "post"]
    assert statuses.count("publish") == manifest.published
    assert statuses.count("draft") == manifest.drafts
    assert len(channel.findall(f"{wp}category")) == 5


def test_flask_import_wxr_brings_everything_over(runner, client, export, wxr):
    path, manifest = export
    result = runner.invoke(args=["import-wxr", str(path)])
    assert result.exit_code == 0, result.output
    assert "Failed:    nothing" in result.output
    assert "Skipped:   nothing" in result.output
    # Not a terminal: a line at each tenth of the way, with the rate, not one per item.
    progress = [line for line in result.output.splitlines() if line.startswith("Importing: ")]
    assert 5 <= len(progress) <= 11
    assert progress[-1].startswith(f"Importing: {POSTS + manifest.pages}/{POSTS + manifest.pages}")
    assert "(100%)" in progress[-1] and progress[-1].endswith("/s")

    posts = Post.kind == PostKind.POST.value
    assert count(posts) == manifest.posts
    assert count(posts, Post.status == PostStatus.PUBLISHED.value) == manifest.published
    assert count(posts, Post.status == PostStatus.DRAFT.value) == manifest.drafts
    assert count(posts, Post.status == PostStatus.PENDING.value) == manifest.pending
    assert count(Post.kind == PostKind.PAGE.value) == manifest.pages
    assert count(model=Comment) == manifest.comments
    assert count(Comment.parent_id.is_not(None), model=Comment) == manifest.replies
    assert count(model=Category) == len(manifest.sections)
    used_tags = db.session.scalar(select(func.count(func.distinct(post_tags.c.tag_id))))
    assert used_tags == manifest.tags
    assert count(model=Tag) == wxr.TAG_POOL  # every tag of the file, those no post has too

    # The search words are where the manifest says, and a reader finds them.
    rare = db.session.scalars(select(Post).where(Post.wp_post_id.in_(manifest.rare_post_ids)))
    page = client.get(f"/search?q={manifest.rare_word}").get_data(as_text=True)
    for post in rare:
        assert post.title in page
    article = db.session.scalar(select(Post).where(Post.wp_post_id == manifest.article_wp_id))
    assert article.category.slug == manifest.article_section
    assert client.get(f"/{article.category.slug}/{article.slug}").status_code == 200
