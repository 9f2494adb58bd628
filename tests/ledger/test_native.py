"""The native batch work writes the netstrings the format defines and hashes as hashlib does."""

from __future__ import annotations

import hashlib
import random

import pyarrow as pa
import pytest

from custodes.errors import LedgerError
from custodes.ledger import native
from custodes.ledger.merkle import node_hash
from custodes.ledger.native import AS_IS, NETSTRING, NETSTRING_OR_N, Piece


def expected_row(pieces: list[Piece], row: int, lead: bytes) -> bytes:
    """What a row's encoding is, written the slow and obvious way."""
    out = lead
    for piece in pieces:
        value = piece.values[row].as_py()
        if value is None:
            out += b"n" if piece.kind == NETSTRING_OR_N else b""
            continue
        data = value.encode()
        out += data if piece.kind == AS_IS else piece.header + b"%d:" % len(data) + data
    return out


def random_pieces(chance: random.Random, rows: int) -> list[Piece]:
    pieces = []
    for _ in range(chance.randrange(0, 9)):
        values = [
            None if chance.random() < 0.2 else "é" * chance.choice([0, 1, 3, 40, 700, 3000])
            for _ in range(rows + 7)
        ]
        array = pa.array(values, pa.string()).slice(chance.randrange(8), rows)  # an offset
        header = chance.choice([b"", b"s", b"7:message" + b"s"])
        pieces.append(Piece(array, chance.choice([AS_IS, NETSTRING, NETSTRING_OR_N]), header))
    return pieces


def test_rows_are_encoded_and_hashed_as_the_format_says() -> None:
    chance = random.Random(3)
    for rows in (0, 1, 2, 57, 300):
        for _ in range(4):
            pieces = random_pieces(chance, rows)
            expected = [expected_row(pieces, row, b"\x00") for row in range(rows)]
            encoded = native.encode_rows(pieces, rows, b"\x00")
            assert [value.as_py().encode() for value in encoded] == expected
            hashes = b"".join(hashlib.sha256(row).digest() for row in expected)
            assert native.hash_rows(pieces, rows, b"\x00") == hashes


def test_a_row_larger_than_the_scratch_buffer_hashes_whole() -> None:
    pieces = [Piece(pa.array(["x" * 200_000, "y"]), NETSTRING, b"h"), Piece(pa.array(["z", None]))]
    rows = [b"\x00h200000:" + b"x" * 200_000 + b"z", b"\x00h1:y"]
    expected = b"".join(hashlib.sha256(row).digest() for row in rows)
    assert native.hash_rows(pieces, 2, b"\x00") == expected


def test_a_netstring_length_counts_bytes_not_characters() -> None:
    piece = Piece(pa.array(["é", ""]), NETSTRING, b"3:keys")
    assert native.encode_rows([piece], 2).to_pylist() == ["3:keys2:é", "3:keys0:"]


def test_pieces_that_are_not_strings_of_every_row_are_refused() -> None:
    with pytest.raises(LedgerError, match="not 2 strings"):
        native.hash_rows([Piece(pa.array(["a", "b", "c"]))], 2)
    with pytest.raises(LedgerError, match="not 1 strings"):
        native.encode_rows([Piece(pa.array([b"a"], pa.binary()))], 1)
    with pytest.raises(LedgerError, match="no piece kind"):
        native.encode_rows([Piece(pa.array(["a"]), 7)], 1)


def test_pairs_are_rfc_9162_nodes_and_an_odd_last_hash_is_left_out() -> None:
    hashes = [hashlib.sha256(bytes([index])).digest() for index in range(7)]
    expected = b"".join(node_hash(hashes[index], hashes[index + 1]) for index in range(0, 6, 2))
    assert native.hash_pairs(b"".join(hashes)) == expected
    assert native.hash_pairs(hashes[0]) == b""
