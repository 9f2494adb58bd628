"""The writer: lake files become ranges of leaves, and signed tree heads cover them.

The lake calls `record(path, table)` once a Parquet file is durable (see
`custodes.store.lake.EventLedger`). Leaves and ids are appended and fsync'ed before the file's
line in files.jsonl, so after a crash a file is either fully recorded or not at all (leftover
leaves past the last recorded file are cut off on open, and the WAL replay records the file
again). A head is signed every `head_every_events` events, `head_interval_secs` after the first
unsigned event, on key rotation, before a purge and on close.
"""

from __future__ import annotations

import fcntl
import json
import os
import threading
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import BinaryIO

import pyarrow as pa

from custodes.errors import LedgerError, NotFound
from custodes.ingest.wal import write_atomically
from custodes.ledger.encoding import ID_BYTES
from custodes.ledger.hasher import hash_tables
from custodes.ledger.journal import (
    FILES,
    HEADS,
    IDS,
    LEAVES,
    LOCK,
    PURGES,
    STATE,
    FileEntry,
    PurgeEntry,
    TreeHead,
    ledger_dir,
    read_lines,
)
from custodes.ledger.keys import KeyRing
from custodes.ledger.merkle import HASH_BYTES, Frontier


def now_ms() -> int:
    """Milliseconds since the epoch."""
    return time.time_ns() // 1_000_000


def _append(handle: BinaryIO, data: bytes) -> None:
    handle.write(data)
    handle.flush()
    os.fsync(handle.fileno())


def _cut_torn_tail(path: Path) -> None:
    """Drop a last line that a crash left without its newline."""
    if not path.exists():
        return
    data = path.read_bytes()
    keep = data.rfind(b"\n") + 1
    if keep != len(data):
        with path.open("r+b") as handle:
            handle.truncate(keep)
            os.fsync(handle.fileno())


class Ledger:
    """The evidence ledger of one data directory (thread-safe; one writing process at a time)."""

    def __init__(
        self,
        data_dir: Path,
        *,
        keys: KeyRing | None = None,
        head_every_events: int = 100_000,
        head_interval_secs: float = 10.0,
        clock: Callable[[], int] = now_ms,
    ) -> None:
        self.data_dir = data_dir
        self.directory = ledger_dir(data_dir)
        self.keys = keys if keys is not None else KeyRing.for_data_dir(data_dir)
        self.head_every_events = head_every_events
        self.head_interval_secs = head_interval_secs
        self.clock = clock
        self.lock = threading.RLock()
        self.timer: threading.Timer | None = None
        self.timer_error: BaseException | None = None
        self.is_closed = False
        self.directory.mkdir(parents=True, exist_ok=True)
        self.lock_file = (self.directory / LOCK).open("a+b")
        try:
            fcntl.flock(self.lock_file, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError as error:
            self.lock_file.close()
            raise LedgerError(
                f"the ledger in {self.directory} is open in another process"
            ) from error
        handles: list[BinaryIO] = [self.lock_file]
        try:
            self.entries = self._load_entries()
            self.size = sum(entry.count for entry in self.entries.values())
            self._cut_unrecorded_leaves()
            self.frontier = self._load_frontier()
            self.last_head = self._load_last_head()
            if self.signed_size > self.size:
                raise LedgerError(
                    f"a signed head covers {self.signed_size} events but only {self.size} are "
                    "recorded: the ledger was cut back, run `custodes verify`"
                )
            self.leaves_file = (self.directory / LEAVES).open("ab")
            handles.append(self.leaves_file)
            self.ids_file = (self.directory / IDS).open("ab")
            handles.append(self.ids_file)
            self.files_file = (self.directory / FILES).open("ab")
            handles.append(self.files_file)
            if self.size > self.signed_size:  # leaves recorded before a crash, never signed
                self.sign_head()
        except BaseException:
            for handle in handles:
                handle.close()
            raise

    @property
    def signed_size(self) -> int:
        """The tree size of the last signed head (0 before the first)."""
        return self.last_head.tree_size if self.last_head is not None else 0

    def _load_entries(self) -> dict[str, FileEntry]:
        _cut_torn_tail(self.directory / FILES)
        lines = read_lines(self.directory / FILES)
        if lines.bad:
            raise LedgerError(f"files.jsonl line {lines.bad[0]} is damaged: run `custodes verify`")
        entries: dict[str, FileEntry] = {}
        total = 0
        for value in lines.values:
            try:
                entry = FileEntry.from_dict(value)
            except (KeyError, TypeError, ValueError) as error:
                raise LedgerError(f"files.jsonl holds a malformed entry: {error!r}") from error
            if entry.first != total:
                raise LedgerError(f"files.jsonl is not contiguous at {entry.path}: run verify")
            entries[entry.path] = entry
            total = entry.end
        return entries

    def _cut_unrecorded_leaves(self) -> None:
        for name, width in ((LEAVES, HASH_BYTES), (IDS, ID_BYTES)):
            path = self.directory / name
            have = path.stat().st_size if path.exists() else 0
            if have < self.size * width:
                raise LedgerError(f"{path} is shorter than its index: run `custodes verify`")
            if have > self.size * width:
                with path.open("r+b") as handle:
                    handle.truncate(self.size * width)
                    os.fsync(handle.fileno())

    def _load_frontier(self) -> Frontier:
        frontier = Frontier()
        try:
            state = json.loads((self.directory / STATE).read_text())
            cached = Frontier(state["tree_size"], [bytes.fromhex(h) for h in state["frontier"]])
            if cached.size <= self.size:
                frontier = cached
        except (OSError, ValueError, KeyError, TypeError):
            pass  # no usable cache: rebuild from the leaves
        if frontier.size < self.size:
            with (self.directory / LEAVES).open("rb") as handle:
                handle.seek(frontier.size * HASH_BYTES)
                frontier.extend(handle.read((self.size - frontier.size) * HASH_BYTES))
        return frontier

    def _load_last_head(self) -> TreeHead | None:
        _cut_torn_tail(self.directory / HEADS)
        lines = read_lines(self.directory / HEADS)
        for value in reversed(lines.values):
            try:
                return TreeHead.from_dict(value)
            except (KeyError, TypeError, ValueError):
                continue
        return None

    def record(self, relative_path: str, table: pa.Table) -> None:
        """Add a durable lake file's events as leaves, in file order (a known path: no-op)."""
        self.record_many([(relative_path, table)])

    def record_many(self, files: Sequence[tuple[str, pa.Table]]) -> None:
        """Add several durable lake files (e.g. one WAL segment's), in order, as `record` would.

        The leaves of all new files are encoded and hashed in one pass (in C, without the GIL:
        the caller, the pipeline's flush thread, runs beside the ingest) and each ledger file is
        appended and fsync'ed once, not once per lake file (a segment of Windows events may
        span a hundred dataset/day partitions).
        """
        with self.lock:
            self._check_open()
            new: list[tuple[str, pa.Table]] = []
            for relative_path, table in files:
                known = self.entries.get(relative_path)
                if known is None:
                    if any(relative_path == path for path, _ in new):
                        raise LedgerError(f"{relative_path} is given twice")
                    new.append((relative_path, table))
                elif known.count != table.num_rows:
                    raise LedgerError(
                        f"{relative_path} was recorded with {known.count} events, "
                        f"now {table.num_rows}"
                    )
            if not new:
                return
            hashed = hash_tables(self.data_dir, new, self.frontier)
            entries = []
            first = self.size
            recorded_at = self.clock()
            for (relative_path, table), digest in zip(new, hashed.digests, strict=True):
                entries.append(
                    FileEntry(
                        path=relative_path,
                        first=first,
                        count=table.num_rows,
                        sha256=digest.sha256,
                        size=digest.size,
                        recorded_at=recorded_at,
                    )
                )
                first += table.num_rows
            _append(self.leaves_file, hashed.leaves)
            _append(self.ids_file, hashed.ids)
            lines = "".join(json.dumps(entry.to_dict()) + "\n" for entry in entries)
            _append(self.files_file, lines.encode())
            self.frontier = hashed.frontier
            for entry in entries:
                self.entries[entry.path] = entry
            self.size = entries[-1].end
            if self.size - self.signed_size >= self.head_every_events:
                self.sign_head()
            elif self.size > self.signed_size:
                self._schedule_head()

    def sign_head(self) -> TreeHead:
        """Sign a head over the whole tree now, and store it."""
        with self.lock:
            key_id, key = self.keys.signing_key()
            previous = self.last_head.timestamp if self.last_head is not None else 0
            head = TreeHead(
                tree_size=self.size,
                root_hash=self.frontier.root().hex(),
                timestamp=max(self.clock(), previous),  # a clock stepped back never looks forged
                key_id=key_id,
            ).signed(key)
            with (self.directory / HEADS).open("ab") as handle:
                _append(handle, (json.dumps(head.to_dict()) + "\n").encode())
            state = {"tree_size": self.size, "frontier": [h.hex() for h in self.frontier.hashes]}
            write_atomically(self.directory / STATE, json.dumps(state).encode())
            self.last_head = head
            return head

    def _schedule_head(self) -> None:
        if self.timer is None and self.head_interval_secs > 0:
            self.timer = threading.Timer(self.head_interval_secs, self._sign_when_due)
            self.timer.daemon = True
            self.timer.start()

    def _sign_when_due(self) -> None:
        with self.lock:
            self.timer = None
            if self.is_closed or self.size == self.signed_size:
                return
            try:
                self.sign_head()
            except (OSError, LedgerError) as error:  # raised by the next record() or close()
                self.timer_error = error

    def _check_open(self) -> None:
        if self.is_closed:
            raise LedgerError("the ledger is closed")
        if self.timer_error is not None:
            raise LedgerError(f"signing a tree head failed: {self.timer_error}")

    def record_purge(self, paths: Sequence[str], reason: str) -> PurgeEntry:
        """Sign and store that these whole lake files are being removed; call before deleting."""
        with self.lock:
            self._check_open()
            missing = [path for path in paths if path not in self.entries]
            if missing:
                raise NotFound("ledger file", missing[0])
            if self.size > self.signed_size:
                self.sign_head()
            key_id, key = self.keys.signing_key()
            entry = PurgeEntry(
                files=tuple(self.entries[path] for path in paths),
                reason=reason,
                purged_at=self.clock(),
                tree_size=self.size,
                key_id=key_id,
            ).signed(key)
            with (self.directory / PURGES).open("ab") as handle:
                _append(handle, (json.dumps(entry.to_dict()) + "\n").encode())
            return entry

    def rotate_key(self) -> str:
        """Retire the signing key for a new one; a head signed by each marks the hand-over."""
        with self.lock:
            self._check_open()
            if self.size > self.signed_size:
                self.sign_head()
            key_id, _ = self.keys.rotate()
            self.sign_head()
            return key_id

    def close(self) -> None:
        """Sign a head over anything unsigned, and release the files and the lock."""
        with self.lock:
            if self.is_closed:
                return
            if self.timer is not None:
                self.timer.cancel()
                self.timer = None
            try:
                if self.size > self.signed_size:
                    self.sign_head()
            finally:
                self.is_closed = True
                for handle in (self.leaves_file, self.ids_file, self.files_file, self.lock_file):
                    handle.close()

    def __enter__(self) -> Ledger:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()
