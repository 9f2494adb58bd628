"""The ledger's batch work in C, without the GIL: canonical encodings, their SHA-256, tree nodes.

The ledger encodes and hashes about a million events per million ingested, and hashes as many
inner nodes. One hashlib call each costs more than the hashing and holds the GIL (messages under
2 KiB), and pyarrow's element-wise join costs about 20 ns per piece of an encoding, so done in
Python the ledger's thread would stall the ingest it runs beside. These functions do a batch per
call (`native_build.py` holds the C). `encoding.py` says what the pieces are; tests compare the
results with pyarrow's joins, hashlib and the standard-library verifier.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pyarrow as pa

from custodes.errors import LedgerError
from custodes.ledger._native import ffi, lib

HASH_BYTES = 32
#: How a piece writes a row's value: as it is; after `header` as `<len>:<value>` (nothing when
#: null); the same, or `n` when null.
AS_IS, NETSTRING, NETSTRING_OR_N = 0, 1, 2
_EMPTY = ffi.new("unsigned char[1]")  # where an array without bytes points


@dataclass(frozen=True, slots=True)
class Piece:
    """One string array's part of every row (see AS_IS, NETSTRING, NETSTRING_OR_N)."""

    values: pa.Array
    kind: int = AS_IS
    header: bytes = b""


def encode_rows(pieces: Sequence[Piece], rows: int, lead: bytes = b"") -> pa.Array:
    """Each row: `lead`, then every piece's value in that row, as one string array."""
    view = _View(pieces, rows)
    offsets = np.empty(rows + 1, np.int32)
    out_offsets = ffi.from_buffer("int32_t[]", offsets)
    size = lib.encode_rows(rows, lead, len(lead), view.pieces, len(pieces), out_offsets, ffi.NULL)
    if size < 0:
        raise LedgerError("encodings past 2 GiB: encode fewer rows at once")
    data = bytearray(size)
    if size:
        written = ffi.from_buffer(data)
        lib.encode_rows(rows, lead, len(lead), view.pieces, len(pieces), out_offsets, written)
    return pa.StringArray.from_buffers(rows, pa.py_buffer(offsets), pa.py_buffer(data))


def hash_rows(pieces: Sequence[Piece], rows: int, lead: bytes = b"") -> bytes:
    """SHA-256 of each row as `encode_rows` gives it, as one blob of 32-byte hashes."""
    if rows <= 0:
        return b""
    view = _View(pieces, rows)
    out = bytearray(HASH_BYTES * rows)
    if not lib.sha256_rows(rows, lead, len(lead), view.pieces, len(pieces), ffi.from_buffer(out)):
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


class _View:
    """The pieces as C sees them (`piece_t`), and what their pointers point into."""

    def __init__(self, pieces: Sequence[Piece], rows: int) -> None:
        self.pieces = ffi.new("piece_t[]", max(len(pieces), 1))
        self.keep: list[Any] = []  # alive as long as the pointers are
        for index, piece in enumerate(pieces):
            values = piece.values
            if len(values) != rows or not pa.types.is_string(values.type):
                raise LedgerError(
                    f"a piece of {len(values)} {values.type} values, not {rows} strings"
                )
            if piece.kind not in (AS_IS, NETSTRING, NETSTRING_OR_N):
                raise LedgerError(f"no piece kind {piece.kind}")
            bounds = np.frombuffer(values.buffers()[1], np.int32)[values.offset :][: rows + 1]
            content = values.buffers()[2]
            if int(bounds[0]) < 0 or int(bounds[-1]) > (content.size if content else 0):
                raise LedgerError("string offsets outside their data")
            bitmap = values.buffers()[0] if values.null_count else None
            pointers = (
                ffi.from_buffer(piece.header) if piece.header else _EMPTY,
                ffi.from_buffer(content) if content is not None and content.size else _EMPTY,
                ffi.from_buffer("int32_t[]", bounds),
                ffi.from_buffer(bitmap) if bitmap is not None else ffi.NULL,
            )
            self.keep += [piece, bounds, content, bitmap, pointers]
            target = self.pieces[index]
            target.kind, target.header_len, target.validity_offset = (
                piece.kind,
                len(piece.header),
                values.offset,
            )
            target.header, target.data, target.offsets, target.validity = pointers
