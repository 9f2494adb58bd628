"""`/api/posture`: the same data as the page, imports by an admin, runs by an analyst."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from fastapi.routing import APIRoute, iter_route_contexts

from custodes.api.access import door
from custodes.oversight import is_pseudonym, list_entries
from custodes.store.control import Control
from custodes.store.users import Role
from tests.api.seed import PASSWORD, Seeded

ROSTER = b"employee_id,account,separation_date\nE1,gone,2026-10-01\n"
ACCOUNTS = b'{"accounts": [{"sam_account_name": "gone", "employee_id": "E1"}]}'


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


@pytest.mark.anyio
async def test_import_run_and_read_posture(
    client: httpx.AsyncClient, tokens: dict[Role, str]
) -> None:
    admin, analyst = bearer(tokens[Role.ADMIN]), bearer(tokens[Role.ANALYST])
    refused = await client.post("/api/posture/import/roster", content=ROSTER, headers=analyst)
    assert refused.status_code == 403
    imported = await client.post("/api/posture/import/roster", content=ROSTER, headers=admin)
    assert imported.json() == {"people": 1}
    await client.post("/api/posture/import/accounts", content=ACCOUNTS, headers=admin)
    ran = await client.post("/api/posture/run", headers=analyst)
    assert ran.json()["counts"] == {"account_enabled_after_separation": 1}
    report = (await client.get("/api/posture", headers=bearer(tokens[Role.OVERSIGHT]))).json()
    assert report["open"] == 1
    findings = (await client.get("/api/posture/findings", headers=admin)).json()
    assert [(f["check"], f["subject"]) for f in findings] == [
        ("account_enabled_after_separation", "gone")
    ]


@pytest.mark.anyio
async def test_bad_rows_come_back_as_a_400_naming_the_row(
    client: httpx.AsyncClient, tokens: dict[Role, str]
) -> None:
    response = await client.post(
        "/api/posture/import/roster",
        content=b"employee_id,start_date\nE1,someday\n",
        headers=bearer(tokens[Role.ADMIN]),
    )
    assert response.status_code == 400
    assert "roster.csv, row 2, start_date" in response.text


@pytest.mark.anyio
async def test_report_as_html_and_pdf(client: httpx.AsyncClient, tokens: dict[Role, str]) -> None:
    auditor = bearer(tokens[Role.OVERSIGHT])
    html = await client.get("/api/posture/report", headers=auditor)
    assert html.headers["content-type"].startswith("text/html")
    assert "Posture audit report" in html.text
    pdf = await client.get("/api/posture/report?format=pdf", headers=auditor)
    assert pdf.headers["content-type"] == "application/pdf"
    assert pdf.content.startswith(b"%PDF-")


def newest(control: Control, before: int) -> list[Any]:
    """The access entries appended since there were `before`, oldest first."""
    return list(reversed(list_entries(control, limit=100_000)))[before:]


async def departed_account(client: httpx.AsyncClient, tokens: dict[Role, str]) -> None:
    """One finding naming a person: the enabled account `gone` of employee E1001, who left."""
    admin = bearer(tokens[Role.ADMIN])
    roster, accounts = ROSTER.replace(b"E1", b"E1001"), ACCOUNTS.replace(b"E1", b"E1001")
    await client.post("/api/posture/import/roster", content=roster, headers=admin)
    await client.post("/api/posture/import/accounts", content=accounts, headers=admin)
    await client.post("/api/posture/run", headers=admin)


@pytest.mark.anyio
async def test_analysts_see_the_doors_pseudonyms_and_each_read_is_recorded(
    app: FastAPI, client: httpx.AsyncClient, tokens: dict[Role, str]
) -> None:
    await departed_account(client, tokens)
    state = app.state.custodes
    alias = door(state).state()[1].pseudonym("gone")  # the one alerts and search show
    for role in (Role.ANALYST, Role.INVESTIGATOR):
        headers = bearer(tokens[role])
        before = len(list_entries(state.control, limit=100_000))
        (finding,) = (await client.get("/api/posture/findings", headers=headers)).json()
        assert (finding["subject"], finding["account"]) == (alias, alias)
        assert is_pseudonym(finding["employee_id"])
        report = await client.get("/api/posture", headers=headers)
        document = await client.get("/api/posture/report", headers=headers)
        for body in (report.text, document.text):
            assert alias in body and "gone" not in body and "E1001" not in body
        entries = newest(state.control, before)
        assert [(e.role, e.action, e.purpose) for e in entries] == [
            (role.value, "posture", "security-monitoring")
        ] * 3
        assert not any(e.revealed for e in entries)


@pytest.mark.anyio
async def test_admin_and_oversight_see_names_and_the_ledger_says_whom(
    app: FastAPI, client: httpx.AsyncClient, tokens: dict[Role, str]
) -> None:
    await departed_account(client, tokens)
    state = app.state.custodes
    alias = door(state).state()[1].pseudonym("gone")
    for role, purpose in (
        (Role.ADMIN, "account-administration"),
        (Role.OVERSIGHT, "oversight-review"),
    ):
        before = len(list_entries(state.control, limit=100_000))
        response = await client.get("/api/posture/findings", headers=bearer(tokens[role]))
        (finding,) = response.json()
        assert (finding["subject"], finding["employee_id"]) == ("gone", "E1001")
        (entry,) = newest(state.control, before)
        assert (entry.role, entry.action, entry.purpose) == (role.value, "posture", purpose)
        assert alias in entry.revealed and all(map(is_pseudonym, entry.revealed))


@pytest.mark.anyio
async def test_a_grant_in_a_case_shows_the_name_in_that_case_only(
    app: FastAPI, client: httpx.AsyncClient, tokens: dict[Role, str]
) -> None:
    await departed_account(client, tokens)
    alias = door(app.state.custodes).state()[1].pseudonym("gone")
    analyst = bearer(tokens[Role.ANALYST])
    body = {
        "case_id": "C-7",
        "subject": alias,
        "legal_basis": "Inspector General Act s.6",
        "justification": "the departed account logged on",
    }
    filed = await client.post("/api/reveals", json=body, headers=analyst)
    assert filed.status_code == 201, filed.text
    approved = await client.post(
        f"/api/reveals/{filed.json()['id']}/approve",
        json={"reason": "ok"},
        headers=bearer(tokens[Role.OVERSIGHT]),
    )
    assert approved.status_code == 200, approved.text
    in_case = await client.get("/api/posture/findings?case=C-7", headers=analyst)
    assert in_case.json()[0]["account"] == "gone"
    outside = await client.get("/api/posture/findings", headers=analyst)
    assert outside.json()[0]["account"] == alias
    refused = await client.get("/api/posture/findings?purpose=oversight-review", headers=analyst)
    assert refused.status_code == 403


def test_names_in_subjects_and_details_are_masked_like_the_account(tmp_path: Path) -> None:
    from custodes.api.posture_access import mask_findings
    from custodes.oversight import Pseudonymiser, load_policy
    from custodes.oversight.pseudonyms import Roster

    pseudonyms = Pseudonymiser(b"k" * 32, Roster(), load_policy(tmp_path).identifiers)
    change = {
        "check": "privileged_group_change_without_approval",
        "subject": "bwayne in Domain Admins on corp",
        "account": "bwayne",
        "employee_id": None,
        "details": {"group": "Domain Admins", "changed_by": ["jgordon"], "changes": 2},
    }
    (shown,), revealed = mask_findings(pseudonyms, [change], frozenset())
    wayne, gordon = pseudonyms.pseudonym("bwayne"), pseudonyms.pseudonym("jgordon")
    assert shown["account"] == wayne
    assert shown["subject"] == f"{wayne} in Domain Admins on corp"
    assert shown["details"] == {"group": "Domain Admins", "changed_by": [gordon], "changes": 2}
    assert revealed == frozenset()
    (clear,), revealed = mask_findings(pseudonyms, [change], frozenset({wayne}))
    assert clear["subject"] == change["subject"] and revealed == {wayne}


@pytest.mark.anyio
async def test_every_posture_route_masks_and_records(
    app: FastAPI, client: httpx.AsyncClient, tokens: dict[Role, str], seeded: Seeded
) -> None:
    await departed_account(client, tokens)
    state = app.state.custodes
    alias = door(state).state()[1].pseudonym("gone")
    signed_in = await client.post(
        "/login", data={"name": seeded.users[Role.ANALYST], "password": PASSWORD}
    )
    assert signed_in.status_code == 303
    routes = [context.original_route for context in iter_route_contexts(app.routes)]
    paths = sorted(
        {
            route.path
            for route in routes
            if isinstance(route, APIRoute)
            and "posture" in route.path
            and "GET" in (route.methods or ())
        }
    )
    assert paths == ["/api/posture", "/api/posture/findings", "/api/posture/report", "/posture"]
    for path in paths:  # the API by token, the page by the signed-in session
        headers = {} if path == "/posture" else bearer(tokens[Role.ANALYST])
        before = len(list_entries(state.control, limit=100_000))
        response = await client.get(path, headers=headers)
        assert response.status_code == 200, path
        assert alias in response.text and "gone" not in response.text, path
        assert [e.action for e in newest(state.control, before)] == ["posture"], path
