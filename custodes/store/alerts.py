"""Alert persistence: store detections grouped per rule/host/user, list, show, acknowledge.

Repeated matches of one rule on the same host and user within `group_window_secs` (event
time, default 24 h) update one alert: its count, first/last seen and event ids. An event already
behind an alert of the same rule is never counted twice, so replaying a batch or re-running a
hunt with `--store` changes nothing. Active suppressions filter alerts before they are stored.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import insert, select
from sqlalchemy.orm import Session

from custodes.errors import NotFound, QueryError
from custodes.events import Alert
from custodes.store.control import AlertEventRow, AlertRow, Control, SuppressionRow
from custodes.store.suppressions import Suppression, active_suppressions

LEVELS = ("informational", "low", "medium", "high", "critical")
STATUSES = ("open", "acknowledged", "closed")
DEFAULT_GROUP_WINDOW_SECS = 24 * 3600
_ID_CHUNK = 500


@dataclass(frozen=True, slots=True)
class StoredAlert:
    """An alert as stored: the detection plus its id, status, count and (when asked) event ids."""

    id: int
    rule_id: str
    title: str
    level: str
    kind: str
    author: str
    tags: tuple[str, ...]
    host_name: str | None
    user_name: str | None
    first_seen_at: datetime
    last_seen_at: datetime
    count: int
    status: str
    description: str
    details: dict[str, Any]
    created_at: datetime
    updated_at: datetime
    event_ids: tuple[str, ...] = ()

    @classmethod
    def from_row(cls, row: AlertRow, event_ids: Sequence[str] = ()) -> StoredAlert:
        """The alert a database row holds."""
        return cls(
            id=row.id,
            rule_id=row.rule_id,
            title=row.title,
            level=row.level,
            kind=row.kind,
            author=row.author,
            tags=tuple(row.tags),
            host_name=row.host_name,
            user_name=row.user_name,
            first_seen_at=row.first_seen_at,
            last_seen_at=row.last_seen_at,
            count=row.count,
            status=row.status,
            description=row.description,
            details=dict(row.details),
            created_at=row.created_at,
            updated_at=row.updated_at,
            event_ids=tuple(event_ids),
        )

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict (datetimes in ISO 8601)."""
        return {
            "id": self.id,
            "rule_id": self.rule_id,
            "title": self.title,
            "level": self.level,
            "kind": self.kind,
            "author": self.author,
            "tags": list(self.tags),
            "host_name": self.host_name,
            "user_name": self.user_name,
            "first_seen_at": self.first_seen_at.isoformat(),
            "last_seen_at": self.last_seen_at.isoformat(),
            "count": self.count,
            "status": self.status,
            "description": self.description,
            "details": self.details,
            "created_at": self.created_at.isoformat(),
            "updated_at": self.updated_at.isoformat(),
            "event_ids": list(self.event_ids),
        }


@dataclass(slots=True)
class SaveResult:
    """What `save_alerts` did: alerts created, grouped into existing ones, suppressed, repeated."""

    created: int = 0
    grouped: int = 0
    suppressed: int = 0
    duplicates: int = 0
    alert_ids: list[int] = field(default_factory=list)


def group_key(alert: Alert) -> str:
    """The grouping identity of an alert beside its rule: kind, host and user (case-folded)."""
    host = (alert.host_name or "").casefold()
    user = (alert.user_name or "").casefold()
    return f"{alert.kind}|{host}|{user}"


def _known_event_ids(session: Session, rule_id: str, event_ids: Sequence[str]) -> set[str]:
    known: set[str] = set()
    for start in range(0, len(event_ids), _ID_CHUNK):
        chunk = event_ids[start : start + _ID_CHUNK]
        query = (
            select(AlertEventRow.event_id)
            .join(AlertRow, AlertRow.id == AlertEventRow.alert_id)
            .where(AlertRow.rule_id == rule_id, AlertEventRow.event_id.in_(chunk))
        )
        known.update(session.scalars(query))
    return known


def _open_group(session: Session, alert: Alert, key: str, window: timedelta) -> AlertRow | None:
    query = (
        select(AlertRow)
        .where(
            AlertRow.rule_id == alert.rule_id,
            AlertRow.group_key == key,
            AlertRow.status != "closed",
            AlertRow.last_seen_at >= alert.first_seen_at - window,
            AlertRow.first_seen_at <= alert.last_seen_at + window,
        )
        .order_by(AlertRow.last_seen_at.desc())
        .limit(1)
    )
    return session.scalars(query).first()


def _count_suppressed(row: SuppressionRow, alert: Alert, now: datetime) -> None:
    row.suppressed_count += max(alert.count, len(alert.event_ids), 1)
    row.last_suppressed_at = now


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
    for alert in alerts:
        covering = next((row for row, item in suppressions if item.matches(alert)), None)
        if covering is not None:
            _count_suppressed(covering, alert, now)
            result.suppressed += 1
            continue
        unique_ids = list(dict.fromkeys(alert.event_ids))
        known = _known_event_ids(session, alert.rule_id, unique_ids) if unique_ids else set()
        new_ids = [event_id for event_id in unique_ids if event_id not in known]
        if unique_ids and not new_ids:
            result.duplicates += 1
            continue
        added = len(new_ids) if unique_ids else max(alert.count, 1)
        key = group_key(alert)
        row = _open_group(session, alert, key, window)
        if row is None:
            row = AlertRow(
                rule_id=alert.rule_id,
                title=alert.title,
                level=alert.level,
                kind=alert.kind,
                author=alert.author,
                tags=list(alert.tags),
                host_name=alert.host_name,
                user_name=alert.user_name,
                group_key=key,
                first_seen_at=alert.first_seen_at,
                last_seen_at=alert.last_seen_at,
                count=added,
                status="open",
                description=alert.description,
                details=dict(alert.details),
                created_at=now,
                updated_at=now,
            )
            session.add(row)
            session.flush()
            result.created += 1
        else:
            row.count += added
            row.first_seen_at = min(row.first_seen_at, alert.first_seen_at)
            row.last_seen_at = max(row.last_seen_at, alert.last_seen_at)
            row.updated_at = now
            result.grouped += 1
        if new_ids:
            rows = [{"alert_id": row.id, "event_id": event_id} for event_id in new_ids]
            session.execute(insert(AlertEventRow), rows)
        result.alert_ids.append(row.id)
    return result


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


def check_level(level: str) -> str:
    """A valid level name (lower case), or QueryError."""
    if level.lower() not in LEVELS:
        raise QueryError(f"unknown level {level!r}: use one of {', '.join(LEVELS)}")
    return level.lower()


def check_status(status: str) -> str:
    """A valid status name (lower case), or QueryError."""
    if status.lower() not in STATUSES:
        raise QueryError(f"unknown status {status!r}: use one of {', '.join(STATUSES)}")
    return status.lower()


def list_alerts(
    control: Control,
    *,
    min_level: str | None = None,
    status: str | None = None,
    rule_id: str | None = None,
    since: datetime | None = None,
    limit: int = 1000,
) -> list[StoredAlert]:
    """Alerts last seen most recently first, at `min_level` or above, filtered as asked."""
    query = select(AlertRow).order_by(AlertRow.last_seen_at.desc(), AlertRow.id.desc())
    if min_level is not None:
        allowed = LEVELS[LEVELS.index(check_level(min_level)) :]
        query = query.where(AlertRow.level.in_(allowed))
    if status is not None:
        query = query.where(AlertRow.status == check_status(status))
    if rule_id is not None:
        query = query.where(AlertRow.rule_id == rule_id)
    if since is not None:
        query = query.where(AlertRow.last_seen_at >= since)
    with control.session() as session:
        return [StoredAlert.from_row(row) for row in session.scalars(query.limit(limit))]


def get_alert(control: Control, alert_id: int) -> StoredAlert:
    """One alert with all its event ids, or NotFound."""
    with control.session() as session:
        row = session.get(AlertRow, alert_id)
        if row is None:
            raise NotFound("alert", str(alert_id))
        query = select(AlertEventRow.event_id).where(AlertEventRow.alert_id == alert_id)
        return StoredAlert.from_row(row, list(session.scalars(query.order_by("event_id"))))


def set_alert_status(control: Control, alert_id: int, status: str, *, now: datetime) -> StoredAlert:
    """Move an alert to `open`, `acknowledged` or `closed`."""
    checked = check_status(status)
    with control.session() as session:
        row = session.get(AlertRow, alert_id)
        if row is None:
            raise NotFound("alert", str(alert_id))
        row.status = checked
        row.updated_at = now
        return StoredAlert.from_row(row)
