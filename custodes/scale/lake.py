"""The lake as a Spark DataFrame: the same Parquet files the embedded readers use."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

import pyarrow as pa

from custodes.errors import QueryError
from custodes.events import EVENT_SCHEMA
from custodes.store import parse_time

if TYPE_CHECKING:
    from pyspark.sql import DataFrame, SparkSession

LAKE_GLOB = "dataset=*/date=*/*.parquet"


def lake_location(lake: Path | str) -> str:
    """A lake given as a data directory (`<dir>/lake`) or any URL Spark reads (`s3a://b/lake`)."""
    text = str(lake)
    if "://" in text:
        return text.rstrip("/")
    path = Path(text)
    return str((path / "lake" if (path / "lake").is_dir() else path).resolve())


def read_lake(
    spark: SparkSession,
    lake: Path | str,
    *,
    columns: Sequence[str] | None = None,
    since: datetime | str | None = None,
    until: datetime | str | None = None,
) -> DataFrame:
    """The lake's events (only `columns`, in schema order) in [since, until).

    Columns are named `c<position in the event schema>` (Spark's Arrow functions cannot take
    dotted names); `event_name` and `as_event_batch` turn them back.
    """
    from pyspark.sql import functions as F

    location = lake_location(lake)
    if "://" not in location and not any(Path(location).glob(LAKE_GLOB)):
        raise QueryError(f"no events in the lake at {location}")
    frame = spark.read.option("basePath", location).parquet(f"{location}/{LAKE_GLOB}")
    if since is not None:
        frame = frame.where(F.col("`@timestamp`") >= F.lit(moment(since)))
    if until is not None:
        frame = frame.where(F.col("`@timestamp`") < F.lit(moment(until)))
    wanted = event_columns(columns)
    present = set(frame.columns)
    return frame.select(
        [F.col(f"`{name}`").alias(column_alias(name)) for name in wanted if name in present]
    )


def event_columns(columns: Sequence[str] | None) -> list[str]:
    """The event-schema columns asked for, in schema order (every column for None)."""
    return [name for name in EVENT_SCHEMA.names if columns is None or name in columns]


def moment(value: datetime | str) -> datetime:
    """A time bound as the store reads it (ISO text or a span back from now)."""
    return value if isinstance(value, datetime) else parse_time(value)


def column_alias(name: str) -> str:
    """The Spark-safe name of an event column: `c` and its position in the event schema."""
    return f"c{EVENT_SCHEMA.get_field_index(name)}"


def event_name(alias: str) -> str:
    """The event column behind a `column_alias`."""
    return str(EVENT_SCHEMA.names[int(alias[1:])])


def as_event_batch(batch: pa.RecordBatch) -> pa.RecordBatch:
    """A batch from Spark (aliased names, large strings) cast back to the event schema."""
    target = pa.schema([EVENT_SCHEMA.field(event_name(alias)) for alias in batch.schema.names])
    arrays = [
        column.cast(field.type) if column.type != field.type else column
        for column, field in zip(batch.columns, target, strict=True)
    ]
    return pa.RecordBatch.from_arrays(
        arrays, schema=pa.schema([f.with_nullable(True) for f in target])
    )
