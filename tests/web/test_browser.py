"""The web UI in real headless Chromium (Debian's, driven by Playwright; no browser download).

Signs in, sees the overview charts drawn, opens an alert, acknowledges it, searches, opens the
API docs. Screenshots
go to test-artifacts/web/ for a person to look at.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import orjson
import pytest
import uvicorn
from fastapi import FastAPI
from playwright.sync_api import Browser, Page, expect, sync_playwright

from custodes.events import RawRecord
from custodes.pipeline import open_pipeline
from custodes.store.users import Role
from tests.api.seed import PASSWORD, Seeded, event

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
]
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "web"


@pytest.fixture
def base_url(app: FastAPI) -> Iterator[str]:
    """The app served by uvicorn on 127.0.0.1, a free port, in a thread."""
    server = uvicorn.Server(
        uvicorn.Config(app, host="127.0.0.1", port=0, log_level="warning", lifespan="off")
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        assert thread.is_alive() and time.monotonic() < deadline, "uvicorn did not start"
        time.sleep(0.02)
    port = server.servers[0].sockets[0].getsockname()[1]
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join(timeout=10)


@pytest.fixture
def browser() -> Iterator[Browser]:
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


def ingest_more(data_dir: Path, count: int) -> None:
    """Events arriving while the page is open."""
    now = datetime.now(UTC)
    records = [
        RawRecord(
            data=orjson.dumps(event(now - timedelta(seconds=i), "ws09", "bob", "linux.auth", "id")),
            source="test",
            origin="more",
            position=i,
            format="json",
        )
        for i in range(count)
    ]
    with open_pipeline(data_dir) as pipeline:
        pipeline.submit(records)


def shot(page: Page, name: str) -> None:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)


def test_sign_in_overview_alert_and_search(browser: Browser, base_url: str, seeded: Seeded) -> None:
    page = browser.new_page(viewport={"width": 1400, "height": 900})
    outside_requests: list[str] = []
    page.on(
        "request",
        lambda request: (
            None
            if request.url.startswith((base_url, "data:"))
            else outside_requests.append(request.url)
        ),
    )

    page.goto(base_url + "/")
    expect(page).to_have_url(f"{base_url}/login?next=/")
    page.fill("input[name=name]", seeded.users[Role.ANALYST])
    page.fill("input[name=password]", "wrong password")
    page.click("button[type=submit]")
    expect(page.locator(".error")).to_contain_text("wrong user name or password")
    shot(page, "1-sign-in-refused")
    page.fill("input[name=name]", seeded.users[Role.ANALYST])
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")

    expect(page).to_have_url(base_url + "/")
    for chart in ("#events-chart", "#alerts-chart"):
        expect(page.locator(chart)).to_have_attribute("data-drawn", "true", timeout=20_000)
        bars = page.locator(f"{chart} .main-svg .barlayer .point path")
        assert bars.count() > 0, f"{chart} drew no bars"
        box = bars.first.bounding_box()
        assert box is not None and box["height"] > 0
    assert sorted(page.locator("#events-chart .legendtext").all_text_contents()) == [
        "linux.auth",
        "windows.sysmon",
    ]
    expect(page.locator("#events-total")).to_have_text("40")
    shot(page, "2-overview")
    ingest_more(seeded.data_dir, 5)  # the overview refreshes from /api/overview
    page.evaluate("window.custodesOverview.refresh()")
    expect(page.locator("#events-total")).to_have_text("45")

    page.click("nav >> text=Alerts")
    expect(page.locator("#alerts-table tbody tr")).to_have_count(3)
    page.click("text=Encoded PowerShell command line")
    expect(page.locator("h1")).to_contain_text("Encoded PowerShell command line")
    expect(page.locator("#attack-tags")).to_contain_text("T1059.001")
    expect(page.locator("table.events tbody tr")).to_have_count(len(seeded.event_ids))
    shot(page, "3-alert")
    page.click("#ack")
    expect(page.locator("#alert-status")).to_have_text("acknowledged")

    page.click("nav >> text=Search")
    page.fill("input[name=where]", "host.name = 'ws01' and process.command_line contains 'echo'")
    page.fill("input[name=since]", "2h")
    page.click("#search-form button[type=submit]")
    count = int(page.locator("#result-count").inner_text())
    assert count > 0
    hosts = page.locator("table.events tbody tr td:nth-child(3)").all_inner_texts()
    assert hosts == ["ws01"] * count
    shot(page, "4-search")

    page.click("nav >> text=Sources")
    expect(page.locator("main")).to_contain_text("windows.sysmon")
    shot(page, "5-sources")

    page.goto(base_url + "/docs")  # Swagger UI from local files renders the OpenAPI 3.1 schema
    expect(page.locator(".swagger-ui .opblock-summary-path").first).to_be_visible(timeout=20_000)
    expect(page.locator(".swagger-ui")).to_contain_text("/api/alerts/{alert_id}/ack")
    shot(page, "6-api-docs")
    assert outside_requests == []
