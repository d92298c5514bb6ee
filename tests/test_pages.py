"""Pages (About, Contact…): a top-level address, the desk's own list, kept out of every listing."""

from __future__ import annotations

import pytest

from blog.extensions import db
from blog.models import Post, PostKind, PostStatus
from blog.services import NotFound, ServiceError, desk, sections
from blog.services import pages as page_service
from tests.conftest import csrf_from
from tests.test_hosts_headers import assert_security_headers


@pytest.fixture
def about(make):
    """A live About page with the words no article has, beside a live article in Health."""
    admin = make.user("admin", username="root")
    health = make.section("Health", slug="health")
    story = make.post(
        make.user("author", username="arun"), health, title="Sleep well", tags=["Sleep"],
        body="<p>Sleep is the cheapest medicine, zanzibar.</p>",
    )
    page = make.page(
        admin, title="About us", slug="about",
        body="<p>We tell stories from every corner, zanzibar.</p>",
    )
    return {"admin": admin, "health": health, "story": story, "page": page}


def test_a_live_page_answers_at_its_top_level_address_with_the_security_headers(client, about):
    response = client.get("/about")
    assert response.status_code == 200
    assert "About us" in response.text and "stories from every corner" in response.text
    assert_security_headers(response)
    # No comments, no byline, no section on a page.
    assert 'id="comments"' not in response.text and "comment-form" not in response.text


@pytest.mark.parametrize(
    "url",
    [
        "/",
        "/category/health",
        "/category/health/feed.xml",
        "/feed.xml",
        "/tag/sleep",
        "/author/arun",
        "/search?q=zanzibar",
        "/api/v1/posts",
        "/api/v1/search?q=zanzibar",
        "/health/sleep-well",  # related stories and neighbours
    ],
)
def test_a_live_page_is_in_no_listing_feed_or_search(client, about, url):
    response = client.get(url)
    assert response.status_code == 200
    assert "About us" not in response.text
    assert "/about" not in response.text.replace("/author", "")


def test_the_search_finds_the_article_but_not_the_page(client, about):
    response = client.get("/search?q=zanzibar")
    assert "Sleep well" in response.text and "About us" not in response.text


def test_the_author_of_pages_only_has_no_author_page(client, about):
    assert client.get("/author/root").status_code == 404


def test_the_sitemap_lists_the_page_at_its_top_level_address(client, about):
    text = client.get("/sitemap.xml").text
    assert "http://localhost/about</loc>" in text
    assert "/health/sleep-well</loc>" in text


def test_article_addresses_never_serve_a_page(client, about):
    assert client.get("/health/about").status_code == 404
    assert client.get(f"/api/v1/posts/{about['page'].id}").status_code == 404


def test_drafts_and_trashed_pages_are_not_found_but_staff_can_preview(client, auth, make, about):
    draft = make.page(about["admin"], PostStatus.DRAFT, title="Write for us", slug="write-for-us")
    assert client.get("/write-for-us").status_code == 404
    desk_page = db.session.get(Post, about["page"].id)
    from blog.services import publishing

    publishing.move_to_trash(about["admin"], desk_page)
    assert client.get("/about").status_code == 404
    auth.login("root")
    preview = client.get(f"/editor/posts/{draft.id}/preview")
    assert preview.status_code == 200 and "Write for us" in preview.text
    assert "Preview." in preview.text


def test_a_child_page_shows_its_parent_in_the_breadcrumb_and_keeps_a_top_level_address(
    client, make, about
):
    child = make.page(about["admin"], title="Our team", slug="team", parent=about["page"])
    assert child.parent_id == about["page"].id
    response = client.get("/team")
    assert response.status_code == 200
    crumbs = response.text.split('class="breadcrumbs"')[1].split("</nav>")[0]
    assert crumbs.index("About us") < crumbs.index("Our team")
    assert client.get("/about/team").status_code == 404


def test_a_page_cannot_be_its_own_ancestor(make, about):
    admin, parent = about["admin"], about["page"]
    child = make.page(admin, title="Team", parent=parent)
    grandchild = make.page(admin, title="Founders", parent=child)
    for loop in (parent, child, grandchild):
        draft = desk.draft_of(db.session.get(Post, parent.id))
        draft.parent_id = loop.id
        with pytest.raises(ServiceError, match="cannot sit under itself"):
            desk.save_post(admin, db.session.get(Post, parent.id), draft, parent.version)
    choices = dict(page_service.parent_choices(db.session.get(Post, child.id)))
    assert parent.id in choices and child.id not in choices and grandchild.id not in choices


def test_page_and_section_slugs_never_collide(make, about):
    admin = about["admin"]
    with pytest.raises(ServiceError, match="section already has that slug"):
        desk.create_page(admin, desk.PostDraft("Health", slug="health"))
    with pytest.raises(ServiceError, match="site's own addresses"):
        desk.create_page(admin, desk.PostDraft("Search", slug="search"))
    with pytest.raises(ServiceError, match="page already has that slug"):
        sections.create_section(admin, "About", slug="about")
    # A title that would collide takes the nearest free slug instead.
    assert desk.create_page(admin, desk.PostDraft("Search")).slug == "search-2"


# -- Who may write pages -------------------------------------------------------------------


@pytest.fixture
def staff(make, desk_people):
    """An admin, an editor of every section, Hedda who edits Health only, and Ana the author."""
    return {
        "admin": make.user("admin", username="root"),
        "everything": make.user("editor", username="eve"),
        "hedda": desk_people["hedda"],
        "ana": desk_people["ana"],
    }


@pytest.mark.parametrize(
    ("who", "allowed"), [("root", True), ("eve", True), ("hedda", False), ("ana", False)]
)
def test_only_admins_and_unscoped_editors_write_pages(client, auth, make, staff, who, allowed):
    live = make.page(staff["admin"], title="Contact", slug="contact")
    auth.login(who)
    for url in ("/editor/pages", "/editor/pages/new", f"/editor/pages/{live.id}/edit"):
        assert client.get(url).status_code == (200 if allowed else 403), url
    assert ('href="/editor/pages"' in client.get("/editor/").text) is allowed
    form = client.get("/editor/posts/new").text
    response = client.post(
        "/editor/pages/new",
        data={"csrf_token": csrf_from(form), "title": "Privacy", "body": "<p>We keep little.</p>"},
    )
    assert response.status_code == (302 if allowed else 403)
    made = db.session.scalar(db.select(Post).where(Post.title == "Privacy"))
    assert (made is not None) is allowed
    if allowed:
        assert made.kind == PostKind.PAGE and made.category_id is None
        assert response.headers["Location"].endswith(f"/editor/pages/{made.id}/edit")


def test_a_hidden_draft_page_is_not_found_for_those_who_may_not_manage_pages(
    client, auth, make, staff
):
    draft = make.page(staff["admin"], PostStatus.DRAFT, title="Secret plans")
    auth.login("hedda")
    assert client.get(f"/editor/pages/{draft.id}/edit").status_code == 404
    assert client.get(f"/editor/posts/{draft.id}/preview").status_code == 404


def test_the_desk_lists_pages_with_their_hierarchy_and_all_posts_lists_articles_only(
    client, auth, make, staff, desk_people
):
    about = make.page(staff["admin"], title="About us")
    make.page(staff["admin"], title="Our team", parent=about)
    make.post(desk_people["ana"], desk_people["health"], title="A real story")
    auth.login("eve")
    listing = client.get("/editor/pages").text
    assert listing.index("About us") < listing.index("Our team")
    assert "— </span>" in listing.split("Our team")[0].rsplit("<tr>", 1)[1]
    posts = client.get("/editor/posts").text
    assert "A real story" in posts and "About us" not in posts
    assert "About us" not in client.get("/editor/").text


def test_editing_a_page_through_the_desk_keeps_revisions_and_updates_the_cached_address(
    client, auth, make, staff
):
    page = make.page(staff["admin"], title="About us", slug="about")
    assert "About us" in client.get("/about").text  # now in the page cache
    auth.login("eve")
    editor = client.get(f"/editor/pages/{page.id}/edit")
    assert editor.status_code == 200
    assert 'name="parent"' in editor.text and 'name="category"' not in editor.text
    assert 'name="tags"' not in editor.text
    response = client.post(
        f"/editor/pages/{page.id}/edit",
        data={
            "csrf_token": csrf_from(editor.text),
            "title": "About My Circle Story",
            "slug": "about",
            "body": "<p>Stories from every corner.</p>",
            "version": str(page.version),
        },
    )
    assert response.status_code == 302
    auth.logout()
    assert "About My Circle Story" in client.get("/about").text
    db.session.expire_all()
    page = db.session.get(Post, page.id)
    assert len(desk.revisions_of(page)) == 2
    auth.login("eve")
    assert client.get(f"/editor/posts/{page.id}/revisions").status_code == 200


def test_trashing_a_page_asks_first(client, auth, make, staff):
    page = make.page(staff["admin"], title="Old contact")
    auth.login("root")
    editor = client.get(f"/editor/pages/{page.id}/edit").text
    token = csrf_from(editor)
    asked = client.post(f"/editor/posts/{page.id}/trash", data={"csrf_token": token,
                                                                "version": page.version})
    assert asked.status_code == 200 and "Move this page to the trash?" in asked.text
    done = client.post(
        f"/editor/posts/{page.id}/trash",
        data={"csrf_token": token, "version": page.version, "confirmed": "1"},
    )
    assert done.status_code == 302
    db.session.expire_all()
    assert db.session.get(Post, page.id).status == PostStatus.TRASH
    assert "Old contact" in client.get("/editor/pages?status=trash").text


def test_pages_take_no_comments(make, about):
    from blog.services import comments as comment_service

    reader = make.user("reader", username="rita")
    with pytest.raises(NotFound):
        comment_service.add_comment(reader, about["page"], "Lovely page.")


# -- Backup, WordPress export ----------------------------------------------------------------


def test_a_backup_round_trip_keeps_pages_with_their_parents_and_addresses(
    runner, make, second_site, tmp_path
):
    admin = make.user("admin", username="root")
    about = make.page(admin, title="About us", slug="about")
    make.page(admin, title="Our team", slug="team", parent=about)
    make.page(admin, PostStatus.DRAFT, title="Privacy", slug="privacy")
    db.session.commit()
    path = tmp_path / "backup.zip"
    assert runner.invoke(args=["export-json", str(path)]).exit_code == 0
    with second_site.app_context():
        restored = second_site.test_cli_runner().invoke(args=["import-json", str(path)])
        assert restored.exit_code == 0, restored.output
        team = db.session.scalar(db.select(Post).where(Post.slug == "team"))
        assert team.is_page and team.category_id is None and team.parent.slug == "about"
        reader = second_site.test_client()
        page = reader.get("/team")
        assert page.status_code == 200 and "About us" in page.text  # the breadcrumb
        assert reader.get("/about").status_code == 200
        assert reader.get("/privacy").status_code == 404  # still a draft
        assert "Our team" not in reader.get("/feed.xml").text


def test_the_wordpress_export_writes_pages_with_their_parent(runner, make, tmp_path):
    admin = make.user("admin", username="root")
    about = make.page(admin, title="About us", slug="about")
    team = make.page(admin, title="Our team", slug="team", parent=about)
    db.session.commit()
    path = tmp_path / "site.xml"
    result = runner.invoke(args=["export-wxr", str(path)])
    assert result.exit_code == 0 and "2 pages" in result.output
    text = path.read_text(encoding="utf-8")
    item = text.split("<title><![CDATA[Our team]]></title>")[1].split("</item>")[0]
    assert "<wp:post_type><![CDATA[page]]></wp:post_type>" in item
    assert f"<wp:post_parent>{about.id}</wp:post_parent>" in item
    assert f"<wp:post_id>{team.id}</wp:post_id>" in item
    assert 'domain="category"' not in item


# -- The content API ---------------------------------------------------------------------------


def _token(user) -> dict:
    """Headers with a fresh API token of user."""
    from blog.services import tokens as token_service

    _token, secret = token_service.create_token(user, "tests")
    return {"Authorization": f"Bearer {secret}"}


def test_the_api_lists_live_pages_apart_from_posts(client, make, about):
    draft = make.page(about["admin"], PostStatus.DRAFT, title="Privacy")
    listing = client.get("/api/v1/pages").get_json()
    assert [p["title"] for p in listing["data"]] == ["About us"]
    one = client.get(f"/api/v1/pages/{about['page'].id}").get_json()["data"]
    assert one["url"] == "http://localhost/about" and one["parent"] is None
    assert "status" not in one and "section" not in one
    assert client.get(f"/api/v1/pages/{draft.id}").status_code == 404
    assert client.get(f"/api/v1/pages/{about['story'].id}").status_code == 404  # an article
    staff = client.get("/api/v1/pages?status=draft", headers=_token(about["admin"])).get_json()
    assert [p["title"] for p in staff["data"]] == ["Privacy"]


@pytest.mark.parametrize(("role", "status"), [("admin", 201), ("editor", 201), ("author", 403)])
def test_only_those_who_may_manage_pages_write_them_through_the_api(client, make, role, status):
    person = make.user(role, username=f"someone-{role}")
    response = client.post(
        "/api/v1/pages", json={"title": "Contact", "slug": "contact"}, headers=_token(person)
    )
    assert response.status_code == status, response.get_json()
    if status == 201:
        made = response.get_json()["data"]
        assert made["status"] == "draft" and made["url"] == "http://localhost/contact"
        published = client.post(
            f"/api/v1/pages/{made['id']}/publish", json={}, headers=_token(person)
        )
        assert published.status_code == 200
        assert client.get("/contact").status_code == 200
        # A page is no post: /posts/<id> neither serves nor changes it.
        assert client.patch(
            f"/api/v1/posts/{made['id']}", json={"title": "X", "version": 1},
            headers=_token(person),
        ).status_code == 404


# -- Old addresses -----------------------------------------------------------------------------


def test_a_page_that_changes_its_slug_keeps_its_old_address(client, about):
    admin, page = about["admin"], db.session.get(Post, about["page"].id)
    draft = desk.draft_of(page)
    draft.slug = "about-us"
    desk.save_post(admin, page, draft, page.version)
    moved = client.get("/about")
    assert moved.status_code == 301 and moved.location.endswith("/about-us")
    assert client.get("/about-us").status_code == 200


def test_a_redirect_may_lead_to_a_page(client, about):
    from blog.services import redirects

    redirects.create_redirect(about["admin"], "/who-we-are", "/about", host="localhost")
    moved = client.get("/who-we-are")
    assert moved.status_code == 301 and moved.location.endswith("/about")


def test_the_admin_trash_shows_a_trashed_page(client, auth, about):
    from blog.services import publishing

    publishing.move_to_trash(about["admin"], db.session.get(Post, about["page"].id))
    auth.login("root")
    trash = client.get("/admin/trash")
    assert trash.status_code == 200 and "About us" in trash.text


def test_the_keeper_autosaves_a_new_page_and_then_that_page(client, auth, staff):
    auth.login("eve")
    token = csrf_from(client.get("/editor/pages/new").text)
    json = {"Accept": "application/json"}
    first = client.post(
        "/editor/pages/draft.json",
        data={"csrf_token": token, "title": "", "body": "<p>Half a thought.</p>"},
        headers=json,
    )
    assert first.status_code == 201, first.get_json()
    answer = first.get_json()
    page = db.session.get(Post, answer["post_id"])
    assert page.is_page and page.title == "Untitled draft"
    assert answer["edit_url"] == f"/editor/pages/{page.id}/edit"
    assert answer["autosave_url"] == f"/editor/pages/{page.id}/autosave"
    again = client.post(
        answer["autosave_url"],
        data={"csrf_token": token, "title": "Write for us", "body": "<p>Send us a story.</p>",
              "version": answer["version"]},
        headers=json,
    )
    assert again.status_code == 200, again.get_json()
    db.session.expire_all()
    assert db.session.get(Post, page.id).title == "Write for us"
