"""Stored alerts: list, show, acknowledge or close them; storing lives in `grouping`.

`save_alerts` (re-exported from `custodes.store.grouping`) groups repeated matches of a rule on
one host and user into one alert and applies suppressions; see that module.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select

from custodes.errors import NotFound, QueryError
from custodes.store.control import AlertEventRow, AlertRow, Control
from custodes.store.grouping import (
    DEFAULT_GROUP_WINDOW_SECS,
    SaveResult,
    group_key,
    save_alerts,
    save_alerts_in,
)

__all__ = [
    "DEFAULT_GROUP_WINDOW_SECS",
    "LEVELS",
    "STATUSES",
    "SaveResult",
    "StoredAlert",
    "check_level",
    "check_status",
    "get_alert",
    "group_key",
    "list_alerts",
    "save_alerts",
    "save_alerts_in",
    "set_alert_status",
]

LEVELS = ("informational", "low", "medium", "high", "critical")
STATUSES = ("open", "acknowledged", "closed")


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
    status_by: str | None = None  # who last set the status (acknowledged, closed, reopened)
    status_changed_at: datetime | None = None

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
            status_by=row.status_by,
            status_changed_at=row.status_changed_at,
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
            "status_by": self.status_by,
            "status_changed_at": (
                self.status_changed_at.isoformat() if self.status_changed_at else None
            ),
        }


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


def set_alert_status(
    control: Control, alert_id: int, status: str, *, now: datetime, actor: str | None = None
) -> StoredAlert:
    """Move an alert to `open`, `acknowledged` or `closed`, recording who did it and when."""
    checked = check_status(status)
    with control.session() as session:
        row = session.get(AlertRow, alert_id)
        if row is None:
            raise NotFound("alert", str(alert_id))
        row.status = checked
        row.updated_at = now
        row.status_by = actor
        row.status_changed_at = now
        return StoredAlert.from_row(row)
