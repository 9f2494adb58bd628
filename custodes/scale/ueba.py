"""UEBA features on Spark: the very DuckDB SQL of `custodes.ueba.features`, run per partition.

`features.py` works in two steps: `load_base` turns each event into one narrow row (entity,
day, hour, flags), then each feature family is one SQL query over that `base` table. On Spark:

1. every Arrow batch of the lake goes through `load_base` in an in-process DuckDB on the
   executor (a row's base row depends on that row alone);
2. the base rows are repartitioned by entity, and each partition runs the per-entity
   families (counts, web categories, first-seen things, off-hours) with the same SQL text;
   the partitions by day run the family that compares entities of one day (failed logons
   from another account's address). The first-seen family leaves out the lake's first day,
   so every partition also holds one row giving that day (no entity: it adds no feature).

The (entity, day, feature, value) rows come back to the driver, small, and become the same
`FeatureTable` as `compute_features` builds.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Any

import duckdb
import pyarrow as pa

from custodes.events import EVENT_SCHEMA
from custodes.scale.lake import LAKE_GLOB, as_event_batch, column_alias, lake_location
from custodes.ueba.features import SPRAY_SQL, feature_queries, load_base
from custodes.ueba.table import FeatureTable, peer_groups

if TYPE_CHECKING:
    from pyspark.sql import DataFrame, SparkSession

#: The event columns `BASE_SQL` reads (besides the partition columns dataset and date).
BASE_COLUMNS = (
    "@timestamp",
    "event.code",
    "event.action",
    "event.outcome",
    "host.name",
    "user.name",
    "source.ip",
    "network.bytes",
    "destination.domain",
    "process.name",
    "url.original",
    "message",
    "fields",
)
PARTITIONS = ("dataset", "date")
LONG_SCHEMA = pa.schema(
    [
        ("entity", pa.string()),
        ("day", pa.date32()),
        ("feature", pa.string()),
        ("value", pa.float64()),
    ]
)
LONG_DDL = "entity string, day date, feature string, value double"


def duckdb_session() -> duckdb.DuckDBPyConnection:
    """An in-memory DuckDB set as `custodes.store.connect` sets it (UTC)."""
    connection = duckdb.connect()
    connection.execute("SET TimeZone = 'UTC'")
    connection.execute("SET enable_progress_bar = false")
    return connection


def events_table(raw: pa.RecordBatch) -> pa.Table:
    """A Spark batch as the `events` view shows it: event columns, dataset and date."""
    aliased = [name for name in raw.schema.names if name not in PARTITIONS]
    events = as_event_batch(raw.select(aliased))
    table = pa.Table.from_batches([events])
    table = table.append_column("dataset", raw.column("dataset").cast(pa.string()))
    return table.append_column("date", raw.column("date").cast(pa.date32()))


def base_rows(table: pa.Table, since: date, until: date) -> pa.Table:
    """`load_base` over some events: their narrow base rows."""
    connection = duckdb_session()
    try:
        connection.register("events", table)
        load_base(connection, since, until)
        return connection.sql("SELECT * FROM base").to_arrow_table()
    finally:
        connection.close()


def base_schema() -> pa.Schema:
    """The schema `load_base` gives (from an empty batch of the columns it reads)."""
    empty = pa.Table.from_batches([], EVENT_SCHEMA_PART)
    empty = empty.append_column("dataset", pa.array([], pa.string()))
    empty = empty.append_column("date", pa.array([], pa.date32()))
    schema = base_rows(empty, date(1970, 1, 1), date(9999, 12, 31)).schema
    return pa.schema([field.with_type(plain(field.type)) for field in schema])


def plain(kind: pa.DataType) -> pa.DataType:
    """String views (newer DuckDB output) as plain strings, which Spark reads."""
    return pa.string() if kind in (pa.string_view(), pa.large_string()) else kind


EVENT_SCHEMA_PART = pa.schema([EVENT_SCHEMA.field(name) for name in BASE_COLUMNS])


def to_base(since: date, until: date, schema: pa.Schema) -> Any:
    """The first `mapInArrow` function: lake batches in, base rows out."""

    def convert(batches: Iterator[pa.RecordBatch]) -> Iterator[pa.RecordBatch]:
        for raw in batches:
            base = base_rows(events_table(raw), since, until)
            if base.num_rows:
                yield from base.cast(schema).to_batches()

    return convert


def run_features(queries: list[str], first_day: date | None) -> Any:
    """The second `mapInArrow` function: a partition's base rows in, long features out."""

    def compute(batches: Iterator[pa.RecordBatch]) -> Iterator[pa.RecordBatch]:
        tables = [pa.Table.from_batches([b]) for b in batches if b.num_rows]
        if not tables:
            return
        connection = duckdb_session()
        try:
            connection.register("rows", pa.concat_tables(tables))
            connection.execute("CREATE TEMP TABLE base AS SELECT * FROM rows")
            connection.execute("INSERT INTO base (day) VALUES ($day)", {"day": first_day})
            union = " UNION ALL ".join(f"({query})" for query in queries)
            long = connection.sql(
                f"SELECT * FROM ({union}) AS t(entity, day, feature, value)"
                " WHERE value <> 0 AND entity IS NOT NULL"
            ).to_arrow_table()
        finally:
            connection.close()
        if long.num_rows:
            yield from long.rename_columns(LONG_SCHEMA.names).cast(LONG_SCHEMA).to_batches()

    return compute


def base_frame(
    spark: SparkSession, lake: Path | str, since: date, until: date
) -> tuple[DataFrame, pa.Schema]:
    """The lake's base rows (as `load_base` makes them) in [since, until], and their schema."""
    from pyspark.sql import functions as F
    from pyspark.sql.pandas.types import from_arrow_schema

    location = lake_location(lake)
    frame = spark.read.option("basePath", location).parquet(f"{location}/{LAKE_GLOB}")
    frame = frame.where(
        (F.col("date").cast("string") >= str(since)) & (F.col("date").cast("string") <= str(until))
    )
    present = set(frame.columns)
    selected = [
        (F.col(f"`{name}`") if name in present else F.lit(None)).alias(column_alias(name))
        for name in BASE_COLUMNS
    ]
    events = frame.select(*selected, F.col("dataset"), F.col("date"))
    schema = base_schema()
    return events.mapInArrow(to_base(since, until, schema), from_arrow_schema(schema)), schema


def spark_features(
    spark: SparkSession,
    data_dir: Path,
    *,
    lake: Path | str | None = None,
    since: date = date(1970, 1, 1),
    until: date = date(9999, 12, 31),
) -> FeatureTable:
    """Every feature of every entity and day in [since, until], computed on Spark with the SQL
    of `compute_features` (the same table it gives)."""
    from pyspark.sql import functions as F

    base, _ = base_frame(spark, lake or data_dir, since, until)
    base = base.cache()
    try:
        first = base.agg(F.min("day")).first()
        first_day = None if first is None else first[0]
        per_entity = [query for query in feature_queries() if query != SPRAY_SQL]
        by_entity = base.repartition("entity").mapInArrow(
            run_features(per_entity, first_day), LONG_DDL
        )
        by_day = base.repartition("day").mapInArrow(run_features([SPRAY_SQL], first_day), LONG_DDL)
        long = by_entity.unionAll(by_day).toArrow()
    finally:
        base.unpersist()
    long = long.rename_columns(LONG_SCHEMA.names).cast(LONG_SCHEMA)
    return FeatureTable.from_long(long, peer_groups(data_dir))
