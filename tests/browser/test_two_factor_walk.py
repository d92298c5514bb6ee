"""An admin turns on two-factor in Chromium, signs in again with a code, signs out everywhere."""

from __future__ import annotations

import re
import time

import pyotp
import pytest
from playwright.sync_api import expect

from blog.services import two_factor as two_factor_service

from ..factories import PASSWORD
from .conftest import sign_in


class Clock:
    """The two-factor rules' clock, moved on by hand so each code is a fresh one."""

    def __init__(self) -> None:
        self.now = float(int(time.time()) // 30 * 30 + 10)

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock(monkeypatch):
    """Replace the clock the live server's two-factor rules read (same process)."""
    fake = Clock()
    monkeypatch.setattr(two_factor_service, "clock", fake)
    return fake


def test_admin_turns_on_two_factor_and_signs_in_with_a_code(
    page, browser, live_server, make, clock
):
    make.user("admin", username="ada")

    sign_in(page, "ada", PASSWORD)
    page.goto("/account")
    page.get_by_role("link", name="Set up two-factor authentication").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Two-factor authentication")
    expect(page.get_by_role("img", name=re.compile("QR code"))).to_be_visible()
    secret = page.locator("#two-factor-secret").inner_text().replace(" ", "")
    page.get_by_label("Six-digit code from your app").fill(pyotp.TOTP(secret).at(clock.now))
    page.get_by_role("button", name="Turn on two-factor authentication").click()

    expect(page.get_by_role("heading", level=1)).to_have_text("Two-factor authentication is on")
    expect(page.get_by_text("shown only this once")).to_be_visible()
    codes = page.get_by_role("list", name="Your recovery codes").get_by_role("listitem")
    expect(codes).to_have_count(10)

    page.get_by_role("button", name="Sign out").click()
    expect(page.get_by_text("You are signed out.")).to_be_visible()

    clock.now += 30
    _sign_in_with_code(page, "ada", pyotp.TOTP(secret).at(clock.now))

    expect(page).to_have_url(re.compile(r"/admin/$"))
    expect(page.get_by_text("Welcome back")).to_be_visible()

    # A second browser signs in too (with its own fresh code) and reaches the staff pages.
    clock.now += 30
    phone_context = browser.new_context(base_url=live_server)
    try:
        phone = phone_context.new_page()
        _sign_in_with_code(phone, "ada", pyotp.TOTP(secret).at(clock.now))
        expect(phone).to_have_url(re.compile(r"/admin/$"))

        # The first browser signs out everywhere: the second one's session is gone.
        page.goto("/account")
        with page.expect_navigation():
            page.get_by_role("button", name="Sign out everywhere, this device too").click()
        expect(page.get_by_text("You are signed out everywhere")).to_be_visible()
        phone.goto("/admin/")
        expect(phone).to_have_url(re.compile(r"/login\?next="))
    finally:
        phone_context.close()


def _sign_in_with_code(page, login: str, code: str) -> None:
    """Sign in through the password step and the code step."""
    page.goto("/login?next=/admin/")
    page.get_by_label("Email address or username", exact=True).fill(login)
    page.get_by_label("Password", exact=True).fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page).to_have_url(re.compile(r"/login/two-factor$"))
    expect(page.get_by_role("heading", level=1)).to_have_text("Enter your code")
    page.get_by_label("Six-digit code from your app").fill(code)
    page.get_by_role("button", name="Verify").click()
