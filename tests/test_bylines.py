"""Bylines: an editor writes for someone, co-authors in order everywhere the byline shows."""

from __future__ import annotations

import json
import re

import pytest
from sqlalchemy import func, select

from blog.extensions import db
from blog.models import AuditEntry, Post, PostStatus, User
from blog.services import ServiceError, audit, bylines, desk
from blog.services.users import assign_sections, suspend

from .conftest import Auth, csrf_from
from .test_query_plans import _plan, many_posts  # noqa: F401  (the thousands of posts)


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


# -- The byline wherever readers meet it --------------------------------------------------------


@pytest.fixture
def trio_story(make, newsroom):
    """A published Health story by Ana with Cy and Ben, in that order."""
    return make.post(
        author=newsroom["ana"],
        section=newsroom["health"],
        title="Three voices",
        coauthors=["cyd", "ben"],
        tags=["care"],
    )


def test_the_article_names_everyone_in_order(client, trio_story):
    page = client.get(f"/health/{trio_story.slug}").get_data(as_text=True)
    byline = re.search(r'<p class="byline">\s*By (.*?) ·', page, re.S)[1]
    names = re.findall(r'<a href="/author/(\w+)">([^<]+)</a>', byline)
    assert names == [("ana", "Ana Alves"), ("cyd", "Cy Cole"), ("ben", "Ben Brook")]
    assert re.sub(r"<[^>]+>", "", byline).strip() == "Ana Alves, Cy Cole and Ben Brook"
    # One "about" box per person, in byline order.
    boxes = re.findall(r'class="author-box__name"><a href="/author/(\w+)"', page)
    assert boxes == ["ana", "cyd", "ben"]


def test_two_people_read_as_a_and_b(client, make, newsroom):
    post = make.post(author=newsroom["ben"], section=newsroom["health"], coauthors=["ana"])
    page = client.get(f"/health/{post.slug}").get_data(as_text=True)
    byline = re.search(r'<p class="byline">\s*By (.*?) ·', page, re.S)[1]
    assert re.sub(r"<[^>]+>", "", byline).strip() == "Ben Brook and Ana Alves"


def test_listing_cards_carry_the_whole_byline(client, trio_story):
    for url in ("/", "/category/health", "/tag/care"):
        page = client.get(url).get_data(as_text=True)
        assert (
            '<a href="/author/ana">Ana Alves</a>, <a href="/author/cyd">Cy Cole</a> and '
            '<a href="/author/ben">Ben Brook</a>' in page
        ), url


def test_json_ld_lists_every_author_as_a_person_in_order(client, trio_story):
    page = client.get(f"/health/{trio_story.slug}").get_data(as_text=True)
    raw = re.search(r'<script type="application/ld\+json">(.*?)</script>', page, re.S)[1]
    article = json.loads(raw)[0]
    assert [(p["@type"], p["name"]) for p in article["author"]] == [
        ("Person", "Ana Alves"),
        ("Person", "Cy Cole"),
        ("Person", "Ben Brook"),
    ]
    assert article["author"][1]["url"].endswith("/author/cyd")


def test_the_feed_has_an_author_element_per_person(client, trio_story):
    from xml.etree import ElementTree

    atom = "{http://www.w3.org/2005/Atom}"
    feed = ElementTree.fromstring(client.get("/feed.xml").data)
    entry = feed.find(f"{atom}entry")
    authors = [
        (a.findtext(f"{atom}name"), a.findtext(f"{atom}uri"))
        for a in entry.findall(f"{atom}author")
    ]
    assert [name for name, _ in authors] == ["Ana Alves", "Cy Cole", "Ben Brook"]
    assert authors[2][1].endswith("/author/ben")


def test_the_api_gives_authors_in_order_and_author_as_the_first(client, trio_story):
    post = client.get(f"/api/v1/posts/{trio_story.id}").get_json()["data"]
    assert post["author"]["username"] == "ana"
    assert [a["username"] for a in post["authors"]] == ["ana", "cyd", "ben"]
    listed = client.get("/api/v1/posts?author=ben").get_json()
    assert [p["id"] for p in listed["data"]] == [trio_story.id]


def test_each_authors_page_lists_the_story(client, trio_story):
    for username in ("ana", "cyd", "ben"):
        page = client.get(f"/author/{username}").get_data(as_text=True)
        assert "Three voices" in page, username
        assert "1 story" in page


def test_editor_writes_for_an_author_and_both_author_pages_list_it(app, client, newsroom):
    hedda = _as(app, "hedda")
    _new(hedda, newsroom["health"], author=str(newsroom["ana"].id), coauthors="ben")
    post = _only_post()
    page = hedda.get(f"/editor/posts/{post.id}/edit").get_data(as_text=True)
    publish = hedda.post(
        f"/editor/posts/{post.id}/publish",
        data={"csrf_token": csrf_from(page), "version": str(post.version)},
    )
    assert publish.status_code == 302
    for username in ("ana", "ben"):
        assert "Night nurses" in client.get(f"/author/{username}").get_data(as_text=True)
    assert client.get("/author/hedda").status_code == 404  # she wrote it for others


def _statements(client, queries, url):
    client.get(url)
    with queries() as statements:
        assert client.get(url).status_code == 200
    return statements


def test_the_author_page_runs_the_same_queries_for_5_and_50_stories(
    app, client, make, newsroom, queries
):
    app.config["POSTS_PER_PAGE"] = 60

    def add(count):
        for n in range(count):
            # Ana's own, and ones Ana co-wrote with Ben and Cy.
            if n % 2:
                make.post(author=newsroom["ana"], section=newsroom["health"], tags=[f"t{n}"])
            else:
                make.post(
                    author=newsroom["ben"], section=newsroom["health"], coauthors=["cyd", "ana"]
                )

    try:
        add(5)
        five = _statements(client, queries, "/author/ana")
        add(45)
        fifty = _statements(client, queries, "/author/ana")
        page = client.get("/author/ana").get_data(as_text=True)
    finally:
        app.config["POSTS_PER_PAGE"] = 10
    assert len(five) == len(fifty) <= 7, fifty
    assert "50 stories" in page


def test_a_suspended_author_or_co_author_stays_when_an_editor_saves(app, make, newsroom):
    post = make.post(author=newsroom["ana"], section=newsroom["health"], coauthors=["ben"])
    suspend(newsroom["root"], newsroom["ana"], "On leave")
    suspend(newsroom["root"], newsroom["ben"], "On leave")
    root = _as(app, "root")
    page = root.get(f"/editor/posts/{post.id}/edit").get_data(as_text=True)
    assert re.search(rf'<option selected value="{newsroom["ana"].id}">', page), "author kept"
    response = _save(
        root, post, newsroom["health"], author=str(newsroom["ana"].id), coauthors="ben"
    )
    assert response.status_code == 302
    assert [p.username for p in _fresh(post.id).authors] == ["ana", "ben"]
    # Naming them anew is another matter.
    response = _save(root, post, newsroom["health"], author=str(newsroom["cyd"].id))
    assert response.status_code == 302
    other = make.post(author=newsroom["cyd"], section=newsroom["health"])
    response = _save(root, other, newsroom["health"], author=str(newsroom["ana"].id))
    assert response.status_code == 400


@pytest.mark.usefixtures("many_posts")
def test_the_author_listing_reads_indexes_only():
    from blog.services import reading

    author = db.session.scalar(select(User).where(User.username == "prolific"))
    listing = reading.listing_query(author=author)
    plan = _plan(listing.with_only_columns(Post.id).limit(10).offset(40))
    if db.engine.dialect.name == "postgresql":
        assert "Seq Scan on posts" not in plan, plan
    else:
        assert "USING INDEX" in plan or "USING COVERING INDEX" in plan, plan
        assert "SCAN posts" not in plan, plan
        assert "USE TEMP B-TREE FOR ORDER BY" not in plan, plan
        assert "ix_post_coauthors_user_post" in plan, plan


def test_a_new_co_author_shows_at_once_on_cached_pages(app, client, make, trio_story, newsroom):
    app.config["PAGE_CACHE"] = True
    try:
        client.get("/health/three-voices")
        assert client.get("/health/three-voices").headers.get("X-Cache") == "HIT"
        post = _fresh(trio_story.id)
        bylines.set_people(newsroom["root"], post, None, ["ben"])
        db.session.commit()
        page = client.get("/health/three-voices").get_data(as_text=True)
    finally:
        app.config["PAGE_CACHE"] = False
    assert "Cy Cole" not in page and "Ben Brook" in page
