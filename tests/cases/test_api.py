"""The timeline, graph, process-tree and case routes over the demo's lateral movement."""

from __future__ import annotations

import asyncio
import hashlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from custodes.api import create_app
from custodes.cases import add_unit
from custodes.config import Settings
from custodes.demo.truth import SIGMA_UNCOMMON_SERVICE
from custodes.store import list_alerts
from custodes.store.users import Role, create_token


class Client:
    """A synchronous face on the in-process app (one short async client per call)."""

    def __init__(self, app: FastAPI) -> None:
        self.app = app

    def request(self, method: str, url: str, **options: Any) -> httpx.Response:
        async def send() -> httpx.Response:
            transport = httpx.ASGITransport(self.app)
            async with httpx.AsyncClient(transport=transport, base_url="http://t") as http:
                return await http.request(method, url, **options)

        return asyncio.run(send())

    def get(self, url: str, **options: Any) -> httpx.Response:
        return self.request("GET", url, **options)

    def post(self, url: str, **options: Any) -> httpx.Response:
        return self.request("POST", url, **options)


@pytest.fixture(scope="module")
def client(demo_data: Path) -> Iterator[Client]:
    app = create_app(Settings(data_dir=demo_data))
    yield Client(app)
    app.state.custodes.control.close()


@pytest.fixture(scope="module")
def headers(client: Client) -> dict[str, dict[str, str]]:
    control = client.app.state.custodes.control
    add_unit(control, "api-soc", "security", ["api-ana"])
    add_unit(control, "api-ia", "investigative", ["api-ivy"])
    people = {
        "ana": Role.ANALYST,
        "ben": Role.ANALYST,
        "ivy": Role.INVESTIGATOR,
        "olga": Role.OVERSIGHT,
    }
    return {
        name: {"Authorization": f"Bearer {create_token(control, role, name=f'api-{name}')[0]}"}
        for name, role in people.items()
    }


@pytest.fixture(scope="module")
def alert_id(client: Client) -> int:
    control = client.app.state.custodes.control
    return next(
        a.id for a in list_alerts(control, limit=100) if a.rule_id == SIGMA_UNCOMMON_SERVICE
    )


def test_the_timeline_route_returns_the_steps_and_sessions(
    client: Client, headers: dict[str, dict[str, str]], alert_id: int
) -> None:
    answer = client.get(f"/api/timeline?alert={alert_id}", headers=headers["ana"])
    assert answer.status_code == 200, answer.text
    body = answer.json()
    labels = [step["label"] for step in body["steps"]]
    assert any(label.endswith("created on APP01 (lateral movement)") for label in labels)
    assert any(session["host"] == "APP01.agency.example" for session in body["sessions"])
    assert client.get("/api/timeline", headers=headers["ana"]).status_code == 400
    assert client.get(f"/api/timeline?alert={alert_id}", headers=headers["olga"]).status_code == 403


def test_graph_and_process_tree_routes(
    client: Client, headers: dict[str, dict[str, str]], alert_id: int
) -> None:
    graph = client.get(f"/api/graph?alert={alert_id}&window=2h", headers=headers["ana"]).json()
    ids = {node["id"] for node in graph["nodes"]}
    assert "host:APP01.agency.example" in ids
    assert all(edge["source"] in ids and edge["target"] in ids for edge in graph["edges"])
    trees = client.get(f"/api/process-tree?alert={alert_id}", headers=headers["ana"]).json()
    names = [tree["name"] for tree in trees["trees"]]
    assert "rundll32.exe" in names or "wupdsvc.exe" in names


def test_a_case_from_an_alert_with_a_note_a_timeline_and_a_handover(
    client: Client, headers: dict[str, dict[str, str]], alert_id: int
) -> None:
    body = {"title": "From the API", "unit": "api-soc", "alert_ids": [alert_id]}
    created = client.post("/api/cases", json=body, headers=headers["ana"])
    assert created.status_code == 201, created.text
    case_id = created.json()["id"]
    note = client.post(f"/api/cases/{case_id}/notes", json={"text": "hi"}, headers=headers["ana"])
    assert note.status_code == 200
    kept = client.post(
        f"/api/cases/{case_id}/timelines",
        json={"alert": str(alert_id), "window": "1h"},
        headers=headers["ana"],
    )
    assert kept.status_code == 200, kept.text
    assert client.get(f"/api/cases/{case_id}", headers=headers["ben"]).status_code == 404
    handover = client.post(
        f"/api/cases/{case_id}/handover",
        json={"unit": "api-ia", "legal_basis": "IG Act s.6"},
        headers=headers["ana"],
    ).json()
    assert handover["status"] == "pending"
    assert client.get(f"/api/cases/{case_id}", headers=headers["ivy"]).status_code == 404
    decided = client.post(f"/api/case-access/{handover['id']}/approve", headers=headers["olga"])
    assert decided.json()["status"] == "active"
    case = client.get(f"/api/cases/{case_id}", headers=headers["ivy"]).json()
    assert case["unit"] == "api-ia"
    assert [item["kind"] for item in case["items"]] == ["alert", "note", "timeline"]
    refused = client.get(f"/api/cases/{case_id}/export", headers=headers["ivy"])
    assert refused.status_code == 403 and "reveal" in refused.text


def test_graph_and_process_tree_pages_draw(
    client: Client, headers: dict[str, dict[str, str]], alert_id: int
) -> None:
    graph = client.get(f"/graph?alert={alert_id}&window=2h", headers=headers["ana"])
    assert graph.status_code == 200, graph.text
    assert "<svg" in graph.text and "APP01" in graph.text
    trees = client.get(f"/process-tree?alert={alert_id}", headers=headers["ana"])
    assert trees.status_code == 200 and "rundll32.exe" in trees.text
    assert "comsvcs.dll, MiniDump" in trees.text


def test_attachments_are_hashed_on_upload_and_tasks_kept(
    client: Client, headers: dict[str, dict[str, str]]
) -> None:
    created = client.post(
        "/api/cases", json={"title": "Files", "unit": "api-soc"}, headers=headers["ana"]
    )
    case_id = created.json()["id"]
    content = b"memo of the first responder\n"
    uploaded = client.post(
        f"/api/cases/{case_id}/attachments",
        files={"file": ("memo.txt", content, "text/plain")},
        headers=headers["ana"],
    )
    assert uploaded.status_code == 200, uploaded.text
    assert uploaded.json()["sha256"] == hashlib.sha256(content).hexdigest()
    task = client.post(
        f"/api/cases/{case_id}/tasks", json={"text": "image APP01"}, headers=headers["ana"]
    )
    assert task.status_code == 200
    case = client.get(f"/api/cases/{case_id}", headers=headers["ana"]).json()
    assert [(i["kind"], i["text"]) for i in case["items"]] == [
        ("attachment", "memo.txt"),
        ("task", "image APP01"),
    ]
    assert case["history"][1]["details"]["ref"] == hashlib.sha256(content).hexdigest()
