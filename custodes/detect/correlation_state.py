"""What correlations remember between batches, as rows of the control database.

One `correlation_state` row per (correlation, group-by key) holds that group's entries still
inside the window; one more row holds the stream's watermark (the newest event time seen).
Rows are written with one upsert per batch, in the caller's transaction.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence, Set
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from custodes.detect.windows import Entry
from custodes.store.control import CorrelationStateRow

#: The row that holds the watermark: an empty rule id, which no correlation has.
WATERMARK_KEY = ("", "watermark")
StateKey = tuple[str, str]


@dataclass
class GroupState:
    """What one correlation remembers for one group-by key."""

    group: dict[str, str | None]
    entries: list[Entry] = field(default_factory=list)
    start_us: int | None = None

    def to_json(self) -> dict[str, Any]:
        """The JSON stored in correlation_state.state."""
        entries = [entry.to_json() for entry in self.entries]
        return {"group": self.group, "entries": entries, "start_us": self.start_us}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> GroupState:
        """A group's state from its stored JSON."""
        return cls(
            group=dict(data.get("group") or {}),
            entries=[Entry.from_json(item) for item in data.get("entries") or []],
            start_us=data.get("start_us"),
        )


def load_states(
    session: Session, correlation_ids: Sequence[str]
) -> tuple[dict[StateKey, GroupState], int | None]:
    """The saved groups of these correlations, and the watermark."""
    states: dict[StateKey, GroupState] = {}
    watermark_us: int | None = None
    ids = [*correlation_ids, WATERMARK_KEY[0]]
    query = select(CorrelationStateRow).where(CorrelationStateRow.rule_id.in_(ids))
    for row in session.scalars(query):
        if (row.rule_id, row.group_key) == WATERMARK_KEY:
            watermark_us = row.state.get("at_us")
        else:
            states[(row.rule_id, row.group_key)] = GroupState.from_json(row.state)
    return states, watermark_us


def save_states(
    session: Session,
    states: dict[StateKey, GroupState],
    changed: Set[StateKey],
    watermark_us: int | None,
    now: datetime,
) -> None:
    """Write the changed groups (an emptied group's row is deleted, and it leaves `states`)."""
    rows: list[dict[str, Any]] = []
    for key in sorted(changed):
        state = states.get(key)
        if state is None or not state.entries:
            states.pop(key, None)
            session.execute(
                delete(CorrelationStateRow).where(
                    CorrelationStateRow.rule_id == key[0],
                    CorrelationStateRow.group_key == key[1],
                )
            )
        else:
            rows.append({"rule_id": key[0], "group_key": key[1], "state": state.to_json()})
    if watermark_us is not None:
        rows.append(
            {
                "rule_id": WATERMARK_KEY[0],
                "group_key": WATERMARK_KEY[1],
                "state": {"at_us": watermark_us},
            }
        )
    upsert(session, [{**row, "updated_at": now} for row in rows])


def upsert(session: Session, rows: Sequence[Mapping[str, Any]]) -> None:
    """Insert or replace correlation_state rows in one statement (SQLite and PostgreSQL)."""
    if not rows:
        return
    dialect = session.get_bind().dialect.name
    if dialect not in ("sqlite", "postgresql"):
        for row in rows:
            session.merge(CorrelationStateRow(**row))
        return
    insert = sqlite_insert if dialect == "sqlite" else postgresql_insert
    statement = insert(CorrelationStateRow)
    statement = statement.on_conflict_do_update(
        index_elements=["rule_id", "group_key"],
        set_={"state": statement.excluded.state, "updated_at": statement.excluded.updated_at},
    )
    session.execute(statement, [dict(row) for row in rows])
