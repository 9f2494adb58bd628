"""`GET /api/overview`: the overview page's data (events per minute, alerts per hour)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query

from custodes.api import views
from custodes.api.deps import SIGNED_IN, State, require_roles

router = APIRouter(tags=["overview"])


@router.get("/api/overview", dependencies=[require_roles(*SIGNED_IN)])
def get_overview(
    state: State, hours: Annotated[int, Query(ge=1, le=24 * 31)] = 6
) -> dict[str, Any]:
    """Events per minute per dataset and alerts per hour per level, over the last `hours`."""
    return views.overview(state, hours=hours)
