"""Ground truth: what the generator planted, where, and which feature should find it."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any

#: Detection targets: SigmaHQ rule ids (from the shared rule set) and posture check names.
SIGMA_GLOBAL_GROUP_ADD = "c43c26be-2e87-46c7-8661-284588c5a53e"
SIGMA_LOCAL_ADMIN_ADD = "c265cf08-3f99-46c1-8d59-328247057d57"
SIGMA_UNCOMMON_SERVICE = "26481afe-db26-4228-b264-25a29fe6efc7"
SIGMA_COMSVCS_DUMP = "646ea171-dded-4578-8a4d-65e9822892e3"
SIGMA_LSASS_MEMDUMP = "5ef9853e-4d0e-4a70-846f-a9ca37d876da"
SIGMA_LSASS_COMSVCS = "a49fa4d5-11db-418c-8473-1e014a8dd462"
SIGMA_RCLONE_AGENT = "2c03648b-e081-41a5-b9fb-7d854a915091"


def sigma(rule_id: str) -> dict[str, str]:
    """A detection by a SigmaHQ rule."""
    return {"kind": "sigma", "rule_id": rule_id}


def posture(check: str) -> dict[str, str]:
    """A finding by a posture check (custodes/posture, issue 6)."""
    return {"kind": "posture", "check": check}


def ueba(*features: str) -> dict[str, Any]:
    """An anomaly score by behaviour analytics (custodes/ueba, issue 10)."""
    return {"kind": "ueba", "features": list(features)}


def policy(rule: str) -> dict[str, str]:
    """Enforcement by the policy (e.g. a protected channel is never stored)."""
    return {"kind": "policy", "rule": rule}


@dataclass
class Planted:
    """One planted scenario (or a near miss that must NOT be found) and its evidence."""

    id: str
    title: str
    what: str
    kind: str  # activity | posture | near-miss
    detect: list[dict[str, Any]]
    accounts: list[str] = field(default_factory=list)
    employee_ids: list[str] = field(default_factory=list)
    hosts: list[str] = field(default_factory=list)
    devices: list[str] = field(default_factory=list)
    day: int | None = None
    repeat: int = 1  # emit is called on `repeat` consecutive days from `day`
    events: list[dict[str, Any]] = field(default_factory=list)
    lines: list[dict[str, str]] = field(default_factory=list)
    emit: Callable[..., None] | None = None

    def to_dict(self) -> dict[str, Any]:
        """The ground-truth entry (times come from the events and lines actually written)."""
        times = sorted(
            [event["time"] for event in self.events] + [line["time"] for line in self.lines]
        )
        return {
            "id": self.id,
            "title": self.title,
            "what": self.what,
            "kind": self.kind,
            "detect": self.detect,
            "who": {"accounts": self.accounts, "employee_ids": self.employee_ids},
            "hosts": self.hosts,
            "devices": self.devices,
            "first_at": times[0] if times else None,
            "last_at": times[-1] if times else None,
            "user_days": self.user_days(times),
            "events": self.events,
            "lines": self.lines,
        }

    def user_days(self, times: list[str]) -> list[dict[str, str]]:
        """The (account, day) pairs an activity case makes anomalous: labels for UEBA scoring."""
        if self.kind != "activity" or not times:
            return []
        days = sorted({stamp[:10] for stamp in times})
        return [{"account": account, "date": day} for account in self.accounts for day in days]


@dataclass
class Facts:
    """What the reference exports must show so that the planted cases are true (or near misses)."""

    enabled_after_separation: set[str] = field(default_factory=set)
    extra_accounts: list[dict[str, Any]] = field(default_factory=list)
    approvals: list[dict[str, Any]] = field(default_factory=list)
    silent_devices: dict[str, date] = field(default_factory=dict)
    countries: dict[tuple[int, int], str] = field(default_factory=dict)  # (day, owner) -> country
    linux_groups: dict[str, dict[str, list[str]]] = field(default_factory=dict)  # host -> group


def line_recorder(planted: Planted, file: str) -> list[str]:
    """A list that, once filled with exact lines, is copied into `planted.lines`."""
    recorded: list[str] = _LineList(planted, file)
    return recorded


class _LineList(list[str]):
    """Appends each recorded line to the scenario with its file and time."""

    def __init__(self, planted: Planted, file: str) -> None:
        super().__init__()
        self.planted = planted
        self.file = file

    def extend(self, lines: Any) -> None:
        for line in lines:
            self.append(line)
            self.planted.lines.append({"file": self.file, "line": line, "time": line_time(line)})


def line_time(line: str) -> str:
    """The ISO time inside a generated line (JSON @timestamp, CEF rt, or a leading stamp)."""
    if line.startswith("{"):
        import orjson

        return str(orjson.loads(line).get("@timestamp", ""))
    found = re.search(r"(?:^|[ |])rt=(\d+)", line)
    if found:
        millis = int(found.group(1))
        return datetime.fromtimestamp(millis / 1000, tz=UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    stamp = line.split(" ", 1)[0]  # auth.log: 2026-11-02T08:00:01.123456+00:00
    return stamp.replace("+00:00", "Z")
