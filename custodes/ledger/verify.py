"""`custodes verify`: recompute every leaf from the lake and check it against the signed heads.

Checks, in order: the ledger's own files (index contiguous, leaves present), every tree head
(known key, valid signature, root equal to the root recomputed from the stored leaves, RFC 9162
consistency with the head before it), signed purges, then every recorded lake file (present or
purged, bytes unchanged, every event's leaf equal to the recorded one), and finally lake files
nobody recorded. Each problem becomes a `Fault` that names the file, row and event it concerns.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
from collections import deque
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from custodes.errors import LedgerError
from custodes.ingest.wal import write_atomically
from custodes.ledger.encoding import ID_BYTES, id_text
from custodes.ledger.journal import (
    FILES,
    HEADS,
    IDS,
    LEAVES,
    PURGES,
    VERIFIED,
    FileEntry,
    ledger_dir,
    read_lines,
)
from custodes.ledger.keys import KeyRing
from custodes.ledger.lakefile import FileFound, event_ids, examine
from custodes.ledger.locate import (
    ALTERED,
    FILE_MISSING,
    LEDGER_ALTERED,
    LEDGER_TRUNCATED,
    UNKNOWN_FILE,
    Fault,
    locate_changes,
)
from custodes.ledger.merkle import HASH_BYTES, TreeLevels
from custodes.ledger.signed import check_heads, check_purges

LAKE_DIR = "lake"
PARTITION_DAY = re.compile(r"date=(\d{4}-\d\d-\d\d)")
UNSIGNED_GRACE_SECS = 120
WORKERS = min(4, os.cpu_count() or 1)  # files examined at once (I/O, decoding, hashing overlap)
Progress = Callable[[int, int], None]  # (events checked so far, events to check)


@dataclass
class VerifyReport:
    """What `verify_store` checked and every fault it found."""

    data_dir: str
    tree_size: int = 0
    signed_size: int = 0
    heads: int = 0
    files_checked: int = 0
    files_skipped: int = 0
    files_purged: int = 0
    events_checked: int = 0
    faults: list[Fault] = field(default_factory=list)

    @property
    def is_intact(self) -> bool:
        """True when nothing was found wrong."""
        return not self.faults

    def to_dict(self) -> dict[str, Any]:
        """The JSON report."""
        return {
            "intact": self.is_intact,
            "data_dir": self.data_dir,
            "tree_size": self.tree_size,
            "signed_tree_size": self.signed_size,
            "heads": self.heads,
            "files_checked": self.files_checked,
            "files_skipped": self.files_skipped,
            "files_purged": self.files_purged,
            "events_checked": self.events_checked,
            "faults": [fault.to_dict() for fault in self.faults],
        }


def _index_digest(path: Path, lines: int) -> str:
    """SHA-256 of the first `lines` lines of the index."""
    data = _read(path)
    end = 0
    for _ in range(lines):
        end = data.find(b"\n", end) + 1
        if end == 0:
            return ""
    return hashlib.sha256(data[:end]).hexdigest()


def _read(path: Path) -> bytes:
    return path.read_bytes() if path.exists() else b""


class StoreCheck:
    """One verification run over a data directory."""

    def __init__(
        self, data_dir: Path, since: datetime | None, incremental: bool, now: datetime
    ) -> None:
        self.data_dir = data_dir
        self.now = now
        self.directory = ledger_dir(data_dir)
        if not (self.directory / FILES).exists() and not (self.directory / HEADS).exists():
            raise LedgerError(f"no evidence ledger in {data_dir}")
        self.since = since
        self.incremental = incremental
        self.report = VerifyReport(str(data_dir))
        self.faults = self.report.faults
        self.remembered = self._remembered()

    def _remembered(self) -> dict[str, Any]:
        try:
            value = json.loads((self.directory / VERIFIED).read_text())
        except (OSError, ValueError):
            return {}
        return value if isinstance(value, dict) else {}

    def run(self, progress: Progress | None) -> VerifyReport:
        """Check everything; the report's faults are empty when the store is intact."""
        entries = self.check_index()
        leaves, ids = _read(self.directory / LEAVES), _read(self.directory / IDS)
        recorded = sum(entry.count for entry in entries)
        stored = min(len(leaves) // HASH_BYTES, recorded)
        if len(leaves) < recorded * HASH_BYTES:
            self.faults.append(
                Fault(
                    LEDGER_TRUNCATED,
                    detail=f"{LEAVES} holds {len(leaves) // HASH_BYTES} leaves, "
                    f"the index records {recorded}",
                )
            )
        self.report.tree_size = stored
        tree = TreeLevels(leaves[: stored * HASH_BYTES])
        keys = KeyRing.for_data_dir(self.data_dir).public_keys()
        heads = check_heads(self.directory / HEADS, keys, tree, self.remembered)
        self.faults.extend(heads.faults)
        self.report.heads, self.report.signed_size = heads.heads, heads.signed_size
        self.check_signed_in_time(entries)
        purge_faults, purged = check_purges(self.directory / PURGES, keys, entries)
        self.faults.extend(purge_faults)
        self.check_files(entries, purged, tree, ids, progress)
        recorded_now = read_lines(self.directory / FILES).values  # a writer may have added some
        self.check_unknown_files(
            {entry.path for entry in entries} | {str(value.get("path")) for value in recorded_now}
        )
        if self.report.is_intact and self.since is None:
            self.remember(tree, entries)
        return self.report

    def check_index(self) -> list[FileEntry]:
        """The recorded files, in leaf order; damage to the index itself is a fault."""
        lines = read_lines(self.directory / FILES)
        entries: list[FileEntry] = []
        for number in lines.bad:
            self.faults.append(Fault(LEDGER_ALTERED, detail=f"{FILES} line {number} is damaged"))
        seen: set[str] = set()
        for value in lines.values:
            try:
                entry = FileEntry.from_dict(value)
            except (KeyError, TypeError, ValueError):
                self.faults.append(Fault(LEDGER_ALTERED, detail=f"{FILES} has a malformed entry"))
                continue
            expected = entries[-1].end if entries else 0
            if entry.first != expected or entry.path in seen:
                self.faults.append(
                    Fault(
                        LEDGER_ALTERED,
                        entry.path,
                        leaf=entry.first,
                        detail=f"index entry starts at leaf {entry.first}, expected {expected}",
                    )
                )
            seen.add(entry.path)
            entries.append(entry)
        return entries

    def check_signed_in_time(self, entries: list[FileEntry]) -> None:
        """Events recorded long ago must be under a signed head (the writer signs within 10 s)."""
        cutoff_ms = (self.now.timestamp() - UNSIGNED_GRACE_SECS) * 1000
        late = [
            entry
            for entry in entries
            if entry.end > self.report.signed_size and entry.recorded_at < cutoff_ms
        ]
        if late:
            self.faults.append(
                Fault(
                    LEDGER_TRUNCATED,
                    late[0].path,
                    leaf=max(self.report.signed_size, late[0].first),
                    detail=f"{len(late)} file(s) recorded over {UNSIGNED_GRACE_SECS} s ago are "
                    "under no signed head (heads removed?)",
                )
            )

    def is_selected(self, entry: FileEntry) -> bool:
        """Whether --since asks for this file (by its day partition, else when recorded)."""
        if self.since is None:
            return True
        match = PARTITION_DAY.search(entry.path)
        if match:
            return date.fromisoformat(match.group(1)) >= self.since.date()
        return entry.recorded_at >= self.since.timestamp() * 1000

    def check_files(
        self,
        entries: list[FileEntry],
        purged: set[str],
        tree: TreeLevels,
        ids: bytes,
        progress: Progress | None,
    ) -> None:
        """Every recorded file: present (or purged), its bytes and every event as recorded."""
        known_files = self._unchanged_files() if self.incremental else 0
        chosen = [(n, entry) for n, entry in enumerate(entries) if self.is_selected(entry)]
        self.report.files_skipped += len(entries) - len(chosen)
        total = sum(entry.count for _, entry in chosen)
        done = 0
        pending: deque[tuple[FileEntry, Future[FileFound]]] = deque()

        def finish_oldest() -> None:
            nonlocal done
            entry, job = pending.popleft()
            self.check_file(entry, job.result(), purged, tree, ids)
            done += entry.count
            if progress is not None:
                progress(done, total)

        with ThreadPoolExecutor(max_workers=WORKERS) as pool:
            for number, entry in chosen:
                may_skip = number < known_files
                path = self.data_dir / entry.path
                pending.append((entry, pool.submit(examine, path, entry.sha256, may_skip=may_skip)))
                if len(pending) > WORKERS:
                    finish_oldest()
            while pending:
                finish_oldest()

    def check_file(
        self, entry: FileEntry, found: FileFound, purged: set[str], tree: TreeLevels, ids: bytes
    ) -> None:
        """One file's events against its recorded leaves."""
        if not found.exists:
            if entry.path in purged:
                self.report.files_purged += 1
                return
            first_id = id_text(ids[entry.first * ID_BYTES : (entry.first + 1) * ID_BYTES])
            self.faults.append(
                Fault(
                    FILE_MISSING,
                    entry.path,
                    leaf=entry.first,
                    event_id=first_id,
                    detail=f"{entry.count} events (leaves {entry.first}..{entry.end - 1})",
                )
            )
            return
        if not found.is_decoded and found.error is None:
            self.report.files_skipped += 1  # incremental: verified before, bytes unchanged
            return
        self.report.files_checked += 1
        if found.error is not None:
            self.faults.append(Fault(ALTERED, entry.path, detail=f"file unreadable: {found.error}"))
            return
        self.report.events_checked += found.rows
        actual = found.leaves
        stored_end = min(entry.end, tree.size)
        recorded = tree.levels[0][entry.first * HASH_BYTES : stored_end * HASH_BYTES]
        if stored_end < entry.end:
            self.faults.append(
                Fault(
                    LEDGER_TRUNCATED,
                    entry.path,
                    row=max(stored_end - entry.first, 0),
                    leaf=stored_end,
                    detail="the leaves of this file's last events are gone",
                )
            )
            actual = actual[: len(recorded)]
        if actual == recorded:
            if not found.is_same:
                self.faults.append(
                    Fault(
                        ALTERED,
                        entry.path,
                        detail="file bytes differ from those recorded, every event still matches",
                    )
                )
            return
        recorded_ids = ids[entry.first * ID_BYTES : entry.end * ID_BYTES]
        self.faults.extend(
            locate_changes(
                entry.path, entry.first, recorded, recorded_ids, actual, event_ids(found)
            )
        )

    def check_unknown_files(self, recorded: set[str]) -> None:
        """Lake files the ledger never recorded."""
        lake = self.data_dir / LAKE_DIR
        if not lake.is_dir():
            return
        for path in sorted(lake.rglob("*.parquet")):
            relative = path.relative_to(self.data_dir).as_posix()
            if path.name.startswith(".") or relative in recorded:
                continue
            self.faults.append(Fault(UNKNOWN_FILE, relative, detail="not recorded in the ledger"))

    def _unchanged_files(self) -> int:
        """How many index lines are as the last clean verify saw them (0 when any changed)."""
        files = self.remembered.get("files", 0)
        if not isinstance(files, int) or files <= 0:
            return 0
        if _index_digest(self.directory / FILES, files) != self.remembered.get("files_sha256"):
            self.faults.append(
                Fault(LEDGER_ALTERED, detail=f"{FILES} changed since the last verify")
            )
            return 0
        return files

    def remember(self, tree: TreeLevels, entries: list[FileEntry]) -> None:
        """Note what this clean run saw, for --incremental and to catch a later truncation."""
        size = self.report.signed_size
        files = sum(1 for entry in entries if entry.end <= size)
        state = {
            "tree_size": size,
            "root_hash": tree.root(size).hex(),
            "files": files,
            "files_sha256": _index_digest(self.directory / FILES, files),
            "verified_at": datetime.now(UTC).isoformat(),
        }
        write_atomically(self.directory / VERIFIED, json.dumps(state).encode())


def verify_store(
    data_dir: Path,
    *,
    since: datetime | None = None,
    incremental: bool = False,
    progress: Progress | None = None,
    now: datetime | None = None,
) -> VerifyReport:
    """Verify a data directory's lake against its ledger (see the module docstring)."""
    check = StoreCheck(data_dir, since, incremental, now or datetime.now(UTC))
    return check.run(progress)
