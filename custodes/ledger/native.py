"""The ledger's batch work in C, without the GIL: SHA-256 through OpenSSL, joining rows of text.

The ledger hashes about a million leaves and as many inner nodes per million events. One
hashlib call each costs more than the hashing and holds the GIL (messages under 2 KiB), so the
ledger thread would stall the ingest it runs beside; and pyarrow's element-wise join costs about
20 ns per piece, where the canonical encoding has 30 to 70 pieces an event. These functions do a
whole batch per call (`native_build.py` holds the C); their results are the bytes hashlib and
`pc.binary_join_element_wise` give (tests compare them).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pyarrow as pa

from custodes.errors import LedgerError
from custodes.ledger._native import ffi, lib

HASH_BYTES = 32
_EMPTY = ffi.new("unsigned char[1]")  # where an array without bytes points


def hash_rows(parts: Sequence[pa.Array], rows: int, lead: bytes = b"") -> bytes:
    """SHA-256 of `lead` followed by each part's value in the row, for every row.

    The parts are string arrays of `rows` values each; a null value adds nothing. Same result
    as hashing each row of `join_rows(parts)` prefixed with `lead`, without building it.
    """
    if rows <= 0:
        return b""
    pointers = _Pointers(parts, rows)
    out = bytearray(HASH_BYTES * rows)
    if not lib.sha256_rows(rows, lead, len(lead), *pointers.arguments, ffi.from_buffer(out)):
        raise LedgerError("OpenSSL could not compute SHA-256")
    return bytes(out)


def join_rows(parts: Sequence[pa.Array], rows: int) -> pa.Array:
    """Each row's parts joined into one string (a null part adds nothing; never null).

    What `pc.binary_join_element_wise(*parts, "", null_handling="skip")` gives, several times
    faster: one pass measures the rows, a second copies their bytes.
    """
    pointers = _Pointers(parts, rows)
    offsets = np.empty(rows + 1, np.int32)
    size = lib.join_rows(rows, *pointers.arguments, ffi.from_buffer("int32_t[]", offsets), ffi.NULL)
    if size < 0:
        raise LedgerError("joined rows past 2 GiB: encode fewer rows at once")
    data = bytearray(size)
    if size:
        lib.join_rows(
            rows, *pointers.arguments, ffi.from_buffer("int32_t[]", offsets), ffi.from_buffer(data)
        )
    return pa.StringArray.from_buffers(rows, pa.py_buffer(offsets), pa.py_buffer(data))


class _Pointers:
    """The C view of some string arrays: part count, bytes, offsets, validity, bit offsets."""

    def __init__(self, parts: Sequence[pa.Array], rows: int) -> None:
        self.keep: list[Any] = []  # what the pointers point into, alive as long as this is
        data, offsets, validity, bits = [], [], [], []
        for part in parts:
            if len(part) != rows or not pa.types.is_string(part.type):
                raise LedgerError(f"a part of {len(part)} {part.type} values, not {rows} strings")
            start = part.offset
            bounds = np.frombuffer(part.buffers()[1], np.int32)[start : start + rows + 1]
            content = part.buffers()[2]
            if int(bounds[0]) < 0 or int(bounds[-1]) > (content.size if content else 0):
                raise LedgerError("string offsets outside their data")
            bitmap = part.buffers()[0] if part.null_count else None
            self.keep += [bounds, content, bitmap]
            data.append(
                ffi.from_buffer(content) if content is not None and content.size else _EMPTY
            )
            offsets.append(ffi.from_buffer("int32_t[]", bounds))
            validity.append(ffi.from_buffer(bitmap) if bitmap is not None else ffi.NULL)
            bits.append(start)
        self.keep += [data, offsets]
        self.arguments = (
            len(data),
            ffi.new("const unsigned char *[]", data),
            ffi.new("const int32_t *[]", offsets),
            ffi.new("const uint8_t *[]", validity),
            ffi.new("int64_t[]", bits),
        )


def hash_pairs(level: bytes) -> bytes:
    """SHA-256(0x01 || left || right) of each complete pair of 32-byte hashes (RFC 9162 node)."""
    pairs = len(level) // (2 * HASH_BYTES)
    if not pairs:
        return b""
    out = bytearray(HASH_BYTES * pairs)
    if not lib.sha256_pairs(ffi.from_buffer(level), pairs, ffi.from_buffer(out)):
        raise LedgerError("OpenSSL could not compute SHA-256")
    return bytes(out)
