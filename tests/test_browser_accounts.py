"""Real-browser walk through the account pages (headless Debian Chromium)."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from portal.models import User
from tests.helpers import PASSWORD, last_mail_to

pytestmark = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)


def test_register_verify_login_switch_language_logout(page, db):
    page.goto("/")
    # Keyboard users reach the content first through the skip link.
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.className") == "skip-link"

    page.get_by_role("link", name="Register").first.click()
    page.get_by_label("Full name").fill("Ingrid Student")
    page.get_by_label("E-mail address").fill("Ingrid@Example.no")
    page.get_by_label("a student").check()
    page.get_by_label("Password", exact=True).fill(PASSWORD)
    page.get_by_label("Repeat the password").fill(PASSWORD)
    page.get_by_role("button", name="Create account").click()
    expect(page.get_by_text("Please confirm your e-mail address")).to_be_visible()

    link = re.search(r"https?://\S+/verify/\S+", last_mail_to(db, "ingrid@example.no").body_text)
    page.goto(re.sub(r"^https?://[^/]+", "", link.group(0)))
    expect(page.get_by_text("your e-mail address is confirmed")).to_be_visible()
    db.rollback()
    assert db.execute(select(User)).scalar_one().email_verified_at is not None

    page.get_by_role("button", name="Norsk (bokmål)").click()
    expect(page.locator("html")).to_have_attribute("lang", "nb")
    page.get_by_role("button", name=re.compile("Logg ut|Log out")).click()
    expect(page.locator("html")).to_have_attribute("lang", "nb")  # the choice outlives the session


def test_wrong_password_shows_error_next_to_field(page, db):
    from tests.helpers import make_user

    make_user(db, email="kari@example.no", locale="en")
    page.goto("/login")
    page.get_by_label("E-mail address").fill("kari@example.no")
    page.get_by_label("Password").fill("not-the-password-1")
    page.get_by_role("button", name="Log in").click()
    error = page.locator("#password-error")
    assert "Wrong e-mail address or password" in error.inner_text()
    assert page.get_by_label("Password").get_attribute("aria-describedby") == "password-error"
