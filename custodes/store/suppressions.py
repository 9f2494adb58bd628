"""Suppressions: a named person's decision, with a reason and an end date, to stop an alert.

A suppression names a rule, or alert fields (`host_name`, `user_name`), or both. While it is
active (not revoked, not expired) matching alerts are not stored; each one is counted on the
suppression (`suppressed_count`), so silencing is never silent.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from custodes.errors import CustodesError, NotFound
from custodes.events import Alert
from custodes.store.control import AlertRow, Control, SuppressionRow

#: Alert fields a suppression may name as conditions.
CONDITION_FIELDS = ("host_name", "user_name")
_DURATION = re.compile(r"(?P<count>[0-9]+)\s*(?P<unit>[mhdw])")
_UNIT_SECS = {"m": 60, "h": 3600, "d": 86400, "w": 604800}


class SuppressionError(CustodesError):
    """A suppression request is incomplete or malformed (no reason, owner or expiry)."""

    status = 400


@dataclass(frozen=True, slots=True)
class Suppression:
    """A stored suppression (see the module docstring)."""

    id: int
    rule_id: str | None
    conditions: dict[str, list[str]]
    justification: str
    owner: str
    created_at: datetime
    expires_at: datetime
    revoked_at: datetime | None
    suppressed_count: int
    last_suppressed_at: datetime | None

    def is_active(self, now: datetime) -> bool:
        """Whether it still applies: not revoked and not yet expired."""
        return self.revoked_at is None and now < self.expires_at

    def matches(self, alert: Alert) -> bool:
        """Whether this suppression covers `alert` (rule and every named field agree)."""
        if self.rule_id is not None and self.rule_id != alert.rule_id:
            return False
        for name, allowed in self.conditions.items():
            value = getattr(alert, name, None)
            if value is None or value.casefold() not in {item.casefold() for item in allowed}:
                return False
        return True

    @classmethod
    def from_row(cls, row: SuppressionRow) -> Suppression:
        """The suppression a database row holds."""
        return cls(
            id=row.id,
            rule_id=row.rule_id,
            conditions={key: list(values) for key, values in row.conditions.items()},
            justification=row.justification,
            owner=row.owner,
            created_at=row.created_at,
            expires_at=row.expires_at,
            revoked_at=row.revoked_at,
            suppressed_count=row.suppressed_count,
            last_suppressed_at=row.last_suppressed_at,
        )

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict (datetimes in ISO 8601)."""
        return {
            "id": self.id,
            "rule_id": self.rule_id,
            "conditions": self.conditions,
            "justification": self.justification,
            "owner": self.owner,
            "created_at": self.created_at.isoformat(),
            "expires_at": self.expires_at.isoformat(),
            "revoked_at": self.revoked_at.isoformat() if self.revoked_at else None,
            "suppressed_count": self.suppressed_count,
            "last_suppressed_at": (
                self.last_suppressed_at.isoformat() if self.last_suppressed_at else None
            ),
        }


def parse_expiry(text: str, *, now: datetime) -> datetime:
    """An expiry from `30d`, `12h`, `2w`, `90m`, a date (`2026-12-31`: end of day) or ISO time."""
    value = text.strip()
    duration = _DURATION.fullmatch(value)
    if duration:
        seconds = int(duration["count"]) * _UNIT_SECS[duration["unit"]]
        return now + timedelta(seconds=seconds)
    try:
        day = date.fromisoformat(value)
        return datetime(day.year, day.month, day.day, tzinfo=UTC) + timedelta(days=1)
    except ValueError:
        pass
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        raise SuppressionError(
            f"expiry {text!r} is neither a duration (30d, 12h, 2w) nor a date (2026-12-31)"
        ) from None
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def _clean_conditions(conditions: Mapping[str, str | Sequence[str]]) -> dict[str, list[str]]:
    cleaned: dict[str, list[str]] = {}
    for name, values in conditions.items():
        if name not in CONDITION_FIELDS:
            raise SuppressionError(
                f"cannot suppress on {name!r}: use one of {', '.join(CONDITION_FIELDS)}"
            )
        items = [values] if isinstance(values, str) else list(values)
        items = [item for item in items if item]
        if items:
            cleaned[name] = items
    return cleaned


def add_suppression(
    control: Control,
    *,
    justification: str,
    owner: str,
    expires_at: datetime,
    now: datetime,
    rule_id: str | None = None,
    conditions: Mapping[str, str | Sequence[str]] | None = None,
) -> Suppression:
    """Store a suppression; the justification, owner and a future expiry are required."""
    if not justification.strip():
        raise SuppressionError("a suppression needs a justification (why is this not a threat?)")
    if not owner.strip():
        raise SuppressionError("a suppression needs an owner (who answers for it?)")
    if expires_at <= now:
        raise SuppressionError(f"expiry {expires_at.isoformat()} is not in the future")
    cleaned = _clean_conditions(conditions or {})
    if not rule_id and not cleaned:
        raise SuppressionError("a suppression must name a rule or a host/user, not everything")
    row = SuppressionRow(
        rule_id=rule_id or None,
        conditions=cleaned,
        justification=justification.strip(),
        owner=owner.strip(),
        created_at=now,
        expires_at=expires_at,
        revoked_at=None,
        suppressed_count=0,
        last_suppressed_at=None,
    )
    with control.session() as session:
        session.add(row)
        session.flush()
        return Suppression.from_row(row)


def suppress_alert(
    control: Control,
    alert_id: int,
    *,
    justification: str,
    owner: str,
    expires_at: datetime,
    now: datetime,
) -> Suppression:
    """Suppress what a stored alert is about: its rule on its host and user."""
    with control.session() as session:
        alert = session.get(AlertRow, alert_id)
        if alert is None:
            raise NotFound("alert", str(alert_id))
        conditions = {"host_name": alert.host_name or "", "user_name": alert.user_name or ""}
        rule_id = alert.rule_id
    return add_suppression(
        control,
        justification=justification,
        owner=owner,
        expires_at=expires_at,
        now=now,
        rule_id=rule_id,
        conditions=conditions,
    )


def list_suppressions(
    control: Control, *, now: datetime, include_inactive: bool = False
) -> list[Suppression]:
    """Suppressions, newest first; only the active ones unless `include_inactive`."""
    with control.session() as session:
        rows = session.scalars(select(SuppressionRow).order_by(SuppressionRow.id.desc()))
        found = [Suppression.from_row(row) for row in rows]
    return [item for item in found if include_inactive or item.is_active(now)]


def revoke_suppression(control: Control, suppression_id: int, *, now: datetime) -> Suppression:
    """End a suppression now (it stays stored, with its counter, for the record)."""
    with control.session() as session:
        row = session.get(SuppressionRow, suppression_id)
        if row is None:
            raise NotFound("suppression", str(suppression_id))
        if row.revoked_at is None:
            row.revoked_at = now
        return Suppression.from_row(row)


def active_suppressions(session: Session, now: datetime) -> list[SuppressionRow]:
    """The rows of suppressions in force at `now` (for filtering within a store transaction)."""
    query = select(SuppressionRow).where(
        SuppressionRow.revoked_at.is_(None), SuppressionRow.expires_at > now
    )
    return list(session.scalars(query))
