"""Shared by the correlation and engine tests: Windows logon events and the brute-force rules."""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta

import pyarrow as pa

from custodes.events import RawRecord
from custodes.normalise import build_batch

T0 = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)

BRUTE_FORCE_RULES = """
title: Failed logon
id: 1f0b7f3e-5a8e-4d8c-9f51-0e0f6f0a4625
name: failed_logon
status: test
author: Custodes tests
logsource: {product: windows, service: security}
detection: {selection: {EventID: 4625}, condition: selection}
level: low
---
title: Successful logon
id: 2c3d4e5f-6a7b-4c8d-9e0f-1a2b3c4d4624
name: successful_logon
status: test
author: Custodes tests
logsource: {product: windows, service: security}
detection: {selection: {EventID: 4624}, condition: selection}
level: informational
---
title: Many failed logons from one source
name: many_failed_logons
status: test
correlation:
  type: event_count
  rules: [failed_logon]
  group-by: [IpAddress]
  timespan: 5m
  condition: {gte: 20}
---
title: Brute force succeeded
id: 9d8c7b6a-5f4e-4d3c-8b2a-19f0e1d2c3b4
name: brute_force_success
status: test
author: Custodes tests
level: high
tags: [attack.credential-access, attack.t1110]
correlation:
  type: temporal_ordered
  rules: [many_failed_logons, successful_logon]
  group-by: [IpAddress]
  timespan: 5m
"""

FAILED_ID = "1f0b7f3e-5a8e-4d8c-9f51-0e0f6f0a4625"
SUCCESS_ID = "2c3d4e5f-6a7b-4c8d-9e0f-1a2b3c4d4624"
BRUTE_FORCE_ID = "9d8c7b6a-5f4e-4d3c-8b2a-19f0e1d2c3b4"


def logon(code: int, ip: str, at: datetime, user: str = "admin", n: int = 0) -> dict[str, object]:
    """One Security-log logon event as the EVTX parser would give it."""
    return {
        "@timestamp": at,
        "event.code": str(code),
        "event.dataset": "windows.security",
        "winlog.channel": "Security",
        "winlog.provider_name": "Microsoft-Windows-Security-Auditing",
        "host.name": "dc01",
        "user.name": user,
        "source.ip": ip,
        "fields": {
            "EventID": str(code),
            "Channel": "Security",
            "IpAddress": ip,
            "TargetUserName": user,
            "LogonType": "3",
            "Seq": str(n),
        },
    }


def events_batch(rows: Sequence[dict[str, object]], origin: str = "test") -> pa.RecordBatch:
    """A batch of the event schema from parsed rows (each row gets a distinct record)."""
    records = [
        RawRecord(data=json.dumps(row, default=str).encode(), origin=origin, position=index)
        for index, row in enumerate(rows)
    ]
    return build_batch(list(rows), records)


def brute_force(
    ip: str, failures: int = 25, gap: timedelta = timedelta(seconds=6)
) -> list[dict[str, object]]:
    """`failures` failed logons from `ip`, `gap` apart, then one success."""
    rows = [logon(4625, ip, T0 + gap * i, n=i) for i in range(failures)]
    rows.append(logon(4624, ip, T0 + gap * failures + timedelta(seconds=1), n=failures))
    return rows


FAILED_NETWORK_ID = "5e1f0c1a-2b3c-4d5e-8f90-0a1b2c3d4e5f"
SPRAY_ID = "6f2a1d2b-3c4d-4e5f-9a01-1b2c3d4e5f60"
LOGON_NO_LEVEL_ID = "7a3b2e3c-4d5e-4f60-8b12-2c3d4e5f6071"

#: As the demo's password spray: an informational base rule, a high value_count correlation
#: (with `generate: true`, so nothing but its level keeps the base rule from alerting).
SPRAY_RULES = f"""
title: Failed network logon
id: {FAILED_NETWORK_ID}
name: failed_network_logon
status: test
author: Custodes tests
logsource: {{product: windows, service: security}}
detection: {{selection: {{EventID: 4625}}, condition: selection}}
level: informational
---
title: Password spraying from one source
id: {SPRAY_ID}
status: test
correlation:
  type: value_count
  rules: [failed_network_logon]
  group-by: [IpAddress]
  timespan: 15m
  condition: {{gte: 10, field: TargetUserName}}
  generate: true
level: high
---
title: Logon without a level
id: {LOGON_NO_LEVEL_ID}
status: test
author: Custodes tests
logsource: {{product: windows, service: security}}
detection: {{selection: {{EventID: 4624}}, condition: selection}}
"""


def spray(ip: str = "10.0.0.9", accounts: int = 12) -> pa.RecordBatch:
    """Failed logons for `accounts` users from one address a minute apart, then one success."""
    rows = [
        logon(4625, ip, T0 + timedelta(minutes=i), user=f"user{i}", n=i) for i in range(accounts)
    ]
    rows.append(logon(4624, ip, T0 + timedelta(minutes=accounts), user="user0", n=accounts))
    return events_batch(rows)
