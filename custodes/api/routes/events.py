"""`GET /api/events`: search the lake through the one door (`custodes.api.access`)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query

from custodes.api import views
from custodes.api.access import MAX_ROWS
from custodes.api.deps import READ_EVENTS, Actor, State, require_roles

router = APIRouter(tags=["events"])


@router.get("/api/events", dependencies=[require_roles(*READ_EVENTS)])
def search_events(
    state: State,
    actor: Actor,
    since: Annotated[str | None, Query(description="ISO time or relative, e.g. 24h")] = None,
    until: Annotated[str | None, Query(description="ISO time or relative")] = None,
    where: Annotated[str | None, Query(description="filter, e.g. user.name = 'bob'")] = None,
    limit: Annotated[int, Query(ge=0, le=MAX_ROWS)] = 100,
    purpose: Annotated[str | None, Query(description="declared purpose (policy)")] = None,
    case: Annotated[str | None, Query(description="case id, for identified access")] = None,
) -> dict[str, Any]:
    """Events in [since, until) matching `where`, newest first (pseudonymised unless granted)."""
    return views.event_search(
        state,
        actor,
        since=since,
        until=until,
        where=where,
        limit=limit,
        purpose=purpose,
        case_id=case,
    )
