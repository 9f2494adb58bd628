"""Pages render the same data the API returns, in the frame, for the roles that may see them."""

from __future__ import annotations

import json

import httpx
import pytest

from custodes.store.users import Role
from tests.api.seed import PASSWORD, Seeded

pytestmark = pytest.mark.anyio
HTML = {"Accept": "text/html"}


async def sign_in(client: httpx.AsyncClient, name: str) -> None:
    response = await client.post("/login", data={"name": name, "password": PASSWORD})
    assert response.status_code == 303


async def test_overview_embeds_the_api_data(client: httpx.AsyncClient, seeded: Seeded) -> None:
    await sign_in(client, seeded.users[Role.ANALYST])
    page = (await client.get("/?hours=1", headers=HTML)).text
    embedded = page.split('<script type="application/json" id="overview-data">')[1]
    data = json.loads(embedded.split("</script>")[0])
    api = (await client.get("/api/overview?hours=1")).json()
    assert data["events_per_minute"] == api["events_per_minute"]
    assert data["open_alerts"] == api["open_alerts"]
    assert '<script src="/static/vendor/plotly/plotly.min.js"' in page
    assert "http://" not in page.replace("http://www.w3.org", "") and "https://" not in page


async def test_navigation_follows_the_role(client: httpx.AsyncClient, seeded: Seeded) -> None:
    await sign_in(client, seeded.users[Role.OVERSIGHT])
    page = (await client.get("/", headers=HTML)).text
    assert 'href="/rules"' in page and 'href="/search"' not in page
    refused = await client.get("/search", headers=HTML)
    assert refused.status_code == 403
    assert "may not do this" in refused.text and "<html" in refused.text


async def test_alert_page_shows_rule_tags_events_and_actions(
    client: httpx.AsyncClient, seeded: Seeded
) -> None:
    await sign_in(client, seeded.users[Role.ANALYST])
    alert_id = seeded.alert_ids["high"]
    page = (await client.get(f"/alerts/{alert_id}", headers=HTML)).text
    assert "Encoded PowerShell command line" in page
    assert "https://attack.mitre.org/techniques/T1059/001/" in page
    assert page.count("powershell -enc SQBFAFgA") >= len(seeded.event_ids)
    assert 'id="ack"' in page
    token = page.split('name="csrf" value="')[1].split('"')[0]
    acked = await client.post(f"/alerts/{alert_id}/ack", data={"csrf": token})
    assert acked.status_code == 303
    after = (await client.get(f"/alerts/{alert_id}", headers=HTML)).text
    assert 'id="alert-status">acknowledged<' in after and 'id="ack"' not in after


async def test_search_page_shows_results_and_filter_errors(
    client: httpx.AsyncClient, seeded: Seeded
) -> None:
    await sign_in(client, seeded.users[Role.INVESTIGATOR])
    query = {"since": "2h", "where": "host.name = 'ws01'", "limit": "100"}
    page = (await client.get("/search", params=query, headers=HTML)).text
    api = (await client.get("/api/events", params=query)).json()
    assert f'id="result-count">{api["count"]}<' in page
    broken = await client.get(
        "/search", params={"since": "2h", "where": "host.name ="}, headers=HTML
    )
    assert broken.status_code == 200
    assert 'class="error"' in broken.text


async def test_sources_and_alerts_pages(client: httpx.AsyncClient, seeded: Seeded) -> None:
    await sign_in(client, seeded.users[Role.ANALYST])
    sources = (await client.get("/sources", headers=HTML)).text
    assert "syslog-udp" in sources and "windows.sysmon" in sources
    alerts = (await client.get("/alerts?min_level=critical", headers=HTML)).text
    assert "LSASS memory read" in alerts and "Logon from unusual host" not in alerts


async def test_sign_out_forgets_the_session(client: httpx.AsyncClient, seeded: Seeded) -> None:
    await sign_in(client, seeded.users[Role.ADMIN])
    page = (await client.get("/", headers=HTML)).text
    token = page.split('name="csrf" value="')[1].split('"')[0]
    response = await client.post("/logout", data={"csrf": token})
    assert response.headers["location"] == "/login"
    assert (await client.get("/api/me")).status_code == 401


async def test_repeated_wrong_passwords_are_slowed_down(
    client: httpx.AsyncClient, seeded: Seeded
) -> None:
    name = seeded.users[Role.ANALYST]
    for _ in range(5):
        wrong = await client.post("/login", data={"name": name, "password": "guess"})
        assert wrong.status_code == 401
    blocked = await client.post("/login", data={"name": name, "password": PASSWORD})
    assert blocked.status_code == 429
    assert "too many failed sign-ins" in blocked.text
    other = await client.post(
        "/login", data={"name": seeded.users[Role.ADMIN], "password": PASSWORD}
    )
    assert other.status_code == 303
