"""The one door through which the API and the web UI read event data.

Every route and page that shows events calls `read_events`, and nothing else touches the lake
for a person. The oversight stage will replace the body of this function with
`custodes.oversight.access` (declared purpose, pseudonyms by default, access ledger); the
signature already carries what it needs: who is asking and why.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pyarrow as pa

from custodes.events import EVENT_SCHEMA
from custodes.store import search
from custodes.store.users import User

DEFAULT_PURPOSE = "security-monitoring"
MAX_ROWS = 10_000


def read_events(
    data_dir: Path,
    actor: User,
    *,
    purpose: str = DEFAULT_PURPOSE,
    since: datetime | str | None = None,
    until: datetime | str | None = None,
    where: str | None = None,
    limit: int = 100,
) -> pa.Table:
    """Events an actor may read for a purpose (today: all of them; see the module docstring)."""
    del actor, purpose  # recorded and enforced by oversight.access once it lands
    return search(data_dir, since=since, until=until, where=where, limit=min(limit, MAX_ROWS))


def read_events_by_id(
    data_dir: Path,
    actor: User,
    event_ids: Sequence[str],
    *,
    purpose: str = DEFAULT_PURPOSE,
    around: tuple[datetime, datetime] | None = None,
    limit: int = 200,
) -> pa.Table:
    """The events with these ids (an alert's evidence), through the same door as `read_events`.

    `around` (first and last seen) bounds the scan to the days that can hold them.
    """
    ids = list(dict.fromkeys(event_ids))[:limit]
    if not ids:
        return EVENT_SCHEMA.empty_table()
    quoted = ", ".join("'" + event_id.replace("'", "''") + "'" for event_id in ids)
    since = until = None
    if around is not None:
        since, until = around[0] - timedelta(days=1), around[1] + timedelta(days=1)
    return read_events(
        data_dir,
        actor,
        purpose=purpose,
        since=since,
        until=until,
        where=f"event.id in ({quoted})",
        limit=len(ids),
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
