"""Big timelines on Spark: the lake filtered by Spark, the steps built by `custodes.investigate`.

The embedded timeline reads the linking columns of every event that shares an identifier with
the seed (`investigate.links.read_links`, DuckDB), grows the identifiers for a few rounds
(`links.gather`) and groups the events into steps (`steps.group_steps`). Here the scan of the
lake runs on Spark with the same conditions, and only the matching rows come back to the driver
(as Arrow), where the same `gather`, `group_steps` and alert lookup run; the events a person
sees are read through the one door, as `custodes timeline` reads them.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pyarrow as pa
import pyarrow.compute as pc

from custodes.errors import QueryError
from custodes.events import EVENT_SCHEMA
from custodes.investigate import Seed, Timeline, group_steps
from custodes.investigate.links import (
    LINK_COLUMNS,
    LINK_FIELDS,
    MAX_LINKED_EVENTS,
    Identifiers,
    gather,
    usable,
)
from custodes.investigate.timeline import LINK_ROUNDS, attach_rules, fired_rules
from custodes.oversight import Door, EventQuery
from custodes.oversight.access import MAX_ROWS
from custodes.scale.lake import LAKE_GLOB, lake_location, moment
from custodes.store.control import Control
from custodes.store.users import User

if TYPE_CHECKING:
    from pyspark.sql import Column, DataFrame, SparkSession

#: Seeds a Spark timeline starts from (alerts and events are a handful of rows: stay embedded).
SPARK_SEED_KINDS = ("host", "user", "ip")


def seed_identifiers_of(seed: Seed) -> Identifiers:
    """The identifiers a host, user (account as stored) or IP seed starts from."""
    ids = Identifiers()
    if seed.kind == "host":
        ids.hosts.add(seed.value)
    elif seed.kind == "user":
        ids.users.add(seed.value)
    elif seed.kind == "ip":
        ids.ips.add(seed.value)
    else:
        kinds = ", ".join(SPARK_SEED_KINDS)
        raise QueryError(f"a Spark timeline starts from a {kinds} (not {seed.kind})")
    return ids


def lake_frame(
    spark: SparkSession, lake: Path | str, since: datetime, until: datetime
) -> DataFrame:
    """The lake's events in [since, until), day partitions pruned."""
    from pyspark.sql import functions as F

    location = lake_location(lake)
    if "://" not in location and not any(Path(location).glob(LAKE_GLOB)):
        raise QueryError(f"no events in the lake at {location}")
    frame = spark.read.option("basePath", location).parquet(f"{location}/{LAKE_GLOB}")
    days = (str(since.astimezone(UTC).date()), str(until.astimezone(UTC).date()))
    return frame.where(
        (F.col("date").cast("string") >= days[0])
        & (F.col("date").cast("string") <= days[1])
        & (F.col("`@timestamp`") >= F.lit(since))
        & (F.col("`@timestamp`") < F.lit(until))
    )


def link_conditions(ids: Identifiers, present: set[str]) -> list[Column]:
    """The conditions of `links.read_links`, as Spark columns (any one links an event)."""
    from pyspark.sql import functions as F

    def core(name: str) -> Column:
        return F.col(f"`{name}`") if name in present else F.lit(None).cast("string")

    def field(name: str) -> Column:
        return F.try_element_at(F.col("fields"), F.lit(name))

    chosen: list[tuple[list[Column], set[str]]] = [
        ([core("host.name")], ids.hosts),
        ([core("user.name"), core("user.target.name")], ids.users),
        ([core("source.ip"), core("destination.ip")], ids.ips),
        ([F.concat(core("host.name"), F.lit("|"), core("winlog.logon.id"))], ids.logons),
        (
            [
                core("process.entity_id"),
                core("process.parent.entity_id"),
                field("SourceProcessGUID"),
            ],
            ids.processes,
        ),
        (
            [
                core("process.executable"),
                core("process.parent.executable"),
                field("ServiceFileName"),
                field("ImagePath"),
            ],
            ids.images,
        ),
        ([core("device.id")], ids.devices),
        ([F.upper(field("Workstation")), F.upper(field("WorkstationName"))], ids.workstations),
        ([core("event.id")], ids.event_ids),
    ]
    return [
        column.isin(sorted(values)) for columns, values in chosen if values for column in columns
    ]


def spark_links(
    spark: SparkSession, lake: Path | str, since: datetime, until: datetime, ids: Identifiers
) -> pa.Table:
    """Linking columns of events in [since, until) sharing any identifier (time-ordered), as
    `links.read_links` gives them, the lake scanned on Spark."""
    from functools import reduce

    from pyspark.sql import functions as F

    empty = pa.table({name: pa.array([], EVENT_SCHEMA.field(name).type) for name in LINK_COLUMNS})
    frame = lake_frame(spark, lake, since, until)
    conditions = link_conditions(ids, set(frame.columns))
    if not conditions:
        return empty
    present = set(frame.columns)
    names = [f"l{number}" for number in range(len(LINK_COLUMNS) + len(LINK_FIELDS))]
    selected = [
        (F.col(f"`{name}`") if name in present else F.lit(None)).alias(alias)
        for name, alias in zip(LINK_COLUMNS, names, strict=False)
    ] + [
        F.try_element_at(F.col("fields"), F.lit(field)).alias(alias)
        for (_, field), alias in zip(LINK_FIELDS, names[len(LINK_COLUMNS) :], strict=True)
    ]
    rows = (
        frame.where(reduce(lambda a, b: a | b, conditions))
        .select(selected)
        .orderBy("l0", "l1")
        .limit(MAX_LINKED_EVENTS)
        .toArrow()
    )
    table = rows.rename_columns([*LINK_COLUMNS, *(alias for alias, _ in LINK_FIELDS)])
    return table.cast(link_schema(table.schema)) if table.num_rows else empty


def link_schema(schema: pa.Schema) -> pa.Schema:
    """The linking columns typed as the event schema types them (source fields as strings)."""
    fields = [
        pa.field(f.name, EVENT_SCHEMA.field(f.name).type if f.name in LINK_COLUMNS else pa.string())
        for f in schema
    ]
    return pa.schema(fields)


def spark_link(
    spark: SparkSession, lake: Path | str, since: datetime, until: datetime, ids: Identifiers
) -> pa.Table:
    """Follow a host, user or IP seed's identifiers for a few rounds (as `timeline.link`)."""
    table = spark_links(spark, lake, since, until, ids)
    for _ in range(LINK_ROUNDS - 1):
        grown = gather(table, ids, follow_accounts=False, is_broad=False)
        if grown.size() == ids.size():
            break
        ids = grown
        table = spark_links(spark, lake, since, until, ids)
    return table


def spark_timeline(
    spark: SparkSession,
    data_dir: Path,
    control: Control,
    door: Door,
    actor: User,
    seed: Seed,
    since: datetime | str,
    until: datetime | str,
    *,
    lake: Path | str | None = None,
    purpose: str = "security-monitoring",
    case_id: str | None = None,
) -> Timeline:
    """The timeline of a host, user or IP in [since, until), the lake scanned on Spark."""
    door.authorise(actor, purpose, case_id)
    ids = seed_identifiers_of(seed)
    start, end = moment(since), moment(until)
    if end <= start:
        raise QueryError("--until must come after --since")
    links = spark_link(spark, lake or data_dir, start, end, ids)
    rows: list[dict[str, Any]] = [r for r in links.to_pylist() if usable(r.get("event.id"))]
    rows = rows[:MAX_ROWS]
    steps = group_steps(rows)
    event_ids = [row["event.id"] for row in rows]
    fired = fired_rules(control, event_ids)
    attach_rules(steps, fired)
    query = EventQuery(
        event_ids=tuple(event_ids), limit=len(event_ids), around=(start, end), kind="timeline"
    )
    result = door.read(actor, purpose, query, case_id)
    order = {event_id: number for number, event_id in enumerate(event_ids)}
    events = result.table
    if events.num_rows:
        positions = pa.array([order.get(v, 0) for v in events.column("event.id").to_pylist()])
        events = events.take(pc.sort_indices(positions))
    alerts = {alert["alert_id"]: alert for found in fired.values() for alert in found}
    return Timeline(
        seed, start, end, steps, events, result.entry_seq, sorted(alerts.values(), key=str)
    )
