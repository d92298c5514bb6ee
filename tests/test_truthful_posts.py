"""Excerpts and dates tell the truth: derived stays derived, the first publication date stays."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest

from blog.extensions import db
from blog.models import PostStatus, utcnow
from blog.sanitize import plain_text, word_count
from blog.services import desk

from .conftest import csrf_from
from .test_desk import _as, _fresh

BODY = (
    "<h2>What night nurses see</h2><p>At two in the morning the ward is <em>quiet</em>. "
    "Nobody <a href='https://example.org'>sleeps</a>, though.</p>"
    "<ul><li>tea</li><li>rounds</li></ul>"
)


@pytest.fixture
def newsroom(make):
    """A section, its author, an editor and an admin."""
    health = make.section("Health", slug="health")
    return {
        "health": health,
        "ana": make.user("author", username="ana"),
        "eda": make.user("editor", username="eda"),
        "boss": make.user("admin", username="boss"),
    }


# -- Derived text ---------------------------------------------------------------------------------


def test_derived_text_spaces_blocks_and_not_punctuation():
    assert plain_text(BODY) == (
        "What night nurses see At two in the morning the ward is quiet. "
        "Nobody sleeps, though. tea rounds"
    )
    assert plain_text("<p>one<br>two</p><table><tr><td>a</td><td>b</td></tr></table>") == (
        "one two a b"
    )
    assert plain_text("<p>half<strong>way</strong> &amp; done</p>") == "halfway & done"
    assert word_count(BODY) == 18


def test_a_derived_excerpt_of_text_without_spaces_is_short():
    chinese = "<p>" + "夜班护士看到的医院。" * 100 + "</p>"
    excerpt = desk.derive_excerpt(chinese)
    assert len(excerpt) == desk.EXCERPT_CHARS + 1 and excerpt.endswith("…")
    english = "<p>" + " ".join(["extraordinarily"] * 39) + "</p>"
    excerpt = desk.derive_excerpt(english)
    assert excerpt.endswith("extraordinarily…") and len(excerpt) <= desk.EXCERPT_CHARS + 1
    assert desk.derive_excerpt("<p>Short and sweet.</p>") == "Short and sweet."


# -- Excerpts -------------------------------------------------------------------------------------


def _edit_page(client, post_id):
    page = client.get(f"/editor/posts/{post_id}/edit").get_data(as_text=True)
    version = re.search(r'name="version" type="hidden" value="(\d+)"', page)[1]
    excerpt = re.search(r'<textarea[^>]*name="excerpt"[^>]*>(.*?)</textarea>', page, re.S)[1]
    return page, csrf_from(page), version, excerpt.strip()


def _save(client, post, section, **fields):
    _page, token, version, excerpt = _edit_page(client, post.id)
    data = {
        "title": post.title,
        "body": post.body,
        "excerpt": excerpt,  # what the page showed, sent back unchanged
        "category": str(section.id),
        "tags": "",
        "slug": post.slug,
        "cover_media_id": "",
        "cover_alt": "",
        "seo_title": "",
        "seo_description": "",
        "csrf_token": token,
        "version": version,
        **fields,
    }
    return client.post(f"/editor/posts/{post.id}/edit", data=data)


def test_an_unchanged_resave_keeps_a_derived_excerpt_derived(app, client, make, newsroom):
    post = make.post(author=newsroom["eda"], section=newsroom["health"], body=BODY)
    assert not post.excerpt_written
    assert post.excerpt.startswith("What night nurses see At two in the morning")
    eda = _as(app, "eda")
    _page, _token, _version, shown = _edit_page(eda, post.id)
    assert shown == ""  # the derived excerpt is not put in the field as if written
    assert _save(eda, post, newsroom["health"]).status_code == 302
    saved = _fresh(post)
    assert not saved.excerpt_written
    article = client.get(f"/health/{saved.slug}").get_data(as_text=True)
    assert "article__standfirst" not in article  # no italic repeat of the first paragraph
    # A page that still sends the derived text back (an older tab) changes nothing either.
    assert _save(eda, saved, newsroom["health"], excerpt=saved.excerpt).status_code == 302
    saved = _fresh(post)
    assert not saved.excerpt_written
    # It follows the body while it is derived.
    assert _save(eda, saved, newsroom["health"], body="<p>Fresh words.</p>").status_code == 302
    saved = _fresh(post)
    assert saved.excerpt == "Fresh words." and not saved.excerpt_written


def test_a_written_excerpt_is_kept_and_shown_as_a_standfirst(app, client, make, newsroom):
    post = make.post(author=newsroom["eda"], section=newsroom["health"], body=BODY)
    eda = _as(app, "eda")
    written = "Night shifts, told by the people who work them."
    assert _save(eda, post, newsroom["health"], excerpt=written).status_code == 302
    saved = _fresh(post)
    assert saved.excerpt == written and saved.excerpt_written
    _page, _token, _version, shown = _edit_page(eda, post.id)
    assert shown == written
    article = client.get(f"/health/{saved.slug}").get_data(as_text=True)
    assert f'<p class="article__standfirst">{written}</p>' in article
    # Emptying the field makes it derived again.
    assert _save(eda, saved, newsroom["health"], excerpt="").status_code == 302
    assert not _fresh(post).excerpt_written


def test_restoring_a_revision_keeps_a_derived_excerpt_derived(make, newsroom):
    post = make.post(author=newsroom["eda"], section=newsroom["health"], body=BODY)
    [revision] = desk.revisions_of(post)
    revision.excerpt = "What night nurses see At two in the morning the ward is quiet ."
    db.session.commit()  # as the old rules derived it: a space before the full stop
    desk.restore_revision(newsroom["eda"], post, revision, post.version)
    restored = _fresh(post)
    assert not restored.excerpt_written
    assert restored.excerpt.startswith("What night nurses see At two in the morning the ward is")
    assert "quiet. Nobody" in restored.excerpt


def test_the_api_echoing_a_derived_excerpt_keeps_it_derived(client, make, newsroom):
    from blog.services import tokens as token_service

    post = make.post(author=newsroom["eda"], section=newsroom["health"], body=BODY)
    _token, secret = token_service.create_token(newsroom["eda"], "tests")
    headers = {"Authorization": f"Bearer {secret}"}
    data = client.get(f"/api/v1/posts/{post.id}", headers=headers).get_json()["data"]
    response = client.patch(
        f"/api/v1/posts/{post.id}",
        json={"title": data["title"], "excerpt": data["excerpt"], "version": data["version"]},
        headers=headers,
    )
    assert response.status_code == 200, response.get_json()
    assert not _fresh(post).excerpt_written


# -- Dates ----------------------------------------------------------------------------------------


def _action(client, post_id, name):
    """Press a publishing button (trash and unpublish confirmed, as on their confirm page)."""
    _page, token, version, _ = _edit_page(client, post_id)
    return client.post(
        f"/editor/posts/{post_id}/{name}",
        data={"csrf_token": token, "version": version, "confirmed": "1"},
    )


def _home_titles(client) -> list[str]:
    page = client.get("/").get_data(as_text=True)
    return re.findall(r"Story (?:old|new)", page)


@pytest.fixture
def two_stories(make, newsroom):
    """An old story published a month ago and a newer one from yesterday."""
    first = utcnow() - timedelta(days=30)
    old = make.post(section=newsroom["health"], title="Story old", published_at=first)
    make.post(
        section=newsroom["health"], title="Story new", published_at=utcnow() - timedelta(days=1)
    )
    return old, first


def test_trash_restore_publish_keeps_the_first_date(app, client, two_stories):
    old, first = two_stories
    eda, boss = _as(app, "eda"), _as(app, "boss")
    assert _action(eda, old.id, "trash").status_code == 302
    assert _fresh(old).status == PostStatus.TRASH
    # Restore asks how the post comes back, naming the status it had.
    trash_page = boss.get("/admin/trash").get_data(as_text=True)
    restore_url = f"/admin/trash/posts/{old.id}/restore"
    assert restore_url in trash_page
    confirm = boss.get(restore_url)
    assert confirm.status_code == 200
    page = confirm.get_data(as_text=True)
    assert "Restore “Story old” as published?" in page
    assert 'value="published"' in page and 'value="draft"' in page
    token = csrf_from(page)
    assert boss.post(restore_url, data={"status": "draft"}).status_code == 400  # no CSRF token
    assert boss.post(restore_url, data={"status": "draft", "csrf_token": token}).status_code == 302
    restored = _fresh(old)
    assert restored.status == PostStatus.DRAFT and restored.published_at == first
    assert _action(eda, old.id, "publish").status_code == 302
    published = _fresh(old)
    assert published.status == PostStatus.PUBLISHED and published.published_at == first
    assert _home_titles(client)[:2] == ["Story new", "Story old"]


def test_restore_as_published_returns_the_post_to_its_place(app, client, two_stories):
    old, first = two_stories
    eda, boss = _as(app, "eda"), _as(app, "boss")
    assert _action(eda, old.id, "trash").status_code == 302
    restore_url = f"/admin/trash/posts/{old.id}/restore"
    token = csrf_from(boss.get(restore_url).get_data(as_text=True))
    response = boss.post(restore_url, data={"status": "published", "csrf_token": token})
    assert response.status_code == 302
    assert "published at its first date" in boss.get("/admin/trash").get_data(as_text=True)
    restored = _fresh(old)
    assert restored.status == PostStatus.PUBLISHED and restored.published_at == first
    assert restored.status_before_trash is None
    assert client.get(f"/health/{restored.slug}").status_code == 200
    assert _home_titles(client)[:2] == ["Story new", "Story old"]
    # A status it never had is refused.
    assert _action(eda, old.id, "trash").status_code == 302
    token = csrf_from(boss.get(restore_url).get_data(as_text=True))
    boss.post(restore_url, data={"status": "scheduled", "csrf_token": token})
    assert _fresh(old).status == PostStatus.TRASH


def test_a_trashed_scheduled_post_comes_back_scheduled_for_its_time(app, make, newsroom):
    later = utcnow() + timedelta(days=3)
    post = make.post(section=newsroom["health"], status=PostStatus.SCHEDULED, published_at=later)
    eda, boss = _as(app, "eda"), _as(app, "boss")
    assert _action(eda, post.id, "trash").status_code == 302
    restore_url = f"/admin/trash/posts/{post.id}/restore"
    page = boss.get(restore_url).get_data(as_text=True)
    assert "as scheduled?" in page and "scheduled for" in page
    boss.post(restore_url, data={"status": "scheduled", "csrf_token": csrf_from(page)})
    restored = _fresh(post)
    assert restored.status == PostStatus.SCHEDULED and restored.published_at == later


def test_a_trashed_draft_comes_back_a_draft_only(app, make, newsroom):
    draft = make.post(author=newsroom["ana"], section=newsroom["health"], status=PostStatus.DRAFT)
    ana, boss = _as(app, "ana"), _as(app, "boss")
    assert _action(ana, draft.id, "trash").status_code == 302
    page = boss.get(f"/admin/trash/posts/{draft.id}/restore").get_data(as_text=True)
    assert "as a draft?" in page and 'value="published"' not in page


def test_unpublish_then_publish_keeps_the_first_date(app, make, newsroom):
    first = utcnow() - timedelta(days=10)
    post = make.post(section=newsroom["health"], published_at=first)
    eda = _as(app, "eda")
    assert _action(eda, post.id, "unpublish").status_code == 302
    assert _fresh(post).published_at == first
    page = eda.get(f"/editor/posts/{post.id}/edit").get_data(as_text=True)
    assert f"First published <time datetime=\"{first.isoformat(timespec='seconds')}\"" in page
    assert _action(eda, post.id, "publish").status_code == 302
    assert _fresh(post).published_at == first


def test_a_scheduled_post_unpublished_before_its_time_is_dated_when_published(
    app, make, newsroom
):
    later = utcnow() + timedelta(days=3)
    post = make.post(section=newsroom["health"], status=PostStatus.SCHEDULED, published_at=later)
    eda = _as(app, "eda")
    assert _action(eda, post.id, "unpublish").status_code == 302
    assert _fresh(post).published_at is None
    before = utcnow()
    assert _action(eda, post.id, "publish").status_code == 302
    assert _fresh(post).published_at >= before


def test_scheduling_is_the_explicit_way_to_move_the_date(app, make, newsroom):
    post = make.post(section=newsroom["health"], published_at=utcnow() - timedelta(days=10))
    eda = _as(app, "eda")
    _page, token, version, _ = _edit_page(eda, post.id)
    when = (utcnow() + timedelta(days=2)).strftime("%Y-%m-%dT%H:%M")
    response = eda.post(
        f"/editor/posts/{post.id}/schedule",
        data={"csrf_token": token, "version": version, "publish_at": when},
    )
    assert response.status_code == 302
    moved = _fresh(post)
    assert moved.status == PostStatus.SCHEDULED and moved.published_at > utcnow()
