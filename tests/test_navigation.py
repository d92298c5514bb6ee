"""The navigation editor: admins arrange the header and footer menus readers see."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from blog.extensions import db
from blog.models import AuditEntry, PostStatus, Tag
from blog.services import ServiceError, audit, publishing
from blog.services import navigation as menus
from blog.services import sections as section_service

from .conftest import Auth, csrf_from
from .test_html_valid import html_errors


@pytest.fixture
def site(make):
    """Two sections (Health first), a tagged story, and one person of every role."""
    health = make.section("Health", slug="health", position=1)
    news = make.section("News", slug="news", position=2)
    story = make.post(section=health, title="Sleep well", slug="sleep-well", tags=["rest"])
    people = {
        role: make.user(role, username=name)
        for role, name in (("editor", "eddie"), ("author", "ana"), ("reader", "rue"))
    }
    return {
        "health": health,
        "news": news,
        "story": story,
        "ada": make.user("admin", username="ada", display_name="Ada Admin"),
        **people,
    }


def _as(app, username):
    """A fresh client signed in as username."""
    client = app.test_client()
    assert Auth(client).login(username).status_code == 302
    return client


def _post(client, url, **data):
    """Post a form with a valid CSRF token (the add forms take it under their menu's prefix)."""
    token = csrf_from(client.get("/account").get_data(as_text=True))
    menu = re.match(r"/admin/navigation/(header|footer)/add$", url)
    key = f"{menu.group(1)}-csrf_token" if menu else "csrf_token"
    return client.post(url, data={key: token, **data})


def _add(client, menu, kind, ref="", label=""):
    """Add an item through the screen's form, as an admin fills it in."""
    field = {"section": "section", "tag": "tag", "page": "page"}.get(kind, "address")
    return _post(
        client,
        f"/admin/navigation/{menu}/add",
        **{f"{menu}-kind": kind, f"{menu}-{field}": ref, f"{menu}-label": label},
    )


def _ids(menu):
    """The item ids of menu, by the name the admin screen shows."""
    db.session.expire_all()
    return {row["name"]: row["item"]["id"] for row in menus.admin_rows(menu)}


def _nav(html: str, label: str) -> str:
    """The markup of the navigation landmark called label ("" when the page has none)."""
    start = html.find(f'aria-label="{label}"')
    return "" if start < 0 else html[start : html.index("</nav>", start)]


def _links(html: str, label: str) -> list[tuple[str, str]]:
    """The (text, address) of every link in a navigation landmark, in order."""
    return [
        (text, href) for href, text in re.findall(r'href="([^"]+)">([^<]+)</a>', _nav(html, label))
    ]


def _reader_page(client, url="/") -> str:
    """A page as an anonymous reader gets it."""
    response = client.get(url)
    assert response.status_code == 200
    return response.get_data(as_text=True)


# --- Who may arrange the menus -----------------------------------------------------------


@pytest.mark.parametrize("username", ["eddie", "ana", "rue"])
def test_only_admins_may_open_or_change_the_menus(app, site, client, username):
    other = _as(app, username)
    assert other.get("/admin/navigation").status_code == 403
    assert _add(other, "footer", "link", "/x", "X").status_code == 403
    assert other.post("/admin/navigation/header/reset").status_code in (400, 403)
    anonymous = app.test_client()
    assert anonymous.get("/admin/navigation").status_code == 302
    assert "/login" in anonymous.get("/admin/navigation").headers["Location"]
    assert _links(_reader_page(client), "Footer") == []
    assert "Navigation" not in other.get("/account").get_data(as_text=True)

    ada = _as(app, "ada")
    page = ada.get("/admin/navigation").get_data(as_text=True)
    assert "Add to the footer menu" in page
    assert 'href="/admin/navigation" aria-current="page">Navigation' in page


@pytest.mark.parametrize("username", ["eddie", "ana", "rue"])
def test_others_are_refused_every_action_on_an_item(app, site, client, username):
    _add(_as(app, "ada"), "footer", "link", "/about", "About")
    item = _ids("footer")["About"]
    other = _as(app, username)
    base = f"/admin/navigation/footer/{item}"
    assert other.get(base).status_code == 403
    assert other.get(f"{base}/remove").status_code == 403
    for url, data in (
        (base, {"label": "Hacked", "address": "/x"}),
        (f"{base}/move", {"direction": "in"}),
        (f"{base}/remove", {"confirmed": "yes"}),
    ):
        assert _post(other, url, **data).status_code == 403
    assert _links(_reader_page(client), "Footer") == [("About", "/about")]


def test_unknown_menus_and_items_are_not_found(app, site):
    ada = _as(app, "ada")
    assert ada.get("/admin/navigation/sidebar/s1").status_code == 404
    assert _add(ada, "sidebar", "link", "/x", "X").status_code == 404
    assert ada.get("/admin/navigation/footer/nothing").status_code == 404
    assert _post(ada, "/admin/navigation/footer/NOPE!/move", direction="up").status_code == 404


def test_changes_need_the_csrf_token(app, site, client):
    ada = _as(app, "ada")
    response = ada.post(
        "/admin/navigation/footer/add",
        data={"footer-kind": "link", "footer-address": "/x", "footer-label": "X"},
    )
    assert response.status_code == 400
    assert _links(_reader_page(client), "Footer") == []


# --- The header as it always was ---------------------------------------------------------


def test_a_header_never_arranged_lists_the_sections_in_their_order(app, site, client, make):
    assert _links(_reader_page(client), "Sections") == [
        ("Health", "/category/health"),
        ("News", "/category/news"),
    ]
    section_service.move(site["ada"], site["news"], "up")
    make.section("Care", slug="care", position=9)
    assert [text for text, _ in _links(_reader_page(client), "Sections")] == [
        "News",
        "Health",
        "Care",
    ]
    assert 'aria-current="page" href="/category/health"' in _reader_page(client, "/category/health")
    assert 'aria-current="page" href="/category/health"' in _reader_page(
        client, "/health/sleep-well"
    )


# --- Arranging ----------------------------------------------------------------------------


def test_an_admin_adds_moves_nests_and_removes_items(app, site, client):
    ada = _as(app, "ada")
    assert _add(ada, "header", "tag", "rest").status_code == 302
    assert _add(ada, "header", "link", "/about", "About us").status_code == 302
    assert _add(ada, "header", "link", "https://example.org/shop", "Shop").status_code == 302
    said = ada.get("/admin/navigation").get_data(as_text=True)
    assert "Shop is in the header menu." in said
    assert [text for text, _ in _links(_reader_page(client), "Sections")] == [
        "Health",
        "News",
        "rest",
        "About us",
        "Shop",
    ]

    ids = _ids("header")
    assert (
        _post(ada, f"/admin/navigation/header/{ids['Shop']}/move", direction="up").status_code
        == 302
    )
    assert (
        _post(ada, f"/admin/navigation/header/{ids['rest']}/move", direction="in").status_code
        == 302
    )
    _post(ada, f"/admin/navigation/header/{ids['Health']}/move", direction="down")
    html = _reader_page(client)
    # News now holds rest: a disclosure that lists News itself, then rest.
    group = html[html.index("<details>") : html.index("</details>")]
    assert "<summary>News</summary>" in group
    assert re.findall(r">([^<]+)</a>", group) == ["News", "rest"]
    assert [text for text, _ in _links(html, "Sections")] == [
        "News",
        "rest",
        "Health",
        "Shop",
        "About us",
    ]

    _post(ada, f"/admin/navigation/header/{ids['rest']}/move", direction="out")
    assert "<details>" not in _reader_page(client)
    assert [text for text, _ in _links(_reader_page(client), "Sections")] == [
        "News",
        "rest",
        "Health",
        "Shop",
        "About us",
    ]

    assert _post(ada, f"/admin/navigation/header/{ids['Shop']}/remove").status_code == 302
    assert "Shop" not in _nav(_reader_page(client), "Sections")

    edited = _post(
        ada, f"/admin/navigation/header/{ids['About us']}", label="About", address="/about-us"
    )
    assert edited.status_code == 302
    assert ("About", "/about-us") in _links(_reader_page(client), "Sections")
    renamed = _post(ada, f"/admin/navigation/header/{ids['Health']}", label="Wellbeing")
    assert renamed.status_code == 302
    assert ("Wellbeing", "/category/health") in _links(_reader_page(client), "Sections")

    # Back to the sections, as before anyone arranged the header.
    assert _post(ada, "/admin/navigation/header/reset").status_code == 302
    assert [text for text, _ in _links(_reader_page(client), "Sections")] == ["Health", "News"]


def test_menus_nest_one_level_only(app, site):
    ada = _as(app, "ada")
    _add(ada, "footer", "link", "/a", "A")
    _add(ada, "footer", "link", "/b", "B")
    _add(ada, "footer", "link", "/c", "C")
    ids = _ids("footer")
    _post(ada, f"/admin/navigation/footer/{ids['B']}/move", direction="in")
    # C goes in under A, since B now sits inside A; then C cannot go into B.
    _post(ada, f"/admin/navigation/footer/{ids['C']}/move", direction="in")
    third = _post(ada, f"/admin/navigation/footer/{ids['C']}/move", direction="in")
    assert third.status_code == 302
    said = ada.get("/admin/navigation").get_data(as_text=True)
    assert "Menus nest one level: an item inside another cannot hold items of its own." in said
    _add(ada, "footer", "link", "/d", "D")
    ids = _ids("footer")
    # D may go into A; A (holding B and C) may not go into anything.
    _post(ada, f"/admin/navigation/footer/{ids['D']}/move", direction="up")
    refused = _post(ada, f"/admin/navigation/footer/{ids['A']}/move", direction="in")
    assert refused.status_code == 302
    assert "Menus nest one level" in ada.get("/admin/navigation").get_data(as_text=True)
    shape = [(row["name"], row["depth"]) for row in menus.admin_rows("footer")]
    assert shape == [("D", 0), ("A", 0), ("B", 1), ("C", 1)]


def test_removing_an_item_that_holds_others_asks_first(app, site, client):
    ada = _as(app, "ada")
    _add(ada, "footer", "section", str(site["health"].id))
    _add(ada, "footer", "link", "/contact", "Contact")
    ids = _ids("footer")
    _post(ada, f"/admin/navigation/footer/{ids['Contact']}/move", direction="in")
    listing = ada.get("/admin/navigation").get_data(as_text=True)
    assert f'href="/admin/navigation/footer/{ids["Health"]}/remove"' in listing

    asked = _post(ada, f"/admin/navigation/footer/{ids['Health']}/remove")
    assert asked.status_code == 200
    text = asked.get_data(as_text=True)
    assert "Remove Health from the footer menu?" in text and "<li>Contact</li>" in text
    assert ("Contact", "/contact") in _links(_reader_page(client), "Footer")

    done = _post(ada, f"/admin/navigation/footer/{ids['Health']}/remove", confirmed="yes")
    assert done.status_code == 302
    assert _links(_reader_page(client), "Footer") == []
    assert 'aria-label="Footer"' not in _reader_page(client)  # no empty landmark


@pytest.mark.parametrize(
    "address",
    [
        "javascript:alert(1)",
        "JavaScript:alert(document.cookie)",
        " javascript:alert(1)",
        "java\tscript:alert(1)",
        "data:text/html,<script>alert(1)</script>",
        "vbscript:msgbox",
        "http://example.org/plain",
        "//evil.example/path",
        "about-us",
        "https://",
        "/back\\slash",
    ],
)
def test_unsafe_or_unclear_links_are_refused_with_a_reason(app, site, client, address):
    response = _add(_as(app, "ada"), "footer", "link", address, "Trap")
    assert response.status_code == 400
    html = response.get_data(as_text=True)
    assert (
        "Type an address on this site starting with / (like /about), or another site&#39;s "
        "address starting with https://." in html
    )
    assert _links(_reader_page(client), "Footer") == []


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (
            {"footer-kind": "link", "footer-address": "/x"},
            "Give the link a label readers will see.",
        ),
        ({"footer-kind": "link", "footer-label": "X"}, "Type the address the link leads to."),
        ({"footer-kind": "section", "footer-section": "999"}, "Choose a section."),
        ({"footer-kind": "tag", "footer-tag": "no-such-tag"}, "Choose a tag."),
        (
            {"footer-kind": "link", "footer-address": "/x", "footer-label": "x" * 81},
            "80 characters",
        ),
        ({"footer-kind": "script", "footer-address": "/x"}, "Not a valid choice"),
    ],
)
def test_incomplete_items_are_refused_beside_their_field(app, site, data, message):
    ada = _as(app, "ada")
    token = csrf_from(ada.get("/account").get_data(as_text=True))
    response = ada.post("/admin/navigation/footer/add", data={"footer-csrf_token": token, **data})
    assert response.status_code == 400
    assert message in response.get_data(as_text=True)
    assert menus.menu_items("footer") == []


def test_a_page_item_must_name_a_published_page(app, site):
    # An article is no page: the screen refuses it, and so does the service.
    ada = _as(app, "ada")
    response = _add(ada, "footer", "page", str(site["story"].id))
    assert response.status_code == 400
    with pytest.raises(ServiceError, match="Choose a published page."):
        menus.add_item(site["ada"], "footer", "page", site["story"].id)
    assert menus.menu_items("footer") == []


def test_a_published_page_goes_in_a_menu_and_leaves_it_when_unpublished(app, site, client, make):
    about = make.page(title="About us", slug="about-us")
    draft = make.page(title="Write for us", slug="write-for-us", status=PostStatus.DRAFT)
    assert (about.id, "About us") in menus.page_choices()
    assert draft.id not in dict(menus.page_choices())
    ada = _as(app, "ada")
    assert _add(ada, "footer", "page", str(about.id)).status_code == 302
    assert _add(ada, "footer", "page", str(draft.id)).status_code == 400
    assert _links(_reader_page(client), "Footer") == [("About us", "/about-us")]
    assert client.get("/about-us").status_code == 200

    publishing.unpublish(site["ada"], about)
    assert _links(_reader_page(client), "Footer") == []


# --- Readers never get a dead link ------------------------------------------------------


def test_an_item_whose_section_or_tag_is_gone_disappears(app, site, client, make):
    empty = make.section("Care", slug="care", position=3)
    ada = _as(app, "ada")
    _add(ada, "footer", "section", str(empty.id), "Caring")
    _add(ada, "footer", "tag", "rest")
    _add(ada, "footer", "link", "/contact", "Contact")
    ids = _ids("footer")
    _post(ada, f"/admin/navigation/footer/{ids['Contact']}/move", direction="in")  # inside rest
    assert _links(_reader_page(client), "Footer") == [
        ("Caring", "/category/care"),
        ("rest", "/tag/rest"),
        ("Contact", "/contact"),
    ]

    section_service.delete_section(site["ada"], empty, "care")
    db.session.delete(db.session.scalar(select(Tag).where(Tag.slug == "rest")))
    db.session.commit()
    html = _reader_page(client)
    assert _links(html, "Footer") == []  # Contact went with the tag it was arranged under
    assert "/category/care" not in html and "/tag/rest" not in html
    listing = ada.get("/admin/navigation").get_data(as_text=True)
    assert "Not shown" in listing


def test_a_renamed_section_keeps_its_item_at_its_new_address(app, site, client):
    ada = _as(app, "ada")
    _add(ada, "footer", "section", str(site["news"].id))
    section_service.update_section(site["ada"], site["news"], "Latest", "latest", "", None, "")
    assert _links(_reader_page(client), "Footer") == [("Latest", "/category/latest")]


# --- Cached with the content ------------------------------------------------------------


def test_saving_a_menu_changes_cached_pages_at_once(cached, site, client):
    client.get("/category/health")
    assert client.get("/category/health").headers.get("X-Cache") == "HIT"
    ada = _as(cached, "ada")
    assert _add(ada, "footer", "link", "/about", "About").status_code == 302
    response = client.get("/category/health")
    assert response.headers.get("X-Cache") != "HIT"
    assert ("About", "/about") in _links(response.get_data(as_text=True), "Footer")
    ids = _ids("footer")
    _post(ada, f"/admin/navigation/footer/{ids['About']}", label="Who we are", address="/about")
    assert ("Who we are", "/about") in _links(_reader_page(client, "/category/health"), "Footer")


def test_a_reader_page_asks_no_more_of_the_database_for_more_items(
    app, site, client, queries, make
):
    def cold_and_warm() -> tuple[int, int]:
        menus.content_generation.bump()  # as after a save: the menus are read afresh
        with queries() as cold:
            _reader_page(client, "/category/health")
        with queries() as warm:
            _reader_page(client, "/category/health")
        return len(cold), len(warm)

    ada = _as(app, "ada")
    for menu in ("header", "footer"):  # one item of every kind in each menu
        _add(ada, menu, "section", str(site["health"].id))
        _add(ada, menu, "tag", "rest")
        _add(ada, menu, "link", "/about", "About")
    few = cold_and_warm()
    for n in range(12):
        section = make.section(f"Extra {n}", slug=f"extra-{n}")
        _add(ada, "footer", "section", str(section.id))
        _add(ada, "header", "link", f"/extra-{n}", f"Link {n}")
        make.post(section=section, tags=[f"tag-{n}"])
        _add(ada, "footer", "tag", f"tag-{n}")
    assert len(_links(_reader_page(client), "Footer")) == 27
    assert cold_and_warm() == few


# --- The log, and valid pages -------------------------------------------------------------


def test_each_change_reads_as_a_sentence_in_the_audit_log(app, site):
    ada = _as(app, "ada")
    _add(ada, "footer", "link", "/about", "About")
    _add(ada, "header", "tag", "rest")
    ids = _ids("footer")
    _post(ada, f"/admin/navigation/footer/{ids['About']}/remove")
    entries = db.session.scalars(select(AuditEntry).order_by(AuditEntry.id)).all()
    said = audit.sentences_for(entries)
    texts = [said[entry.id] for entry in entries]
    assert "Ada Admin changed the footer menu: added “About”." in texts
    assert "Ada Admin changed the header menu: added “rest”." in texts
    assert "Ada Admin changed the footer menu: removed “About”." in texts
    assert audit.action_label("navigation.footer") == "Changed the footer menu"
    assert "changed the footer menu" in ada.get("/admin/audit").get_data(as_text=True)


def test_pages_with_nested_menus_are_valid_html(app, site, client, tmp_path):
    ada = _as(app, "ada")
    for menu in ("header", "footer"):
        _add(ada, menu, "link", "/about", "About")
        _add(ada, menu, "link", "/contact", "Contact")
        ids = _ids(menu)
        _post(ada, f"/admin/navigation/{menu}/{ids['Contact']}/move", direction="in")
    pages = {
        "/": _reader_page(client),
        "/health/sleep-well": _reader_page(client, "/health/sleep-well"),
        "/admin/navigation": ada.get("/admin/navigation").get_data(as_text=True),
        "item": ada.get(f"/admin/navigation/footer/{ids['About']}").get_data(as_text=True),
        "remove": ada.get(f"/admin/navigation/footer/{ids['About']}/remove").get_data(as_text=True),
        "refused": _add(ada, "footer", "link", "javascript:x", "").get_data(as_text=True),
    }
    assert "<details>" in pages["/"]
    errors = html_errors(pages, tmp_path)
    assert not errors, "\n".join(errors)
