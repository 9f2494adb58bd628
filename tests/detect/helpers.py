"""Small batches and inline rules for detection tests."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pyarrow as pa

from custodes.detect import Matcher, compile_rules, load_rules_from_yaml
from custodes.events import RawRecord
from custodes.normalise import build_batch

RULE_HEAD = """
title: {title}
id: {id}
author: Test Author
level: high
logsource: {logsource}
"""


def event_batch(*events: dict[str, Any]) -> pa.RecordBatch:
    """A batch: keys with a dot are core columns, the others go into the `fields` map."""
    rows = []
    records = []
    for position, event in enumerate(events):
        row: dict[str, Any] = {"fields": {}}
        for key, value in event.items():
            if "." in key or key in ("message", "@timestamp"):
                row[key] = value
            else:
                row["fields"][key] = value
        row.setdefault("@timestamp", datetime(2026, 1, 1, tzinfo=UTC))
        rows.append(row)
        records.append(RawRecord(data=str(event).encode(), origin="test", position=position))
    return build_batch(rows, records)


def sysmon(**fields: str) -> dict[str, Any]:
    """A Sysmon process creation event with these EventData fields."""
    return {
        "event.module": "windows",
        "winlog.channel": "Microsoft-Windows-Sysmon/Operational",
        "event.code": "1",
        "host.name": "ws1",
        **fields,
    }


def matcher_for(
    detection: str, logsource: str = "{product: windows, category: process_creation}"
) -> Matcher:
    """A matcher of one inline rule with this detection block."""
    text = RULE_HEAD.format(
        title="Test rule", id="00000000-0000-4000-8000-000000000001", logsource=logsource
    )
    rule_set = load_rules_from_yaml(text + "detection:\n" + indent(detection))
    assert not rule_set.errors, rule_set.errors
    matcher = compile_rules(rule_set)
    assert not matcher.refused, matcher.refused
    return matcher


def indent(text: str) -> str:
    """Indent a dedented YAML block by two spaces."""
    lines = text.strip("\n").splitlines()
    margin = min(len(line) - len(line.lstrip()) for line in lines if line.strip())
    return "".join(f"  {line[margin:]}\n" for line in lines)


def matched_rows(matcher: Matcher, batch: pa.RecordBatch) -> list[int]:
    """Rows of the batch the (single) rule matches."""
    hits = matcher.match(batch)
    return sorted(row for hit in hits for row in hit.rows.to_pylist())
