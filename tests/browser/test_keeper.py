"""The writer's text survives everything, in Chromium (static/js/keeper.js).

A new post left alone becomes a draft; a save lost to a cut network comes back after a
reload; signing out in another tab costs nothing once the writer signs in again; an
author whose post an editor published meanwhile keeps their text as a new draft; and an
autosave racing the Save button a hundred times never fails or conflicts with itself.
"""

from __future__ import annotations

import re

from playwright.sync_api import Page, expect
from sqlalchemy import select

from blog.extensions import db
from blog.models import Post, PostStatus
from blog.services import publishing

from ..factories import PASSWORD
from .conftest import body_editor, sign_in, type_into_body

AUTOSAVE_WAIT_MS = 15_000
EDIT_URL = re.compile(r"/editor/posts/(\d+)/edit$")


def _fresh(post_id: int) -> Post:
    db.session.expire_all()
    return db.session.get(Post, post_id)


def _autosaved(page: Page) -> None:
    expect(page.locator("#autosave-status")).to_have_text(
        re.compile(r"^Autosaved at \d\d:\d\d:\d\d$"), timeout=AUTOSAVE_WAIT_MS
    )


def test_a_new_post_typed_and_left_alone_is_autosaved(page, desk_people):
    sign_in(page, "ana", PASSWORD)
    page.goto("/editor/posts/new")
    page.get_by_label("Title", exact=True).fill("Left alone")
    type_into_body(page, "Typed, then the writer went for coffee.")

    _autosaved(page)
    expect(page).to_have_url(EDIT_URL)  # the page now edits the draft it created
    post_id = int(EDIT_URL.search(page.url)[1])
    post = _fresh(post_id)
    assert post.status == PostStatus.DRAFT
    assert post.author_id == desk_people["ana"].id
    assert post.title == "Left alone"
    assert "went for coffee" in post.body

    # Typing on autosaves into the same draft, not a second one.
    type_into_body(page, " Back again.")
    _autosaved(page)
    assert "Back again." in _fresh(post_id).body
    assert len(db.session.scalars(select(Post)).all()) == 1


def test_a_save_lost_to_the_network_is_offered_back_after_a_reload(page, ana_draft):
    sign_in(page, "ana", PASSWORD)
    page.goto(f"/editor/posts/{ana_draft.id}/edit")
    page.route(re.compile(r"/autosave$"), lambda route: route.abort("internetdisconnected"))
    type_into_body(page, " Written while the train was in a tunnel.")
    expect(page.locator("#autosave-status")).to_contain_text(
        "Your text is kept in this browser", timeout=AUTOSAVE_WAIT_MS
    )
    assert "tunnel" not in _fresh(ana_draft.id).body

    page.unroute(re.compile(r"/autosave$"))
    page.on("dialog", lambda dialog: dialog.accept())  # "leave with unsaved changes?"
    page.reload()

    notice = page.get_by_role("alert")
    expect(notice).to_contain_text("This browser kept text you had not saved")
    expect(body_editor(page)).not_to_contain_text("tunnel")
    notice.get_by_role("button", name="Restore my unsaved text").click()
    expect(body_editor(page)).to_contain_text("Written while the train was in a tunnel.")
    _autosaved(page)
    assert "Written while the train was in a tunnel." in _fresh(ana_draft.id).body

    # Saved: a second reload offers nothing.
    page.reload()
    expect(page.get_by_role("alert")).to_have_count(0)
    expect(body_editor(page)).to_contain_text("in a tunnel")


def test_signed_out_in_another_tab_the_text_survives_signing_in_again(page, ana_draft):
    sign_in(page, "ana", PASSWORD)
    page.goto(f"/editor/posts/{ana_draft.id}/edit")
    body_editor(page)

    other_tab = page.context.new_page()
    other_tab.goto("/editor/")
    with other_tab.expect_navigation():
        other_tab.get_by_role("button", name="Sign out", exact=True).click()
    other_tab.close()

    type_into_body(page, " Written after signing out elsewhere.")
    notice = page.get_by_role("alert")
    expect(notice).to_contain_text(
        "You were signed out. Sign in again in a new tab, then press Retry.",
        timeout=AUTOSAVE_WAIT_MS,
    )
    expect(body_editor(page)).to_contain_text("Written after signing out elsewhere.")

    with page.expect_popup() as popup:
        notice.get_by_role("link", name="Sign in (opens a new tab)").click()
    login = popup.value
    login.get_by_label("Email address or username", exact=True).fill("ana")
    login.get_by_label("Password", exact=True).fill(PASSWORD)
    with login.expect_navigation():
        login.get_by_role("button", name="Sign in").click()
    login.close()

    notice.get_by_role("button", name="Retry").click()
    _autosaved(page)
    assert "Written after signing out elsewhere." in _fresh(ana_draft.id).body


def test_an_author_whose_post_was_published_meanwhile_keeps_their_text(
    page, ana_draft, desk_people
):
    sign_in(page, "ana", PASSWORD)
    page.goto(f"/editor/posts/{ana_draft.id}/edit")
    body_editor(page)
    publishing.publish_now(desk_people["hedda"], _fresh(ana_draft.id))  # Hedda, elsewhere

    type_into_body(page, " A late thought.")
    notice = page.get_by_role("alert")
    expect(notice).to_contain_text(
        "This post is published now, so you can no longer change it.", timeout=AUTOSAVE_WAIT_MS
    )
    expect(body_editor(page)).to_contain_text("A late thought.")
    expect(notice.get_by_role("link", name="Open the post")).to_have_attribute(
        "href", re.compile(r"/health/")
    )

    with page.expect_navigation():
        notice.get_by_role("button", name="Save as a new draft").click()
    expect(page).to_have_url(EDIT_URL)
    expect(page.get_by_text("Your text is saved as a new draft.")).to_be_visible()
    copy_id = int(EDIT_URL.search(page.url)[1])
    assert copy_id != ana_draft.id
    copy = _fresh(copy_id)
    assert copy.status == PostStatus.DRAFT and copy.author_id == desk_people["ana"].id
    assert "A late thought." in copy.body
    assert "A late thought." not in _fresh(ana_draft.id).body  # the published post is untouched
    expect(body_editor(page)).to_contain_text("A late thought.")


RACE = """async () => {
    const keeper = window.circleKeeper;
    const body = document.querySelector("form.desk__form [name=body]");
    for (let round = 0; round < 100; round++) {
        body.value = "<p>Round " + round + "</p>";
        body.dispatchEvent(new CustomEvent("circle:body-set", {bubbles: true}));
        body.dispatchEvent(new Event("input", {bubbles: true}));
        const autosave = keeper.autosave();   // in flight when Save is pressed
        const save = keeper.save({navigate: false});
        await Promise.all([autosave, save]);
    }
    return keeper.log;
}"""


def test_autosave_and_save_racing_a_hundred_times_never_fail(page, ana_draft):
    sign_in(page, "ana", PASSWORD)
    page.goto(f"/editor/posts/{ana_draft.id}/edit")
    body_editor(page)

    log = page.evaluate(RACE)

    statuses = [entry["status"] for entry in log]
    assert sum(1 for entry in log if entry["kind"] == "save") == 100
    assert sum(1 for entry in log if entry["kind"] == "autosave") >= 100
    assert set(statuses) == {200}, [entry for entry in log if entry["status"] != 200][:5]
    assert _fresh(ana_draft.id).body == "<p>Round 99</p>"
    expect(page.get_by_role("alert")).to_have_count(0)


def test_custom_fields_wait_for_save_while_the_body_autosaves(page, ana_draft):
    sign_in(page, "ana", PASSWORD)
    page.goto(f"/editor/posts/{ana_draft.id}/edit")
    page.get_by_label("Name").first.fill("mood")
    page.get_by_label("Value").first.fill("calm")
    type_into_body(page, " More words.")
    _autosaved(page)
    draft = _fresh(ana_draft.id)
    assert "More words." in draft.body and draft.custom_fields == []  # autosave: body only

    page.get_by_role("button", name="Save").click()
    expect(page.get_by_role("group", name="mood")).to_be_visible()
    assert [(f.key, f.value) for f in _fresh(ana_draft.id).custom_fields] == [("mood", "calm")]
