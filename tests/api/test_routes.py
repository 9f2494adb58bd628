"""The REST API over a seeded data directory: events, alerts, rules, sources, metrics, docs."""

from __future__ import annotations

import httpx
import pytest

from custodes.store.users import Role
from tests.api.conftest import bearer
from tests.api.seed import RULE_ID, Seeded

pytestmark = pytest.mark.anyio


@pytest.fixture
def analyst(tokens: dict[Role, str]) -> dict[str, str]:
    return bearer(tokens[Role.ANALYST])


async def test_event_search_filters_and_limits(
    client: httpx.AsyncClient, analyst: dict[str, str], seeded: Seeded
) -> None:
    everything = (await client.get("/api/events?since=2h&limit=1000", headers=analyst)).json()
    assert everything["count"] == 40
    times = [event["@timestamp"] for event in everything["events"]]
    assert times == sorted(times, reverse=True)
    query = {"since": "2h", "where": "process.command_line contains '-enc' and host.name = 'ws00'"}
    found = (await client.get("/api/events", params=query, headers=analyst)).json()
    assert found["count"] >= 1
    assert all(event["host.name"] == "ws00" for event in found["events"])
    assert all("-enc" in event["process.command_line"] for event in found["events"])
    assert {event["event.id"] for event in found["events"]} <= set(seeded.event_ids)
    limited = (await client.get("/api/events?since=2h&limit=5", headers=analyst)).json()
    assert limited["count"] == 5


async def test_malformed_filter_is_a_400_naming_the_problem(
    client: httpx.AsyncClient, analyst: dict[str, str]
) -> None:
    response = await client.get("/api/events", params={"where": "host.name = "}, headers=analyst)
    assert response.status_code == 400
    assert response.json()["error"] == "WhereError"
    too_many = await client.get("/api/events?limit=1000000", headers=analyst)
    assert too_many.status_code == 422


async def test_alerts_list_filters_by_level_and_status(
    client: httpx.AsyncClient, analyst: dict[str, str]
) -> None:
    listed = (await client.get("/api/alerts", headers=analyst)).json()
    assert {alert["level"] for alert in listed["alerts"]} == {"critical", "high", "medium"}
    high_up = (await client.get("/api/alerts?min_level=high", headers=analyst)).json()
    assert {alert["level"] for alert in high_up["alerts"]} == {"critical", "high"}
    closed = (await client.get("/api/alerts?status=closed", headers=analyst)).json()
    assert closed["count"] == 0
    bad = await client.get("/api/alerts?min_level=urgent", headers=analyst)
    assert bad.status_code == 400


async def test_alert_shows_rule_attack_tags_and_matched_events(
    client: httpx.AsyncClient, analyst: dict[str, str], seeded: Seeded
) -> None:
    alert_id = seeded.alert_ids["high"]
    shown = (await client.get(f"/api/alerts/{alert_id}", headers=analyst)).json()
    assert shown["alert"]["rule_id"] == RULE_ID
    assert shown["rule"]["title"] == "Encoded PowerShell command line"
    assert shown["rule"]["author"] == "Custodes tests"
    assert {"kind": "technique", "id": "T1059.001", "tag": "attack.t1059.001"} in shown["attack"]
    assert {"kind": "tactic", "id": "execution", "tag": "attack.execution"} in shown["attack"]
    assert sorted(event["event.id"] for event in shown["events"]) == sorted(seeded.event_ids)
    missing = await client.get("/api/alerts/999999", headers=analyst)
    assert missing.status_code == 404
    assert missing.json() == {
        "error": "NotFound",
        "message": "alert '999999' not found",
        "kind": "alert",
        "id": "999999",
    }


async def test_acknowledge_and_suppress(
    client: httpx.AsyncClient, analyst: dict[str, str], seeded: Seeded
) -> None:
    alert_id = seeded.alert_ids["critical"]
    acked = await client.post(f"/api/alerts/{alert_id}/ack", headers=analyst)
    assert acked.json()["status"] == "acknowledged"
    assert acked.json()["status_by"] == "analyst-test"  # who acknowledged it
    still_open = (await client.get("/api/alerts?status=open", headers=analyst)).json()
    assert alert_id not in {alert["id"] for alert in still_open["alerts"]}
    body = {"justification": "vulnerability scanner on ws01", "expires": "7d"}
    suppressed = await client.post(f"/api/alerts/{alert_id}/suppress", headers=analyst, json=body)
    assert suppressed.status_code == 201
    assert suppressed.json()["owner"] == "analyst-test"
    assert suppressed.json()["rule_id"] == "rule-lsass"
    unjustified = await client.post(
        f"/api/alerts/{alert_id}/suppress", headers=analyst, json={"justification": " "}
    )
    assert unjustified.status_code == 400


async def test_rules_sources_and_overview(
    client: httpx.AsyncClient, analyst: dict[str, str]
) -> None:
    rules = (await client.get("/api/rules", headers=analyst)).json()
    assert [rule["id"] for rule in rules["rules"]] == [RULE_ID]
    sources = (await client.get("/api/sources", headers=analyst)).json()
    assert {
        "name": "http",
        "received": 40,
        "stored": 40,
        "quarantined": 0,
        "dropped": 0,
    } in sources["sources"]
    assert {row["dataset"]: row["events"] for row in sources["datasets"]} == {
        "linux.auth": 20,
        "windows.sysmon": 20,
    }
    overview = (await client.get("/api/overview?hours=1", headers=analyst)).json()
    assert overview["events_total"] == 40
    per_dataset = {
        series["dataset"]: sum(series["counts"]) for series in overview["events_per_minute"]
    }
    assert per_dataset == {"linux.auth": 20, "windows.sysmon": 20}
    assert {series["level"] for series in overview["alerts_per_hour"]} == {
        "critical",
        "high",
        "medium",
    }
    assert overview["open_alerts"]["critical"] == 1


async def test_metrics_in_prometheus_text_format(
    client: httpx.AsyncClient, analyst: dict[str, str]
) -> None:
    response = await client.get("/metrics", headers=analyst)
    assert response.headers["content-type"].startswith("text/plain; version=0.0.4")
    text = response.text
    assert 'custodes_events_received_total{source="syslog-udp"} 120.0' in text
    assert 'custodes_events_quarantined_total{source="syslog-udp"} 2.0' in text
    assert 'custodes_queue_depth{queue="intake"} 7.0' in text
    assert 'custodes_ack_latency_seconds_bucket{le="0.1"} 39.0' in text
    assert "custodes_ack_latency_seconds_count 40.0" in text
    assert 'custodes_alerts{level="critical",status="open"} 1.0' in text


async def test_openapi_and_docs_are_served_locally(
    client: httpx.AsyncClient, analyst: dict[str, str]
) -> None:
    schema = (await client.get("/openapi.json", headers=analyst)).json()
    assert {"/api/events", "/api/alerts/{alert_id}/ack", "/metrics"} <= set(schema["paths"])
    docs = await client.get("/docs", headers=analyst)
    assert "/static/vendor/swagger/swagger-ui-bundle.js" in docs.text
    assert "cdn" not in docs.text.lower()
    bundle = await client.get("/static/vendor/swagger/swagger-ui-bundle.js")
    assert bundle.status_code == 200


async def test_admin_manages_users(client: httpx.AsyncClient, tokens: dict[Role, str]) -> None:
    admin = bearer(tokens[Role.ADMIN])
    new = {"name": "dana", "password": "long enough pw", "role": "investigator"}
    created = await client.post("/api/users", headers=admin, json=new)
    assert created.json() == {"name": "dana", "role": "investigator", "kind": "user"}
    again = await client.post("/api/users", headers=admin, json=new)
    assert again.status_code == 409
    assert again.json()["message"] == "user 'dana' already exists"
    users = (await client.get("/api/users", headers=admin)).json()["users"]
    assert "password_hash" not in users[0]
    assert "dana" in {user["name"] for user in users}


async def test_an_app_built_without_the_service_answers_shippers_at_the_root(
    client: httpx.AsyncClient, tokens: dict[Role, str]
) -> None:
    shipper = await client.get("/", headers=bearer(tokens[Role.INGEST]))
    browser = await client.get("/", headers={"Accept": "text/html"})
    assert shipper.status_code == 200
    assert shipper.headers["X-Elastic-Product"] == "Elasticsearch"
    assert shipper.json()["version"]["number"].startswith("8.")
    assert "X-Elastic-Product" not in browser.headers
