"""Sigma correlations on Spark: the embedded `Correlator`, run per group of the lake's hits.

Two passes over the lake's Arrow batches. First, on every executor, the compiled matcher finds
the hits of the rules the correlations read, and each hit row is tagged with its correlation
component (correlations chained to each other travel together) and its group-by values. Spark
then brings each component's group to one partition in time order, where the very `Correlator`
of `custodes hunt --store` (hunt mode: no saved state) turns the hits into matches. Tumbling
windows close against the lake's newest time, as they do at the end of an embedded hunt.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import pyarrow as pa
import pyarrow.compute as pc

from custodes.detect import Matcher
from custodes.detect.correlate import CorrelationMatch, Correlator, read_field
from custodes.detect.correlations import Correlation
from custodes.detect.engine import matcher_field_sources
from custodes.events import CORE_NAMES, EVENT_SCHEMA, FIELDS_COLUMN, Alert
from custodes.scale.hunt import matcher_from, matcher_payload
from custodes.scale.lake import as_event_batch, column_alias, read_lake

if TYPE_CHECKING:
    from datetime import datetime
    from pathlib import Path

    from pyspark.sql import DataFrame, SparkSession

TAGS = ("corr_component", "corr_key", "corr_rules")
MATCH_SCHEMA = pa.schema(
    [
        ("correlation_id", pa.string()),
        ("group_json", pa.string()),
        ("value", pa.float64()),
        ("first_us", pa.int64()),
        ("last_us", pa.int64()),
        ("event_ids", pa.list_(pa.string())),
        ("host", pa.string()),
        ("user", pa.string()),
    ]
)
MATCH_DDL = (
    "correlation_id string, group_json string, value double, first_us long, last_us long, "
    "event_ids array<string>, host string, user string"
)


@dataclass(frozen=True, slots=True)
class Component:
    """Correlations that read each other's matches (in dependency order), run together.

    `keyed`: they share their group-by fields and rename none, so each group can be correlated
    on its own partition; otherwise the whole component goes to one partition.
    """

    correlations: tuple[Correlation, ...]
    keyed: bool

    @property
    def rules(self) -> set[str]:
        """The base rules whose hits feed the component."""
        own = {c.id for c in self.correlations}
        return {name for c in self.correlations for name in c.inputs} - own


def components(correlations: Sequence[Correlation]) -> list[Component]:
    """The correlations split into independent chains, each in the given (dependency) order."""
    ids = {c.id for c in correlations}
    parent = {c.id: c.id for c in correlations}

    def root(name: str) -> str:
        while parent[name] != name:
            name = parent[name]
        return name

    for correlation in correlations:
        for name in correlation.inputs:
            if name in ids:
                parent[root(name)] = root(correlation.id)
    chains: dict[str, list[Correlation]] = {}
    for correlation in correlations:
        chains.setdefault(root(correlation.id), []).append(correlation)
    result = []
    for chain in chains.values():
        group_bys = {c.group_by for c in chain}
        keyed = (
            len(group_bys) == 1 and bool(chain[0].group_by) and not any(c.aliases for c in chain)
        )
        result.append(Component(tuple(chain), keyed))
    return result


def correlation_columns(matcher: Matcher, correlations: Sequence[Correlation]) -> list[str]:
    """The event columns the rules and correlations read (as the embedded detection reads)."""
    sources = matcher_field_sources(matcher)
    wanted = set(matcher.columns()) | {"@timestamp", "event.id"}
    for correlation in correlations:
        fields = (*correlation.group_by, *filter(None, [correlation.value_field]))
        for key in correlation.inputs:
            for name in fields:
                wanted.update(sources(key, correlation.field_for(name, key)))
    wanted = {name if name in CORE_NAMES else FIELDS_COLUMN for name in wanted}
    return [name for name in EVENT_SCHEMA.names if name in wanted]


def tag_hits(payload: bytes, chains: Sequence[Component]) -> Any:
    """The first `mapInArrow` function: each hit row with its component, group and rules."""

    def tag(batches: Iterator[pa.RecordBatch]) -> Iterator[pa.RecordBatch]:
        matcher = matcher_from(payload)
        sources = matcher_field_sources(matcher)
        for raw in batches:
            batch = as_event_batch(raw)
            hits = {hit.rule.id: hit for hit in matcher.match(batch)}
            tagged: dict[tuple[int, int, str], list[str]] = {}
            for number, chain in enumerate(chains):
                for rule_id in sorted(chain.rules & set(hits)):
                    rows = hits[rule_id].rows
                    keys = group_keys(batch, rows, chain, rule_id, sources)
                    for row, key in zip(rows.to_pylist(), keys, strict=True):
                        tagged.setdefault((number, row, key), []).append(rule_id)
            if tagged:
                yield tagged_batch(raw, tagged)

    return tag


def group_keys(
    batch: pa.RecordBatch, rows: pa.Array, chain: Component, rule_id: str, sources: Any
) -> list[str]:
    """The partitioning key of each hit row: its group-by values (or one key per component)."""
    if not chain.keyed:
        return [""] * len(rows)
    correlation = next(c for c in chain.correlations if rule_id in c.inputs)
    columns = [
        read_field(batch, rows, sources(rule_id, correlation.field_for(name, rule_id)))
        for name in correlation.group_by
    ]
    return [json.dumps(list(values)) for values in zip(*columns, strict=True)]


def tagged_batch(
    raw: pa.RecordBatch, tagged: dict[tuple[int, int, str], list[str]]
) -> pa.RecordBatch:
    """The tagged rows of a Spark batch, with the three tag columns added."""
    order = list(tagged)
    taken = raw.take(pa.array([row for _, row, _ in order], pa.int64()))
    return pa.RecordBatch.from_arrays(
        [
            *taken.columns,
            pa.array([number for number, _, _ in order], pa.int32()),
            pa.array([key for _, _, key in order], pa.string()),
            pa.array([tagged[item] for item in order], pa.list_(pa.string())),
        ],
        names=[*raw.schema.names, *TAGS],
    )


@dataclass(frozen=True, slots=True)
class TaggedHit:
    """A hit rebuilt on the correlating executor (what `Correlator.process` reads of a Hit)."""

    rule: Any
    rows: pa.Array


@dataclass(frozen=True, slots=True)
class RuleId:
    """Just the id of a rule, all `Correlator.process` needs of it."""

    id: str


def correlate_groups(payload: bytes, chains: Sequence[Component], watermark_us: int | None) -> Any:
    """The second `mapInArrow` function: a partition's tagged hits in, correlation matches out."""

    def correlate(batches: Iterator[pa.RecordBatch]) -> Iterator[pa.RecordBatch]:
        tables = [pa.Table.from_batches([b]) for b in batches if b.num_rows]
        if not tables:
            return
        table = pa.concat_tables(tables).combine_chunks()
        sources = matcher_field_sources(matcher_from(payload))
        numbers = table.column("corr_component")
        for number in sorted(set(numbers.to_pylist())):
            part = table.filter(pc.equal(numbers, number))
            correlator = Correlator(chains[number].correlations, field_sources=sources)
            found = correlator.process(*rebuilt_hits(part))
            if watermark_us is not None:  # close tumbling windows as the end of a hunt does
                correlator.watermark_us = max(correlator.watermark_us or 0, watermark_us)
                empty = pa.RecordBatch.from_pydict(
                    {"@timestamp": pa.array([], EVENT_SCHEMA.field("@timestamp").type)}
                )
                found += correlator.process(empty, [])
            if found:
                yield matches_batch(found)

    return correlate


def rebuilt_hits(part: pa.Table) -> tuple[pa.RecordBatch, list[TaggedHit]]:
    """The event batch of one component's tagged rows and its hits per rule."""
    events = part.drop_columns(list(TAGS)).to_batches()
    batch = as_event_batch(pa.Table.from_batches(events).combine_chunks().to_batches()[0])
    rows: dict[str, list[int]] = {}
    for index, names in enumerate(part.column("corr_rules").to_pylist()):
        for name in names:
            rows.setdefault(name, []).append(index)
    hits = [TaggedHit(RuleId(name), pa.array(at, pa.int64())) for name, at in rows.items()]
    return batch, hits


def matches_batch(matches: Sequence[CorrelationMatch]) -> pa.RecordBatch:
    """Correlation matches as rows of MATCH_SCHEMA."""
    return pa.RecordBatch.from_pydict(
        {
            "correlation_id": [m.correlation.id for m in matches],
            "group_json": [json.dumps(m.group) for m in matches],
            "value": [float(m.value) for m in matches],
            "first_us": [m.first_us for m in matches],
            "last_us": [m.last_us for m in matches],
            "event_ids": [list(m.event_ids) for m in matches],
            "host": [m.host for m in matches],
            "user": [m.user for m in matches],
        },
        schema=MATCH_SCHEMA,
    )


def correlation_frame(
    spark: SparkSession,
    lake: Path | str,
    matcher: Matcher,
    correlations: Sequence[Correlation],
    *,
    since: datetime | str | None = None,
    until: datetime | str | None = None,
) -> DataFrame:
    """A DataFrame of correlation matches (MATCH_DDL) over the lake in [since, until)."""
    from pyspark.sql import functions as F
    from pyspark.sql.types import ArrayType, IntegerType, StringType, StructField, StructType

    chains = components(correlations)
    payload = matcher_payload(matcher)
    columns = correlation_columns(matcher, correlations)
    events = read_lake(spark, lake, columns=columns, since=since, until=until)
    time = column_alias("@timestamp")
    newest = events.agg(F.max(time)).first()
    watermark_us = None if newest is None or newest[0] is None else micros(newest[0])
    tagged_schema = StructType(
        [
            *events.schema.fields,
            StructField("corr_component", IntegerType()),
            StructField("corr_key", StringType()),
            StructField("corr_rules", ArrayType(StringType())),
        ]
    )
    tagged = events.mapInArrow(tag_hits(payload, chains), tagged_schema)
    return (
        tagged.repartition("corr_component", "corr_key")
        .sortWithinPartitions("corr_component", "corr_key", time)
        .mapInArrow(correlate_groups(payload, chains, watermark_us), MATCH_DDL)
    )


def micros(moment: datetime) -> int:
    """Microseconds since the epoch of a Spark timestamp (naive in the session's UTC)."""
    from datetime import UTC

    aware = moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment
    return int(aware.timestamp()) * 1_000_000 + aware.microsecond


def spark_correlate(
    spark: SparkSession,
    lake: Path | str,
    matcher: Matcher,
    correlations: Sequence[Correlation],
    *,
    since: datetime | str | None = None,
    until: datetime | str | None = None,
) -> list[Alert]:
    """The correlation alerts of a Spark retro-hunt, as the embedded hunt raises them."""
    if not correlations:
        return []
    by_id = {c.id: c for c in correlations}
    frame = correlation_frame(spark, lake, matcher, correlations, since=since, until=until)
    alerts = []
    for row in frame.toLocalIterator():
        match = CorrelationMatch(
            correlation=by_id[row["correlation_id"]],
            group=json.loads(row["group_json"]),
            value=row["value"],
            first_us=row["first_us"],
            last_us=row["last_us"],
            event_ids=tuple(row["event_ids"]),
            host=row["host"],
            user=row["user"],
        )
        alerts.append(match.to_alert())
    return sorted(alerts, key=lambda a: (a.rule_id, a.first_seen_at, a.event_ids))
