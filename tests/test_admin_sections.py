"""Sections: create, rename with redirects, describe, cover, reorder and delete."""

from __future__ import annotations

import json
import re

import pytest
from sqlalchemy import func, select

from blog.extensions import db
from blog.models import AuditEntry, Category, PostStatus, Redirect
from blog.services import Forbidden, ServiceError
from blog.services import media as media_service
from blog.services import sections as section_service

from .conftest import Auth, csrf_from


@pytest.fixture
def desk(make):
    """Three sections with a published story in Health, and the people."""
    health = make.section("Health", slug="health", position=1)
    fashion = make.section("Fashion", slug="fashion", position=2)
    news = make.section("News", slug="news", position=3)
    return {
        "health": health,
        "fashion": fashion,
        "news": news,
        "boss": make.user("admin", username="boss"),
        "hedda": make.user("editor", username="hedda"),
        "story": make.post(section=health, title="Sleep well"),
    }


def _as(app, username):
    """A fresh client signed in as username."""
    client = app.test_client()
    assert Auth(client).login(username).status_code == 302
    return client


def _post(client, url, follow_redirects=False, **data):
    """Post a form with a valid CSRF token."""
    token = csrf_from(client.get("/account").get_data(as_text=True))
    return client.post(url, data={"csrf_token": token, **data}, follow_redirects=follow_redirects)


def _section(section_id) -> Category | None:
    """Reload a section from the database."""
    db.session.expire_all()
    return db.session.get(Category, section_id)


def _edit_data(section, **overrides):
    """The section form as it stands, with some fields changed."""
    data = {
        "name": section.name,
        "slug": section.slug,
        "description": section.description,
        "cover_media_id": str(section.cover_media_id or ""),
        "cover_alt": section.cover_alt,
    }
    data.update(overrides)
    return data


def _nav_names(html: str) -> list[str]:
    """The section names in the navigation, in order."""
    nav = html[html.index('aria-label="Sections"') :]
    nav = nav[: nav.index("</nav>")]
    return re.findall(r'href="/category/[^"]+"\s*>([^<]+)</a>', nav)


def _audit(action) -> list[AuditEntry]:
    """The audit entries with this action, oldest first."""
    return list(
        db.session.scalars(select(AuditEntry).where(AuditEntry.action == action).order_by("id"))
    )


# --- Create ---------------------------------------------------------------------


def test_admin_creates_a_section(app, client, desk):
    boss = _as(app, "boss")
    response = _post(boss, "/admin/categories/new", name="Food & Drink", description="Meals.")
    assert response.status_code == 302
    made = db.session.scalar(select(Category).where(Category.name == "Food & Drink"))
    assert made.slug == "food-drink" and made.description == "Meals."
    assert made.position == 4  # at the end of the navigation
    assert client.get("/category/food-drink").status_code == 200
    assert _nav_names(client.get("/").get_data(as_text=True))[-1] == "Food &amp; Drink"
    [entry] = _audit("section.create")
    assert entry.actor_name == "boss" and entry.category_id == made.id


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"name": ""}, "This field is required"),
        ({"name": "Health"}, "already has that name"),
        ({"name": "health"}, "already has that name"),
        ({"name": "Wellness", "slug": "health"}, "already has that slug"),
        ({"name": "Admin"}, "part of the site"),
        ({"name": "Feeds", "slug": "feed"}, "part of the site"),
        ({"name": "Shouting", "slug": "SHOUT"}, "lower-case letters"),
        ({"name": "Spaces", "slug": "two words"}, "lower-case letters"),
        ({"name": "Dashes", "slug": "a--b"}, "lower-case letters"),
        ({"name": "!!!"}, "lower-case letters"),
    ],
)
def test_bad_sections_are_refused(app, desk, data, message):
    boss = _as(app, "boss")
    before = db.session.scalar(select(func.count()).select_from(Category))
    response = _post(boss, "/admin/categories/new", **data)
    assert response.status_code == 400
    assert message in response.get_data(as_text=True)
    assert db.session.scalar(select(func.count()).select_from(Category)) == before


# --- Edit, rename and redirects ---------------------------------------------------


def test_rename_keeps_old_addresses_with_301s(app, client, desk, make):
    boss = _as(app, "boss")
    health, story = desk["health"], desk["story"]
    draft = make.post(section=health, status=PostStatus.DRAFT, title="Not yet")
    response = _post(
        boss,
        f"/admin/categories/{health.id}",
        **_edit_data(health, name="Health & Care", slug="health-and-care"),
    )
    assert response.status_code == 302
    assert _section(health.id).slug == "health-and-care"

    old_section = client.get("/category/health")
    assert old_section.status_code == 301
    assert old_section.headers["Location"].endswith("/category/health-and-care")
    old_article = client.get(f"/health/{story.slug}")
    assert old_article.status_code == 301
    assert old_article.headers["Location"].endswith(f"/health-and-care/{story.slug}")
    assert client.get(f"/health-and-care/{story.slug}").status_code == 200
    assert client.get("/category/health-and-care").status_code == 200
    # A draft has no public address, old or new.
    assert client.get(f"/health/{draft.slug}").status_code == 404

    # Renamed again: every old address leads straight to the newest one (no chains).
    _post(boss, f"/admin/categories/{health.id}", **_edit_data(_section(health.id), slug="care"))
    assert client.get("/category/health").headers["Location"].endswith("/category/care")
    assert client.get(f"/health/{story.slug}").headers["Location"].endswith(f"/care/{story.slug}")
    assert client.get(f"/health-and-care/{story.slug}").status_code == 301

    # And back to the first slug: it is live again, not a redirect to itself.
    _post(boss, f"/admin/categories/{health.id}", **_edit_data(_section(health.id), slug="health"))
    assert client.get("/category/health").status_code == 200
    assert client.get(f"/health/{story.slug}").status_code == 200
    assert client.get("/category/care").headers["Location"].endswith("/category/health")
    assert (
        db.session.scalar(
            select(func.count()).select_from(Redirect).where(Redirect.path.like("health/%"))
        )
        == 0
    )

    entries = _audit("section.update")
    assert len(entries) == 3
    first = json.loads(entries[0].details)
    assert first["slug"] == ["health", "health-and-care"]
    assert first["articles_redirected"] == 2


def test_description_and_cover_show_on_the_section_page(app, client, desk, make):
    boss = _as(app, "boss")
    fashion = desk["fashion"]
    coats = make.image(alt="Coats on a rail")
    form = boss.get(f"/admin/categories/{fashion.id}").get_data(as_text=True)
    assert f'<option value="{coats.id}">harbour.jpg — Coats on a rail</option>' in form
    response = _post(
        boss,
        f"/admin/categories/{fashion.id}",
        **_edit_data(
            fashion,
            description="Clothes that last.",
            cover_media_id=str(coats.id),
            cover_alt="A rail of mended coats",
        ),
    )
    assert response.status_code == 302
    page = client.get("/category/fashion").get_data(as_text=True)
    assert "Clothes that last." in page
    address = media_service.largest_url(coats)
    assert f'src="{address}"' in page and 'alt="A rail of mended coats"' in page
    assert _section(fashion.id).cover_media_id == coats.id


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"cover_media_id": "IMAGE WITHOUT ALT", "cover_alt": ""}, "Describe the cover image"),
        ({"cover_media_id": "javascript:alert(1)", "cover_alt": "x"}, "from the media library"),
        ({"cover_media_id": "//evil.example/x.jpg", "cover_alt": "x"}, "from the media library"),
        ({"cover_media_id": "424242", "cover_alt": "x"}, "from the media library"),
        ({"cover_media_id": "99999999999999999999", "cover_alt": "x"}, "from the media library"),
        ({"name": "News"}, "already has that name"),
        ({"slug": "news"}, "already has that slug"),
        ({"slug": "api"}, "part of the site"),
        ({"slug": ""}, "This field is required"),
    ],
)
def test_bad_edits_change_nothing(app, client, desk, make, overrides, message):
    if overrides.get("cover_media_id") == "IMAGE WITHOUT ALT":
        overrides = {**overrides, "cover_media_id": str(make.image(alt="").id)}
    boss = _as(app, "boss")
    fashion = desk["fashion"]
    response = _post(boss, f"/admin/categories/{fashion.id}", **_edit_data(fashion, **overrides))
    assert response.status_code == 400
    assert message in response.get_data(as_text=True)
    after = _section(fashion.id)
    assert (after.name, after.slug, after.cover_image) == ("Fashion", "fashion", None)
    assert not _audit("section.update")


def test_edit_page_and_unknown_section(app, desk):
    boss = _as(app, "boss")
    page = boss.get(f"/admin/categories/{desk['health'].id}").get_data(as_text=True)
    assert 'value="health"' in page and "still files 1 post" in page
    assert boss.get("/admin/categories/99999").status_code == 404


# --- Navigation order -------------------------------------------------------------


def test_moving_a_section_changes_the_navigation_on_the_home_page(app, client, desk):
    assert _nav_names(client.get("/").get_data(as_text=True)) == ["Health", "Fashion", "News"]
    boss = _as(app, "boss")
    assert (
        _post(boss, f"/admin/categories/{desk['news'].id}/move", direction="up").status_code == 302
    )
    assert _nav_names(client.get("/").get_data(as_text=True)) == ["Health", "News", "Fashion"]
    _post(boss, f"/admin/categories/{desk['health'].id}/move", direction="down")
    assert _nav_names(client.get("/").get_data(as_text=True)) == ["News", "Health", "Fashion"]
    listing = boss.get("/admin/categories").get_data(as_text=True)
    assert listing.index(">News</a>") < listing.index(">Health</a>") < listing.index(">Fashion</a>")
    [*_, entry] = _audit("section.reorder")
    assert entry.details == "News · Health · Fashion"


def test_moving_past_the_ends_is_refused(app, client, desk):
    boss = _as(app, "boss")
    first = _post(
        boss, f"/admin/categories/{desk['health'].id}/move", direction="up", follow_redirects=True
    )
    assert "Health is already first" in first.get_data(as_text=True)
    odd = _post(
        boss, f"/admin/categories/{desk['health'].id}/move", direction="left", follow_redirects=True
    )
    assert "up or down" in odd.get_data(as_text=True)
    assert _nav_names(client.get("/").get_data(as_text=True)) == ["Health", "Fashion", "News"]
    assert not _audit("section.reorder")


def test_reorder_takes_every_section_once(app, client, desk):
    boss, ids = desk["boss"], [desk["news"].id, desk["fashion"].id, desk["health"].id]
    section_service.reorder(boss, ids)
    assert _nav_names(client.get("/").get_data(as_text=True)) == ["News", "Fashion", "Health"]
    with pytest.raises(ServiceError):
        section_service.reorder(boss, ids[:2])
    with pytest.raises(ServiceError):
        section_service.reorder(boss, [ids[0], ids[0], ids[1]])
    with pytest.raises(Forbidden):
        section_service.reorder(desk["hedda"], list(reversed(ids)))
    assert _nav_names(client.get("/").get_data(as_text=True)) == ["News", "Fashion", "Health"]


# --- Delete ---------------------------------------------------------------------


def test_a_section_with_posts_cannot_be_deleted(app, desk, make):
    boss = _as(app, "boss")
    health = desk["health"]
    response = _post(boss, f"/admin/categories/{health.id}/delete", confirm="health")
    assert response.status_code == 400
    assert "Move them to another section first" in response.get_data(as_text=True)
    assert _section(health.id) is not None
    # Trashed posts count too: they can be restored into the section.
    fashion = desk["fashion"]
    make.post(section=fashion, status=PostStatus.TRASH)
    assert (
        _post(boss, f"/admin/categories/{fashion.id}/delete", confirm="fashion").status_code == 400
    )
    assert _section(fashion.id) is not None
    assert not _audit("section.delete")


def test_an_empty_section_is_deleted_after_typing_its_slug(app, client, desk):
    boss = _as(app, "boss")
    news = desk["news"]
    wrong = _post(boss, f"/admin/categories/{news.id}/delete", confirm="yes")
    assert wrong.status_code == 400 and "Type news to confirm" in wrong.get_data(as_text=True)
    assert _section(news.id) is not None
    done = _post(boss, f"/admin/categories/{news.id}/delete", confirm="news")
    assert done.status_code == 302
    assert _section(news.id) is None
    assert client.get("/category/news").status_code == 404
    assert "News" not in _nav_names(client.get("/").get_data(as_text=True))
    [entry] = _audit("section.delete")
    assert entry.target_label == "News" and entry.actor_name == "boss"


def test_deleting_an_editors_only_section_would_widen_their_reach(app, desk):
    from blog.services import users as user_service

    news, health = desk["news"], desk["health"]
    user_service.set_sections(desk["boss"], desk["hedda"], [news])
    boss = _as(app, "boss")
    refused = _post(boss, f"/admin/categories/{news.id}/delete", confirm="news")
    assert refused.status_code == 400
    assert "the only section of hedda" in refused.get_data(as_text=True)
    assert _section(news.id) is not None
    # With another section as well, she simply loses this one.
    user_service.set_sections(desk["boss"], desk["hedda"], [health, news])
    assert _post(boss, f"/admin/categories/{news.id}/delete", confirm="news").status_code == 302
    db.session.expire_all()
    assert [s.slug for s in db.session.get(type(desk["hedda"]), desk["hedda"].id).sections] == [
        "health"
    ]


# --- Who may do it ----------------------------------------------------------------

ROLES = ["anonymous", "reader", "author", "editor", "admin"]


def _actions(desk):
    """(url, form data, check that nothing changed) for every Sections POST."""
    news, fashion = desk["news"], desk["fashion"]

    def names():
        """The section names in navigation order, read afresh."""
        db.session.expire_all()
        return [c.name for c in db.session.scalars(select(Category).order_by(Category.position))]

    original = names()
    return {
        "create": (
            "/admin/categories/new",
            {"name": "Travel"},
            lambda: names() == original,
        ),
        "edit": (
            f"/admin/categories/{fashion.id}",
            _edit_data(fashion, name="Style"),
            lambda: names() == original,
        ),
        "move": (
            f"/admin/categories/{news.id}/move",
            {"direction": "up"},
            lambda: names() == original,
        ),
        "delete": (
            f"/admin/categories/{news.id}/delete",
            {"confirm": "news"},
            lambda: names() == original,
        ),
    }


@pytest.mark.parametrize("action", ["create", "edit", "move", "delete"])
@pytest.mark.parametrize("role", ROLES)
def test_only_admins_manage_sections(app, desk, make, role, action):
    url, data, unchanged = _actions(desk)[action]
    if role == "anonymous":
        client = app.test_client()
        token = csrf_from(client.get("/login").get_data(as_text=True))
    else:
        if role != "admin":
            make.user(role, username=f"the_{role}")
        client = _as(app, "boss" if role == "admin" else f"the_{role}")
        token = csrf_from(client.get("/account").get_data(as_text=True))
    before = db.session.scalar(select(func.count()).select_from(AuditEntry))
    response = client.post(url, data={"csrf_token": token, **data})
    if role == "admin":
        assert response.status_code == 302, response.get_data(as_text=True)
        assert not unchanged()
        return
    if role == "anonymous":
        assert response.status_code == 302
        assert response.headers["Location"].startswith("/login")
    else:
        assert response.status_code == 403
    assert unchanged()
    assert db.session.scalar(select(func.count()).select_from(AuditEntry)) == before
