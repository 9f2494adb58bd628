"""The lake: immutable Parquet files per dataset and day, sorted by time, written crash-safely.

`<data_dir>/lake/dataset=<name>/date=YYYY-MM-DD/<node>-<seq:012d>.parquet`: one file per WAL
segment and partition. The name is deterministic, so replaying a segment after a crash finds the
files it already wrote and never writes a second copy.
"""

from __future__ import annotations

import os
import re
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Protocol

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from custodes.ingest.wal import fsync_directory

LAKE_DIR = "lake"
UNKNOWN_DATASET = "unknown"
ROW_GROUP_ROWS = 128 * 1024
WRITER_THREADS = 8
#: Columns whose values are (nearly) unique per event: dictionary encoding only costs there.
#: Below this many rows a file is written without dictionaries: they save nothing there, and
#: setting them up per column costs a third of the time of writing a small file.
DICTIONARY_MIN_ROWS = 1024
UNIQUE_COLUMNS = frozenset({"event.id", "event.original", "message", "data"})
UNSAFE_NAME = re.compile(r"[^A-Za-z0-9._-]")


class EventLedger(Protocol):
    """Told of every lake file once it is durable (the evidence ledger implements this)."""

    def record(self, relative_path: str, table: pa.Table) -> None:
        """Add the file's events, in file order; calling it again for the same path is a no-op."""
        ...

    def close(self) -> None:
        """Release files and keys."""
        ...


def partition_name(dataset: str) -> str:
    """A dataset name safe as a directory name (`windows.security` stays as it is)."""
    return UNSAFE_NAME.sub("_", dataset) or UNKNOWN_DATASET


def partitions(table: pa.Table) -> list[tuple[str, str, pa.Table]]:
    """Split events into (dataset, YYYY-MM-DD, rows sorted by @timestamp) parts."""
    if table.num_rows == 0:
        return []
    datasets = pc.fill_null(table["event.dataset"], UNKNOWN_DATASET)
    days = pc.cast(table["@timestamp"], pa.date32())
    keyed = table.append_column("__dataset", datasets).append_column("__day", days)
    order = pc.sort_indices(keyed, [("__dataset", "ascending"), ("@timestamp", "ascending")])
    positions = order.to_numpy()
    in_order = np.array_equal(positions, np.arange(len(order)))
    ordered = keyed if in_order else keyed.take(order)  # logs mostly arrive in time order
    dataset_codes = pc.dictionary_encode(ordered["__dataset"]).combine_chunks().indices.to_numpy()
    day_numbers = ordered["__day"].combine_chunks().cast(pa.int32()).to_numpy()
    changes = np.flatnonzero(
        (dataset_codes[1:] != dataset_codes[:-1]) | (day_numbers[1:] != day_numbers[:-1])
    )
    starts = [0, *(changes + 1).tolist()]
    ends = [*starts[1:], ordered.num_rows]
    clean = ordered.drop_columns(["__dataset", "__day"])
    parts = []
    for start, end in zip(starts, ends, strict=True):
        dataset = ordered["__dataset"][start].as_py()
        day = ordered["__day"][start].as_py()
        parts.append((dataset, day.isoformat(), clean.slice(start, end - start)))
    return parts


def dictionary_columns(schema: pa.Schema) -> list[str]:
    """Columns worth dictionary-encoding: all but the ones unique (or nearly) per event."""
    names = []
    for field in schema:
        if field.name in UNIQUE_COLUMNS:
            continue
        if pa.types.is_map(field.type):
            names += [f"{field.name}.key_value.key", f"{field.name}.key_value.value"]
        else:
            names.append(field.name)
    return names


def write_parquet(path: Path, table: pa.Table) -> None:
    """Write a Parquet file durably under its final name (temp name, fsync, rename, fsync dir)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(f".{path.name}.tmp")
    pq.write_table(
        table,
        temporary,
        compression="zstd",
        row_group_size=ROW_GROUP_ROWS,
        write_page_index=True,
        use_dictionary=(
            dictionary_columns(table.schema) if table.num_rows >= DICTIONARY_MIN_ROWS else False
        ),
    )
    descriptor = os.open(temporary, os.O_RDONLY)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)
    os.replace(temporary, path)
    fsync_directory(path.parent)


def lake_files(table: pa.Table, *, node: str, seq: int) -> list[tuple[str, pa.Table]]:
    """One segment's events as (path relative to data_dir, rows) per dataset and day."""
    return [
        (f"{LAKE_DIR}/dataset={partition_name(dataset)}/date={day}/{node}-{seq:012d}.parquet", part)
        for dataset, day, part in partitions(table)
    ]


def write_lake_files(data_dir: Path, files: list[tuple[str, pa.Table]]) -> None:
    """Write the files that do not exist yet (a replay after a crash finds some written).

    They are written in parallel threads: Parquet encoding and fsync release the GIL, and a
    segment spanning many days would otherwise wait on one fsync after another.
    """
    missing = [(data_dir / relative, part) for relative, part in files]
    missing = [(path, part) for path, part in missing if not path.exists()]
    if len(missing) > 1:
        with ThreadPoolExecutor(max_workers=min(WRITER_THREADS, len(missing))) as pool:
            list(pool.map(lambda item: write_parquet(*item), missing))
    elif missing:
        write_parquet(*missing[0])


def write_events(
    data_dir: Path,
    table: pa.Table,
    *,
    node: str,
    seq: int,
    ledger: EventLedger | None = None,
) -> list[str]:
    """Write one segment's events into the lake; returns the files' paths relative to data_dir.

    The ledger hears of each file once it is durable, also of files a replay found already
    written (it ignores paths it knows).
    """
    files = lake_files(table, node=node, seq=seq)
    write_lake_files(data_dir, files)
    if ledger is not None:
        record_files(ledger, files)
    return [relative for relative, _ in files]


def record_files(ledger: EventLedger, files: list[tuple[str, pa.Table]]) -> None:
    """Tell the ledger of durable files: in one call when it has `record_many`, else each."""
    record_many = getattr(ledger, "record_many", None)
    if record_many is not None:
        record_many(files)
        return
    for relative, part in files:
        ledger.record(relative, part)
