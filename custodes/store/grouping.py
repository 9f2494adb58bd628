"""Storing alerts in sets: suppress, drop events already stored, group into open alerts, write.

Repeated matches of one rule on the same host and user within `group_window_secs` (event
time, default 24 h) update one alert: its count, first/last seen and event ids. An event already
behind an alert of the same rule is never counted twice, so replaying a batch or re-running a
hunt with `--store` changes nothing. Active suppressions filter alerts before they are stored.
A call costs a handful of statements whatever the number of alerts (lookups in chunks, one bulk
insert, one bulk update), so the detection step keeps up with ingest.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import insert, select, update
from sqlalchemy.orm import Session

from custodes.events import Alert
from custodes.store.control import AlertEventRow, AlertRow, Control
from custodes.store.suppressions import Suppression, active_suppressions

DEFAULT_GROUP_WINDOW_SECS = 24 * 3600
_CHUNK = 500


@dataclass(slots=True)
class SaveResult:
    """What `save_alerts` did: alerts created, grouped into existing ones, suppressed, repeated."""

    created: int = 0
    grouped: int = 0
    suppressed: int = 0
    duplicates: int = 0
    alert_ids: list[int] = field(default_factory=list)  # per stored alert, in order
    created_ids: list[int] = field(default_factory=list)  # the new alerts (news to notify)


def group_key(alert: Alert) -> str:
    """The grouping identity of an alert beside its rule: kind, host and user (case-folded).

    A correlation alert is identified by its group-by values instead (two brute-force sources
    stay two alerts; one source's bursts against several accounts stay one).
    """
    group = alert.details.get("group_by") if alert.kind == "correlation" else None
    if isinstance(group, dict) and group:
        return f"{alert.kind}|{json.dumps(group, sort_keys=True)}"[:600]
    host = (alert.host_name or "").casefold()
    user = (alert.user_name or "").casefold()
    return f"{alert.kind}|{host}|{user}"[:600]


@dataclass(slots=True)
class _Group:
    """An alert row as this call will leave it (id None until inserted)."""

    id: int | None
    first_seen_at: datetime
    last_seen_at: datetime
    count: int
    alert: Alert | None = None  # the alert that opened a new row
    event_ids: list[str] = field(default_factory=list)
    is_changed: bool = False

    def accepts(self, alert: Alert, window: timedelta) -> bool:
        """Whether `alert` falls within the group window of this row."""
        return (
            self.last_seen_at >= alert.first_seen_at - window
            and self.first_seen_at <= alert.last_seen_at + window
        )

    def insert_row(self, key: str, now: datetime) -> dict[str, Any]:
        """The values of a new alerts row."""
        alert = self.alert
        assert alert is not None
        return {
            "rule_id": alert.rule_id,
            "title": alert.title,
            "level": alert.level,
            "kind": alert.kind,
            "author": alert.author,
            "tags": list(alert.tags),
            "host_name": alert.host_name,
            "user_name": alert.user_name,
            "group_key": key,
            "first_seen_at": self.first_seen_at,
            "last_seen_at": self.last_seen_at,
            "count": self.count,
            "status": "open",
            "description": alert.description,
            "details": dict(alert.details),
            "created_at": now,
            "updated_at": now,
        }


def _chunks(items: Sequence[Any]) -> Iterable[Sequence[Any]]:
    for start in range(0, len(items), _CHUNK):
        yield items[start : start + _CHUNK]


def _known_events(session: Session, alerts: Sequence[Alert]) -> set[tuple[str, str]]:
    """(rule id, event id) pairs already stored, among the events of `alerts`."""
    event_ids = sorted({event_id for alert in alerts for event_id in alert.event_ids})
    known: set[tuple[str, str]] = set()
    for chunk in _chunks(event_ids):
        query = (
            select(AlertRow.rule_id, AlertEventRow.event_id)
            .join(AlertRow, AlertRow.id == AlertEventRow.alert_id)
            .where(AlertEventRow.event_id.in_(chunk))
        )
        known.update((rule_id, event_id) for rule_id, event_id in session.execute(query))
    return known


def _open_groups(
    session: Session, alerts: Sequence[Alert], window: timedelta
) -> dict[tuple[str, str], list[_Group]]:
    """Open or acknowledged alerts the given alerts may group into, by (rule id, group key)."""
    wanted = {(alert.rule_id, group_key(alert)) for alert in alerts}
    earliest = min(alert.first_seen_at for alert in alerts) - window
    rule_ids = sorted({rule_id for rule_id, _ in wanted})
    keys = sorted({key for _, key in wanted})
    found: dict[tuple[str, str], list[_Group]] = {}
    for rule_chunk in _chunks(rule_ids):
        for key_chunk in _chunks(keys):
            query = select(
                AlertRow.id,
                AlertRow.rule_id,
                AlertRow.group_key,
                AlertRow.first_seen_at,
                AlertRow.last_seen_at,
                AlertRow.count,
            ).where(
                AlertRow.status != "closed",
                AlertRow.rule_id.in_(rule_chunk),
                AlertRow.group_key.in_(key_chunk),
                AlertRow.last_seen_at >= earliest,
            )
            for row_id, rule_id, key, first, last, count in session.execute(query):
                if (rule_id, key) in wanted:
                    found.setdefault((rule_id, key), []).append(_Group(row_id, first, last, count))
    return found


def save_alerts_in(
    session: Session,
    alerts: Iterable[Alert],
    *,
    now: datetime,
    group_window_secs: float = DEFAULT_GROUP_WINDOW_SECS,
) -> SaveResult:
    """Store `alerts` within an open session (see the module docstring for the rules)."""
    result = SaveResult()
    window = timedelta(seconds=group_window_secs)
    suppressions = [(row, Suppression.from_row(row)) for row in active_suppressions(session, now)]
    kept: list[Alert] = []
    for alert in alerts:
        covering = next((row for row, item in suppressions if item.matches(alert)), None)
        if covering is None:
            kept.append(alert)
            continue
        covering.suppressed_count += max(alert.count, len(alert.event_ids), 1)
        covering.last_suppressed_at = now
        result.suppressed += 1
    if not kept:
        return result
    known = _known_events(session, kept)
    groups = _open_groups(session, kept, window)
    chosen: list[tuple[str, _Group]] = []
    created: list[_Group] = []
    for alert in kept:
        unique_ids = list(dict.fromkeys(alert.event_ids))
        new_ids = [event_id for event_id in unique_ids if (alert.rule_id, event_id) not in known]
        if unique_ids and not new_ids:
            result.duplicates += 1
            continue
        known.update((alert.rule_id, event_id) for event_id in new_ids)
        key = group_key(alert)
        candidates = [g for g in groups.get((alert.rule_id, key), []) if g.accepts(alert, window)]
        if candidates:
            group = max(candidates, key=lambda g: g.last_seen_at)
            group.first_seen_at = min(group.first_seen_at, alert.first_seen_at)
            group.last_seen_at = max(group.last_seen_at, alert.last_seen_at)
            result.grouped += 1
        else:
            group = _Group(None, alert.first_seen_at, alert.last_seen_at, 0, alert)
            groups.setdefault((alert.rule_id, key), []).append(group)
            created.append(group)
            result.created += 1
        group.count += len(new_ids) if unique_ids else max(alert.count, 1)
        group.event_ids.extend(new_ids)
        group.is_changed = True
        chosen.append((key, group))
    _write(session, chosen, now)
    result.alert_ids = [group.id for _, group in chosen if group.id is not None]
    result.created_ids = [group.id for group in created if group.id is not None]
    return result


def _write(session: Session, chosen: Sequence[tuple[str, _Group]], now: datetime) -> None:
    """Insert the new rows, update the grouped ones, add their events: a few statements."""
    fresh = list({id(group): (key, group) for key, group in chosen if group.id is None}.values())
    if fresh:
        statement = insert(AlertRow).returning(AlertRow.id, sort_by_parameter_order=True)
        ids = session.scalars(statement, [group.insert_row(key, now) for key, group in fresh])
        for (_, group), row_id in zip(fresh, ids.all(), strict=True):
            group.id = row_id
    grouped = {group.id: group for _, group in chosen if group.alert is None and group.is_changed}
    if grouped:
        session.execute(
            update(AlertRow),
            [
                {
                    "id": group.id,
                    "count": group.count,
                    "first_seen_at": group.first_seen_at,
                    "last_seen_at": group.last_seen_at,
                    "updated_at": now,
                }
                for group in grouped.values()
            ],
        )
    links = {
        (group.id, event_id): None
        for _, group in chosen
        for event_id in group.event_ids
        if group.id is not None
    }
    if links:
        rows = [{"alert_id": alert_id, "event_id": event_id} for alert_id, event_id in links]
        session.execute(insert(AlertEventRow), rows)
    for _, group in chosen:
        group.event_ids.clear()
        group.is_changed = False


def save_alerts(
    control: Control,
    alerts: Iterable[Alert],
    *,
    now: datetime,
    group_window_secs: float = DEFAULT_GROUP_WINDOW_SECS,
) -> SaveResult:
    """Store `alerts` in one transaction, grouped and filtered by suppressions."""
    with control.session() as session:
        return save_alerts_in(session, alerts, now=now, group_window_secs=group_window_secs)
