"""The writing desk: drafting, permissions, review, publishing, conflicts and revisions."""

from __future__ import annotations

import re
from dataclasses import replace
from datetime import datetime, timedelta

import pytest
from sqlalchemy import func, select

from blog import queue
from blog.extensions import db
from blog.models import Post, PostStatus, Revision, utcnow
from blog.services import ServiceError, desk
from blog.services.users import assign_sections

from .conftest import Auth, csrf_from


@pytest.fixture
def newsroom(make):
    """Two sections, two authors, a Health editor and a roaming admin."""
    health = make.section("Health", slug="health")
    fashion = make.section("Fashion", slug="fashion")
    people = {
        "ana": make.user("author", username="ana"),
        "ben": make.user("author", username="ben"),
        "hedda": make.user("editor", username="hedda"),
        "fay": make.user("editor", username="fay"),
        "root": make.user("admin", username="root"),
        "rita": make.user("reader", username="rita"),
    }
    assign_sections(people["hedda"], [health])
    assign_sections(people["fay"], [fashion])
    return {"health": health, "fashion": fashion, **people}


def _form(section, **overrides):
    data = {
        "title": "A careful story",
        "body": (
            "<h2>Start</h2><p>Once upon a time, with <a href='https://example.org'>a link</a>.</p>"
        ),
        "excerpt": "",
        "category": str(section.id),
        "tags": "care, time",
        "slug": "",
        "cover_media_id": "",
        "cover_alt": "",
        "seo_title": "",
        "seo_description": "",
    }
    data.update(overrides)
    return data


def _post_count() -> int:
    return db.session.scalar(select(func.count()).select_from(Post))


def _write(client, section, **overrides):
    token = csrf_from(client.get("/editor/posts/new").get_data(as_text=True))
    return client.post(
        "/editor/posts/new", data={**_form(section, **overrides), "csrf_token": token}
    )


def _edit_page(client, post_id):
    response = client.get(f"/editor/posts/{post_id}/edit")
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    version = re.search(r'name="version" type="hidden" value="(\d+)"', page)[1]
    return csrf_from(page), int(version)


def _save(client, post, section, version=None, token=None, **overrides):
    if token is None or version is None:
        token, version = _edit_page(client, post.id)
    data = {**_form(section, **overrides), "csrf_token": token, "version": str(version)}
    return client.post(f"/editor/posts/{post.id}/edit", data=data)


def _action(client, post, name, **data):
    token, version = _edit_page(client, post.id) if name != "publish-as-stranger" else ("", 0)
    return client.post(
        f"/editor/posts/{post.id}/{name}",
        data={"csrf_token": token, "version": str(version), **data},
    )


def _as(app, username):
    client = app.test_client()
    assert Auth(client).login(username).status_code == 302
    return client


def _fresh(post) -> Post:
    db.session.expire_all()
    return db.session.get(Post, post.id)


def test_author_writes_a_draft(app, newsroom):
    ana = _as(app, "ana")
    response = _write(ana, newsroom["health"])
    assert response.status_code == 302
    post = db.session.scalar(select(Post))
    assert response.headers["Location"] == f"/editor/posts/{post.id}/edit"
    assert post.status == PostStatus.DRAFT and post.author.username == "ana"
    assert post.slug == "a-careful-story"
    assert "<h2>Start</h2>" in post.body
    assert 'rel="nofollow noopener"' in post.body
    assert {t.name for t in post.tags} == {"care", "time"}
    assert db.session.scalar(select(func.count()).select_from(Revision)) == 1


@pytest.mark.parametrize(
    "overrides,reason",
    [
        ({"title": ""}, "This field is required"),
        ({"title": "x" * 201}, "200"),
        ({"slug": "Not A Slug!"}, "lower-case letters"),
        ({"slug": "-bad-"}, "lower-case letters"),
        ({"category": "99999"}, "section that exists"),
        ({"category": "abc"}, "Invalid Choice"),
        ({"cover_media_id": "IMAGE WITHOUT ALT", "cover_alt": ""}, "Describe the cover image"),
        ({"cover_media_id": "424242"}, "Choose a cover image from the media library"),
        ({"cover_media_id": "99999999999999999999"}, "Choose a cover image from the media library"),
        ({"cover_media_id": "/uploads/x.jpg"}, "Choose a cover image from the media library"),
        ({"category": "99999999999999999999"}, "Invalid Choice"),
    ],
)
def test_bad_input_comes_back_with_the_reason(app, make, newsroom, overrides, reason):
    if overrides.get("cover_media_id") == "IMAGE WITHOUT ALT":
        overrides = {**overrides, "cover_media_id": str(make.image(alt="").id)}
    ana = _as(app, "ana")
    response = _write(ana, newsroom["health"], **overrides)
    assert response.status_code == 400
    assert reason in response.get_data(as_text=True)
    assert _post_count() == 0


def test_a_taken_slug_is_refused(app, newsroom, make):
    make.post(section=newsroom["health"], title="Taken", slug="taken")
    ana = _as(app, "ana")
    response = _write(ana, newsroom["health"], slug="taken")
    assert response.status_code == 400
    assert "already has that slug" in response.get_data(as_text=True)
    assert _post_count() == 1


def test_readers_cannot_reach_the_desk(app, newsroom):
    rita = _as(app, "rita")
    assert rita.get("/editor/posts/new").status_code == 403
    assert app.test_client().get("/editor/posts/new").status_code == 302


def test_author_cannot_publish_even_by_forging_the_request(app, newsroom, make):
    post = make.post(author=newsroom["ana"], section=newsroom["health"], status=PostStatus.DRAFT)
    ana = _as(app, "ana")
    for action in ("publish", "schedule", "unpublish", "send-back"):
        response = _action(ana, post, action, publish_at="2099-01-01T10:00", note="x")
        assert response.status_code == 403, action
    assert _fresh(post).status == PostStatus.DRAFT


def test_author_cannot_feature_by_adding_the_field(app, newsroom, make):
    post = make.post(author=newsroom["ana"], section=newsroom["health"], status=PostStatus.DRAFT)
    ana = _as(app, "ana")
    assert _save(ana, post, newsroom["health"], featured="y").status_code == 302
    assert _fresh(post).featured is False


def test_authors_cannot_see_or_edit_each_others_work(app, newsroom, make):
    draft = make.post(author=newsroom["ben"], section=newsroom["health"], status=PostStatus.DRAFT)
    live = make.post(author=newsroom["ben"], section=newsroom["health"])
    ana = _as(app, "ana")
    for url in (
        f"/editor/posts/{draft.id}/edit",
        f"/editor/posts/{draft.id}/preview",
        f"/editor/posts/{draft.id}/revisions",
    ):
        assert ana.get(url).status_code == 404, url
    assert ana.get(f"/editor/posts/{live.id}/edit").status_code == 403
    token = csrf_from(ana.get("/editor/posts/new").get_data(as_text=True))
    forged = ana.post(
        f"/editor/posts/{draft.id}/edit",
        data={**_form(newsroom["health"], title="Hijacked"), "csrf_token": token, "version": "1"},
    )
    assert forged.status_code == 404
    assert _fresh(draft).title != "Hijacked"
    assert "Hijacked" not in ana.get("/editor/").get_data(as_text=True)


def test_review_then_publish_by_the_section_editor(app, client, newsroom, make):
    post = make.post(author=newsroom["ana"], section=newsroom["health"], status=PostStatus.DRAFT)
    ana = _as(app, "ana")
    assert _action(ana, post, "submit").status_code == 302
    assert _fresh(post).status == PostStatus.PENDING
    assert ana.get(f"/editor/posts/{post.id}/edit").status_code == 403  # with the desk now

    fay = _as(app, "fay")  # Fashion's editor
    assert fay.get(f"/editor/posts/{post.id}/edit").status_code == 404
    hedda = _as(app, "hedda")
    assert post.title in hedda.get("/editor/").get_data(as_text=True)
    assert _action(hedda, post, "publish").status_code == 302
    post = _fresh(post)
    assert post.status == PostStatus.PUBLISHED
    assert client.get(f"/health/{post.slug}").status_code == 200


def test_send_back_shows_the_note_to_the_author(app, newsroom, make):
    post = make.post(author=newsroom["ana"], section=newsroom["health"], status=PostStatus.PENDING)
    hedda = _as(app, "hedda")
    assert _action(hedda, post, "send-back", note="Please cite your sources.").status_code == 302
    assert _fresh(post).status == PostStatus.DRAFT
    ana = _as(app, "ana")
    assert "Please cite your sources." in ana.get("/editor/").get_data(as_text=True)


def test_schedule_goes_live_at_its_time_without_any_command(
    app, client, newsroom, make, monkeypatch
):
    post = make.post(author=newsroom["ana"], section=newsroom["health"], status=PostStatus.DRAFT)
    hedda = _as(app, "hedda")
    past = _action(hedda, post, "schedule", publish_at="2001-01-01T10:00")
    assert past.status_code == 302
    assert "Choose a time in the future" in hedda.get(past.headers["Location"]).get_data(
        as_text=True
    )
    assert _fresh(post).status == PostStatus.DRAFT

    when = (utcnow() + timedelta(hours=2)).strftime("%Y-%m-%dT%H:%M")
    assert _action(hedda, post, "schedule", publish_at=when).status_code == 302
    post = _fresh(post)
    assert post.status == PostStatus.SCHEDULED
    assert client.get(f"/health/{post.slug}").status_code == 404
    assert post.title not in client.get("/").get_data(as_text=True)

    later = utcnow() + timedelta(hours=3)
    import blog.models.content as content
    import blog.services.reading as reading

    monkeypatch.setattr(reading, "utcnow", lambda: later)
    monkeypatch.setattr(content, "utcnow", lambda: later)
    assert client.get(f"/health/{post.slug}").status_code == 200
    assert post.title in client.get("/").get_data(as_text=True)


def test_publish_due_command_flips_the_status(runner, newsroom, make):
    post = make.post(
        author=newsroom["ana"],
        section=newsroom["health"],
        status=PostStatus.SCHEDULED,
        published_at=utcnow() - timedelta(minutes=1),
    )
    result = runner.invoke(args=["publish-due"])
    assert result.exit_code == 0 and "Published 1 scheduled post." in result.output
    assert _fresh(post).status == PostStatus.PUBLISHED


def test_unpublish_and_trash(app, client, newsroom, make):
    post = make.post(author=newsroom["ana"], section=newsroom["health"])
    hedda = _as(app, "hedda")
    assert _action(hedda, post, "unpublish").status_code == 200  # the confirmation page
    assert _fresh(post).status == PostStatus.PUBLISHED
    assert _action(hedda, post, "unpublish", confirmed="1").status_code == 302
    assert _fresh(post).status == PostStatus.DRAFT
    assert client.get(f"/health/{post.slug}").status_code == 404
    assert _action(hedda, post, "trash", confirmed="1").status_code == 302
    assert _fresh(post).status == PostStatus.TRASH


def test_two_editors_saving_the_same_post_get_a_conflict(app, newsroom, make):
    post = make.post(author=newsroom["ana"], section=newsroom["health"], status=PostStatus.DRAFT)
    hedda, root = _as(app, "hedda"), _as(app, "root")
    hedda_token, hedda_version = _edit_page(hedda, post.id)
    root_token, root_version = _edit_page(root, post.id)

    first = _save(
        hedda,
        post,
        newsroom["health"],
        hedda_version,
        hedda_token,
        body="<p>Hedda's careful words.</p>",
    )
    assert first.status_code == 302
    second = _save(
        root,
        post,
        newsroom["health"],
        root_version,
        root_token,
        body="<p>Root's competing words.</p>",
    )
    page = second.get_data(as_text=True)
    assert second.status_code == 409
    assert "Someone else saved this post" in page
    assert "Hedda&#39;s careful words." in page or "Hedda's careful words." in page
    assert "competing words" in page
    assert "Hedda's careful words." in _fresh(post).body  # nothing overwritten


def test_revisions_compare_and_restore(app, newsroom, make):
    post = make.post(
        author=newsroom["ana"],
        section=newsroom["health"],
        status=PostStatus.DRAFT,
        body="<p>The first telling.</p>",
    )
    ana = _as(app, "ana")
    assert (
        _save(ana, post, newsroom["health"], body="<p>The second telling.</p>").status_code == 302
    )
    revisions = db.session.scalars(
        select(Revision).where(Revision.post_id == post.id).order_by(Revision.id)
    ).all()
    assert len(revisions) == 2
    page = ana.get(f"/editor/posts/{post.id}/revisions").get_data(as_text=True)
    assert "ana" in page.lower() and "Saved" in page
    diff = ana.get(
        f"/editor/posts/{post.id}/revisions/compare?a={revisions[0].id}&b={revisions[1].id}"
    ).get_data(as_text=True)
    assert "<del>first</del>" in diff and "<ins>second</ins>" in diff

    token, version = _edit_page(ana, post.id)
    restored = ana.post(
        f"/editor/posts/{post.id}/revisions/{revisions[0].id}/restore",
        data={"csrf_token": token, "version": str(version)},
    )
    assert restored.status_code == 302
    assert "The first telling." in _fresh(post).body
    assert (
        db.session.scalar(
            select(func.count()).select_from(Revision).where(Revision.post_id == post.id)
        )
        == 3
    )


def test_autosave_keeps_a_draft_and_returns_the_new_version(app, newsroom, make):
    post = make.post(author=newsroom["ana"], section=newsroom["health"], status=PostStatus.DRAFT)
    ana = _as(app, "ana")
    token, version = _edit_page(ana, post.id)
    data = {**_form(newsroom["health"], body="<p>Typed so far</p>"), "version": str(version)}
    reply = ana.post(f"/editor/posts/{post.id}/autosave", data=data, headers={"X-CSRFToken": token})
    assert reply.status_code == 200
    assert reply.get_json()["version"] == version + 1
    assert "Typed so far" in _fresh(post).body
    data["version"] = str(version + 1)
    data["body"] = "<p>Typed a little more</p>"
    again = ana.post(f"/editor/posts/{post.id}/autosave", data=data, headers={"X-CSRFToken": token})
    assert again.status_code == 200
    autosaves = db.session.scalars(
        select(Revision).where(Revision.post_id == post.id, Revision.note == "Autosave")
    ).all()
    assert len(autosaves) == 1  # folded into one revision
    stale = ana.post(
        f"/editor/posts/{post.id}/autosave",
        data={**data, "version": "1"},
        headers={"X-CSRFToken": token},
    )
    assert stale.status_code == 409


def test_autosave_of_a_live_post_does_not_change_what_readers_see(app, client, newsroom, make):
    post = make.post(author=newsroom["ana"], section=newsroom["health"], body="<p>Live text.</p>")
    hedda = _as(app, "hedda")
    token, version = _edit_page(hedda, post.id)
    data = {
        **_form(newsroom["health"], title=post.title, body="<p>Half-finished edit</p>"),
        "version": str(version),
    }
    assert (
        hedda.post(
            f"/editor/posts/{post.id}/autosave", data=data, headers={"X-CSRFToken": token}
        ).status_code
        == 200
    )
    assert "Live text." in client.get(f"/health/{post.slug}").get_data(as_text=True)
    assert "autosaved changes" in hedda.get(f"/editor/posts/{post.id}/edit").get_data(as_text=True)


def test_autosave_needs_the_csrf_token(app, newsroom, make):
    post = make.post(author=newsroom["ana"], section=newsroom["health"], status=PostStatus.DRAFT)
    ana = _as(app, "ana")
    reply = ana.post(f"/editor/posts/{post.id}/autosave", data=_form(newsroom["health"]))
    assert reply.status_code == 400


def test_preview_and_shareable_link(app, newsroom, make):
    post = make.post(
        author=newsroom["ana"],
        section=newsroom["health"],
        status=PostStatus.DRAFT,
        title="Unreleased",
        body="<p>Secret words.</p>",
    )
    ana = _as(app, "ana")
    page = ana.get(f"/editor/posts/{post.id}/preview").get_data(as_text=True)
    assert "Secret words." in page and "Preview." in page
    token = csrf_from(page)
    shared = ana.post(f"/editor/posts/{post.id}/share", data={"csrf_token": token})
    link = re.search(
        r'href="http://localhost(/editor/preview/[^"]+)"', shared.get_data(as_text=True)
    )[1]
    stranger = app.test_client()
    assert "Secret words." in stranger.get(link).get_data(as_text=True)
    assert stranger.get(link[:-4] + "abcd").status_code == 404
    assert stranger.get(f"/health/{post.slug}").status_code == 404

    import blog.services.publishing as publishing

    with app.test_request_context():
        expired = publishing._preview_signer().dumps({"post": post.id})
    from unittest import mock

    with mock.patch.object(publishing, "PREVIEW_MAX_AGE", timedelta(seconds=-1)):
        assert stranger.get(f"/editor/preview/{expired}").status_code == 404


def test_changing_a_published_posts_slug_or_section_keeps_old_links(app, client, newsroom, make):
    post = make.post(author=newsroom["ana"], section=newsroom["health"], title="Moving story")
    root = _as(app, "root")
    response = _save(root, post, newsroom["fashion"], title="Moving story", slug="moved-story")
    assert response.status_code == 302
    old = client.get("/health/moving-story")
    assert old.status_code == 301 and old.headers["Location"] == "/fashion/moved-story"


def test_section_editor_cannot_move_a_post_out_of_reach(app, newsroom, make):
    post = make.post(author=newsroom["ana"], section=newsroom["health"])
    hedda = _as(app, "hedda")
    response = _save(hedda, post, newsroom["fashion"], title=post.title)
    assert response.status_code == 403
    assert _fresh(post).category_id == newsroom["health"].id


def test_dashboard_lists(app, newsroom, make):
    make.post(
        author=newsroom["ana"],
        section=newsroom["health"],
        status=PostStatus.DRAFT,
        title="Ana draft",
    )
    make.post(
        author=newsroom["ana"],
        section=newsroom["health"],
        status=PostStatus.PENDING,
        title="Ana pending",
    )
    make.post(
        author=newsroom["ben"],
        section=newsroom["fashion"],
        status=PostStatus.PENDING,
        title="Ben fashion pending",
    )
    page = _as(app, "ana").get("/editor/").get_data(as_text=True)
    assert "Ana draft" in page and "Ana pending" in page and "Ben fashion" not in page
    hedda = _as(app, "hedda").get("/editor/").get_data(as_text=True)
    assert "Ana pending" in hedda and "Ben fashion pending" not in hedda
    assert "You edit Health" in hedda


def test_due_posts_are_marked_published_by_the_workers_clock(app, client, newsroom, make):
    post = make.post(
        author=newsroom["ana"],
        section=newsroom["health"],
        status=PostStatus.SCHEDULED,
        published_at=utcnow() - timedelta(seconds=5),
    )
    assert client.get("/").status_code == 200  # a request no longer flips anything
    assert _fresh(post).status == PostStatus.SCHEDULED
    huey = queue.huey_of(app)
    # The queue's own clock: which periodic jobs are due at some minute, run as a worker would.
    due = huey.read_periodic(datetime(2026, 12, 2, 9, 41))
    assert "posts.publish_due" in {task.name for task in due}
    for task in due:
        if task.name == "posts.publish_due":
            huey.execute(task)
    assert _fresh(post).status == PostStatus.PUBLISHED


def test_the_system_files_posts_under_the_nearest_free_slug(newsroom, make):
    first = make.post(section=newsroom["health"], title="Same title")
    second = make.post(section=newsroom["fashion"], title="Same title", slug="same-title")
    assert (first.slug, second.slug) == ("same-title", "same-title-2")
    assert [r.note for r in desk.revisions_of(second)] == ["First draft"]


def test_refiling_a_published_post_elsewhere_keeps_its_old_address(client, newsroom, make):
    """An import run again moves a live post through the same writer: the same 301 rule."""
    post = make.post(author=newsroom["ana"], section=newsroom["health"], title="Imported story")
    old = f"/health/{post.slug}"
    moved = replace(desk.draft_of(post), category_id=newsroom["fashion"].id, slug="refiled")
    desk.file_post(moved, newsroom["ana"], status=PostStatus.PUBLISHED, post=post)
    response = client.get(old)
    assert response.status_code == 301 and response.headers["Location"] == "/fashion/refiled"
    assert client.get("/fashion/refiled").status_code == 200


def test_a_refused_save_changes_nothing(newsroom, make):
    taken = make.post(section=newsroom["health"], title="Taken story")
    post = make.post(author=newsroom["ana"], section=newsroom["health"], title="Kept title")
    draft = replace(desk.draft_of(post), title="A new title", slug=taken.slug)
    with pytest.raises(ServiceError, match="already has that slug"):
        desk.save_post(newsroom["root"], post, draft, post.version)
    db.session.commit()  # a later commit in the same request must not carry the half-save
    assert _fresh(post).title == "Kept title"
    assert [r.note for r in desk.revisions_of(post)] == ["First draft"]

