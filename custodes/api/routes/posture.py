"""`/api/posture`: the audit report's data, findings, imports of sources of truth, a run."""

from __future__ import annotations

import os
import tempfile
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query, Request, Response

from custodes.api.deps import SIGNED_IN, State, require_roles
from custodes.posture import ImportRequest, import_reference, load_posture_settings
from custodes.posture.report import build_report, render_html, render_pdf
from custodes.posture.run import refresh_sources, run_posture
from custodes.posture.store import list_findings
from custodes.store.users import Role

router = APIRouter(tags=["posture"])
READ_POSTURE = SIGNED_IN
RUN_POSTURE = (Role.ANALYST, Role.ADMIN)
IMPORT_REFERENCE = (Role.ADMIN,)
Source = Literal["roster", "accounts", "privileged", "devices", "travel", "linux_groups"]


@router.get("/api/posture", dependencies=[require_roles(*READ_POSTURE)])
def get_posture(state: State) -> dict[str, Any]:
    """The audit report: each finding class with counts, trend over runs and open items."""
    return build_report(state.control, now=datetime.now(UTC))


@router.get(
    "/api/posture/report",
    dependencies=[require_roles(*READ_POSTURE)],
    response_class=Response,
    responses={200: {"content": {"text/html": {}, "application/pdf": {}}}},
)
def get_report(state: State, format: Literal["html", "pdf"] = "html") -> Response:
    """The audit report as a document: HTML, or PDF."""
    report = build_report(state.control, now=datetime.now(UTC))
    if format == "pdf":
        headers = {"Content-Disposition": 'attachment; filename="posture-report.pdf"'}
        return Response(render_pdf(report), media_type="application/pdf", headers=headers)
    return Response(render_html(report), media_type="text/html")


@router.get("/api/posture/findings", dependencies=[require_roles(*READ_POSTURE)])
def get_findings(
    state: State,
    check: str | None = None,
    resolved: Annotated[bool, Query(description="Include resolved findings.")] = False,
) -> list[dict[str, Any]]:
    """Findings (open ones unless `resolved`), with their evidence and life cycle."""
    found = list_findings(state.control, include_resolved=resolved, check=check)
    return [finding.to_dict() for finding in found]


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
    """Run every check now (settings from the custodes.yaml named by CUSTODES_CONFIG)."""
    config = os.environ.get("CUSTODES_CONFIG")
    settings = load_posture_settings(Path(config) if config else None)
    refresh_sources(state.data_dir, settings)
    summary = run_posture(state.data_dir, state.control, settings, now=datetime.now(UTC))
    return {
        "run_id": summary.run_id,
        "ran_at": summary.ran_at.isoformat(),
        "counts": summary.counts,
        "opened": summary.opened,
        "resolved": summary.resolved,
    }
