"""Checks of what the ledger signed: tree heads (signature, root, consistency) and purges."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from custodes.ledger.journal import FileEntry, PurgeEntry, TreeHead, read_lines
from custodes.ledger.locate import (
    HEAD_FORGED,
    LEDGER_ALTERED,
    LEDGER_TRUNCATED,
    PURGE_FORGED,
    Fault,
)
from custodes.ledger.merkle import TreeLevels, verify_consistency

PublicKeys = dict[str, Ed25519PublicKey]


@dataclass
class HeadsChecked:
    """What checking the heads found: faults, how many heads, the largest valid tree size."""

    faults: list[Fault] = field(default_factory=list)
    heads: int = 0
    signed_size: int = 0


def check_heads(
    path: Path, keys: PublicKeys, tree: TreeLevels, remembered: dict[str, Any]
) -> HeadsChecked:
    """Every head: a known key, a valid signature, the right root, consistent with the last.

    `remembered` is what the last clean verify saw: the tree may not have shrunk below it, and
    its first leaves must still give the root it saw.
    """
    checked = HeadsChecked()
    faults = checked.faults
    lines = read_lines(path)
    for number in lines.bad:
        faults.append(Fault(HEAD_FORGED, detail=f"{path.name} line {number} is damaged"))
    previous: TreeHead | None = None
    for number, value in enumerate(lines.values, start=1):
        try:
            head = TreeHead.from_dict(value)
        except (KeyError, TypeError, ValueError):
            faults.append(Fault(HEAD_FORGED, detail=f"head {number} is malformed"))
            continue
        checked.heads += 1
        where = f"head {number} (tree size {head.tree_size})"
        key = keys.get(head.key_id)
        if key is None or not head.is_signed_by(key):
            reason = "unknown key" if key is None else "invalid signature"
            faults.append(Fault(HEAD_FORGED, detail=f"{where}: {reason} {head.key_id}"))
            continue
        if head.tree_size > tree.size:
            faults.append(
                Fault(
                    LEDGER_TRUNCATED,
                    detail=f"{where} is signed but only {tree.size} leaves are stored",
                )
            )
            continue
        if tree.root(head.tree_size).hex() != head.root_hash:
            low = previous.tree_size if previous is not None else 0
            faults.append(
                Fault(
                    LEDGER_ALTERED,
                    leaf=low,
                    detail=f"{where}: stored leaves {low}..{head.tree_size - 1} "
                    "no longer give the signed root",
                )
            )
            continue
        if previous is not None:
            faults.extend(_consistency_faults(tree, previous, head, where))
        previous = head
        checked.signed_size = max(checked.signed_size, head.tree_size)
    faults.extend(_remembered_faults(tree, checked.signed_size, remembered))
    return checked


def _consistency_faults(
    tree: TreeLevels, previous: TreeHead, head: TreeHead, where: str
) -> list[Fault]:
    if head.tree_size < previous.tree_size or head.timestamp < previous.timestamp:
        return [Fault(HEAD_FORGED, detail=f"{where} goes back in size or time")]
    if previous.tree_size == 0:
        return []
    old_root, root = bytes.fromhex(previous.root_hash), bytes.fromhex(head.root_hash)
    proof = tree.consistency_proof(previous.tree_size, head.tree_size)
    if not verify_consistency(previous.tree_size, old_root, head.tree_size, root, proof):
        return [Fault(HEAD_FORGED, detail=f"{where} is not consistent with the last")]
    return []


def _remembered_faults(
    tree: TreeLevels, signed_size: int, remembered: dict[str, Any]
) -> list[Fault]:
    size = remembered.get("tree_size")
    if not isinstance(size, int) or size == 0:
        return []
    if size > tree.size or size > signed_size:
        detail = (
            f"a previous verify saw {size} signed leaves, now {tree.size} stored "
            f"and {signed_size} signed"
        )
        return [Fault(LEDGER_TRUNCATED, detail=detail)]
    if tree.root(size).hex() != remembered.get("root_hash"):
        detail = f"the first {size} leaves changed since the last verify"
        return [Fault(LEDGER_ALTERED, detail=detail)]
    return []


def check_purges(
    path: Path, keys: PublicKeys, entries: list[FileEntry]
) -> tuple[list[Fault], set[str]]:
    """Faults in the purge entries, and the paths a valid purge removed with matching ranges."""
    by_path = {entry.path: entry for entry in entries}
    faults: list[Fault] = []
    purged: set[str] = set()
    lines = read_lines(path)
    for number in lines.bad:
        faults.append(Fault(PURGE_FORGED, detail=f"{path.name} line {number} is damaged"))
    for value in lines.values:
        try:
            purge = PurgeEntry.from_dict(value)
        except (KeyError, TypeError, ValueError):
            faults.append(Fault(PURGE_FORGED, detail="a purge entry is malformed"))
            continue
        key = keys.get(purge.key_id)
        if key is None or not purge.is_signed_by(key):
            detail = f"purge at {purge.purged_at}: signature not valid"
            faults.append(Fault(PURGE_FORGED, detail=detail))
            continue
        for item in purge.files:
            entry = by_path.get(item.path)
            if entry is not None and (entry.first, entry.count) == (item.first, item.count):
                purged.add(item.path)
    return faults, purged
