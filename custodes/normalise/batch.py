"""Gather parsed rows into one Arrow record batch of the event schema."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

import pyarrow as pa

from custodes.events import CORE_COLUMNS, EVENT_SCHEMA, FIELDS_COLUMN, RawRecord

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def decode_original(data: bytes) -> str:
    """The record as text; bytes that are not UTF-8 are kept visible as escapes."""
    try:
        return data.decode()
    except UnicodeDecodeError:
        return data.decode(errors="backslashreplace")


def build_batch(rows: Sequence[dict[str, Any]], records: Sequence[RawRecord]) -> pa.RecordBatch:
    """One batch from parsed rows and the records they came from (same order, same length).

    Every row gets its deterministic `event.id` and its `event.original`; a row without a
    timestamp takes the time the record was received (or the epoch, never "now": normalising
    is pure).
    """
    count = len(rows)
    columns: dict[str, list[Any]] = {name: [None] * count for name, _ in CORE_COLUMNS}
    keys: list[str] = []
    values: list[str] = []
    offsets = [0] * (count + 1)
    for index, row in enumerate(rows):
        for name, value in row.items():
            if name == FIELDS_COLUMN:
                keys.extend(value.keys())
                values.extend(value.values())
            else:
                columns[name][index] = value
        offsets[index + 1] = len(keys)
    stamps = columns["@timestamp"]
    for index, stamp in enumerate(stamps):
        if stamp is None:
            stamps[index] = records[index].received_at or EPOCH
    columns["event.id"] = [record.id for record in records]
    originals = columns["event.original"]
    for index, record in enumerate(records):
        if originals[index] is None:
            originals[index] = decode_original(record.data)
    arrays = [pa.array(columns[name], type=kind) for name, kind in CORE_COLUMNS]
    arrays.append(
        pa.MapArray.from_arrays(
            pa.array(offsets, type=pa.int32()),
            pa.array(keys, type=pa.string()),
            pa.array(values, type=pa.string()),
        )
    )
    return pa.RecordBatch.from_arrays(arrays, schema=EVENT_SCHEMA)


def empty_batch() -> pa.RecordBatch:
    """A batch with the event schema and no rows."""
    return pa.RecordBatch.from_pylist([], schema=EVENT_SCHEMA)
