"""Moderation in Chromium: a reader's comment goes through the Health desk, then the
reader is suspended and their words leave the article; the audit log shows each step."""

from __future__ import annotations

import re

from playwright.sync_api import expect

from blog.services import demo
from blog.services.users import assign_sections

from .conftest import sign_in

CAR_T = "/health/revolutionizing-cancer-treatment-the-promise-of-car-t-cell-therapy"


def comment(page, text: str) -> None:
    """Write a comment under the CAR-T article."""
    page.goto(CAR_T)
    page.locator("form.comment-form").get_by_label("Your comment", exact=True).fill(text)
    with page.expect_navigation():
        page.get_by_role("button", name="Post comment").click()


def test_a_comment_through_moderation_and_a_suspension(browser, live_server, make):
    demo.seed_demo()
    from sqlalchemy import select

    from blog.extensions import db
    from blog.models import Category, User

    health = db.session.scalar(select(Category).where(Category.slug == "health"))
    make.user("editor", username="hana", display_name="Hana Health")
    hana = db.session.scalar(select(User).where(User.username == "hana"))
    assign_sections(hana, [health])
    make.user("reader", username="rowan", display_name="Rowan Reader")

    reader = browser.new_context(base_url=live_server).new_page()
    editor = browser.new_context(base_url=live_server).new_page()
    admin = browser.new_context(base_url=live_server).new_page()
    stranger = browser.new_context(base_url=live_server).new_page()

    # 1. The reader's first comment waits for moderation and is not public.
    sign_in(reader, "rowan")
    comment(reader, "Leukapheresis sounds daunting; thank you for explaining it.")
    expect(reader.get_by_text("waiting for moderation").first).to_be_visible()
    stranger.goto(CAR_T)
    expect(stranger.locator("#comments")).not_to_contain_text("sounds daunting")

    # 2. The Health editor approves it from the queue.
    sign_in(editor, "hana")
    editor.goto("/admin/")
    held = editor.locator(".queue-item", has_text="sounds daunting")
    expect(held).to_be_visible()
    with editor.expect_navigation():
        held.get_by_role("button", name=re.compile("^Approve")).click()
    expect(editor.locator("body")).to_contain_text("Approve: 1 comment changed.")

    # 3. It appears for everyone.
    stranger.goto(CAR_T)
    expect(stranger.locator("#comments")).to_contain_text("sounds daunting")

    # 4. The reader's next comment appears at once.
    comment(reader, "Following up: my aunt had this treatment last year.")
    stranger.goto(CAR_T)
    expect(stranger.locator("#comments")).to_contain_text("my aunt had this treatment")

    # 5. An admin suspends the reader: their comments leave the page.
    sign_in(admin, "admin", "circle-admin-demo")
    rowan = db.session.scalar(select(User).where(User.username == "rowan"))
    admin.goto(f"/admin/users/{rowan.id}")
    admin.get_by_label("Reason", exact=False).fill("Testing the suspension path.")
    with admin.expect_navigation():
        admin.get_by_role("button", name="Suspend rowan").click()
    stranger.goto(CAR_T)
    expect(stranger.locator("#comments")).not_to_contain_text("sounds daunting")
    expect(stranger.locator("#comments")).not_to_contain_text("my aunt")
    reader.goto("/account")
    expect(reader).to_have_url(re.compile(r"/login"))  # signed out everywhere

    # 6. The audit log shows each step.
    admin.goto("/admin/audit")
    log = admin.locator("main")
    expect(log).to_contain_text("comment.approve")
    expect(log).to_contain_text("user.suspend")
    expect(log).to_contain_text("hana")
    editor.goto("/admin/audit")
    expect(editor.locator("main")).to_contain_text("comment.approve")
    expect(editor.locator("main")).not_to_contain_text("user.suspend")  # not a section matter
