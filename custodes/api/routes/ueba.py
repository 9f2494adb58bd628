"""`/api/ueba/ranking`: the day's most unusual accounts or hosts, people masked by the one door."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query

from custodes.api.access import read_alerts
from custodes.api.deps import READ_ALERTS, Actor, AppState, State, require_roles
from custodes.store.users import User
from custodes.ueba import read_scores, top

router = APIRouter(tags=["ueba"])


def latest_day(state: AppState) -> date | None:
    """The newest day with scores."""
    scores = read_scores(state.data_dir)
    if scores.num_rows == 0:
        return None
    found = max(scores["day"].to_pylist())
    return found if isinstance(found, date) else None


def ranking_view(
    state: AppState,
    actor: User,
    *,
    day: date | None = None,
    limit: int = 50,
    kind: Literal["account", "host"] = "account",
    purpose: str | None = None,
    case_id: str | None = None,
) -> dict[str, Any]:
    """The ranking of `day` (default: the newest scored day), accounts pseudonymised unless
    granted; each row with its score, peer group and reasons in plain words."""
    chosen = day or latest_day(state)
    if chosen is None:
        return {"day": None, "kind": kind, "rows": []}
    rows = top(state.data_dir, chosen, limit=limit, kind=kind)
    shown = read_alerts(
        state,
        actor,
        [{**row, "user_name": row["entity"], "description": row["explanation"]} for row in rows],
        purpose=purpose,
        case_id=case_id,
        query={"kind": "ueba", "entities": kind, "day": chosen.isoformat(), "limit": limit},
    )
    for row in shown:
        row["entity"] = row.pop("user_name")
        row["explanation"] = row.pop("description")
    return {"day": chosen.isoformat(), "kind": kind, "rows": shown}


@router.get("/api/ueba/ranking", dependencies=[require_roles(*READ_ALERTS)])
def get_ranking(
    state: State,
    actor: Actor,
    day: date | None = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 50,
    kind: Literal["account", "host"] = "account",
    purpose: str | None = None,
    case: str | None = None,
) -> dict[str, Any]:
    """The day's most unusual accounts (or hosts) with their reasons (people pseudonymised
    unless granted)."""
    return ranking_view(
        state, actor, day=day, limit=limit, kind=kind, purpose=purpose, case_id=case
    )
