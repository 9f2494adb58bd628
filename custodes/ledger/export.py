"""`custodes export-evidence`: chosen events, their audit paths, the signed head and its key.

A package is a zip with two members, both in canonical JSON (`verify_package.canonical_json`):

    manifest.json  {"format", "columns": {name: type}, "tree_head": {...}, "public_key",
                    "events": [{"event_id", "leaf_index", "audit_path": [hex, ...]}, ...]}
    events.jsonl   one event per line, same order as manifest "events", with exactly the
                   manifest's columns (those with a value in at least one exported event)

Every event is re-read from the lake and re-hashed before it is exported: an event that no
longer matches its recorded leaf is refused, never packaged.
"""

from __future__ import annotations

import base64
import bisect
import io
import zipfile
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from custodes.errors import LedgerError, NotFound
from custodes.ledger.encoding import ID_BYTES, column_type, leaf_hashes
from custodes.ledger.journal import FILES, HEADS, IDS, LEAVES, FileEntry, TreeHead, read_lines
from custodes.ledger.journal import ledger_dir as ledger_directory
from custodes.ledger.keys import KeyRing, raw_public_bytes
from custodes.ledger.merkle import HASH_BYTES, TreeLevels
from custodes.ledger.verify_package import (
    EVENTS,
    MANIFEST,
    PACKAGE_FORMAT,
    canonical_json,
    timestamp_text,
)

ZIP_TIME = (1980, 1, 1, 0, 0, 0)


@dataclass(frozen=True, slots=True)
class ExportSummary:
    """What went into a package."""

    path: Path
    events: int
    tree_size: int
    key_id: str


def _latest_head(data_dir: Path, tree: TreeLevels) -> tuple[TreeHead, bytes]:
    """The newest head whose signature and root check out, with its raw public key."""
    keys = KeyRing.for_data_dir(data_dir).public_keys()
    for value in reversed(read_lines(ledger_directory(data_dir) / HEADS).values):
        try:
            head = TreeHead.from_dict(value)
        except (KeyError, TypeError, ValueError):
            continue
        key = keys.get(head.key_id)
        if (
            key is not None
            and head.is_signed_by(key)
            and head.tree_size <= tree.size
            and tree.root(head.tree_size).hex() == head.root_hash
        ):
            return head, raw_public_bytes(key)
    raise LedgerError("no valid signed tree head: run `custodes verify`")


def _leaf_indexes(ids: bytes, event_ids: Sequence[str]) -> list[int]:
    """The leaf of every requested event id (each occurrence), in the order asked."""
    wanted: dict[bytes, list[int]] = {}
    for event_id in event_ids:
        try:
            raw = bytes.fromhex(event_id)
        except ValueError as error:
            raise NotFound("event", event_id) from error
        if len(raw) != ID_BYTES:
            raise NotFound("event", event_id)
        wanted[raw] = []
    halves = np.frombuffer(ids[: len(ids) // ID_BYTES * ID_BYTES], dtype="<u8").reshape(-1, 2)
    targets = np.frombuffer(b"".join(wanted), dtype="<u8").reshape(-1, 2)
    for leaf in np.flatnonzero(np.isin(halves[:, 0], targets[:, 0])).tolist():
        hits = wanted.get(ids[leaf * ID_BYTES : (leaf + 1) * ID_BYTES])
        if hits is not None:
            hits.append(leaf)
    for raw, hits in wanted.items():
        if not hits:
            raise NotFound("event", raw.hex())
    return [leaf for hits in wanted.values() for leaf in hits]


def _json_rows(table: pa.Table) -> list[dict[str, Any]]:
    """Rows as the plain values of the package (timestamps as text, maps as [key, value] pairs)."""
    columns: dict[str, list[Any]] = {}
    for name in table.column_names:
        column = table.column(name)
        kind = column_type(column.type)
        if kind == "timestamp":
            micros = pc.cast(pc.cast(column, pa.timestamp("us", tz=column.type.tz)), pa.int64())
            columns[name] = [None if v is None else timestamp_text(v) for v in micros.to_pylist()]
        elif kind == "map":
            columns[name] = [
                None if v is None else [[key, item] for key, item in v] for v in column.to_pylist()
            ]
        else:
            columns[name] = column.to_pylist()
    return [
        {name: values[row] for name, values in columns.items()} for row in range(table.num_rows)
    ]


def _read_events(
    data_dir: Path, entries: list[FileEntry], leaves: list[int], tree: TreeLevels
) -> tuple[dict[int, dict[str, Any]], dict[str, str]]:
    """Every requested event from the lake, checked against its leaf; and the columns' types."""
    firsts = [entry.first for entry in entries]
    by_file: dict[int, list[int]] = defaultdict(list)
    for leaf in leaves:
        by_file[bisect.bisect_right(firsts, leaf) - 1].append(leaf)
    events: dict[int, dict[str, Any]] = {}
    types: dict[str, str] = {}
    for number, wanted in by_file.items():
        entry = entries[number]
        try:
            table = pq.read_table(data_dir / entry.path)
        except (OSError, pa.ArrowException) as error:
            raise LedgerError(f"cannot read {entry.path}: {error}") from error
        rows = table.take(pa.array([leaf - entry.first for leaf in wanted], pa.int64()))
        hashes = leaf_hashes(rows)
        for offset, leaf in enumerate(wanted):
            if hashes[offset * HASH_BYTES : (offset + 1) * HASH_BYTES] != tree.leaf(leaf):
                raise LedgerError(
                    f"event at row {leaf - entry.first} of {entry.path} does not match the "
                    "ledger: run `custodes verify`"
                )
        for name in rows.column_names:
            types[name] = column_type(rows.schema.field(name).type)
        for leaf, event in zip(wanted, _json_rows(rows), strict=True):
            events[leaf] = event
    return events, types


def export_evidence(
    data_dir: Path,
    out: Path,
    *,
    event_ids: Sequence[str] = (),
    where: str | None = None,
    limit: int = 10_000,
) -> ExportSummary:
    """Write an evidence package for the given event ids and/or the events matching `where`."""
    ids = list(event_ids)
    if where is not None:
        from custodes.store import search  # the later stage's query, only when asked

        found = search(data_dir, where=where, limit=limit, columns=["event.id"])
        ids += [value for value in found.column("event.id").to_pylist() if value is not None]
    if not ids:
        raise NotFound("event", where or "(none given)")
    directory = ledger_directory(data_dir)
    entries = [FileEntry.from_dict(value) for value in read_lines(directory / FILES).values]
    recorded = entries[-1].end if entries else 0
    leaves_blob = (directory / LEAVES).read_bytes() if (directory / LEAVES).exists() else b""
    tree = TreeLevels(leaves_blob[: min(recorded, len(leaves_blob) // HASH_BYTES) * HASH_BYTES])
    head, public_key = _latest_head(data_dir, tree)
    leaves = _leaf_indexes((directory / IDS).read_bytes(), ids)
    unsigned = [leaf for leaf in leaves if leaf >= head.tree_size]
    if unsigned:
        raise LedgerError("some events are not yet under a signed tree head; retry in a minute")
    events, all_types = _read_events(data_dir, entries, leaves, tree)
    # a column null in every exported event is left out: null and absent encode alike, and a
    # type no value uses would be a byte of the package that no hash covers
    types = {
        name: kind
        for name, kind in all_types.items()
        if any(events[leaf].get(name) is not None for leaf in leaves)
    }
    lines, items = [], []
    for leaf in leaves:
        event = {name: events[leaf].get(name) for name in types}
        lines.append(canonical_json(event) + "\n")
        path = tree.inclusion_proof(leaf, head.tree_size)
        items.append(
            {
                "event_id": event.get("event.id"),
                "leaf_index": leaf,
                "audit_path": [node.hex() for node in path],
            }
        )
    manifest = {
        "format": PACKAGE_FORMAT,
        "columns": types,
        "tree_head": head.to_dict(),
        "public_key": base64.b64encode(public_key).decode(),
        "events": items,
    }
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as package:
        package.writestr(
            zipfile.ZipInfo(MANIFEST, ZIP_TIME),
            canonical_json(manifest).encode(),
            compress_type=zipfile.ZIP_DEFLATED,
        )
        package.writestr(
            zipfile.ZipInfo(EVENTS, ZIP_TIME),
            "".join(lines).encode(),
            compress_type=zipfile.ZIP_DEFLATED,
        )
    out.write_bytes(buffer.getvalue())
    return ExportSummary(out, len(items), head.tree_size, head.key_id)
