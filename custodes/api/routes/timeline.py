"""`GET /api/timeline`, `/api/graph`, `/api/process-tree`: reconstruction through the one door.

The data functions here serve both the JSON routes and the Timeline, Graph and Process tree
pages.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query
from pydantic import BaseModel

from custodes.api.access import chosen_purpose, door
from custodes.api.deps import READ_EVENTS, Actor, AppState, State, require_roles
from custodes.errors import QueryError
from custodes.investigate import (
    Seed,
    Timeline,
    build_graph,
    build_process_trees,
    build_sessions,
    build_timeline,
    roots,
    tree_dict,
)
from custodes.store.query import parse_time
from custodes.store.users import User

router = APIRouter(tags=["investigate"])


class SeedQuery(BaseModel):
    """One seed (alert, event, host, user, ip or process), the window, purpose and case."""

    alert: str | None = None
    event: str | None = None
    host: str | None = None
    user: str | None = None
    ip: str | None = None
    process: str | None = None
    window: str = "24h"
    until: str | None = None
    purpose: str | None = None
    case: str | None = None

    def seed(self) -> Seed:
        """The one seed given."""
        given = [
            (kind, value)
            for kind in ("alert", "event", "host", "user", "ip", "process")
            if (value := getattr(self, kind))
        ]
        if len(given) != 1:
            raise QueryError("give exactly one of alert, event, host, user, ip, process")
        return Seed(*given[0])


Seeded = Annotated[SeedQuery, Depends()]


def timeline_of(state: AppState, actor: User, query: SeedQuery) -> Timeline:
    """The timeline a seed query asks for (read through the door)."""
    return build_timeline(
        state.data_dir,
        state.control,
        door(state),
        actor,
        query.seed(),
        query.window,
        purpose=chosen_purpose(query.purpose, query.case),
        case_id=query.case or None,
        until=parse_time(query.until) if query.until else None,
    )


def process_trees(timeline: Timeline) -> list[dict[str, Any]]:
    """The process trees of a timeline's events, roots first in time."""
    nodes = build_process_trees(timeline.events)
    found = [tree_dict(nodes, node.key) for node in roots(nodes)]
    return sorted(found, key=lambda tree: str(tree.get("started_at") or ""))


@router.get("/api/timeline", dependencies=[require_roles(*READ_EVENTS)])
def get_timeline(state: State, actor: Actor, query: Seeded) -> dict[str, Any]:
    """Linked events of a seed in order, grouped into steps, with the rules that fired."""
    timeline = timeline_of(state, actor, query)
    result = timeline.to_dict()
    result["sessions"] = [session.to_dict() for session in build_sessions(timeline.events)]
    return result


@router.get("/api/graph", dependencies=[require_roles(*READ_EVENTS)])
def get_graph(state: State, actor: Actor, query: Seeded) -> dict[str, Any]:
    """The entity graph (users, hosts, IPs, processes, devices) of a seed's timeline."""
    return build_graph(timeline_of(state, actor, query).events)


@router.get("/api/process-tree", dependencies=[require_roles(*READ_EVENTS)])
def get_process_tree(
    state: State,
    actor: Actor,
    query: Seeded,
    limit: Annotated[int, Query(ge=1, le=1000)] = 200,
) -> dict[str, Any]:
    """The process trees of a seed's timeline."""
    return {"trees": process_trees(timeline_of(state, actor, query))[:limit]}
