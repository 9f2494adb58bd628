"""Alerts: list with filters, show with matched events, acknowledge, suppress."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query
from pydantic import BaseModel, Field

from custodes.api import views
from custodes.api.deps import READ_ALERTS, WORK_ALERTS, Actor, State, require_roles

router = APIRouter(tags=["alerts"])


class Suppress(BaseModel):
    """Why an alert's rule/host/user is not a threat, and until when (`30d`, a date, ISO)."""

    justification: str = Field(min_length=1)
    expires: str = "30d"


@router.get("/api/alerts", dependencies=[require_roles(*READ_ALERTS)])
def list_alerts(
    state: State,
    actor: Actor,
    min_level: str | None = None,
    status: str | None = None,
    rule_id: str | None = None,
    hours: Annotated[int | None, Query(ge=1)] = None,
    limit: Annotated[int, Query(ge=1, le=5000)] = 500,
    purpose: str | None = None,
    case: str | None = None,
) -> dict[str, Any]:
    """Alerts, most recently seen first (people pseudonymised unless granted)."""
    return views.alert_list(
        state,
        actor,
        min_level=min_level,
        status=status,
        rule_id=rule_id,
        hours=hours,
        limit=limit,
        purpose=purpose,
        case_id=case,
    )


@router.get("/api/alerts/{alert_id}", dependencies=[require_roles(*READ_ALERTS)])
def show_alert(
    state: State, actor: Actor, alert_id: int, purpose: str | None = None, case: str | None = None
) -> dict[str, Any]:
    """One alert with its rule, ATT&CK tags and matched events."""
    return views.alert_detail(state, actor, alert_id, purpose=purpose, case_id=case)


@router.post("/api/alerts/{alert_id}/ack", dependencies=[require_roles(*WORK_ALERTS)])
def acknowledge_alert(state: State, actor: Actor, alert_id: int) -> dict[str, Any]:
    """Mark an alert acknowledged."""
    return views.acknowledge(state, actor, alert_id)


@router.post(
    "/api/alerts/{alert_id}/suppress",
    status_code=201,
    dependencies=[require_roles(*WORK_ALERTS)],
)
def suppress_alert(state: State, actor: Actor, alert_id: int, body: Suppress) -> dict[str, Any]:
    """Suppress the alert's rule on its host and user, with a justification and an expiry."""
    return views.suppress(
        state, actor, alert_id, justification=body.justification, expires=body.expires
    )
