"""The API's and web UI's way through the one door (`custodes.oversight.access.Door`).

Every route and page that shows events or alerts calls these; nothing here reads the lake.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

import pyarrow as pa

from custodes.api.deps import AppState
from custodes.oversight import Door, EventQuery
from custodes.oversight.access import DEFAULT_PURPOSE, MAX_ROWS
from custodes.store.users import User

CASE_PURPOSE = "investigation"

__all__ = ["DEFAULT_PURPOSE", "MAX_ROWS", "door", "events_to_rows", "read_alerts", "read_events"]


def door(state: AppState) -> Door:
    """The app's door (one per app, made on first use)."""
    found = state.extras.get("door")
    if found is None:
        found = state.extras["door"] = Door(state.data_dir, state.control)
    assert isinstance(found, Door)
    return found


def chosen_purpose(purpose: str | None, case_id: str | None) -> str:
    """The declared purpose, else `investigation` with a case and monitoring without."""
    if purpose:
        return purpose
    return CASE_PURPOSE if case_id else DEFAULT_PURPOSE


def read_events(
    state: AppState,
    actor: User,
    *,
    purpose: str | None = None,
    case_id: str | None = None,
    since: datetime | str | None = None,
    until: datetime | str | None = None,
    where: str | None = None,
    limit: int = 100,
    event_ids: Sequence[str] = (),
    around: tuple[datetime, datetime] | None = None,
    kind: str = "search",
) -> pa.Table:
    """Events through the door (masked unless granted; recorded)."""
    query = EventQuery(
        since=since,
        until=until,
        where=where,
        limit=min(limit, MAX_ROWS),
        event_ids=tuple(event_ids),
        around=around,
        kind=kind,
    )
    return door(state).read(actor, chosen_purpose(purpose, case_id), query, case_id or None).table


def read_alerts(
    state: AppState,
    actor: User,
    alerts: list[dict[str, Any]],
    *,
    purpose: str | None = None,
    case_id: str | None = None,
    query: dict[str, Any] | None = None,
) -> list[dict[str, Any]]:
    """Alert dicts through the door (people masked unless granted; recorded)."""
    return door(state).read_alerts(
        actor, chosen_purpose(purpose, case_id), alerts, case_id or None, query=query
    )


def events_to_rows(table: pa.Table) -> list[dict[str, Any]]:
    """Plain JSON-ready rows: times as ISO text, the `fields` map as an object, nulls dropped."""
    rows = []
    for row in table.to_pylist():
        plain: dict[str, Any] = {}
        for name, value in row.items():
            if value is None or name in ("dataset", "date"):
                continue
            if isinstance(value, datetime):
                value = value.isoformat()
            elif name == "fields" and isinstance(value, list):
                value = dict(value)
            plain[name] = value
        rows.append(plain)
    return rows
