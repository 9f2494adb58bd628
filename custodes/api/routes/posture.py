"""`/api/posture`: the audit report's data, findings, imports of sources of truth, a run."""

from __future__ import annotations

import os
import tempfile
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query, Request, Response

from custodes.api.deps import SIGNED_IN, Actor, AppState, State, require_roles
from custodes.api.posture_access import read_findings, read_report
from custodes.notify import alerts_created, notify_new_alerts
from custodes.posture import ImportRequest, import_reference, load_posture_settings
from custodes.posture.report import build_report, render_html, render_pdf
from custodes.posture.run import refresh_sources, run_posture
from custodes.posture.store import list_findings
from custodes.store.alerts import SaveResult
from custodes.store.users import Role, User

router = APIRouter(tags=["posture"])
READ_POSTURE = SIGNED_IN
RUN_POSTURE = (Role.ANALYST, Role.ADMIN)
IMPORT_REFERENCE = (Role.ADMIN,)
Source = Literal["roster", "accounts", "privileged", "devices", "travel", "linux_groups"]


def posture_view(
    state: AppState, actor: User, *, purpose: str | None = None, case_id: str | None = None
) -> dict[str, Any]:
    """The audit report as `actor` may see it (people pseudonymised unless the role acts on
    them: custodes.api.posture_access), the read recorded in the access ledger."""
    report = build_report(state.control, now=datetime.now(UTC))
    return read_report(state, actor, report, purpose=purpose, case_id=case_id)


@router.get("/api/posture", dependencies=[require_roles(*READ_POSTURE)])
def get_posture(
    state: State, actor: Actor, purpose: str | None = None, case: str | None = None
) -> dict[str, Any]:
    """The audit report: each finding class with counts, trend over runs and open items
    (people pseudonymised for analysts and investigators)."""
    return posture_view(state, actor, purpose=purpose, case_id=case)


@router.get(
    "/api/posture/report",
    dependencies=[require_roles(*READ_POSTURE)],
    response_class=Response,
    responses={200: {"content": {"text/html": {}, "application/pdf": {}}}},
)
def get_report(
    state: State,
    actor: Actor,
    format: Literal["html", "pdf"] = "html",
    purpose: str | None = None,
    case: str | None = None,
) -> Response:
    """The audit report as a document: HTML, or PDF (people as in /api/posture)."""
    report = posture_view(state, actor, purpose=purpose, case_id=case)
    if format == "pdf":
        headers = {"Content-Disposition": 'attachment; filename="posture-report.pdf"'}
        return Response(render_pdf(report), media_type="application/pdf", headers=headers)
    return Response(render_html(report), media_type="text/html")


@router.get("/api/posture/findings", dependencies=[require_roles(*READ_POSTURE)])
def get_findings(
    state: State,
    actor: Actor,
    check: str | None = None,
    resolved: Annotated[bool, Query(description="Include resolved findings.")] = False,
    purpose: str | None = None,
    case: str | None = None,
) -> list[dict[str, Any]]:
    """Findings (open ones unless `resolved`), with their evidence and life cycle (people
    pseudonymised for analysts and investigators)."""
    found = list_findings(state.control, include_resolved=resolved, check=check)
    query = {"check": check, "resolved": resolved}
    return read_findings(
        state,
        actor,
        [finding.to_dict() for finding in found],
        purpose=purpose,
        case_id=case,
        query={key: value for key, value in query.items() if value},
    )


@router.post("/api/posture/import/{source}", dependencies=[require_roles(*IMPORT_REFERENCE)])
async def post_import(state: State, source: Source, request: Request) -> dict[str, int]:
    """Replace one source of truth with the request body (the roster as CSV or JSON)."""
    body = await request.body()
    is_json = body.lstrip()[:1] in (b"{", b"[")
    suffix = ".json" if source != "roster" or is_json else ".csv"
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / f"{source}{suffix}"
        path.write_bytes(body)
        request_files = ImportRequest()
        setattr(request_files, source, path)
        result = import_reference(state.data_dir, request_files)
    return result.rows


@router.post("/api/posture/run", dependencies=[require_roles(*RUN_POSTURE)])
def post_run(state: State) -> dict[str, Any]:
    """Run every check now (settings from the custodes.yaml named by CUSTODES_CONFIG); in the
    service, its new alerts go to the notification sinks as the scheduled runs' do."""
    config = os.environ.get("CUSTODES_CONFIG")
    settings = load_posture_settings(Path(config) if config else None)
    refresh_sources(state.data_dir, settings)
    with alerts_created(state.control, "posture") as created:
        summary = run_posture(state.data_dir, state.control, settings, now=datetime.now(UTC))
    notifier = state.extras.get("notifier")
    if notifier is not None:
        notify_new_alerts(notifier, state.control, SaveResult(created_ids=created))
    return {
        "run_id": summary.run_id,
        "ran_at": summary.ran_at.isoformat(),
        "counts": summary.counts,
        "opened": summary.opened,
        "resolved": summary.resolved,
    }
