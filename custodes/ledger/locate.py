"""Where a lake file differs from its recorded leaves: which rows were altered, deleted, inserted
or moved. Leaves are compared as sequences (common prefix and suffix first, then difflib on the
middle), so one changed event is found without comparing every pair."""

from __future__ import annotations

import difflib
from collections import defaultdict
from dataclasses import dataclass
from typing import Any

from custodes.ledger.encoding import ID_BYTES, id_text
from custodes.ledger.merkle import HASH_BYTES

ALTERED = "altered"
DELETED = "deleted"
INSERTED = "inserted"
REORDERED = "reordered"
FILE_MISSING = "file missing"
UNKNOWN_FILE = "unknown file"
HEAD_FORGED = "head forged"
LEDGER_TRUNCATED = "ledger truncated"
LEDGER_ALTERED = "ledger altered"
PURGE_FORGED = "purge forged"


@dataclass(frozen=True, slots=True)
class Fault:
    """One thing verification found wrong, located as precisely as the evidence allows."""

    kind: str
    file: str | None = None
    row: int | None = None  # row in the file as it is now (deleted: as it was recorded)
    leaf: int | None = None  # index of the recorded leaf in the whole tree
    event_id: str | None = None
    detail: str = ""

    def to_dict(self) -> dict[str, Any]:
        """As printed in the JSON report."""
        return {
            "kind": self.kind,
            "file": self.file,
            "row": self.row,
            "leaf": self.leaf,
            "event_id": self.event_id,
            "detail": self.detail,
        }


def _split(blob: bytes, width: int) -> list[bytes]:
    return [blob[offset : offset + width] for offset in range(0, len(blob), width)]


def locate_changes(
    path: str,
    first: int,
    recorded: bytes,
    recorded_ids: bytes,
    actual: bytes,
    actual_ids: list[str | None],
) -> list[Fault]:
    """The faults that turn the recorded leaves of a file into the leaves computed from it now."""
    old = _split(recorded, HASH_BYTES)
    new = _split(actual, HASH_BYTES)
    old_ids = [id_text(raw) for raw in _split(recorded_ids, ID_BYTES)]
    old_ids += [None] * (len(old) - len(old_ids))
    start = 0
    while start < min(len(old), len(new)) and old[start] == new[start]:
        start += 1
    end_old, end_new = len(old), len(new)
    while end_old > start and end_new > start and old[end_old - 1] == new[end_new - 1]:
        end_old -= 1
        end_new -= 1
    matcher = difflib.SequenceMatcher(None, old[start:end_old], new[start:end_new], autojunk=False)
    missing: list[int] = []  # recorded rows not found in place
    extra: list[int] = []  # current rows not found in place
    pairs: list[tuple[int, int]] = []  # (recorded row, current row) replaced one for one
    for tag, old_from, old_to, new_from, new_to in matcher.get_opcodes():
        old_rows = list(range(start + old_from, start + old_to))
        new_rows = list(range(start + new_from, start + new_to))
        if tag == "replace":
            paired = min(len(old_rows), len(new_rows))
            pairs += zip(old_rows[:paired], new_rows[:paired], strict=True)
            missing += old_rows[paired:]
            extra += new_rows[paired:]
        elif tag == "delete":
            missing += old_rows
        elif tag == "insert":
            extra += new_rows
    # a leaf that left one place and appears at another is a moved event, not a changed one
    unplaced: dict[bytes, list[int]] = defaultdict(list)
    for row in missing + [old_row for old_row, _ in pairs]:
        unplaced[old[row]].append(row)
    faults: list[Fault] = []
    moved_old: set[int] = set()
    moved_new: set[int] = set()
    for row in sorted(extra + [new_row for _, new_row in pairs]):
        candidates = unplaced.get(new[row])
        if candidates:
            old_row = candidates.pop(0)
            moved_old.add(old_row)
            moved_new.add(row)
            faults.append(
                Fault(
                    REORDERED,
                    path,
                    row,
                    first + old_row,
                    actual_ids[row],
                    f"recorded as row {old_row}",
                )
            )
    for old_row, new_row in pairs:
        if old_row in moved_old or new_row in moved_new:
            if old_row not in moved_old:
                missing.append(old_row)
            if new_row not in moved_new:
                extra.append(new_row)
            continue
        recorded_id, event_id = old_ids[old_row], actual_ids[new_row]
        detail = "content differs from the recorded event"
        if recorded_id is not None and recorded_id != event_id:
            detail += f" (recorded id {recorded_id})"
        faults.append(
            Fault(ALTERED, path, new_row, first + old_row, event_id or recorded_id, detail)
        )
    for old_row in missing:
        if old_row not in moved_old:
            faults.append(
                Fault(
                    DELETED,
                    path,
                    old_row,
                    first + old_row,
                    old_ids[old_row],
                    "recorded event absent",
                )
            )
    for new_row in extra:
        if new_row not in moved_new:
            faults.append(
                Fault(INSERTED, path, new_row, None, actual_ids[new_row], "event never recorded")
            )
    return sorted(
        faults, key=lambda fault: (fault.row if fault.row is not None else -1, fault.kind)
    )
