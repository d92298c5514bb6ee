"""A save the desk cannot accept never throws the text away (issue 12, the keeper's server side).

Each refusal answers the desk's script with a clear status and a JSON reason it acts on,
and the form sent without the script gets its text back on the page. Two saves racing on
one post end as one save and one conflict, never a crash.
"""

from __future__ import annotations

import threading

from sqlalchemy import func, select
from sqlalchemy.exc import OperationalError

from blog.extensions import db
from blog.models import Post, PostStatus, User
from blog.services import desk, publishing, sessions

from .conftest import csrf_from
from .test_desk import _as, _edit_page, _form, _fresh

JSON = {"Accept": "application/json"}
TEXT = "<p>Words the writer must not lose.</p>"


def _send(client, url, token, version=None, **fields):
    """Post the desk's form as keeper.js does: CSRF header, asking for JSON."""
    data = {**_form(fields.pop("section")), "body": TEXT, **fields, "csrf_token": token}
    if version is not None:
        data["version"] = str(version)
    return client.post(url, data=data, headers={**JSON, "X-CSRFToken": token})


def _post_count() -> int:
    return db.session.scalar(select(func.count()).select_from(Post))


def test_a_new_posts_first_autosave_creates_the_draft_and_says_where_to_go(app, desk_people):
    ana = _as(app, "ana")
    token = _edit_page_token(ana)
    reply = _send(ana, "/editor/posts/draft.json", token, section=desk_people["health"], title="")
    assert reply.status_code == 201
    answer = reply.get_json()
    post = _fresh_id(answer["post_id"])
    assert answer["edit_url"] == f"/editor/posts/{post.id}/edit"
    assert answer["autosave_url"] == f"/editor/posts/{post.id}/autosave"
    assert answer["version"] == post.version
    assert post.title == "Untitled draft"  # typed a body before a title: still kept
    assert post.body == TEXT and post.author_id == desk_people["ana"].id

    # The version it answered is current: saving with it is no conflict with oneself.
    again = _send(
        ana, answer["autosave_url"], token, answer["version"], section=desk_people["health"]
    )
    assert again.status_code == 200
    saved = _send(
        ana,
        answer["edit_url"],
        token,
        again.get_json()["version"],
        section=desk_people["health"],
        title="Named at last",
    )
    assert saved.status_code == 200, saved.get_json()
    assert _fresh_id(post.id).title == "Named at last"


def test_signed_out_in_another_tab_autosave_answers_401_not_the_sign_in_page(
    app, desk_people, ana_draft
):
    ana = _as(app, "ana")
    token, version = _edit_page(ana, ana_draft.id)
    other_tab = ana  # the same browser: signing out clears the shared cookie
    other_tab.post("/logout", data={"csrf_token": token})

    reply = _send(
        ana, f"/editor/posts/{ana_draft.id}/autosave", token, version, section=desk_people["health"]
    )
    assert reply.status_code == 401
    error = reply.get_json()["error"]
    assert error["reason"] == "signed_out"
    assert error["message"].startswith("You were signed out. Sign in again in a new tab")
    assert error["sign_in_url"] == "/login"
    assert _fresh(ana_draft).body == "<p>Yesterday's words.</p>"


def test_a_session_ended_elsewhere_answers_401_to_a_script_and_keeps_a_forms_text(
    app, desk_people, ana_draft
):
    ana = _as(app, "ana")
    token, version = _edit_page(ana, ana_draft.id)
    sessions.end_every_session(db.session.get(User, desk_people["ana"].id))  # password changed
    db.session.commit()

    # The form sent without the script: a page that says so and shows the text, no redirect.
    data = {**_form(desk_people["health"]), "body": TEXT, "csrf_token": token, "version": version}
    page = ana.post(f"/editor/posts/{ana_draft.id}/edit", data=data)
    assert page.status_code == 401
    html = page.get_data(as_text=True)
    assert "You were signed out" in html and 'target="_blank"' in html
    assert "Words the writer must not lose." in html

    # The script, from then on: a 401 in JSON, never the sign-in page.
    reply = _send(
        ana, f"/editor/posts/{ana_draft.id}/autosave", token, version, section=desk_people["health"]
    )
    assert reply.status_code == 401 and reply.get_json()["error"]["reason"] == "signed_out"
    assert _fresh(ana_draft).body == "<p>Yesterday's words.</p>"


def test_an_expired_csrf_token_is_renewed_by_the_script(app, desk_people, ana_draft):
    ana = _as(app, "ana")
    _, version = _edit_page(ana, ana_draft.id)
    stale = _send(
        ana,
        f"/editor/posts/{ana_draft.id}/autosave",
        "not-the-token",
        version,
        section=desk_people["health"],
    )
    assert stale.status_code == 400
    assert stale.get_json()["error"]["reason"] == "csrf"

    fresh = ana.get("/editor/csrf.json", headers=JSON)
    assert fresh.status_code == 200 and "no-store" in fresh.headers["Cache-Control"]
    retried = _send(
        ana,
        f"/editor/posts/{ana_draft.id}/autosave",
        fresh.get_json()["csrf_token"],
        version,
        section=desk_people["health"],
    )
    assert retried.status_code == 200
    assert _fresh(ana_draft).body == TEXT


def test_the_token_endpoint_answers_401_when_signed_out(client):
    reply = client.get("/editor/csrf.json", headers=JSON)
    assert reply.status_code == 401
    assert reply.get_json()["error"]["reason"] == "signed_out"


def test_an_author_whose_post_was_published_meanwhile_keeps_the_text_as_a_new_draft(
    app, desk_people, ana_draft
):
    ana = _as(app, "ana")
    token, version = _edit_page(ana, ana_draft.id)
    publishing.publish_now(desk_people["hedda"], _fresh(ana_draft))

    reply = _send(
        ana, f"/editor/posts/{ana_draft.id}/autosave", token, version, section=desk_people["health"]
    )
    assert reply.status_code == 403
    error = reply.get_json()["error"]
    assert error["reason"] == "forbidden"
    assert "This post is published now, so you can no longer change it." in error["message"]
    assert error["post_url"] == f"/health/{ana_draft.slug}"
    assert error["copy_url"] == "/editor/posts/draft.json"

    copied = _send(
        ana,
        error["copy_url"],
        token,
        section=desk_people["health"],
        copy_of=str(ana_draft.id),
        slug=ana_draft.slug,
    )
    assert copied.status_code == 201
    copy = _fresh_id(copied.get_json()["post_id"])
    assert copy.id != ana_draft.id and copy.status == PostStatus.DRAFT
    assert copy.body == TEXT and copy.author_id == desk_people["ana"].id
    assert copy.slug != ana_draft.slug  # the published post keeps its address
    assert _fresh(ana_draft).body == "<p>Yesterday's words.</p>"


def test_without_the_script_a_refused_save_comes_back_as_a_new_post_form(
    app, desk_people, ana_draft
):
    ana = _as(app, "ana")
    token, version = _edit_page(ana, ana_draft.id)
    publishing.publish_now(desk_people["hedda"], _fresh(ana_draft))
    data = {**_form(desk_people["health"]), "body": TEXT, "csrf_token": token, "version": version}
    page = ana.post(f"/editor/posts/{ana_draft.id}/edit", data=data)
    assert page.status_code == 403
    html = page.get_data(as_text=True)
    assert "This post is published now" in html
    assert 'action="/editor/posts/new"' in html
    assert "Words the writer must not lose." in html


def test_a_stale_version_is_a_409_with_the_current_version(app, desk_people, ana_draft):
    ana = _as(app, "ana")
    token, version = _edit_page(ana, ana_draft.id)
    hedda = _as(app, "hedda")
    h_token, h_version = _edit_page(hedda, ana_draft.id)
    _send(
        hedda,
        f"/editor/posts/{ana_draft.id}/autosave",
        h_token,
        h_version,
        section=desk_people["health"],
        body="<p>Hedda's words.</p>",
    )

    for url in (f"/editor/posts/{ana_draft.id}/autosave", f"/editor/posts/{ana_draft.id}/edit"):
        reply = _send(ana, url, token, version, section=desk_people["health"])
        assert reply.status_code == 409
        error = reply.get_json()["error"]
        assert error["reason"] == "conflict" and error["current_version"] == version + 1
        assert error["revisions_url"] == f"/editor/posts/{ana_draft.id}/revisions"
    assert _fresh(ana_draft).body == "<p>Hedda's words.</p>"


def _full(*args, **kwargs):
    raise OperationalError("UPDATE posts", {}, Exception("database or disk is full"))


def test_a_full_database_answers_507_and_the_form_keeps_its_text(
    app, desk_people, ana_draft, monkeypatch
):
    ana = _as(app, "ana")
    token, version = _edit_page(ana, ana_draft.id)
    monkeypatch.setattr(desk, "_keep_revision", _full)

    reply = _send(
        ana, f"/editor/posts/{ana_draft.id}/autosave", token, version, section=desk_people["health"]
    )
    assert reply.status_code == 507
    error = reply.get_json()["error"]
    assert error["reason"] == "storage_full"
    assert error["message"] == (
        "The server could not store your text (storage is full). "
        "Your text is kept in this browser; try again later."
    )
    data = {**_form(desk_people["health"]), "body": TEXT, "csrf_token": token, "version": version}
    page = ana.post(f"/editor/posts/{ana_draft.id}/edit", data=data)
    assert page.status_code == 507
    html = page.get_data(as_text=True)
    assert "storage is full" in html and "Words the writer must not lose." in html
    assert _fresh(ana_draft).body == "<p>Yesterday's words.</p>"


def test_an_unexpected_error_is_a_500_in_json_for_the_script(
    app, desk_people, ana_draft, monkeypatch
):
    ana = _as(app, "ana")
    token, version = _edit_page(ana, ana_draft.id)

    def crash(*args, **kwargs):
        raise RuntimeError("a bug")

    monkeypatch.setattr(desk, "_keep_revision", crash)
    reply = _send(
        ana, f"/editor/posts/{ana_draft.id}/autosave", token, version, section=desk_people["health"]
    )
    assert reply.status_code == 500
    assert reply.get_json()["error"]["reason"] == "server_error"


def test_racing_saves_of_one_post_end_as_one_save_and_conflicts_never_a_crash(
    app, desk_people, ana_draft
):
    """Two people (threads with their own sessions) save the same version at once."""
    outcomes: list[str] = []
    start = threading.Barrier(2)
    ids = {"post": ana_draft.id, "ana": desk_people["ana"].id, "hedda": desk_people["hedda"].id}
    section_id = desk_people["health"].id

    def write(who: str, save, round_: int) -> None:
        with app.app_context():
            try:
                actor = db.session.get(User, ids[who])
                post = desk.get_post_for(actor, ids["post"], edit=True)
                draft_text = desk.PostDraft(
                    title=f"{who}'s title {round_}",
                    body=f"<p>{who}, round {round_}</p>",
                    category_id=section_id,
                )
                version = post.version
                start.wait(timeout=10)
                save(actor, post, draft_text, version)
                outcomes.append("saved")
            except desk.Conflict:
                outcomes.append("conflict")
            except Exception as exc:  # what the issue saw: StaleDataError, a 500
                outcomes.append(f"crash: {exc!r}")
            finally:
                db.session.remove()

    for round_ in range(10):
        threads = [
            threading.Thread(target=write, args=("ana", desk.autosave, round_)),
            threading.Thread(target=write, args=("hedda", desk.save_post, round_)),
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=30)
        start.reset()
    crashes = [outcome for outcome in outcomes if outcome.startswith("crash")]
    assert not crashes, crashes
    # Both were based on the same version: each round one save goes through, one is told.
    assert outcomes.count("saved") == 10 and outcomes.count("conflict") == 10


def _edit_page_token(client) -> str:
    """The CSRF token of the new-post page."""
    return csrf_from(client.get("/editor/posts/new").get_data(as_text=True))


def _fresh_id(post_id: int) -> Post:
    """The post as the database has it now."""
    db.session.expire_all()
    return db.session.get(Post, post_id)
