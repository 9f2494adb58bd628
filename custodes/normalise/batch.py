"""Gather parsed rows into one Arrow record batch of the event schema."""

from __future__ import annotations

import hashlib
import struct
from collections.abc import Sequence
from datetime import UTC, datetime
from itertools import accumulate, chain
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from custodes.errors import ParseError
from custodes.events import (
    CORE_COLUMNS,
    EVENT_SCHEMA,
    FIELDS_COLUMN,
    TIMESTAMP,
    RawBatch,
    RawRecord,
)
from custodes.normalise.fields import timestamp_array

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
MAX_STRING_BYTES = 2**31 - 1
#: Columns build_batch fills itself (or completes) rather than copying from the rows.
OWN_COLUMNS = frozenset({"@timestamp", "event.id", "event.original"})
#: A position as `event_id` hashes it: 8 bytes, little-endian, signed.
POSITION = struct.Struct("<q")


def decode_original(data: bytes) -> str:
    """The record as text; bytes that are not UTF-8 are kept visible as escapes."""
    try:
        return data.decode()
    except UnicodeDecodeError:
        return data.decode(errors="backslashreplace")


def build_batch(
    rows: Sequence[dict[str, Any]],
    records: Sequence[RawRecord],
    *,
    timestamps: pa.Array | None = None,
) -> pa.RecordBatch:
    """One batch from parsed rows and the records they came from (same order, same length).

    `@timestamp` may be a datetime or an ISO 8601 string (converted for the whole column at
    once; `timestamps` passes a column already converted). Every row gets its deterministic
    `event.id` and its `event.original`; a row without a timestamp takes the time the record was
    received (or the epoch, never "now": normalising is pure).
    """
    if timestamps is None:
        timestamps, bad = timestamp_array([row.get("@timestamp") for row in rows])
        if bad:
            raise ParseError(f"unreadable time {rows[bad[0]]['@timestamp']!r}")
    present: set[str] = set().union(*rows) if rows else set()
    columns = {
        name: pa.array([row.get(name) for row in rows], type=kind)
        for name, kind in CORE_COLUMNS
        if name in present and name not in ("@timestamp", "event.id")
    }
    maps: list[dict[str, str]] = [row.get(FIELDS_COLUMN) or {} for row in rows]
    fields = pa.MapArray.from_arrays(
        pa.array(list(accumulate(map(len, maps), initial=0)), type=pa.int32()),
        pa.array(list(chain.from_iterable(maps)), type=pa.string()),
        pa.array(list(chain.from_iterable(values.values() for values in maps)), pa.string()),
    )
    return assemble(columns, fields, records, timestamps)


def assemble(
    columns: dict[str, pa.Array],
    fields: pa.MapArray,
    records: Sequence[RawRecord],
    timestamps: pa.Array,
) -> pa.RecordBatch:
    """A batch from typed core columns (absent ones are null), the fields map and the times.

    Adds what belongs to the record rather than its parser: `event.id`, `event.original` where
    the parser gave none, and the receive time (or the epoch) for rows without a time.
    """
    raw = RawBatch.of(records)
    count = len(raw)
    arrays: list[pa.Array] = []
    for name, kind in CORE_COLUMNS:
        if name == "@timestamp":
            arrays.append(with_fallback_times(timestamps, raw))
        elif name == "event.id":
            arrays.append(event_ids(raw))
        elif name == "event.original":
            arrays.append(original_column(columns.get(name), raw.datas))
        else:
            arrays.append(columns.get(name, pa.nulls(count, type=kind)))
    arrays.append(fields)
    return pa.RecordBatch.from_arrays(arrays, schema=EVENT_SCHEMA)


def event_ids(records: Sequence[RawRecord]) -> pa.Array:
    """Every record's `event.id` (as `custodes.events.event_id` gives it), as one string array.

    The origin is hashed once (each record continues a copy of that hash), position and bytes
    go in with one update, and the digests are turned into hex at once and the array built
    from that buffer: no Python string per record.
    """
    raw = RawBatch.of(records)
    started: dict[str, Any] = {}  # per origin, a hash that has taken the origin already
    digests: list[bytes] = []
    append = digests.append
    pack = POSITION.pack
    for start, end, provenance in raw.runs():
        prefix = started.get(provenance.origin)
        if prefix is None:
            prefix = started[provenance.origin] = hashlib.blake2b(
                provenance.origin.encode(), digest_size=16
            )
        copy = prefix.copy
        for position, data in zip(raw.positions[start:end], raw.datas[start:end], strict=True):
            digest = copy()
            digest.update(pack(position) + data)
            append(digest.digest())
    text = b"".join(digests).hex().encode()
    offsets = np.arange(0, len(text) + 1, 32, dtype=np.int32)
    return pa.StringArray.from_buffers(len(digests), pa.py_buffer(offsets), pa.py_buffer(text))


def with_fallback_times(timestamps: pa.Array, records: Sequence[RawRecord]) -> pa.Array:
    """`@timestamp` for every row: its own time, else the time it was received, else the epoch."""
    if timestamps.null_count == 0:
        return timestamps
    raw = RawBatch.of(records)
    received = pa.array(
        [provenance.received_at or EPOCH for provenance in raw.provenances], type=TIMESTAMP
    )
    lengths = [end - start for start, end, _ in raw.runs()]
    fallback = received.take(pa.array(np.repeat(np.arange(len(lengths)), lengths)))
    return pc.coalesce(timestamps, fallback)


def original_column(given: pa.Array | None, datas: Sequence[bytes]) -> pa.Array:
    """`event.original`: what the parser gave, else the record's bytes as text."""
    offsets = np.zeros(len(datas) + 1, dtype=np.int64)
    np.cumsum(np.fromiter(map(len, datas), dtype=np.int64, count=len(datas)), out=offsets[1:])
    try:
        if offsets[-1] >= MAX_STRING_BYTES:
            raise pa.ArrowInvalid("too large for one string array")
        decoded = pa.StringArray.from_buffers(
            len(datas),
            pa.py_buffer(offsets.astype(np.int32)),
            pa.py_buffer(b"".join(datas)),
        )
        decoded.validate(full=True)  # raises on bytes that are not UTF-8
    except pa.ArrowInvalid:  # escape the bad bytes record by record
        decoded = pa.array([decode_original(data) for data in datas], type=pa.string())
    return decoded if given is None else pc.coalesce(given, decoded)


def empty_batch() -> pa.RecordBatch:
    """A batch with the event schema and no rows."""
    return pa.RecordBatch.from_pylist([], schema=EVENT_SCHEMA)
