"""New lake files' digests, leaves and ids, and the frontier they extend."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import pyarrow as pa

from custodes.errors import LedgerError
from custodes.ledger.encoding import CHUNK_ROWS, id_bytes, leaf_hashes
from custodes.ledger.merkle import Frontier


@dataclass(frozen=True, slots=True)
class FileDigest:
    """A lake file's SHA-256 (hex), size in bytes and number of events."""

    sha256: str
    size: int
    rows: int


@dataclass(frozen=True, slots=True)
class Hashed:
    """What recording a batch of lake files adds: per-file digests, leaves, ids, new frontier."""

    digests: list[FileDigest]
    leaves: bytes
    ids: bytes
    frontier: Frontier


def joined_small_tables(tables: Sequence[pa.Table]) -> list[pa.Table]:
    """The tables in order, consecutive small ones of one schema joined into one chunk.

    So the many small files of a segment are encoded and hashed in one pass, not one pass each
    (large tables are left as they are: copying them would cost more than it saves).
    """
    runs: list[list[pa.Table]] = []
    for table in tables:
        run = runs[-1] if runs else None
        if (
            run is not None
            and run[0].schema == table.schema
            and sum(part.num_rows for part in run) + table.num_rows <= CHUNK_ROWS
        ):
            run.append(table)
        else:
            runs.append([table])
    return [run[0] if len(run) == 1 else pa.concat_tables(run).combine_chunks() for run in runs]


def _read(path: Path, relative_path: str) -> bytes:
    try:
        return path.read_bytes()
    except OSError as error:
        raise LedgerError(f"cannot read {relative_path} to record it: {error}") from error


def file_digests(data_dir: Path, files: Sequence[tuple[str, pa.Table]]) -> list[FileDigest]:
    """The digest of each durable lake file (SHA-256 of large buffers runs without the GIL)."""
    digests = []
    for relative_path, table in files:
        content = _read(data_dir / relative_path, relative_path)
        digests.append(
            FileDigest(hashlib.sha256(content).hexdigest(), len(content), table.num_rows)
        )
    return digests


def hash_tables(
    data_dir: Path, files: Sequence[tuple[str, pa.Table]], frontier: Frontier
) -> Hashed:
    """Leaves and ids from the tables given (encoded in C), digests from the files' bytes."""
    digests = file_digests(data_dir, files)
    tables = joined_small_tables([table for _, table in files])
    leaves = b"".join([leaf_hashes(part) for part in tables])
    grown = frontier.copy()
    grown.extend(leaves)
    return Hashed(digests, leaves, b"".join([id_bytes(part) for part in tables]), grown)
