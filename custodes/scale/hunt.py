"""Retro-hunt on Spark: the compiled Sigma matcher applied to the lake's Arrow batches.

The same `Matcher.match` and `hits_to_alerts` the embedded hunt runs, inside `mapInArrow` on
the executors; alerts from every batch are then merged per rule, host and user by Spark, so the
result does not depend on how the lake was split into batches. Rules below the minimum alert
level raise none, by the same `raises_alert` test (custodes.detect.levels).
"""

from __future__ import annotations

import hashlib
import pickle
from collections.abc import Iterator, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pyarrow as pa

from custodes.detect import Matcher, RuleInfo, hits_to_alerts
from custodes.detect.correlate import Correlator
from custodes.detect.correlations import Correlation
from custodes.detect.levels import configured_min_level, raises_alert
from custodes.events import Alert
from custodes.scale.lake import as_event_batch, read_lake
from custodes.store import open_control, save_alerts
from custodes.store.alerts import SaveResult

if TYPE_CHECKING:
    from pyspark.sql import DataFrame, SparkSession

#: What each executor emits per alert of a batch (before merging across batches).
BATCH_ALERT_SCHEMA = pa.schema(
    [
        ("rule_id", pa.string()),
        ("host_name", pa.string()),
        ("user_name", pa.string()),
        ("event_ids", pa.list_(pa.string())),
        ("first_seen_at", pa.timestamp("us", tz="UTC")),
        ("last_seen_at", pa.timestamp("us", tz="UTC")),
    ]
)
BATCH_ALERT_DDL = (
    "rule_id string, host_name string, user_name string, event_ids array<string>, "
    "first_seen_at timestamp, last_seen_at timestamp"
)

_matchers: dict[str, Matcher] = {}  # per Python worker: a reused worker compiles once


def matcher_payload(matcher: Matcher) -> bytes:
    """The compiled rules as bytes an executor turns back into the same matcher."""
    return pickle.dumps((matcher.rules, matcher.refused), protocol=pickle.HIGHEST_PROTOCOL)


def matcher_from(payload: bytes) -> Matcher:
    """The matcher for a payload, built once per worker process."""
    key = hashlib.sha256(payload).hexdigest()
    matcher = _matchers.get(key)
    if matcher is None:
        rules, refused = pickle.loads(payload)  # our own bytes, from matcher_payload
        matcher = _matchers[key] = Matcher(rules, refused)
    return matcher


def match_batches(payload: bytes, min_level: str) -> Any:
    """The `mapInArrow` function: event batches in, one row per batch alert out."""

    def match(batches: Iterator[pa.RecordBatch]) -> Iterator[pa.RecordBatch]:
        matcher = matcher_from(payload)
        for raw in batches:
            batch = as_event_batch(raw)
            hits = matcher.match(batch)
            if hits:
                yield alerts_batch(hits_to_alerts(batch, hits, min_level))

    return match


def alerts_batch(alerts: Sequence[Alert]) -> pa.RecordBatch:
    """Alerts as rows of BATCH_ALERT_SCHEMA."""
    return pa.RecordBatch.from_pydict(
        {
            "rule_id": [a.rule_id for a in alerts],
            "host_name": [a.host_name for a in alerts],
            "user_name": [a.user_name for a in alerts],
            "event_ids": [list(a.event_ids) for a in alerts],
            "first_seen_at": [a.first_seen_at for a in alerts],
            "last_seen_at": [a.last_seen_at for a in alerts],
        },
        schema=BATCH_ALERT_SCHEMA,
    )


def hunt_frame(
    spark: SparkSession,
    lake: Path | str,
    matcher: Matcher,
    *,
    since: datetime | str | None = None,
    until: datetime | str | None = None,
    min_level: str | None = None,
) -> DataFrame:
    """A DataFrame of alerts, one per rule, host and user, with every matched event id, for
    the rules at or above `min_level` (default: the `alert_min_level` setting)."""
    from pyspark.sql import functions as F

    level = configured_min_level(min_level)
    events = read_lake(spark, lake, columns=matcher.columns(), since=since, until=until)
    matching = match_batches(matcher_payload(matcher), level)
    batch_alerts = events.mapInArrow(matching, BATCH_ALERT_DDL)
    return (
        batch_alerts.groupBy("rule_id", "host_name", "user_name")
        .agg(
            F.array_sort(F.array_distinct(F.flatten(F.collect_list("event_ids")))).alias(
                "event_ids"
            ),
            F.min("first_seen_at").alias("first_seen_at"),
            F.max("last_seen_at").alias("last_seen_at"),
        )
        .orderBy("rule_id", "host_name", "user_name")
    )


def spark_hunt(
    spark: SparkSession,
    lake: Path | str,
    matcher: Matcher,
    *,
    since: datetime | str | None = None,
    until: datetime | str | None = None,
    min_level: str | None = None,
) -> list[Alert]:
    """The retro-hunt's alerts, merged per rule, host and user (collected on the driver)."""
    rules = {rule.info.id: rule.info for rule in matcher.rules}
    frame = hunt_frame(spark, lake, matcher, since=since, until=until, min_level=min_level)
    return [to_alert(rules[row["rule_id"]], row.asDict()) for row in frame.toLocalIterator()]


def to_alert(rule: RuleInfo, row: dict[str, Any]) -> Alert:
    """One merged row as an Alert carrying its rule's facts, as `hits_to_alerts` builds them."""
    ids = tuple(row["event_ids"])
    return Alert(
        rule_id=rule.id,
        title=rule.title,
        level=rule.level,
        event_ids=ids,
        first_seen_at=utc(row["first_seen_at"]),
        last_seen_at=utc(row["last_seen_at"]),
        author=rule.author,
        tags=rule.tags,
        host_name=row["host_name"],
        user_name=row["user_name"],
        count=len(ids),
        description=rule.description,
        details={"logsource": rule.logsource, "rule_path": rule.path},
    )


def utc(moment: datetime) -> datetime:
    """Spark hands back naive datetimes in the session time zone (UTC)."""
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def merge_alerts(alerts: Sequence[Alert]) -> list[Alert]:
    """Alerts merged per rule, host and user (what `hunt_frame` does), for comparing hunts."""
    merged: dict[tuple[str, str | None, str | None], list[Alert]] = {}
    for alert in alerts:
        merged.setdefault((alert.rule_id, alert.host_name, alert.user_name), []).append(alert)
    result = []
    for key in sorted(merged, key=lambda k: (k[0], k[1] or "", k[2] or "")):
        group = merged[key]
        ids = tuple(sorted({i for a in group for i in a.event_ids}))
        first = group[0]
        result.append(
            Alert(
                rule_id=first.rule_id,
                title=first.title,
                level=first.level,
                event_ids=ids,
                first_seen_at=min(a.first_seen_at for a in group),
                last_seen_at=max(a.last_seen_at for a in group),
                author=first.author,
                tags=first.tags,
                host_name=first.host_name,
                user_name=first.user_name,
                count=len(ids),
                description=first.description,
                details=first.details,
            )
        )
    return result


def spark_hunt_and_store(
    spark: SparkSession,
    data_dir: Path,
    matcher: Matcher,
    *,
    lake: Path | str | None = None,
    since: datetime | str | None = None,
    until: datetime | str | None = None,
    correlations: Sequence[Correlation] = (),
    min_level: str | None = None,
) -> tuple[list[Alert], SaveResult]:
    """The Spark retro-hunt with its alerts stored the normal way (grouped, suppressions apply)
    in the control database of `data_dir` (or `control_url`); replaying stores nothing twice.

    With `correlations` their alerts are raised too, and the rules and correlations they
    silence (`generate: false`) raise none, as in `custodes hunt --store`; neither do rules and
    correlations below `min_level` (default: the `alert_min_level` setting)."""
    from custodes.scale.correlate import spark_correlate

    source = lake or data_dir
    level = configured_min_level(min_level)
    silenced = Correlator(correlations).silenced_rules
    alerts = spark_hunt(spark, source, matcher, since=since, until=until, min_level=level)
    alerts += spark_correlate(spark, source, matcher, correlations, since=since, until=until)
    alerts = [a for a in alerts if a.rule_id not in silenced and raises_alert(a.level, level)]
    with open_control(data_dir) as control:
        saved = save_alerts(control, alerts, now=datetime.now(UTC))
    return alerts, saved
