"""In Chromium: open an alert, build its timeline, open a case from it, add a note, export the
evidence package (after oversight approved the reveal an export needs), and verify it."""

from __future__ import annotations

from pathlib import Path

from playwright.sync_api import Browser, expect

from custodes.cases import add_unit
from custodes.ledger.verify_package import verify
from custodes.oversight import RevealRequest, decide, is_pseudonym, load_policy, request_reveal
from custodes.store import open_control
from custodes.store.users import Role, User
from tests.api.seed import PASSWORD, Seeded
from tests.web.test_browser import base_url, browser, shot

__all__ = ["base_url", "browser"]


def approve_reveals(seeded: Seeded, case_id: str, subjects: set[str]) -> None:
    """What the analyst asks and oversight approves (the Reveals and Oversight pages' work)."""
    analyst = User(name=seeded.users[Role.ANALYST], role=Role.ANALYST)
    overseer = User(name=seeded.users[Role.OVERSIGHT], role=Role.OVERSIGHT)
    with open_control(seeded.data_dir) as control:
        policy = load_policy(seeded.data_dir)
        for subject in sorted(subjects):
            reveal = RevealRequest(case_id, subject, "IG Act s.6", "evidence package")
            row = request_reveal(control, seeded.data_dir, policy, analyst, reveal)
            decide(control, seeded.data_dir, policy, overseer, row.id, approve=True)


def test_alert_timeline_case_note_and_export(
    browser: Browser, base_url: str, seeded: Seeded, tmp_path: Path
) -> None:
    page = browser.new_page(viewport={"width": 1400, "height": 900})
    page.goto(base_url + "/login")
    page.fill("input[name=name]", seeded.users[Role.ANALYST])
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    expect(page).to_have_url(base_url + "/")

    alert_id = seeded.alert_ids["high"]
    page.goto(f"{base_url}/alerts/{alert_id}")
    page.click("#build-timeline")
    expect(page.locator("h1")).to_contain_text(f"Timeline of alert {alert_id}")
    expect(page.locator("#timeline-chart")).to_have_attribute("data-drawn", "true", timeout=20_000)
    assert page.locator("#timeline-chart .scatterlayer .point").count() > 0
    steps = page.locator("#steps > li.step")
    assert steps.count() > 0
    steps.first.locator(".step-label").click()
    expect(steps.first.locator("table.events tbody tr").first).to_be_visible()
    users = page.locator("#steps table.events tbody tr td:nth-child(4)").all_text_contents()
    assert users and all(is_pseudonym(name) for name in users if name)
    shot(page, "case-1-timeline")

    page.goto(f"{base_url}/alerts/{alert_id}")
    page.click("#open-case")
    page.fill("#open-case input[name=title]", "Encoded PowerShell on ws00")
    page.click("#open-case button[type=submit]")
    expect(page.locator("h1")).to_contain_text("Encoded PowerShell on ws00")
    case_id = page.locator("h1").inner_text().split(" ")[0]
    expect(page.locator("#case-items")).to_contain_text("Encoded PowerShell command line")
    expect(page.locator("#case-items")).to_contain_text("timeline of alert")

    page.fill("#add-note textarea[name=text]", "ws00 ran encoded PowerShell; asked for a reveal")
    page.click("#add-note button[type=submit]")
    expect(page.locator("#case-items")).to_contain_text("asked for a reveal")
    expect(page.locator("#case-history")).to_contain_text("added-note")
    with open_control(seeded.data_dir) as control:
        add_unit(control, "cert", "security", ["someone"])
    page.reload()
    page.click("#share-case >> xpath=.. >> summary")
    page.select_option("#share-case select[name=unit]", "cert")
    page.fill("#share-case input[name=reason]", "second opinion")
    page.click("#share-case button[type=submit]")
    expect(page.locator("#case-access")).to_contain_text("share to cert: active")
    shot(page, "case-2-case")

    approve_reveals(seeded, case_id, set(users) - {""})
    with page.expect_download() as download:
        page.click("#export")
    package = tmp_path / "package.zip"
    download.value.save_as(package)
    assert "and 4 case document(s) proved" in verify(str(package))
