"""The oversight flow in headless Chromium: an analyst asks for a reveal, an overseer approves
it, the analyst now sees the name in that case only."""

from __future__ import annotations

from fastapi import FastAPI
from playwright.sync_api import Browser, Page, expect

from custodes.api.access import door
from custodes.store.users import Role
from tests.api.seed import PASSWORD, Seeded
from tests.web.test_browser import base_url, browser, shot

__all__ = ["base_url", "browser"]  # fixtures used below


def sign_in(browser: Browser, base_url: str, name: str, target: str) -> Page:
    page = browser.new_context(viewport={"width": 1400, "height": 900}).new_page()
    page.goto(f"{base_url}/login?next={target}")
    page.fill("input[name=name]", name)
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    expect(page).to_have_url(base_url + target)
    return page


def test_analyst_requests_overseer_approves_analyst_sees_the_name_in_that_case(
    browser: Browser, base_url: str, seeded: Seeded, app: FastAPI
) -> None:
    alias = door(app.state.custodes).state()[1].pseudonym("alice")
    analyst = sign_in(browser, base_url, seeded.users[Role.ANALYST], "/search")
    analyst.click("#search-form button[type=submit]")
    results = analyst.locator("#result-count")
    expect(results).not_to_have_text("0")
    page_text = analyst.content()
    assert alias in page_text and "alice" not in page_text

    analyst.goto(f"{base_url}/reveals?subject={alias}")
    analyst.fill("#reveal-form input[name=case_id]", "C-42")
    analyst.fill("#reveal-form input[name=legal_basis]", "Inspector General Act")
    analyst.fill("#reveal-form input[name=justification]", "encoded PowerShell on ws00")
    analyst.click("#reveal-form button[type=submit]")
    expect(analyst.locator("#my-requests")).to_contain_text("pending")
    shot(analyst, "8-reveal-requested")

    overseer = sign_in(browser, base_url, seeded.users[Role.OVERSIGHT], "/oversight")
    expect(overseer.locator("#pending-requests")).to_contain_text(alias)
    expect(overseer.locator("#access-log")).to_contain_text("reveal-request")
    shot(overseer, "9-oversight")
    overseer.click("#pending-requests button.primary")
    expect(overseer.locator("#pending-count")).to_have_text("0")
    expect(overseer.locator("#grants")).to_contain_text("C-42")

    analyst.goto(f"{base_url}/search?since=24h&case=C-42")
    expect(analyst.locator("#result-count")).not_to_have_text("0")
    assert "alice" in analyst.content()
    shot(analyst, "10-revealed-in-case")
    analyst.goto(f"{base_url}/search?since=24h&case=C-43")
    assert "alice" not in analyst.content() and alias in analyst.content()
    analyst.goto(f"{base_url}/search?since=24h")
    assert "alice" not in analyst.content()
