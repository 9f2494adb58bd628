"""What the ledger keeps under `<data_dir>/ledger/`, and how to read it back.

    leaves.bin     32 bytes per event: its leaf hash, in the order the events were recorded
    ids.bin        16 bytes per event: its event id (zeros if it had none)
    files.jsonl    one line per lake file: path, first leaf, row count, SHA-256 and size
    heads.jsonl    one line per signed tree head: tree size, root hash, timestamp, key id, signature
    purges.jsonl   one line per signed purge: the files removed, their leaf ranges and the reason
    state.json     a cache of the tree's right edge, so reopening does not rehash every leaf
    verified.json  what the last clean `custodes verify` saw (for --incremental)

Every file except the two caches only ever grows.
"""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from custodes.ledger.verify_package import canonical_json, head_message

LEDGER_DIR = "ledger"
LEAVES = "leaves.bin"
IDS = "ids.bin"
FILES = "files.jsonl"
HEADS = "heads.jsonl"
PURGES = "purges.jsonl"
STATE = "state.json"
VERIFIED = "verified.json"
LOCK = "lock"
PURGE_CONTEXT = "custodes-purge-v1"


@dataclass(frozen=True, slots=True)
class FileEntry:
    """One lake file as recorded: which leaves it covers and the digest of its bytes."""

    path: str
    first: int
    count: int
    sha256: str = ""
    size: int = 0
    recorded_at: int = 0  # milliseconds since the epoch

    @property
    def end(self) -> int:
        """One past its last leaf."""
        return self.first + self.count

    def to_dict(self) -> dict[str, Any]:
        """As stored in files.jsonl."""
        return {
            "path": self.path,
            "first": self.first,
            "count": self.count,
            "sha256": self.sha256,
            "size": self.size,
            "recorded_at": self.recorded_at,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> FileEntry:
        """From a files.jsonl line (KeyError/TypeError when malformed)."""
        entry = cls(
            path=str(data["path"]),
            first=int(data["first"]),
            count=int(data["count"]),
            sha256=str(data.get("sha256", "")),
            size=int(data.get("size", 0)),
            recorded_at=int(data.get("recorded_at", 0)),
        )
        if entry.first < 0 or entry.count < 0:
            raise ValueError("negative leaf range")
        return entry


@dataclass(frozen=True, slots=True)
class TreeHead:
    """A signed statement: the tree of `tree_size` leaves has root `root_hash`."""

    tree_size: int
    root_hash: str  # hex
    timestamp: int  # milliseconds since the epoch
    key_id: str
    signature: str = ""  # base64 Ed25519 over `message()`

    def message(self) -> bytes:
        """The bytes the signature covers."""
        return head_message(self.to_dict())

    def signed(self, key: Ed25519PrivateKey) -> TreeHead:
        """This head with its signature."""
        signature = base64.b64encode(key.sign(self.message())).decode()
        return TreeHead(self.tree_size, self.root_hash, self.timestamp, self.key_id, signature)

    def is_signed_by(self, key: Ed25519PublicKey) -> bool:
        """Whether the signature is valid for `key`."""
        return _is_valid(key, self.signature, self.message())

    def to_dict(self) -> dict[str, Any]:
        """As stored in heads.jsonl and in evidence packages."""
        return {
            "tree_size": self.tree_size,
            "root_hash": self.root_hash,
            "timestamp": self.timestamp,
            "key_id": self.key_id,
            "signature": self.signature,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> TreeHead:
        """From a heads.jsonl line (KeyError/TypeError/ValueError when malformed)."""
        return cls(
            tree_size=int(data["tree_size"]),
            root_hash=str(data["root_hash"]),
            timestamp=int(data["timestamp"]),
            key_id=str(data["key_id"]),
            signature=str(data["signature"]),
        )


@dataclass(frozen=True, slots=True)
class PurgeEntry:
    """A signed record that whole lake files were removed on purpose, and why."""

    files: tuple[FileEntry, ...]
    reason: str
    purged_at: int  # milliseconds since the epoch
    tree_size: int
    key_id: str
    signature: str = ""

    def message(self) -> bytes:
        """The bytes the signature covers."""
        body = self.to_dict()
        del body["signature"]
        return f"{PURGE_CONTEXT}\n{canonical_json(body)}".encode()

    def signed(self, key: Ed25519PrivateKey) -> PurgeEntry:
        """This entry with its signature."""
        signature = base64.b64encode(key.sign(self.message())).decode()
        return PurgeEntry(
            self.files, self.reason, self.purged_at, self.tree_size, self.key_id, signature
        )

    def is_signed_by(self, key: Ed25519PublicKey) -> bool:
        """Whether the signature is valid for `key`."""
        return _is_valid(key, self.signature, self.message())

    def to_dict(self) -> dict[str, Any]:
        """As stored in purges.jsonl."""
        return {
            "files": [entry.to_dict() for entry in self.files],
            "reason": self.reason,
            "purged_at": self.purged_at,
            "tree_size": self.tree_size,
            "key_id": self.key_id,
            "signature": self.signature,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> PurgeEntry:
        """From a purges.jsonl line."""
        return cls(
            files=tuple(FileEntry.from_dict(item) for item in data["files"]),
            reason=str(data["reason"]),
            purged_at=int(data["purged_at"]),
            tree_size=int(data["tree_size"]),
            key_id=str(data["key_id"]),
            signature=str(data["signature"]),
        )


def _is_valid(key: Ed25519PublicKey, signature: str, message: bytes) -> bool:
    try:
        key.verify(base64.b64decode(signature, validate=True), message)
    except (InvalidSignature, ValueError):
        return False
    return True


@dataclass
class Lines:
    """The parsed lines of a .jsonl file, and the numbers (1-based) of lines that did not parse."""

    values: list[dict[str, Any]] = field(default_factory=list)
    bad: list[int] = field(default_factory=list)
    torn_tail: bool = False  # the last line has no newline: a write cut short by a crash


def read_lines(path: Path) -> Lines:
    """Read a .jsonl file; a missing file has no lines."""
    lines = Lines()
    if not path.exists():
        return lines
    data = path.read_bytes()
    chunks = data.split(b"\n")
    if chunks[-1]:
        lines.torn_tail = True
    for number, chunk in enumerate(chunks[:-1], start=1):
        try:
            value = json.loads(chunk)
        except (json.JSONDecodeError, UnicodeDecodeError):
            lines.bad.append(number)
            continue
        if isinstance(value, dict):
            lines.values.append(value)
        else:
            lines.bad.append(number)
    return lines


def ledger_dir(data_dir: Path) -> Path:
    """Where a data directory's ledger lives."""
    return data_dir / LEDGER_DIR
