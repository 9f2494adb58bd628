"""The canonical encoding of a stored event, and its leaf hash, computed column by column.

encoding = for every non-null column, in order of the column names' UTF-8 bytes:
           <len(name)>:<name> <tag> <len(value)>:<value>
tags:      s  string (its UTF-8 bytes)
           i  integer (decimal, '-' for negatives)
           t  timestamp (decimal microseconds since 1970-01-01 UTC)
           m  map: for each entry in stored order <len(key)>:<key> then s<len>:<value> or n (null)
leaf hash = SHA-256(0x00 || encoding)

Lengths are decimal byte counts, no spaces anywhere. A null column and an absent one encode the
same, so adding a column to the schema leaves old leaves valid. docs/ledger.md shows a worked
example; `verify_package` re-implements this from JSON with the standard library only. Here
each column becomes text with pyarrow and `custodes.ledger.native` writes (or hashes) the
netstrings in C.
"""

from __future__ import annotations

import re

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from custodes.errors import LedgerError
from custodes.ledger.native import NETSTRING, NETSTRING_OR_N, Piece, encode_rows, hash_rows

#: Rows encoded per step (keeps every intermediate string array far below 2 GiB).
CHUNK_ROWS = 32 * 1024
ID_BYTES = 16
LEAF_MARKER = b"\x00"  # RFC 9162: a leaf's hash input starts with 0x00
HEX_ID = re.compile(r"[0-9a-f]{32}")
_ZERO_ID = bytes(ID_BYTES)


def column_type(kind: pa.DataType) -> str:
    """The name of a column's type in the encoding: string, integer, timestamp or map."""
    if pa.types.is_string(kind) or pa.types.is_large_string(kind):
        return "string"
    if pa.types.is_integer(kind):
        return "integer"
    if pa.types.is_timestamp(kind):
        return "timestamp"
    if (
        pa.types.is_map(kind)
        and _is_text(kind.key_type)
        and (_is_text(kind.item_type) or pa.types.is_null(kind.item_type))
    ):
        return "map"
    raise LedgerError(f"the ledger cannot encode a column of type {kind}")


def _is_text(kind: pa.DataType) -> bool:
    return bool(pa.types.is_string(kind) or pa.types.is_large_string(kind))


def _netstring(name: str) -> bytes:
    encoded = name.encode()
    return b"%d:%s" % (len(encoded), encoded)


def _as_text(column: pa.Array) -> tuple[str, pa.Array]:
    """The tag and the textual rendering of one column's values (nulls stay null)."""
    kind = column_type(column.type)
    if kind == "string":
        return "s", pc.cast(column, pa.string())
    if kind == "integer":
        return "i", pc.cast(column, pa.string())
    if kind == "timestamp":
        micros = pc.cast(column, pa.timestamp("us", tz=column.type.tz))  # safe: raises on loss
        return "t", pc.cast(pc.cast(micros, pa.int64()), pa.string())
    offsets = column.offsets  # absolute into the children, which a slice does not cut
    first, last = offsets[0].as_py(), offsets[-1].as_py()
    keys = pc.cast(column.keys.slice(first, last - first), pa.string())
    items = pc.cast(column.items.slice(first, last - first), pa.string())
    entries = encode_rows([Piece(keys, NETSTRING), Piece(items, NETSTRING_OR_N, b"s")], len(keys))
    # A row's entries lie one after another, so its text is the range of their bytes.
    entry_bounds = np.frombuffer(entries.buffers()[1], np.int32)
    row_entries = np.frombuffer(offsets.buffers()[1], np.int32)[offsets.offset :][: len(offsets)]
    row_bounds = entry_bounds[row_entries - first]
    joined = pa.StringArray.from_buffers(
        len(column), pa.py_buffer(row_bounds), entries.buffers()[2] or pa.py_buffer(b"")
    )
    if column.null_count:
        joined = pc.if_else(column.is_null(), pa.scalar(None, pa.string()), joined)
    return "m", joined


def _pieces(table: pa.RecordBatch) -> list[Piece]:
    """The pieces of each row's encoding after the marker: one netstring per column."""
    pieces = []
    for name in sorted(table.schema.names):
        column = table.column(name)
        if column.null_count == len(column):
            column_type(column.type)  # still refuse a type we cannot encode
            continue
        tag, text = _as_text(column)
        pieces.append(Piece(text, NETSTRING, _netstring(name) + tag.encode()))  # null: absent
    return pieces


def encode_events(table: pa.RecordBatch) -> pa.Array:
    """The canonical encodings of every row, each prefixed with the leaf marker byte 0x00."""
    return encode_rows(_pieces(table), table.num_rows, LEAF_MARKER)


def leaf_hashes(table: pa.Table | pa.RecordBatch) -> bytes:
    """The leaf hash of every row, in row order, as one blob of 32-byte hashes.

    SHA-256 of each row of `encode_events`, without keeping the encodings.
    """
    batches = [table] if isinstance(table, pa.RecordBatch) else table.to_batches()
    blobs = []
    for batch in batches:
        for start in range(0, batch.num_rows, CHUNK_ROWS):
            chunk = batch.slice(start, CHUNK_ROWS)
            blobs.append(hash_rows(_pieces(chunk), chunk.num_rows, LEAF_MARKER))
    return b"".join(blobs)


def id_bytes(table: pa.Table | pa.RecordBatch) -> bytes:
    """Each row's `event.id` as 16 bytes (zeros when missing or not 32 lowercase hex digits)."""
    rows = int(table.num_rows)
    if "event.id" not in table.schema.names:
        return _ZERO_ID * rows
    column = table.column("event.id")
    if isinstance(column, pa.ChunkedArray):
        column = column.combine_chunks()
    column = pc.cast(column, pa.string())
    if rows and not column.null_count:
        lengths = pc.binary_length(column)
        if pc.all(pc.equal(lengths, 32)).as_py():
            start = int(np.frombuffer(column.buffers()[1], dtype=np.int32)[column.offset])
            text = column.buffers()[2].to_pybytes()[start : start + rows * 32]
            try:
                if text == text.lower():
                    return bytes(bytes.fromhex(text.decode("ascii")))
            except ValueError:
                pass  # not all hex: fall back to row by row
    return b"".join(
        bytes.fromhex(value) if value is not None and HEX_ID.fullmatch(value) else _ZERO_ID
        for value in column.to_pylist()
    )


def id_text(raw: bytes) -> str | None:
    """An event id from its 16 stored bytes (None when it was not recorded)."""
    return None if raw == _ZERO_ID else raw.hex()
