"""Bylines: an editor writes for someone, co-authors in order everywhere the byline shows."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import func, select

from blog.extensions import db
from blog.models import AuditEntry, Post, PostStatus
from blog.services import ServiceError, audit, bylines, desk
from blog.services.users import assign_sections, suspend

from .conftest import Auth, csrf_from


@pytest.fixture
def newsroom(make):
    """A Health section, two authors, a Health editor, an admin, a reader."""
    health = make.section("Health", slug="health")
    fashion = make.section("Fashion", slug="fashion")
    people = {
        "ana": make.user("author", username="ana", display_name="Ana Alves"),
        "ben": make.user("author", username="ben", display_name="Ben Brook"),
        "cyd": make.user("author", username="cyd", display_name="Cy Cole"),
        "hedda": make.user("editor", username="hedda", display_name="Hedda Hart"),
        "root": make.user("admin", username="root", display_name="Root Admin"),
        "rita": make.user("reader", username="rita", display_name="Rita Reader"),
    }
    assign_sections(people["hedda"], [health])
    return {"health": health, "fashion": fashion, **people}


def _as(app, username):
    client = app.test_client()
    assert Auth(client).login(username).status_code == 302
    return client


def _form(section, **overrides):
    data = {
        "title": "Night nurses",
        "body": "<p>At two the ward is quiet.</p>",
        "category": str(section.id),
        "tags": "",
    }
    data.update(overrides)
    return data


def _new(client, section, **overrides):
    token = csrf_from(client.get("/editor/posts/new").get_data(as_text=True))
    return client.post(
        "/editor/posts/new", data={**_form(section, **overrides), "csrf_token": token}
    )


def _save(client, post, section, **overrides):
    page = client.get(f"/editor/posts/{post.id}/edit").get_data(as_text=True)
    version = re.search(r'name="version" type="hidden" value="(\d+)"', page)[1]
    data = {**_form(section, **overrides), "csrf_token": csrf_from(page), "version": version}
    return client.post(f"/editor/posts/{post.id}/edit", data=data)


def _fresh(post_id) -> Post:
    db.session.expire_all()
    return db.session.get(Post, post_id)


def _only_post() -> Post:
    db.session.expire_all()
    return db.session.scalar(select(Post))


# -- Choosing the author and co-authors on the desk --------------------------------------------


def test_an_editor_writes_for_an_author_with_a_co_author(app, newsroom):
    hedda = _as(app, "hedda")
    page = hedda.get("/editor/posts/new").get_data(as_text=True)
    assert 'name="author"' in page and 'name="coauthors"' in page
    assert "Rita Reader" not in page  # readers cannot be chosen
    response = _new(hedda, newsroom["health"], author=str(newsroom["ana"].id), coauthors="ben")
    assert response.status_code == 302
    post = _only_post()
    assert [p.username for p in post.authors] == ["ana", "ben"]
    assert post.byline == "Ana Alves and Ben Brook"
    entries = list(db.session.scalars(select(AuditEntry).where(AuditEntry.action == "post.byline")))
    said = audit.sentences_for(entries)
    assert said[entries[0].id] == (
        "Hedda Hart changed the byline of “Night nurses” in Health: by Ana Alves and Ben Brook."
    )


def test_co_authors_keep_the_order_given_and_can_be_reordered(app, newsroom):
    root = _as(app, "root")
    _new(root, newsroom["health"], author=str(newsroom["ana"].id), coauthors="cyd, @ben")
    post = _only_post()
    assert post.byline == "Ana Alves, Cy Cole and Ben Brook"
    assert _save(root, post, newsroom["health"], author=str(post.author_id), coauthors="ben cyd")
    assert _fresh(post.id).byline == "Ana Alves, Ben Brook and Cy Cole"
    _save(root, post, newsroom["health"], author=str(post.author_id), coauthors="")
    assert _fresh(post.id).byline == "Ana Alves"


def test_an_author_may_not_choose_the_author(app, newsroom):
    ana = _as(app, "ana")
    page = ana.get("/editor/posts/new").get_data(as_text=True)
    assert 'name="author"' not in page and 'name="coauthors"' in page
    response = _new(ana, newsroom["health"], author=str(newsroom["ben"].id))
    assert response.status_code == 403
    assert db.session.scalar(select(func.count()).select_from(Post)) == 0


def test_an_author_names_co_authors_on_their_own_post_only(app, make, newsroom):
    ana = _as(app, "ana")
    assert _new(ana, newsroom["health"], coauthors="ben").status_code == 302
    assert _only_post().byline == "Ana Alves and Ben Brook"
    # Ben, a co-author, cannot edit Ana's draft, let alone change its byline.
    ben = _as(app, "ben")
    post = _only_post()
    assert ben.get(f"/editor/posts/{post.id}/edit").status_code == 404
    with pytest.raises(ServiceError, match="author or an editor"):
        bylines.set_people(newsroom["ben"], post, None, ["cyd"])


def test_an_editor_outside_the_section_may_not_choose_the_author(app, newsroom):
    fashion_post = desk.file_post(
        desk.PostDraft("Hems", "<p>Short.</p>", category_id=newsroom["fashion"].id),
        newsroom["ana"],
        status=PostStatus.PUBLISHED,
    )
    hedda = _as(app, "hedda")
    assert hedda.get(f"/editor/posts/{fashion_post.id}/edit").status_code == 403
    with pytest.raises(ServiceError, match="Only an editor"):
        bylines.set_people(newsroom["hedda"], fashion_post, newsroom["ben"].id, None)


@pytest.mark.parametrize(
    "coauthors,message",
    [
        ("nobody", "No one here has the username “nobody”."),
        ("rita", "“rita” cannot be named in a byline"),
        ("suspended", "“suspended” cannot be named in a byline"),
    ],
)
def test_unknown_or_ineligible_co_authors_are_refused(app, make, newsroom, coauthors, message):
    gone = make.user("author", username="suspended")
    suspend(newsroom["root"], gone, "Left")
    root = _as(app, "root")
    response = _new(root, newsroom["health"], coauthors=coauthors)
    assert response.status_code == 400
    assert message in response.get_data(as_text=True)
    assert db.session.scalar(select(func.count()).select_from(Post)) == 0


def test_a_reader_cannot_be_chosen_as_author(app, newsroom):
    root = _as(app, "root")
    response = _new(root, newsroom["health"], author=str(newsroom["rita"].id))
    assert response.status_code == 400
    assert "Choose an author who may write" in response.get_data(as_text=True)
