"""Quarantine: records no parser could read, kept with their bytes and reason, replayable.

`<data_dir>/quarantine/<node>-<seq:012d>.parquet`, one file per WAL segment (same crash-safe,
deterministic naming as the lake).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from custodes.events import TIMESTAMP, ParseFailure, RawRecord
from custodes.store.lake import write_parquet

QUARANTINE_DIR = "quarantine"

QUARANTINE_SCHEMA = pa.schema(
    [
        pa.field("quarantined_at", TIMESTAMP),
        pa.field("event.id", pa.string()),
        pa.field("data", pa.binary()),
        pa.field("source", pa.string()),
        pa.field("origin", pa.string()),
        pa.field("position", pa.int64()),
        pa.field("format", pa.string()),
        pa.field("context", pa.string()),
        pa.field("received_at", TIMESTAMP),
        pa.field("parser", pa.string()),
        pa.field("reason", pa.string()),
    ]
)


def failures_batch(failures: Sequence[ParseFailure], quarantined_at: datetime) -> pa.RecordBatch:
    """Parse failures as one batch of the quarantine schema."""
    records = [failure.record for failure in failures]
    columns = [
        pa.array([quarantined_at] * len(failures), type=TIMESTAMP),
        pa.array([record.id for record in records], type=pa.string()),
        pa.array([record.data for record in records], type=pa.binary()),
        pa.array([record.source for record in records], type=pa.string()),
        pa.array([record.origin for record in records], type=pa.string()),
        pa.array([record.position for record in records], type=pa.int64()),
        pa.array([record.format for record in records], type=pa.string()),
        pa.array([record.context for record in records], type=pa.string()),
        pa.array([record.received_at for record in records], type=TIMESTAMP),
        pa.array([failure.parser for failure in failures], type=pa.string()),
        pa.array([failure.reason for failure in failures], type=pa.string()),
    ]
    return pa.RecordBatch.from_arrays(columns, schema=QUARANTINE_SCHEMA)


def quarantine_files(data_dir: Path) -> list[Path]:
    """Every quarantine file, oldest first."""
    directory = data_dir / QUARANTINE_DIR
    if not directory.is_dir():
        return []
    return sorted(directory.glob("*.parquet"))


def write_failures(data_dir: Path, table: pa.Table, *, node: str, seq: int) -> str | None:
    """Write one segment's failures; returns the file's path relative to data_dir, if any."""
    if table.num_rows == 0:
        return None
    relative = f"{QUARANTINE_DIR}/{node}-{seq:012d}.parquet"
    path = data_dir / relative
    if not path.exists():
        write_parquet(path, table)
    return relative


def read_quarantine(data_dir: Path, files: Sequence[Path] | None = None) -> pa.Table:
    """Quarantined records (all files, or the given ones), oldest first."""
    paths = quarantine_files(data_dir) if files is None else list(files)
    tables = [pq.read_table(path, schema=QUARANTINE_SCHEMA) for path in paths]
    if not tables:
        return QUARANTINE_SCHEMA.empty_table()
    return pa.concat_tables(tables)


def quarantine_records(table: pa.Table) -> list[RawRecord]:
    """Quarantined rows as raw records again, to be re-run through the parsers."""
    return [
        RawRecord(
            data=row["data"],
            source=row["source"] or "",
            origin=row["origin"] or "",
            position=row["position"] or 0,
            format=row["format"],
            received_at=row["received_at"],
            context=row["context"],
        )
        for row in table.to_pylist()
    ]
