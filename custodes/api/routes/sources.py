"""`GET /api/sources` and `GET /api/rules`: what flows in and what watches it."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from custodes.api import views
from custodes.api.deps import READ_RULES, READ_STATUS, State, require_roles

router = APIRouter()


@router.get("/api/sources", dependencies=[require_roles(*READ_STATUS)], tags=["sources"])
def list_sources(state: State) -> dict[str, Any]:
    """Per source counters, events stored per dataset, quarantined records by reason."""
    return views.sources(state)


@router.get("/api/rules", dependencies=[require_roles(*READ_RULES)], tags=["rules"])
def list_rules(state: State) -> dict[str, Any]:
    """The detection rules loaded, and the rule files that failed with their reason."""
    return views.rules(state)
