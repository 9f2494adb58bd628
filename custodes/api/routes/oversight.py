"""Oversight: reveal requests and decisions, the access ledger, the watchers, the report.

The data functions here serve both the JSON routes and the Oversight web page.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Query
from pydantic import BaseModel, Field

from custodes.api.access import door
from custodes.api.deps import SIGNED_IN, Actor, AppState, State, require_roles
from custodes.cases import pending_access
from custodes.oversight import (
    RevealRequest,
    decide,
    entry_to_dict,
    list_entries,
    list_grants,
    list_requests,
    request_reveal,
)
from custodes.oversight.grants import grant_to_dict, request_to_dict
from custodes.oversight.reports import parse_period, transparency
from custodes.oversight.watchers import list_watcher_alerts, run_watchers
from custodes.store.users import Role, User

router = APIRouter(tags=["oversight"])
OVERSIGHT = (Role.OVERSIGHT,)
REQUEST_REVEALS = (Role.ANALYST, Role.INVESTIGATOR)


class RevealBody(BaseModel):
    """A reveal request: the case, the pseudonym, the legal basis and why; grant length."""

    case_id: str = Field(min_length=1)
    subject: str = Field(min_length=1)
    legal_basis: str = Field(min_length=1)
    justification: str = Field(min_length=1)
    scope: str = "case"
    expiry_days: int = 7


class Decision(BaseModel):
    """Why a request was approved or refused."""

    reason: str = ""


def file_request(state: AppState, actor: User, body: RevealBody) -> dict[str, Any]:
    """File a reveal request (oversight is notified when a notifier is configured)."""
    row = request_reveal(
        state.control,
        state.data_dir,
        door(state).policy,
        actor,
        RevealRequest(
            case_id=body.case_id,
            subject=body.subject,
            legal_basis=body.legal_basis,
            justification=body.justification,
            scope=body.scope,
            expiry_days=body.expiry_days,
        ),
        notifier=state.extras.get("notifier"),
    )
    return request_to_dict(row)


def decide_request(
    state: AppState, actor: User, request_id: int, *, approve: bool, reason: str
) -> dict[str, Any]:
    """Approve or refuse a request, as `actor`."""
    row = decide(
        state.control,
        state.data_dir,
        door(state).policy,
        actor,
        request_id,
        approve=approve,
        reason=reason,
    )
    return request_to_dict(row)


def my_requests(state: AppState, actor: User) -> dict[str, Any]:
    """The actor's own reveal requests, and the grants they hold."""
    now = datetime.now(UTC)
    return {
        "requests": [
            request_to_dict(row)
            for row in list_requests(state.control)
            if row.requester == actor.name
        ],
        "grants": [
            grant_to_dict(row)
            for row in list_grants(state.control, now=now)
            if row.holder == actor.name
        ],
    }


def oversight_view(
    state: AppState,
    *,
    actor: str | None = None,
    action: str | None = None,
    case_id: str | None = None,
    limit: int = 200,
) -> dict[str, Any]:
    """Everything the Oversight page shows: requests, grants, the access ledger, the watchers."""
    run_watchers(state.control, state.data_dir, door(state).policy)
    return {
        "pending": [request_to_dict(row) for row in list_requests(state.control, status="pending")],
        "decided": [
            request_to_dict(row) for row in list_requests(state.control) if row.status != "pending"
        ][:50],
        "grants": [grant_to_dict(row) for row in list_grants(state.control)],
        "filters": {"actor": actor, "action": action, "case_id": case_id},
        "access_log": [
            entry_to_dict(row)
            for row in list_entries(
                state.control, actor=actor, action=action, case_id=case_id, limit=limit
            )
        ],
        "watchers": list_watcher_alerts(state.control),
        "case_access": [
            {
                "id": row.id,
                "case_id": row.case_id,
                "unit": row.unit,
                "kind": row.kind,
                "requested_by": row.requested_by,
                "requested_at": row.requested_at.isoformat(),
                "reason": row.reason,
                "legal_basis": row.legal_basis,
            }
            for row in pending_access(state.control)
        ],
    }


def report(state: AppState, period: str) -> dict[str, Any]:
    """The transparency report for a period."""
    first, last = parse_period(period)
    return transparency(state.data_dir, state.control, door(state).policy, first, last)


@router.post("/api/reveals", status_code=201, dependencies=[require_roles(*REQUEST_REVEALS)])
def post_reveal(state: State, actor: Actor, body: RevealBody) -> dict[str, Any]:
    """Ask to see who is behind a pseudonym in a case (another person must approve)."""
    return file_request(state, actor, body)


@router.get("/api/reveals", dependencies=[require_roles(*SIGNED_IN)])
def get_my_reveals(state: State, actor: Actor) -> dict[str, Any]:
    """Your own reveal requests and grants."""
    return my_requests(state, actor)


@router.post("/api/reveals/{request_id}/approve", dependencies=[require_roles(*OVERSIGHT)])
def approve(state: State, actor: Actor, request_id: int, body: Decision) -> dict[str, Any]:
    """Approve a pending request: a time-limited grant for its requester, case and subject."""
    return decide_request(state, actor, request_id, approve=True, reason=body.reason)


@router.post("/api/reveals/{request_id}/refuse", dependencies=[require_roles(*OVERSIGHT)])
def refuse(state: State, actor: Actor, request_id: int, body: Decision) -> dict[str, Any]:
    """Refuse a pending request."""
    return decide_request(state, actor, request_id, approve=False, reason=body.reason)


@router.get("/api/oversight", dependencies=[require_roles(*OVERSIGHT)])
def get_oversight(
    state: State,
    actor: str | None = None,
    action: str | None = None,
    case: str | None = None,
    limit: Annotated[int, Query(ge=1, le=5000)] = 200,
) -> dict[str, Any]:
    """Requests to decide, grants in force, the access ledger (filtered), the watchers' alerts."""
    return oversight_view(state, actor=actor, action=action, case_id=case, limit=limit)


@router.get("/api/oversight/report", dependencies=[require_roles(*OVERSIGHT)])
def get_report(state: State, period: str) -> dict[str, Any]:
    """The transparency report (period: YYYY, YYYY-MM or DAY..DAY)."""
    return report(state, period)
