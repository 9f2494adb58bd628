"""A small data directory for API and web tests: events in the lake, alerts, a rule, users."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

import orjson

from custodes.events import Alert, RawRecord
from custodes.pipeline import open_pipeline
from custodes.store import search
from custodes.store.alerts import save_alerts
from custodes.store.control import open_control
from custodes.store.users import Role, add_user

RULE_ID = "5b3f1a2c-0d4e-4f5a-9b6c-7d8e9f0a1b2c"
RULE_YAML = f"""
title: Encoded PowerShell command line
id: {RULE_ID}
status: test
description: PowerShell started with an encoded command.
author: Custodes tests
tags: [attack.execution, attack.t1059.001]
logsource: {{product: windows, category: process_creation}}
detection:
  selection: {{CommandLine|contains: ' -enc '}}
  condition: selection
level: high
"""
PASSWORD = "correct horse battery"


@dataclass
class Seeded:
    """What the seed made: the data dir, the rule folder, alert ids by level, users by role."""

    data_dir: Path
    rules_dir: Path
    alert_ids: dict[str, int] = field(default_factory=dict)
    event_ids: list[str] = field(default_factory=list)
    users: dict[Role, str] = field(default_factory=dict)


def event(at: datetime, host: str, user: str, dataset: str, command: str) -> dict[str, object]:
    return {
        "@timestamp": at.isoformat(),
        "host": {"name": host},
        "user": {"name": user},
        "event": {"dataset": dataset, "code": "1"},
        "process": {"command_line": command},
        "message": f"process started: {command}",
    }


def seed(root: Path, *, now: datetime | None = None) -> Seeded:
    """Ingest 40 events over the last 30 minutes in two datasets, store three alerts."""
    now = now or datetime.now(UTC)
    data_dir, rules_dir = root / "data", root / "rules"
    rules_dir.mkdir(parents=True)
    (rules_dir / "encoded_powershell.yml").write_text(RULE_YAML)
    records = []
    for i in range(40):
        dataset = "windows.sysmon" if i % 2 == 0 else "linux.auth"
        command = "powershell -enc SQBFAFgA" if i % 10 == 0 else f"cmd /c echo {i}"
        doc = event(
            now - timedelta(minutes=30 - i * 0.7), f"ws{i % 3:02d}", "alice", dataset, command
        )
        records.append(
            RawRecord(
                data=orjson.dumps(doc), source="test", origin="seed", position=i, format="json"
            )
        )
    with open_pipeline(data_dir) as pipeline:
        pipeline.submit(records)
    seeded = Seeded(data_dir=data_dir, rules_dir=rules_dir)
    encoded = search(data_dir, where="process.command_line contains '-enc'", limit=100)
    seeded.event_ids = encoded.column("event.id").to_pylist()
    times = encoded.column("@timestamp").to_pylist()
    with open_control(data_dir) as control:
        for level, rule_id, title, host in (
            ("high", RULE_ID, "Encoded PowerShell command line", "ws00"),
            ("critical", "rule-lsass", "LSASS memory read", "ws01"),
            ("medium", "rule-logon", "Logon from unusual host", "ws02"),
        ):
            ids = tuple(seeded.event_ids) if rule_id == RULE_ID else (seeded.event_ids[0],)
            alert = Alert(
                rule_id=rule_id,
                title=title,
                level=level,
                event_ids=ids,
                first_seen_at=min(times),
                last_seen_at=max(times),
                author="Custodes tests",
                tags=("attack.execution", "attack.t1059.001") if rule_id == RULE_ID else (),
                host_name=host,
                user_name="alice",
                count=len(ids),
                description=f"{title}.",
            )
            result = save_alerts(control, [alert], now=now)
            seeded.alert_ids[level] = result.alert_ids[0]
        for role in (Role.ANALYST, Role.INVESTIGATOR, Role.OVERSIGHT, Role.ADMIN):
            name = f"{role.value}1"
            add_user(control, name, PASSWORD, role)
            seeded.users[role] = name
    return seeded
