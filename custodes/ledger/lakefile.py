"""One lake file as verification finds it: present or not, its digest, its events' leaves.

`examine` is what `verify` runs for each file, several files at a time in threads: reading,
Parquet decoding, the encoding and SHA-256 of large buffers release the GIL, so a second core
helps. Rows are decoded and hashed a batch at a time, so memory stays small for any file size.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from custodes.ledger.encoding import CHUNK_ROWS, leaf_hashes


@dataclass(frozen=True, slots=True)
class FileFound:
    """What is on disk for one recorded file."""

    exists: bool
    is_same: bool = False  # its bytes hash to what was recorded
    is_decoded: bool = False
    rows: int = 0
    leaves: bytes = b""
    error: str | None = None  # why it could not be decoded
    content: bytes = b""  # kept to name the events when leaves differ


def examine(path: Path, recorded_sha256: str, *, may_skip: bool) -> FileFound:
    """Read a lake file; decode and hash its events (unless `may_skip` and its bytes are same)."""
    try:
        content = path.read_bytes()
    except FileNotFoundError:
        return FileFound(exists=False)
    is_same = hashlib.sha256(content).hexdigest() == recorded_sha256
    if may_skip and is_same:
        return FileFound(exists=True, is_same=True)
    try:
        reader = pq.ParquetFile(pa.BufferReader(content))
        blobs, rows = [], 0
        for batch in reader.iter_batches(batch_size=CHUNK_ROWS):
            blobs.append(leaf_hashes(batch))
            rows += batch.num_rows
    except Exception as error:  # a damaged file may fail anywhere in the reader: all alike
        return FileFound(exists=True, is_same=is_same, error=str(error) or type(error).__name__)
    leaves = b"".join(blobs)
    return FileFound(True, is_same, True, rows, leaves, content=content)


def event_ids(found: FileFound) -> list[str | None]:
    """The `event.id` of every row of a decoded file (None where it has none)."""
    table = pq.read_table(pa.BufferReader(found.content))
    if "event.id" not in table.column_names:
        return [None] * table.num_rows
    values: list[str | None] = table.column("event.id").to_pylist()
    return values
