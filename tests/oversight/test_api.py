"""The oversight API: reveal requests, decisions by oversight only, notifications, the report."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from custodes.api.access import door
from custodes.store.users import Role
from tests.api.seed import Seeded

pytestmark = pytest.mark.anyio


class Inbox:
    """A notifier double: what would have been sent."""

    def __init__(self) -> None:
        self.sent: list[Mapping[str, Any]] = []

    def submit(self, payload: Mapping[str, Any]) -> None:
        self.sent.append(payload)


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


async def test_reveal_over_the_api(
    app: FastAPI, client: httpx.AsyncClient, tokens: dict[Role, str], seeded: Seeded
) -> None:
    inbox = Inbox()
    app.state.custodes.extras["notifier"] = inbox
    alias = door(app.state.custodes).state()[1].pseudonym("alice")
    analyst, overseer = bearer(tokens[Role.ANALYST]), bearer(tokens[Role.OVERSIGHT])
    body = {"case_id": "C-5", "subject": alias, "legal_basis": "IG Act", "justification": "why"}
    filed = await client.post("/api/reveals", json=body, headers=analyst)
    assert filed.status_code == 201 and filed.json()["status"] == "pending"
    request_id = filed.json()["id"]
    assert [payload["kind"] for payload in inbox.sent] == ["reveal-request"]
    refused = await client.post(f"/api/reveals/{request_id}/approve", json={}, headers=analyst)
    assert refused.status_code == 403
    admin = await client.post(
        f"/api/reveals/{request_id}/approve", json={}, headers=bearer(tokens[Role.ADMIN])
    )
    assert admin.status_code == 403
    pending = (await client.get("/api/oversight", headers=overseer)).json()["pending"]
    assert [item["id"] for item in pending] == [request_id]
    approved = await client.post(
        f"/api/reveals/{request_id}/approve", json={"reason": "ok"}, headers=overseer
    )
    assert approved.json()["status"] == "approved"
    in_case = (await client.get("/api/events?case=C-5&limit=5", headers=analyst)).json()
    assert {event["user.name"] for event in in_case["events"]} == {"alice"}
    elsewhere = (await client.get("/api/events?limit=5", headers=analyst)).json()
    assert {event["user.name"] for event in elsewhere["events"]} == {alias}
    mine = (await client.get("/api/reveals", headers=analyst)).json()
    assert [grant["subject"] for grant in mine["grants"]] == [alias]


async def test_oversight_sees_the_ledger_and_the_report_analysts_do_not(
    client: httpx.AsyncClient, tokens: dict[Role, str]
) -> None:
    await client.get("/api/events?limit=3", headers=bearer(tokens[Role.ANALYST]))
    assert (
        await client.get("/api/oversight", headers=bearer(tokens[Role.ANALYST]))
    ).status_code == 403
    view = (await client.get("/api/oversight", headers=bearer(tokens[Role.OVERSIGHT]))).json()
    assert [entry["action"] for entry in view["access_log"]] == ["search"]
    report = await client.get(
        "/api/oversight/report?period=2026", headers=bearer(tokens[Role.OVERSIGHT])
    )
    assert report.status_code == 200 and "reveal_requests" in report.json()
    wrong = await client.get(
        "/api/oversight/report?period=soon", headers=bearer(tokens[Role.OVERSIGHT])
    )
    assert wrong.status_code == 400 and "period must be" in wrong.text
