"""Sessions in Chromium: two browsers, one signs out everywhere, the other is signed out too."""

from __future__ import annotations

import re

from playwright.sync_api import expect

from ..factories import PASSWORD
from .conftest import sign_in


def test_sign_out_everywhere_ends_the_other_browsers_session(browser, live_server, make):
    make.user("admin", username="boss")
    contexts = [browser.new_context(base_url=live_server) for _ in range(2)]
    try:
        laptop, phone = (context.new_page() for context in contexts)
        for page in (laptop, phone):
            sign_in(page, "boss", PASSWORD)
        phone.goto("/admin/")
        expect(phone).to_have_url(re.compile(r"/admin/$"))

        laptop.goto("/account")
        sessions = laptop.get_by_role("region", name="Where you are signed in")
        expect(sessions.get_by_role("row")).to_have_count(3)  # a header and two sessions
        expect(sessions).to_contain_text("(this device)")
        expect(sessions).to_contain_text("Chrome")
        with laptop.expect_navigation():
            laptop.get_by_role("button", name="Sign out everywhere, this device too").click()
        expect(laptop.get_by_text("You are signed out everywhere")).to_be_visible()

        phone.goto("/admin/")
        expect(phone).to_have_url(re.compile(r"/login\?next="))
        laptop.goto("/account")
        expect(laptop).to_have_url(re.compile(r"/login\?next="))
    finally:
        for context in contexts:
            context.close()
