"""The access ledger: who read what, when, for which purpose and case; hash-chained and signed.

Each entry's hash is SHA-256 over the previous hash and the entry's canonical JSON. After every
append the chain head (size, hash) is signed with the evidence ledger's signing key and written
to `<data_dir>/ledger/access_heads.jsonl`, so an altered entry breaks the chain and a deleted
tail falls short of a signed head. The product offers no way to edit or delete an entry;
`verify_access_log` (run by `custodes verify`) finds what was done outside it.
"""

from __future__ import annotations

import hashlib
import json
import os
import threading
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from cryptography.exceptions import InvalidSignature
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from custodes.ledger import KeyRing
from custodes.oversight.tables import AccessEntryRow
from custodes.store.control import Control

HEADS_FILE = Path("ledger") / "access_heads.jsonl"
GENESIS = "0" * 64
_append_lock = threading.Lock()


@dataclass(frozen=True)
class AccessEntry:
    """One recorded access (or decision) by a person or API client."""

    actor: str
    role: str
    action: str
    purpose: str | None = None
    case_id: str | None = None
    query: dict[str, Any] | None = None
    rows: int = 0
    revealed: tuple[str, ...] = ()
    details: dict[str, Any] | None = None


def canonical(row: AccessEntryRow) -> bytes:
    """The bytes an entry's hash covers (everything but the hash itself)."""
    document = {
        "seq": row.seq,
        "at": row.at.astimezone(UTC).isoformat(),
        "actor": row.actor,
        "role": row.role,
        "action": row.action,
        "purpose": row.purpose,
        "case_id": row.case_id,
        "query": row.query,
        "rows": row.rows,
        "revealed": list(row.revealed),
        "details": row.details,
    }
    return json.dumps(document, sort_keys=True, separators=(",", ":"), default=str).encode()


def chain_hash(prev_hash: str, row: AccessEntryRow) -> str:
    """The hash of an entry chained to its predecessor."""
    return hashlib.sha256(bytes.fromhex(prev_hash) + canonical(row)).hexdigest()


def head_message(size: int, head_hash: str, timestamp: int) -> bytes:
    """What a signed access-log head says."""
    return f"custodes-access-log\n{size}\n{head_hash}\n{timestamp}".encode()


def append_entry(
    control: Control, data_dir: Path, entry: AccessEntry, *, now: datetime | None = None
) -> AccessEntryRow:
    """Append an entry to the chain and sign the new head."""
    at = now or datetime.now(UTC)
    for _attempt in range(5):
        try:
            with _append_lock:
                row = _insert(control, entry, at)
                sign_head(data_dir, row.seq, row.hash)  # after the commit: never sign a rollback
            return row
        except IntegrityError:  # another process took this sequence number: chain again
            continue
    raise RuntimeError("could not append to the access ledger after 5 attempts")


def _insert(control: Control, entry: AccessEntry, at: datetime) -> AccessEntryRow:
    with control.session() as session:
        last = session.execute(
            select(AccessEntryRow).order_by(AccessEntryRow.seq.desc()).limit(1)
        ).scalar_one_or_none()
        row = AccessEntryRow(
            seq=(last.seq + 1) if last is not None else 1,
            at=at,
            actor=entry.actor,
            role=entry.role,
            action=entry.action,
            purpose=entry.purpose,
            case_id=entry.case_id,
            query=dict(entry.query or {}),
            rows=entry.rows,
            revealed=sorted(entry.revealed),
            details=dict(entry.details or {}),
            prev_hash=last.hash if last is not None else GENESIS,
            hash="",
        )
        row.hash = chain_hash(row.prev_hash, row)
        session.add(row)
    return row


def sign_head(data_dir: Path, size: int, head_hash: str) -> None:
    """Sign (size, hash) with the evidence ledger's key and append it to the heads file."""
    key_id, key = KeyRing.for_data_dir(data_dir).signing_key()
    timestamp = int(datetime.now(UTC).timestamp() * 1000)
    signature = key.sign(head_message(size, head_hash, timestamp)).hex()
    line = {"size": size, "hash": head_hash, "timestamp": timestamp, "key_id": key_id}
    path = data_dir / HEADS_FILE
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("a") as handle:
        handle.write(json.dumps({**line, "signature": signature}) + "\n")
        handle.flush()
        os.fsync(handle.fileno())


def list_entries(
    control: Control,
    *,
    actor: str | None = None,
    action: str | None = None,
    case_id: str | None = None,
    since: datetime | None = None,
    limit: int = 500,
) -> list[AccessEntryRow]:
    """Entries, newest first, filtered."""
    query = select(AccessEntryRow).order_by(AccessEntryRow.seq.desc()).limit(limit)
    if actor:
        query = query.where(AccessEntryRow.actor == actor)
    if action:
        query = query.where(AccessEntryRow.action == action)
    if case_id:
        query = query.where(AccessEntryRow.case_id == case_id)
    if since is not None:
        query = query.where(AccessEntryRow.at >= since)
    with control.session() as session:
        return list(session.execute(query).scalars())


def entry_to_dict(row: AccessEntryRow) -> dict[str, Any]:
    """Plain data for JSON."""
    return {
        "seq": row.seq,
        "at": row.at.isoformat(),
        "actor": row.actor,
        "role": row.role,
        "action": row.action,
        "purpose": row.purpose,
        "case_id": row.case_id,
        "query": row.query,
        "rows": row.rows,
        "revealed": list(row.revealed),
        "details": row.details,
        "hash": row.hash,
    }


def count_entries(control: Control) -> int:
    """How many entries the access ledger holds."""
    with control.session() as session:
        return int(session.execute(select(func.count()).select_from(AccessEntryRow)).scalar_one())


def verify_access_log(control: Control, data_dir: Path) -> list[str]:
    """Faults in the access ledger: a broken chain, a bad signature, a tail shorter than signed."""
    faults: list[str] = []
    hashes: dict[int, str] = {}
    expected_prev, expected_seq = GENESIS, 1
    with control.session() as session:
        for row in session.execute(select(AccessEntryRow).order_by(AccessEntryRow.seq)).scalars():
            if row.seq != expected_seq:
                faults.append(f"access entry {expected_seq} is missing (next is {row.seq})")
            if row.prev_hash != expected_prev:
                faults.append(f"access entry {row.seq} does not follow the entry before it")
            if chain_hash(row.prev_hash, row) != row.hash:
                faults.append(f"access entry {row.seq} was altered (its hash does not match)")
            hashes[row.seq] = row.hash
            expected_prev, expected_seq = row.hash, row.seq + 1
    faults.extend(check_heads(data_dir, hashes))
    return faults


def check_heads(data_dir: Path, hashes: dict[int, str]) -> list[str]:
    """Each signed head must be validly signed and match the entry at its size."""
    path = data_dir / HEADS_FILE
    if not path.exists():
        return [] if not hashes else ["access entries exist but no signed head covers them"]
    keys = KeyRing.for_data_dir(data_dir).public_keys()
    faults: list[str] = []
    largest = 0
    for number, line in enumerate(path.read_text().splitlines(), 1):
        try:
            head = json.loads(line)
            key = keys[head["key_id"]]
            message = head_message(int(head["size"]), str(head["hash"]), int(head["timestamp"]))
            key.verify(bytes.fromhex(head["signature"]), message)
        except (ValueError, KeyError, TypeError, InvalidSignature):
            faults.append(f"access head {number} is not validly signed")
            continue
        size = int(head["size"])
        largest = max(largest, size)
        if size in hashes and hashes[size] != head["hash"]:
            faults.append(f"access entry {size} differs from its signed head")
    top = max(hashes, default=0)
    if largest > top:
        faults.append(f"the access ledger ends at entry {top}, but entry {largest} was signed")
    return faults
