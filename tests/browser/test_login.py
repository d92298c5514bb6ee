"""Signing in through the real login form in Chromium."""

from __future__ import annotations

import re

from playwright.sync_api import expect

from ..factories import PASSWORD
from .conftest import sign_in


def test_reader_signs_in_and_sees_their_account(page, make):
    make.user("reader", username="rhea")

    sign_in(page, "rhea", PASSWORD)
    page.goto("/account")

    expect(page).to_have_url(re.compile(r"/account$"))
    expect(page.get_by_role("heading", level=1)).to_have_text("Your account")
    expect(page.locator("main")).to_contain_text("rhea")


def test_wrong_password_shows_an_error_and_stays_on_login(page, make):
    make.user("reader", username="rhea")

    sign_in(page, "rhea", "not the right password")

    expect(page.get_by_text("do not match an account")).to_be_visible()
    expect(page).to_have_url(re.compile(r"/login$"))
    expect(page.get_by_role("button", name="Sign in")).to_be_visible()
