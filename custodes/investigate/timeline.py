"""`build_timeline(seed, window)`: the events linked to a seed, in order, grouped into steps.

A seed is an alert, an event, a host, a user (pseudonym or account), an IP or a process GUID.
The events it names are followed through their linking identifiers (`links.py`) for a few
rounds within the window; the linked events are then read through the one door (masked unless
the actor holds grants in the case, recorded in the access ledger) and grouped into steps.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc
from sqlalchemy import select

from custodes.errors import NotFound, QueryError
from custodes.investigate.links import (
    Identifiers,
    gather,
    read_by_ids,
    read_links,
    seed_identifiers,
    usable,
)
from custodes.investigate.steps import Step, group_steps
from custodes.oversight import Door, EventQuery, is_pseudonym
from custodes.oversight.access import MAX_ROWS
from custodes.store import connect, get_alert
from custodes.store.control import AlertEventRow, AlertRow, Control
from custodes.store.users import User

SEED_KINDS = ("alert", "event", "host", "user", "ip", "process")
LINK_ROUNDS = 3
WINDOW_TEXT = re.compile(r"^\s*(\d+)\s*([mhd])\s*$")
WINDOW_UNITS = {"m": "minutes", "h": "hours", "d": "days"}


@dataclass(frozen=True)
class Seed:
    """Where a timeline starts: a kind (alert, event, host, user, ip, process) and a value."""

    kind: str
    value: str

    def __post_init__(self) -> None:
        if self.kind not in SEED_KINDS:
            raise QueryError(f"unknown seed kind {self.kind!r} (one of {', '.join(SEED_KINDS)})")
        if not self.value.strip():
            raise QueryError(f"the {self.kind} seed needs a value")


@dataclass
class Timeline:
    """A reconstruction: the seed, the window, the steps and the (masked) events."""

    seed: Seed
    since: datetime
    until: datetime
    steps: list[Step]
    events: pa.Table
    access_entry: int | None = None
    alerts: list[dict[str, Any]] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        """Plain data for JSON (events as rows with ISO times)."""
        rows = self.events.to_pylist()
        for row in rows:
            stamp = row.get("@timestamp")
            if isinstance(stamp, datetime):
                row["@timestamp"] = stamp.isoformat()
            if isinstance(row.get("fields"), list):
                row["fields"] = dict(row["fields"])
        return {
            "seed": {"kind": self.seed.kind, "value": self.seed.value},
            "since": self.since.isoformat(),
            "until": self.until.isoformat(),
            "steps": [step.to_dict(number) for number, step in enumerate(self.steps, start=1)],
            "events": rows,
            "alerts": self.alerts,
            "access_entry": self.access_entry,
        }


def parse_window(text: str | timedelta) -> timedelta:
    """A window such as 30m, 24h, 7d."""
    if isinstance(text, timedelta):
        return text
    match = WINDOW_TEXT.match(text)
    if match is None or int(match.group(1)) == 0:
        raise QueryError(f"unreadable window {text!r}: use e.g. 30m, 24h, 7d")
    return timedelta(**{WINDOW_UNITS[match.group(2)]: int(match.group(1))})


def latest_time(data_dir: Path, column: str, values: list[str]) -> datetime:
    """The newest stored event whose `column` is one of `values`."""
    connection = connect(data_dir)
    try:
        found = connection.execute(
            f'SELECT max("@timestamp") FROM events WHERE list_contains(?, "{column}")', [values]
        ).fetchone()
    finally:
        connection.close()
    if found is None or found[0] is None:
        raise NotFound(column, ", ".join(values))
    stamp: datetime = found[0]
    return stamp.astimezone(UTC)


def account_names(data_dir: Path, pseudonym: str, door: Door) -> list[str]:
    """The stored account names behind a pseudonym (the machine's lookup; nothing is shown)."""
    _policy, pseudonyms = door.state()
    connection = connect(data_dir)
    try:
        names = connection.execute(
            'SELECT DISTINCT "user.name" FROM events WHERE "user.name" IS NOT NULL'
        ).fetchall()
    finally:
        connection.close()
    found = [name for (name,) in names if pseudonyms.pseudonym(name) == pseudonym]
    if not found:
        raise NotFound("user", pseudonym)
    return found


def resolve_seed(
    data_dir: Path,
    control: Control,
    door: Door,
    seed: Seed,
    window: timedelta,
    until: datetime | None,
) -> tuple[datetime, datetime, Identifiers]:
    """The window and the identifiers a seed starts from."""
    ids = Identifiers()
    if seed.kind == "alert":
        try:
            alert = get_alert(control, int(seed.value))
        except ValueError:
            raise QueryError(f"an alert id is a number, not {seed.value!r}") from None
        ids = seed_identifiers(read_by_ids(data_dir, alert.event_ids))
        half = window / 2
        return alert.first_seen_at - half, alert.last_seen_at + half, ids
    if seed.kind == "event":
        table = read_by_ids(data_dir, [seed.value])
        if table.num_rows == 0:
            raise NotFound("event", seed.value)
        ids = seed_identifiers(table)
        at = table.column("@timestamp")[0].as_py()
        return at - window / 2, at + window / 2, ids
    if seed.kind == "host":
        ids.hosts.add(seed.value)
        column, values = "host.name", [seed.value]
    elif seed.kind == "user":
        names = (
            account_names(data_dir, seed.value, door) if is_pseudonym(seed.value) else [seed.value]
        )
        ids.users.update(names)
        column, values = "user.name", names
    elif seed.kind == "ip":
        ids.ips.add(seed.value)
        column, values = "source.ip", [seed.value]
    else:
        ids.processes.add(seed.value)
        column, values = "process.entity_id", [seed.value]
    end = until or latest_time(data_dir, column, values) + timedelta(microseconds=1)
    return end - window, end, ids


def link(
    data_dir: Path, since: datetime, until: datetime, ids: Identifiers, *, is_broad: bool = True
) -> pa.Table:
    """Follow identifiers for a few rounds; the linking columns of every event reached."""
    table = read_links(data_dir, since, until, ids)
    for _ in range(LINK_ROUNDS - 1):
        grown = gather(table, ids, follow_accounts=False, is_broad=is_broad)
        if grown.size() == ids.size():
            break
        ids = grown
        table = read_links(data_dir, since, until, ids)
    return table


def fired_rules(control: Control, event_ids: list[str]) -> dict[str, list[dict[str, Any]]]:
    """Event id -> the alerts (id, rule, title, level) that hold it."""
    found: dict[str, list[dict[str, Any]]] = {}
    if not event_ids:
        return found
    with control.session() as session:
        for start in range(0, len(event_ids), 500):
            chunk = event_ids[start : start + 500]
            rows = session.execute(
                select(AlertEventRow.event_id, AlertRow.id, AlertRow.rule_id, AlertRow.title)
                .join(AlertRow, AlertRow.id == AlertEventRow.alert_id)
                .where(AlertEventRow.event_id.in_(chunk))
            )
            for event_id, alert_id, rule_id, title in rows:
                found.setdefault(event_id, []).append(
                    {"alert_id": alert_id, "rule_id": rule_id, "title": title}
                )
    return found


def attach_rules(steps: list[Step], fired: dict[str, list[dict[str, Any]]]) -> None:
    """Each step gets the alerts that fired on its events (once each)."""
    for step in steps:
        seen: dict[int, dict[str, Any]] = {}
        for event_id in step.event_ids:
            for alert in fired.get(event_id, []):
                seen.setdefault(alert["alert_id"], alert)
        step.rules = list(seen.values())


def build_timeline(
    data_dir: Path,
    control: Control,
    door: Door,
    actor: User,
    seed: Seed,
    window: timedelta | str = "24h",
    *,
    purpose: str = "security-monitoring",
    case_id: str | None = None,
    until: datetime | None = None,
) -> Timeline:
    """The timeline of a seed: linked events in order, grouped into steps, read via the door."""
    door.authorise(actor, purpose, case_id)
    since, end, ids = resolve_seed(data_dir, control, door, seed, parse_window(window), until)
    links = link(data_dir, since, end, ids, is_broad=seed.kind in ("alert", "event"))
    rows = [row for row in links.to_pylist() if usable(row.get("event.id"))]
    rows = rows[:MAX_ROWS]
    steps = group_steps(rows)
    event_ids = [row["event.id"] for row in rows]
    fired = fired_rules(control, event_ids)
    attach_rules(steps, fired)
    query = EventQuery(
        event_ids=tuple(event_ids),
        limit=len(event_ids),
        around=(since, end),
        kind="timeline",
    )
    result = door.read(actor, purpose, query, case_id)
    order = {event_id: number for number, event_id in enumerate(event_ids)}
    events = result.table
    if events.num_rows:
        positions = pa.array(
            [order.get(value, 0) for value in events.column("event.id").to_pylist()]
        )
        events = events.take(pc.sort_indices(positions))
    alerts = {alert["alert_id"]: alert for found in fired.values() for alert in found}
    return Timeline(
        seed, since, end, steps, events, result.entry_seq, sorted(alerts.values(), key=str)
    )
