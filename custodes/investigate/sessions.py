"""Logon sessions from Security events: 4624 opens one (TargetLogonId on a host), 4634 or 4647
closes it, and every event on that host whose subject logon id is the session's belongs to it."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import pyarrow as pa

from custodes.investigate.process_tree import field_of

OPEN_CODES = frozenset({"4624"})
CLOSE_CODES = frozenset({"4634", "4647"})


@dataclass
class LogonSession:
    """One logon session on one host."""

    host: str | None
    logon_id: str
    user: str | None = None
    logon_type: str | None = None
    source_ip: str | None = None
    started_at: datetime | None = None
    ended_at: datetime | None = None
    event_ids: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        """Plain data for JSON."""
        return {
            "host": self.host,
            "logon_id": self.logon_id,
            "user": self.user,
            "logon_type": self.logon_type,
            "source_ip": self.source_ip,
            "started_at": self.started_at.isoformat() if self.started_at else None,
            "ended_at": self.ended_at.isoformat() if self.ended_at else None,
            "event_ids": list(self.event_ids),
        }


def build_sessions(events: pa.Table) -> list[LogonSession]:
    """Sessions of the Security events in `events` (user names as the table shows them)."""
    sessions: dict[tuple[str | None, str], LogonSession] = {}
    rows = [row for row in events.to_pylist() if row.get("event.dataset") == "windows.security"]
    rows.sort(key=lambda row: row.get("@timestamp") or datetime.min)
    for row in rows:
        host, code, at = row.get("host.name"), row.get("event.code"), row.get("@timestamp")
        target = field_of(row, "TargetLogonId")
        subject = field_of(row, "SubjectLogonId")
        if code in OPEN_CODES and target:
            session = sessions.setdefault((host, target), LogonSession(host, target))
            session.user = row.get("user.name")
            session.logon_type = field_of(row, "LogonType")
            session.source_ip = row.get("source.ip")
            session.started_at = at
            session.event_ids.append(row["event.id"])
            continue
        logon_id = target if code in CLOSE_CODES else subject
        found = sessions.get((host, logon_id or ""))
        if found is None:
            continue
        found.event_ids.append(row["event.id"])
        if code in CLOSE_CODES:
            found.ended_at = at
    return sorted(sessions.values(), key=lambda session: session.started_at or datetime.min)
