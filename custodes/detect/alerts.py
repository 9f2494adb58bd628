"""Hits -> alerts: one alert per rule, host and user in a batch, carrying the rule's author.

Only rules at or above the minimum alert level raise alerts (custodes.detect.levels).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime

import pyarrow as pa

from custodes.detect.levels import DEFAULT_ALERT_MIN_LEVEL, raises_alert
from custodes.detect.matcher import Hit
from custodes.events import Alert


def hits_to_alerts(
    batch: pa.RecordBatch, hits: Sequence[Hit], min_level: str = DEFAULT_ALERT_MIN_LEVEL
) -> list[Alert]:
    """Group each rule's matched rows by (host.name, user.name) into alerts with their event ids.

    Hits of rules below `min_level` raise none (`"informational"`: every hit alerts)."""
    alerts: list[Alert] = []
    for hit in hits:
        if not raises_alert(hit.rule.level, min_level):
            continue
        rows = batch.take(hit.rows)
        ids = column(rows, "event.id")
        hosts = column(rows, "host.name")
        users = column(rows, "user.name")
        stamps = column(rows, "@timestamp")
        groups: dict[tuple[object, object], list[int]] = {}
        for index, key in enumerate(zip(hosts, users, strict=True)):
            groups.setdefault(key, []).append(index)
        for (host, user), members in groups.items():
            seen = [s for i in members if isinstance(s := stamps[i], datetime)]
            first = min(seen) if seen else datetime.fromtimestamp(0, UTC)
            last = max(seen) if seen else first
            alerts.append(
                Alert(
                    rule_id=hit.rule.id,
                    title=hit.rule.title,
                    level=hit.rule.level,
                    event_ids=tuple(str(ids[i]) for i in members),
                    first_seen_at=first,
                    last_seen_at=last,
                    author=hit.rule.author,
                    tags=hit.rule.tags,
                    host_name=None if host is None else str(host),
                    user_name=None if user is None else str(user),
                    count=len(members),
                    description=hit.rule.description,
                    details={"logsource": hit.rule.logsource, "rule_path": hit.rule.path},
                )
            )
    return alerts


def column(batch: pa.RecordBatch, name: str) -> list[object]:
    """A column as Python values (all None when the batch lacks it)."""
    if name not in batch.schema.names:
        return [None] * batch.num_rows
    return batch.column(name).to_pylist()  # type: ignore[no-any-return]
