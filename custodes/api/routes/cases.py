"""Cases: list, open, show, add alerts, notes and timelines, share, hand over, decide, export.

The data functions here serve both the JSON routes and the case pages.
"""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any

from fastapi import APIRouter, UploadFile
from fastapi.responses import Response
from pydantic import BaseModel, Field

from custodes.api.access import door
from custodes.api.deps import Actor, AppState, State, require_roles
from custodes.api.routes.timeline import SeedQuery, timeline_of
from custodes.cases import (
    CaseApprovals,
    add_alert,
    add_attachment,
    add_item,
    add_note,
    add_timeline,
    case_to_dict,
    decide_access,
    export_case,
    get_case,
    list_cases,
    open_case,
    request_access,
)
from custodes.store.users import Role, User

router = APIRouter(tags=["cases"])
WORK_CASES = (Role.ANALYST, Role.INVESTIGATOR)
READ_CASES = (Role.ANALYST, Role.INVESTIGATOR, Role.OVERSIGHT)
DECIDE = (Role.OVERSIGHT, Role.ANALYST, Role.INVESTIGATOR)  # the policy names who, per kind


class CaseBody(BaseModel):
    """A new case."""

    title: str = Field(min_length=1)
    unit: str = "security"
    type: str = "incident"
    severity: str = "medium"
    legal_basis: str | None = None
    alert_ids: list[int] = []


class NoteBody(BaseModel):
    """A note."""

    text: str = Field(min_length=1)


class AccessBody(BaseModel):
    """A share or hand-over."""

    unit: str = Field(min_length=1)
    reason: str = ""
    legal_basis: str | None = None


def approvals(state: AppState) -> CaseApprovals:
    """The approval rules of the policy in force."""
    return CaseApprovals.from_policy(door(state).policy)


def case_view(state: AppState, actor: User, case_id: str) -> dict[str, Any]:
    """A case as plain data (only for those who may see it)."""
    return case_to_dict(state.control, get_case(state.control, actor, case_id))


def new_case(state: AppState, actor: User, body: CaseBody) -> dict[str, Any]:
    """Open a case, with its first alerts."""
    case = open_case(
        state.control,
        actor,
        title=body.title,
        unit=body.unit,
        type=body.type,
        severity=body.severity,
        legal_basis=body.legal_basis,
    )
    for alert_id in body.alert_ids:
        add_alert(state.control, actor, case.id, alert_id)
    return case_view(state, actor, case.id)


def keep_timeline(state: AppState, actor: User, case_id: str, query: SeedQuery) -> dict[str, Any]:
    """Build a timeline for the case (read under the case) and keep it there."""
    get_case(state.control, actor, case_id)
    scoped = query.model_copy(update={"case": case_id, "purpose": query.purpose or "investigation"})
    timeline = timeline_of(state, actor, scoped).to_dict()
    item = add_timeline(state.control, actor, case_id, timeline)
    return {"item": item.id, "steps": len(timeline["steps"])}


def package_bytes(state: AppState, actor: User, case_id: str) -> bytes:
    """The case's evidence package (zip bytes)."""
    with tempfile.TemporaryDirectory() as scratch:
        out = Path(scratch) / "package.zip"
        export_case(state.control, state.data_dir, door(state), actor, case_id, out)
        return out.read_bytes()


@router.get("/api/cases", dependencies=[require_roles(*READ_CASES)])
def get_cases(state: State, actor: Actor, status: str | None = None) -> dict[str, Any]:
    """The cases you may see, newest first."""
    cases = list_cases(state.control, actor, status=status)
    return {"cases": [case_to_dict(state.control, case) for case in cases]}


@router.post("/api/cases", status_code=201, dependencies=[require_roles(*WORK_CASES)])
def post_case(state: State, actor: Actor, body: CaseBody) -> dict[str, Any]:
    """Open a case."""
    return new_case(state, actor, body)


@router.get("/api/cases/{case_id}", dependencies=[require_roles(*READ_CASES)])
def get_one_case(state: State, actor: Actor, case_id: str) -> dict[str, Any]:
    """A case: fields, items, shares and hand-overs, history."""
    return case_view(state, actor, case_id)


@router.post("/api/cases/{case_id}/notes", dependencies=[require_roles(*WORK_CASES)])
def post_note(state: State, actor: Actor, case_id: str, body: NoteBody) -> dict[str, Any]:
    """Add a note."""
    return {"item": add_note(state.control, actor, case_id, body.text).id}


@router.post("/api/cases/{case_id}/alerts/{alert_id}", dependencies=[require_roles(*WORK_CASES)])
def post_alert(state: State, actor: Actor, case_id: str, alert_id: int) -> dict[str, Any]:
    """Add an alert."""
    return {"item": add_alert(state.control, actor, case_id, alert_id).id}


@router.post("/api/cases/{case_id}/tasks", dependencies=[require_roles(*WORK_CASES)])
def post_task(state: State, actor: Actor, case_id: str, body: NoteBody) -> dict[str, Any]:
    """Add a task."""
    return {"item": add_item(state.control, actor, case_id, "task", text=body.text).id}


@router.post("/api/cases/{case_id}/attachments", dependencies=[require_roles(*WORK_CASES)])
async def post_attachment(
    state: State, actor: Actor, case_id: str, file: UploadFile
) -> dict[str, Any]:
    """Keep a file with the case: stored under its SHA-256, the hash in the history."""
    data = await file.read()
    item = add_attachment(
        state.control, state.data_dir, actor, case_id, file.filename or "attachment", data
    )
    return {"item": item.id, "sha256": item.ref, "size": len(data)}


@router.post("/api/cases/{case_id}/timelines", dependencies=[require_roles(*WORK_CASES)])
def post_timeline(state: State, actor: Actor, case_id: str, body: SeedQuery) -> dict[str, Any]:
    """Build a timeline under the case and keep it with the case."""
    return keep_timeline(state, actor, case_id, body)


@router.post("/api/cases/{case_id}/{kind}", dependencies=[require_roles(*WORK_CASES)])
def post_access(
    state: State, actor: Actor, case_id: str, kind: str, body: AccessBody
) -> dict[str, Any]:
    """Share (`share`) or hand over (`handover`) a case; approval where the policy says so."""
    row = request_access(
        state.control,
        state.data_dir,
        actor,
        case_id,
        body.unit,
        kind,
        approvals(state),
        reason=body.reason,
        legal_basis=body.legal_basis,
    )
    return {"id": row.id, "status": row.status, "unit": row.unit, "kind": row.kind}


@router.post("/api/case-access/{access_id}/{decision}", dependencies=[require_roles(*DECIDE)])
def post_decision(
    state: State, actor: Actor, access_id: int, decision: str, body: NoteBody | None = None
) -> dict[str, Any]:
    """Approve (`approve`) or refuse (`refuse`) a pending share or hand-over."""
    row = decide_access(
        state.control,
        state.data_dir,
        actor,
        access_id,
        approvals(state),
        approve=decision == "approve",
        reason=body.text if body else "",
    )
    return {"id": row.id, "status": row.status}


@router.get("/api/cases/{case_id}/export", dependencies=[require_roles(*WORK_CASES)])
def get_export(state: State, actor: Actor, case_id: str) -> Response:
    """The case's evidence package (a zip the standalone verifier checks)."""
    return Response(
        package_bytes(state, actor, case_id),
        media_type="application/zip",
        headers={"content-disposition": f'attachment; filename="{case_id}.zip"'},
    )
