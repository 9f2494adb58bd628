"""The Posture page in headless Chromium: the trend chart drawn, the findings listed."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import orjson
from fastapi import FastAPI
from playwright.sync_api import Browser, expect

from custodes.api.access import door
from custodes.posture import ImportRequest, PostureSettings, import_reference
from custodes.posture.run import run_posture
from custodes.store.users import Role
from tests.api.seed import PASSWORD, Seeded
from tests.web.test_browser import base_url, browser, shot

__all__ = ["base_url", "browser"]  # fixtures used below


def posture_runs(app: FastAPI, data_dir: Path, folder: Path) -> None:
    """Two runs over a small roster: a departed account, then a lost phone as well."""
    roster = folder / "roster.csv"
    roster.write_text("employee_id,account,separation_date\nE1,gone,2026-10-01\nE2,kept,\n")
    accounts = folder / "accounts.json"
    entries = [
        {"sam_account_name": name, "employee_id": owner, "last_logon_at": "2026-11-24T10:00:00Z"}
        for name, owner in (("gone", "E1"), ("kept", "E2"))
    ]
    accounts.write_bytes(orjson.dumps({"accounts": entries}))
    import_reference(data_dir, ImportRequest(roster=roster, accounts=accounts))
    control = app.state.custodes.control
    now = datetime(2026, 11, 25, tzinfo=UTC)
    run_posture(data_dir, control, PostureSettings(), now=now)
    devices = folder / "devices.json"
    phone = {
        "id": "phone-1",
        "ownerEmployeeId": "E2",
        "operatingSystem": "iOS",
        "osVersion": "17.6.1",
        "isEncrypted": False,
        "passcodeSet": True,
        "jailBroken": "False",
        "managementState": "managed",
        "lastSyncDateTime": "2026-11-24T10:00:00Z",
    }
    devices.write_bytes(orjson.dumps({"devices": [phone]}))
    import_reference(data_dir, ImportRequest(devices=devices))
    run_posture(data_dir, control, PostureSettings(), now=now + timedelta(hours=1))


def test_posture_page_draws_its_chart_and_lists_findings(
    browser: Browser, base_url: str, seeded: Seeded, app: FastAPI, tmp_path: Path
) -> None:
    posture_runs(app, seeded.data_dir, tmp_path)
    page = browser.new_page(viewport={"width": 1400, "height": 900})
    page.goto(base_url + "/login?next=/posture")
    page.fill("input[name=name]", seeded.users[Role.OVERSIGHT])
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    expect(page).to_have_url(base_url + "/posture")
    chart = page.locator("#posture-chart")
    expect(chart).to_have_attribute("data-drawn", "true", timeout=20_000)
    bars = page.locator("#posture-chart .main-svg .barlayer .point path")
    boxes = [bar.bounding_box() for bar in bars.all()]
    heights = [box["height"] if box else 0 for box in boxes]
    assert len([h for h in heights if h > 0]) == 3  # accounts in both runs, devices in the 2nd
    assert sorted(page.locator("#posture-chart .legendtext").all_text_contents()) == [
        "Accounts of departed staff, dormant and ownerless accounts",
        "Mobile devices",
        "Privileged access",
    ]
    rows = page.locator("#posture-findings tbody tr")
    expect(rows).to_have_count(2)
    expect(page.locator("#posture-findings")).to_contain_text("gone")
    expect(page.locator("#posture-findings")).to_contain_text("phone-1")
    expect(page.locator("#area-devices")).to_have_text("1")
    expect(page.locator("#posture-pseudonyms")).to_have_count(0)
    shot(page, "7-posture")


def test_an_analyst_sees_the_doors_pseudonyms_on_the_posture_page(
    browser: Browser, base_url: str, seeded: Seeded, app: FastAPI, tmp_path: Path
) -> None:
    posture_runs(app, seeded.data_dir, tmp_path)
    alias = door(app.state.custodes).state()[1].pseudonym("gone")
    page = browser.new_page(viewport={"width": 1400, "height": 900})
    page.goto(base_url + "/login?next=/posture")
    page.fill("input[name=name]", seeded.users[Role.ANALYST])
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    expect(page).to_have_url(base_url + "/posture")
    findings = page.locator("#posture-findings")
    expect(findings.locator("tbody tr")).to_have_count(2)
    expect(findings).to_contain_text(alias)
    expect(findings).to_contain_text("phone-1")  # a device is not a person
    expect(findings).not_to_contain_text("gone")
    expect(page.locator("#posture-pseudonyms")).to_be_visible()
    shot(page, "7-posture-analyst")
