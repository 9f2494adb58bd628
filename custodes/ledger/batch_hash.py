"""SHA-256 of many messages in one call, without the GIL (OpenSSL through `_sha256`).

The ledger hashes about a million leaves and as many inner nodes per million events. One
hashlib call each costs more than the hashing and holds the GIL (messages under 2 KiB), so the
ledger thread would stall the ingest it runs beside. These functions hash a whole array or tree
level per call; the results are the same bytes hashlib gives (tests compare them).
"""

from __future__ import annotations

import numpy as np

from custodes.errors import LedgerError
from custodes.ledger._sha256 import ffi, lib

HASH_BYTES = 32


def hash_each(data: memoryview | bytes, offsets: np.ndarray) -> bytes:
    """SHA-256 of each `data[offsets[i]:offsets[i + 1]]`, as one blob of 32-byte hashes."""
    count = len(offsets) - 1
    if count <= 0:
        return b""
    bounds = np.ascontiguousarray(offsets, dtype=np.int32)
    if int(bounds[0]) < 0 or int(bounds[-1]) > len(data) or np.any(np.diff(bounds) < 0):
        raise LedgerError("message offsets outside their data")
    out = bytearray(HASH_BYTES * count)
    source = ffi.from_buffer(data) if len(data) else ffi.NULL
    if not lib.sha256_each(
        source, ffi.from_buffer("int32_t[]", bounds), count, ffi.from_buffer(out)
    ):
        raise LedgerError("OpenSSL could not compute SHA-256")
    return bytes(out)


def hash_pairs(level: bytes) -> bytes:
    """SHA-256(0x01 || left || right) of each complete pair of 32-byte hashes (RFC 9162 node)."""
    pairs = len(level) // (2 * HASH_BYTES)
    if not pairs:
        return b""
    out = bytearray(HASH_BYTES * pairs)
    if not lib.sha256_pairs(ffi.from_buffer(level), pairs, ffi.from_buffer(out)):
        raise LedgerError("OpenSSL could not compute SHA-256")
    return bytes(out)
