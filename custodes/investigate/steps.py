"""Steps: ordered events grouped into what happened, each with a plain-language label.

An event gets an activity (failed logons, logon, explicit credentials, service created, process,
credential access, file written, network, other) from its code and fields; neighbouring events
of the same activity on the same host (at most `STEP_GAP` apart) form one step. Labels name
hosts, addresses, services and programs, never accounts: the people stay behind the door.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

STEP_GAP = timedelta(minutes=15)
LARGE_UPLOAD_BYTES = 50_000_000
FAILED_LOGON_CODES = frozenset({"4625", "4771"})
LOGON_CODES = frozenset({"4624", "4672", "4768", "4769", "4776"})
SERVICE_CODES = frozenset({"4697", "7045"})
PROCESS_CODES = frozenset({"1", "4688", "5"})
#: Access rights to LSASS that read its memory (PROCESS_VM_READ set).
MEMORY_READ = 0x0010
NOTABLE_ACTIVITIES = frozenset(
    {"failed-logons", "explicit-credentials", "service", "credential-access", "upload"}
)


@dataclass
class Step:
    """One step of a timeline: an activity on a host over a span, with its events."""

    activity: str
    host: str | None
    label: str
    started_at: datetime
    ended_at: datetime
    event_ids: list[str] = field(default_factory=list)
    detail: set[str] = field(default_factory=set)
    rules: list[dict[str, Any]] = field(default_factory=list)

    @property
    def is_notable(self) -> bool:
        """A rule fired on it, or its activity is one attacks show (the rest is context)."""
        return bool(self.rules) or self.activity in NOTABLE_ACTIVITIES or "lateral" in self.label

    def to_dict(self, number: int) -> dict[str, Any]:
        """Plain data for JSON."""
        return {
            "number": number,
            "is_notable": self.is_notable,
            "activity": self.activity,
            "host": self.host,
            "label": self.label,
            "started_at": self.started_at.isoformat(),
            "ended_at": self.ended_at.isoformat(),
            "event_ids": list(self.event_ids),
            "rules": list(self.rules),
        }


def short_host(name: str | None) -> str:
    """A host name without its domain, upper case (HOST-12)."""
    return (name or "?").split(".")[0].upper()


def program(path: str | None) -> str:
    """The file name of a program path."""
    return (path or "?").replace("/", "\\").rsplit("\\", 1)[-1]


def program_of(row: dict[str, Any]) -> str:
    """The program an event names: its executable, else the first word of its command line."""
    if row.get("process.executable"):
        return program(row["process.executable"])
    words = (row.get("process.command_line") or "").split()
    return program(words[0].strip('"')) if words else "?"


def is_failure(row: dict[str, Any]) -> bool:
    """A failed logon (4625, 4771, or a 4776 with a non-zero status)."""
    code = row.get("event.code")
    if code in FAILED_LOGON_CODES or row.get("event.outcome") == "failure":
        return True
    return code == "4776" and (row.get("status") or "0x0").lower() not in ("0x0", "0")


def activity_of(row: dict[str, Any]) -> tuple[str, str]:
    """(activity, detail) of one event."""
    code = row.get("event.code") or ""
    dataset = row.get("event.dataset") or ""
    windows = dataset.startswith("windows.")
    if "vpn" in dataset:
        return "vpn", row.get("source.ip") or "?"
    if windows and is_failure(row):
        source = row.get("source.ip") or row.get("workstation") or row.get("workstation_short")
        return "failed-logons", source or "?"
    if windows and code == "4648":
        return "explicit-credentials", short_host(row.get("target_server"))
    if windows and code in LOGON_CODES:
        return "logon", row.get("source.ip") or ""
    if windows and code in SERVICE_CODES:
        return "service", row.get("service_name") or program(row.get("service_image"))
    if dataset == "windows.sysmon" and code == "10":
        target = program(row.get("target_image")).lower()
        access = int(row.get("granted_access") or "0", 16) if row.get("granted_access") else 0
        if target == "lsass.exe" and access & MEMORY_READ:
            return "credential-access", program(row.get("source_image"))
        return "process", program(row.get("source_image"))
    if (windows and code in PROCESS_CODES) or (dataset == "windows.sysmon" and code == "11"):
        return "process", program_of(row)
    sent = row.get("network.bytes") or 0
    if sent >= LARGE_UPLOAD_BYTES:
        return "upload", row.get("destination.domain") or row.get("destination.ip") or "?"
    if row.get("destination.ip") or row.get("url.original"):
        return "network", row.get("destination.domain") or row.get("destination.ip") or "?"
    return "activity", dataset or "events"


def label(step: Step, lateral_hosts: set[str]) -> str:
    """The plain-language label of a finished step."""
    host = short_host(step.host)
    details = ", ".join(sorted(d for d in step.detail if d)[:3])
    count = len(step.event_ids)
    if step.activity == "failed-logons":
        return f"{count} failed logons on {host} from {details}"
    if step.activity == "logon":
        return f"logon on {host}" + (f" from {details}" if details else "")
    if step.activity == "vpn":
        return f"logon from VPN {details}"
    if step.activity == "explicit-credentials":
        return f"explicit credentials used on {host} for {details}"
    if step.activity == "service":
        lateral = " (lateral movement)" if step.host in lateral_hosts else ""
        return f"service {details} created on {host}{lateral}"
    if step.activity == "process":
        return f"process tree on {host}: {details}"
    if step.activity == "credential-access":
        return f"LSASS memory read on {host} by {details} (credential dumping)"
    if step.activity == "upload":
        return f"large upload from {host} to {details}"
    if step.activity == "network":
        return f"network connections from {host} to {details}"
    return f"{count} {details} events on {host}"


def group_steps(rows: list[dict[str, Any]]) -> list[Step]:
    """Time-ordered events (linking columns) grouped into labelled steps, in order."""
    steps: list[Step] = []
    open_steps: dict[tuple[str, str | None], Step] = {}
    remote_logons: set[str] = set()
    for row in rows:
        activity, detail = activity_of(row)
        host, at = row.get("host.name"), row["@timestamp"]
        key = (activity, host)
        step = open_steps.get(key)
        if step is None or at - step.ended_at > STEP_GAP:
            step = open_steps[key] = Step(activity, host, "", at, at)
            steps.append(step)
        step.ended_at = at
        step.event_ids.append(row["event.id"])
        step.detail.add(detail)
        is_remote = str(row.get("logon_type")) in ("3", "10")
        if row.get("event.code") == "4624" and is_remote and host:
            remote_logons.add(host)
    for step in steps:
        step.label = label(step, remote_logons)
    return steps
