"""`/api/posture`: the same data as the page, imports by an admin, runs by an analyst."""

from __future__ import annotations

import httpx
import pytest

from custodes.store.users import Role

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
    findings = (await client.get("/api/posture/findings", headers=analyst)).json()
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
