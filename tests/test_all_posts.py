"""All posts: who sees what, search and filters, pages, counts, bulk actions, confirmations."""

from __future__ import annotations

import re

import pytest

from blog.extensions import db
from blog.models import Post, PostStatus
from blog.services import desk
from blog.services.users import assign_sections

from .conftest import Auth, csrf_from


@pytest.fixture
def room(make):
    """Health and Fashion; an author, a Health editor, an editor of all, an admin; four posts."""
    health = make.section("Health", slug="health")
    fashion = make.section("Fashion", slug="fashion")
    culture = make.section("Culture", slug="culture")
    ana = make.user("author", username="ana")
    ben = make.user("author", username="ben")
    hedda = make.user("editor", username="hedda")
    eve = make.user("editor", username="eve")  # no sections assigned: every section
    root = make.user("admin", username="root")
    assign_sections(hedda, [health])
    db.session.commit()
    posts = {
        "A": make.post(author=ana, section=health, status=PostStatus.DRAFT, title="Ana draft"),
        "B": make.post(author=ben, section=fashion, status=PostStatus.DRAFT, title="Ben draft"),
        "C": make.post(author=ben, section=health, title="Ben health story"),
        "D": make.post(author=ben, section=fashion, title="Ben fashion story"),
    }
    return {"health": health, "fashion": fashion, "culture": culture, "ana": ana,
            "ben": ben, "hedda": hedda, "eve": eve, "root": root, **posts}


def _as(app, username):
    client = app.test_client()
    assert Auth(client).login(username).status_code == 302
    return client


def _titles(html: str) -> set[str]:
    return set(re.findall(r'<td data-label="Title">\s*<a href="[^"]*">([^<]*)</a>', html))


def _bulk(client, posts, action, confirmed=True, **extra):
    token = csrf_from(client.get("/editor/posts").get_data(as_text=True))
    data = {"csrf_token": token, "action": action, "post": [str(p.id) for p in posts], **extra}
    if confirmed:
        data["confirmed"] = "1"
    return client.post("/editor/posts/bulk", data=data)


# -- Who sees what ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("who", "seen"),
    [
        ("ana", {"Ana draft"}),
        ("hedda", {"Ana draft", "Ben health story"}),
        ("eve", {"Ana draft", "Ben draft", "Ben health story", "Ben fashion story"}),
        ("root", {"Ana draft", "Ben draft", "Ben health story", "Ben fashion story"}),
    ],
)
def test_all_posts_lists_what_each_person_may_see(app, room, who, seen):
    html = _as(app, who).get("/editor/posts").get_data(as_text=True)
    assert _titles(html) == seen
    assert f"All <span class=\"status-tabs__count\">({len(seen)})</span>" in html


def test_search_filters_sort_and_counts(app, room, make):
    old = make.post(author=room["ben"], section=room["health"], title="The Tailor on Market Street",
                    body="<p>Needles and thread since 1952.</p>", tags=["craft"])
    make.post(author=room["ben"], section=room["fashion"], title="Another tailor",
              status=PostStatus.DRAFT)
    root = _as(app, "root")
    by_title = root.get("/editor/posts?q=TAILOR").get_data(as_text=True)
    assert _titles(by_title) == {"The Tailor on Market Street", "Another tailor"}
    by_body = root.get("/editor/posts?q=needles+thread").get_data(as_text=True)
    assert _titles(by_body) == {old.title}
    assert _titles(root.get("/editor/posts?q=tailor&section=health").get_data(as_text=True)) == {
        old.title
    }
    assert _titles(root.get("/editor/posts?tag=craft").get_data(as_text=True)) == {old.title}
    assert _titles(root.get("/editor/posts?author=ana").get_data(as_text=True)) == {"Ana draft"}
    drafts = root.get("/editor/posts?q=tailor&status=draft").get_data(as_text=True)
    assert _titles(drafts) == {"Another tailor"}
    # The counts follow the search: one tailor draft, one published, none in the trash.
    assert 'Drafts <span class="status-tabs__count">(1)</span>' in drafts
    assert 'Published <span class="status-tabs__count">(1)</span>' in drafts
    assert 'Trash <span class="status-tabs__count">(0)</span>' in drafts
    by_name = root.get("/editor/posts?sort=title").get_data(as_text=True)
    order = re.findall(r'<td data-label="Title">\s*<a href="[^"]*">([^<]*)</a>', by_name)
    assert order == sorted(order, key=str.lower)


def test_trash_has_its_own_tab(app, room):
    root = _as(app, "root")
    assert _bulk(root, [room["D"]], "trash").status_code == 302
    assert "Ben fashion story" not in _titles(root.get("/editor/posts").get_data(as_text=True))
    trash = root.get("/editor/posts?status=trash").get_data(as_text=True)
    assert _titles(trash) == {"Ben fashion story"}


def test_pages_are_numbered_and_differ(app, room, make, monkeypatch):
    from blog.editor import views

    monkeypatch.setattr(views, "POSTS_PER_PAGE", 3)
    for n in range(5):
        make.post(author=room["ben"], section=room["health"], title=f"Older story {n}")
    root = _as(app, "root")
    first = _titles(root.get("/editor/posts?sort=title").get_data(as_text=True))
    second_page = root.get("/editor/posts?sort=title&page=2").get_data(as_text=True)
    assert len(first) == 3 and _titles(second_page) and not first & _titles(second_page)
    assert 'aria-label="Page 3"' in second_page and "sort=title" in second_page
    assert root.get("/editor/posts?page=x").status_code == 404


def test_the_desk_leads_to_older_published_posts(app, room):
    root = _as(app, "root")
    desk_page = root.get("/editor/").get_data(as_text=True)
    assert "/editor/posts?status=published" in desk_page.replace("&amp;", "&")
    moved = root.get("/editor/?page=2")
    assert moved.status_code == 302
    assert "/editor/posts?" in moved.location and "page=2" in moved.location


def test_all_posts_runs_the_same_queries_for_5_and_50_rows(app, room, make, queries):
    counts = []
    for rows in (5, 50):
        for n in range(rows - len(db.session.scalars(db.select(Post)).all())):
            author = make.user("author")
            make.post(author=author, section=make.section(), tags=[f"t{n}", "shared"])
        client = _as(app, "root")
        assert client.get("/editor/posts").status_code == 200  # settings cached, as when warm
        with queries() as statements:
            html = client.get("/editor/posts").get_data(as_text=True)
        assert len(_titles(html)) == rows
        counts.append(len(statements))
    assert counts[0] == counts[1], counts
    assert counts[0] < 20, counts


# -- Bulk actions, per role and section scope ------------------------------------------------

EVERYONE = {"A", "B", "C", "D"}
MATRIX = {
    # action: {who: the posts it is done to, of A (Ana's Health draft), B (Ben's Fashion
    # draft), C (Ben's live Health story), D (Ben's live Fashion story)}
    "submit": {"ana": {"A"}, "hedda": {"A"}, "eve": {"A", "B"}, "root": {"A", "B"}},
    "publish": {"ana": set(), "hedda": {"A", "C"}, "eve": EVERYONE, "root": EVERYONE},
    "unpublish": {"ana": set(), "hedda": {"C"}, "eve": {"C", "D"}, "root": {"C", "D"}},
    "trash": {"ana": {"A"}, "hedda": {"A", "C"}, "eve": EVERYONE, "root": EVERYONE},
    "move": {"ana": {"A"}, "hedda": set(), "eve": EVERYONE, "root": EVERYONE},
    "tag": {"ana": {"A"}, "hedda": {"A", "C"}, "eve": EVERYONE, "root": EVERYONE},
}
EFFECT = {
    "submit": lambda post, room: post.status == PostStatus.PENDING,
    "publish": lambda post, room: post.status == PostStatus.PUBLISHED,
    "unpublish": lambda post, room: post.status == PostStatus.DRAFT,
    "trash": lambda post, room: post.status == PostStatus.TRASH,
    "move": lambda post, room: post.category_id == room["culture"].id,
    "tag": lambda post, room: "Checked" in [t.name for t in post.tags],
}
BEFORE = {
    "submit": {"C", "D"},  # already not drafts: the effect (pending) is absent on all
    "publish": {"C", "D"},
    "unpublish": {"A", "B"},
    "trash": set(),
    "move": set(),
    "tag": set(),
}


@pytest.mark.parametrize("who", ["ana", "hedda", "eve", "root"])
@pytest.mark.parametrize("action", list(MATRIX))
def test_every_bulk_action_per_role_and_scope(app, room, who, action):
    client = _as(app, who)
    posts = [room[k] for k in "ABCD"]
    extra = {"section": str(room["culture"].id)} if action == "move" else {}
    if action == "tag":
        extra = {"tag": "Checked"}
    response = _bulk(client, posts, action, **extra)
    assert response.status_code == 302
    db.session.expire_all()
    expected = MATRIX[action][who]
    changed = {k for k in "ABCD" if EFFECT[action](db.session.get(Post, room[k].id), room)}
    # Posts already in the target state (a published story "published" again) count as done.
    assert changed - (BEFORE[action] if action in ("publish", "unpublish") else set()) == (
        expected - (BEFORE[action] if action in ("publish", "unpublish") else set())
    )
    page = client.get("/editor/posts").get_data(as_text=True)
    if expected:
        assert f"Done for {len(expected)} post" in page
    # Each post seen but refused is named with the reason.
    seen = {k for k in "ABCD" if k != "B" or who in ("eve", "root")}
    for key in seen - expected:
        assert f"“{room[key].title}”:" in page, key


def test_refusal_names_the_post_and_the_section(app, room):
    hedda = _as(app, "hedda")
    _bulk(hedda, [room["D"]], "publish")
    page = hedda.get("/editor/posts").get_data(as_text=True)
    assert "“Ben fashion story”: you may not publish in Fashion" in page
    _bulk(hedda, [room["C"]], "move", section=str(room["culture"].id))
    page = hedda.get("/editor/posts").get_data(as_text=True)
    assert "“Ben health story”: you may not move posts into Culture" in page


def test_hidden_posts_are_left_alone_even_when_forged(app, room):
    hedda = _as(app, "hedda")
    _bulk(hedda, [room["B"]], "trash")
    db.session.expire_all()
    assert db.session.get(Post, room["B"].id).status == PostStatus.DRAFT


def test_bulk_action_asks_first_and_changes_nothing_until_confirmed(app, room):
    root = _as(app, "root")
    ask = _bulk(root, [room["C"], room["D"]], "trash", confirmed=False)
    html = ask.get_data(as_text=True)
    assert ask.status_code == 200
    assert "Move to trash: 2 posts?" in html
    assert "Ben health story" in html and "Ben fashion story" in html
    db.session.expire_all()
    assert db.session.get(Post, room["C"].id).status == PostStatus.PUBLISHED
    # The confirmation page's own form does it (its CSRF token and the posts carried).
    token = csrf_from(html)
    ids = re.findall(r'name="post" value="(\d+)"', html)
    done = root.post("/editor/posts/bulk", data={
        "csrf_token": token, "confirmed": "1", "action": "trash", "post": ids,
        "section": "", "tag": "", "back": "/editor/posts?status=published",
    })
    assert done.status_code == 302 and done.location.endswith("/editor/posts?status=published")
    db.session.expire_all()
    assert db.session.get(Post, room["C"].id).status == PostStatus.TRASH
    assert db.session.get(Post, room["D"].id).status == PostStatus.TRASH


def test_bulk_needs_csrf(app, room):
    root = _as(app, "root")
    response = root.post("/editor/posts/bulk", data={
        "confirmed": "1", "action": "trash", "post": [str(room["C"].id)],
    })
    assert response.status_code in (302, 400)
    db.session.expire_all()
    assert db.session.get(Post, room["C"].id).status == PostStatus.PUBLISHED


def test_bulk_move_leaves_301s_from_the_old_addresses(app, client, room, make):
    stories = [
        make.post(author=room["ben"], section=room["health"], title=f"Moving story {n}")
        for n in range(3)
    ]
    old = [f"/health/{post.slug}" for post in stories]
    assert all(client.get(path).status_code == 200 for path in old)
    root = _as(app, "root")
    assert _bulk(root, stories, "move", section=str(room["culture"].id)).status_code == 302
    for path, post in zip(old, stories, strict=True):
        response = client.get(path)
        assert response.status_code == 301, path
        assert response.location.endswith(f"/culture/{post.slug}")
        assert client.get(f"/culture/{post.slug}").status_code == 200


def test_bulk_service_commits_once_and_reports(app, room):
    outcome = desk.bulk_action(room["hedda"], [room["A"], room["D"]], "trash")
    assert [p.title for p in outcome.done] == ["Ana draft"]
    assert outcome.refused == ["“Ben fashion story”: you may not trash posts in Fashion"]


# -- Single trash and unpublish ask first ----------------------------------------------------


def _edit_form(client, post):
    html = client.get(f"/editor/posts/{post.id}/edit").get_data(as_text=True)
    version = re.search(r'name="version"[^>]*value="(\d+)"', html)
    return csrf_from(html), version.group(1) if version else str(post.version)


@pytest.mark.parametrize(("action", "status"), [
    ("trash", PostStatus.TRASH), ("unpublish", PostStatus.DRAFT),
])
def test_trash_and_unpublish_ask_for_confirmation(app, room, action, status):
    hedda = _as(app, "hedda")
    post = room["C"]
    token, version = _edit_form(hedda, post)
    ask = hedda.post(f"/editor/posts/{post.id}/{action}",
                     data={"csrf_token": token, "version": version})
    html = ask.get_data(as_text=True)
    assert ask.status_code == 200 and "Ben health story" in html and "Yes, go ahead" in html
    db.session.expire_all()
    assert db.session.get(Post, post.id).status == PostStatus.PUBLISHED
    confirmed = hedda.post(
        f"/editor/posts/{post.id}/{action}",
        data={"csrf_token": csrf_from(html), "version": version, "confirmed": "1"},
    )
    assert confirmed.status_code == 302
    db.session.expire_all()
    assert db.session.get(Post, post.id).status == status


def test_confirmation_is_not_offered_to_who_may_not(app, room):
    ana = _as(app, "ana")
    token = csrf_from(ana.get(f"/editor/posts/{room['A'].id}/edit").get_data(as_text=True))
    response = ana.post(f"/editor/posts/{room['C'].id}/unpublish", data={"csrf_token": token})
    assert response.status_code == 403


# -- The Edit link on an article ---------------------------------------------------------------


def test_staff_see_edit_on_articles_they_may_edit_and_readers_never(cached, app, client, room):
    path = f"/health/{room['C'].slug}"
    edit = f'href="/editor/posts/{room["C"].id}/edit"'
    reader_page = client.get(path)
    assert edit not in reader_page.get_data(as_text=True)
    assert client.get(path).headers.get("X-Cache") == "HIT"
    hedda = _as(app, "hedda")
    # Her welcome message makes the next page hers alone, with the link.
    staff_page = hedda.get(path)
    assert edit in staff_page.get_data(as_text=True)
    assert "private" in staff_page.headers.get("Cache-Control", "")
    # Then she shares the readers' page, and the link comes in her own parts.
    shared = hedda.get(path)
    assert shared.headers.get("X-Cache") == "HIT" and edit not in shared.get_data(as_text=True)
    assert edit in hedda.get(f"/me/parts?post={room['C'].id}").get_json()["parts"]["edit"]
    # A reader after the editor still gets the cached page, without the link.
    for _ in range(2):
        again = app.test_client().get(path)
        assert edit not in again.get_data(as_text=True)
    assert again.headers.get("X-Cache") == "HIT"
    # An editor of another section, and an author, see no Edit link.
    assert edit not in _as(app, "ana").get(path).get_data(as_text=True)
    ana_parts = _as(app, "ana").get(f"/me/parts?post={room['C'].id}").get_json()["parts"]
    assert "/editor/" not in ana_parts["edit"]
    fashion = f"/fashion/{room['D'].slug}"
    assert f'/editor/posts/{room["D"].id}/edit' not in hedda.get(fashion).get_data(as_text=True)
    hedda_parts = hedda.get(f"/me/parts?post={room['D'].id}").get_json()["parts"]
    assert "/editor/" not in hedda_parts["edit"]
