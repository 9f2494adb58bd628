"""The native batch work gives exactly what hashlib and pyarrow give, and refuses bad parts."""

from __future__ import annotations

import hashlib
import random

import pyarrow as pa
import pyarrow.compute as pc
import pytest

from custodes.errors import LedgerError
from custodes.ledger import native
from custodes.ledger.merkle import node_hash


def expected_rows(parts: list[pa.Array], lead: bytes) -> bytes:
    joined = pc.binary_join_element_wise(
        pa.scalar(lead.decode()), *parts, pa.scalar(""), null_handling="skip"
    )
    return b"".join(hashlib.sha256(value.as_py().encode()).digest() for value in joined)


def random_part(chance: random.Random, rows: int) -> pa.Array:
    values = [
        None if chance.random() < 0.2 else "é" * chance.choice([0, 1, 3, 40, 700, 3000])
        for _ in range(rows + 7)
    ]
    return pa.array(values, pa.string()).slice(chance.randrange(8), rows)  # offset, nulls


def test_rows_hash_as_hashlib_hashes_their_joined_parts() -> None:
    chance = random.Random(3)
    for rows in (1, 2, 57, 300):
        parts = [random_part(chance, rows) for _ in range(chance.randrange(1, 9))]
        assert native.hash_rows(parts, rows, b"\x00") == expected_rows(parts, b"\x00")


def test_joined_rows_are_what_pyarrow_joins() -> None:
    chance = random.Random(5)
    for rows in (0, 1, 57, 300):
        parts = [random_part(chance, rows) for _ in range(chance.randrange(1, 9))]
        expected = pc.binary_join_element_wise(*parts, pa.scalar(""), null_handling="skip")
        assert native.join_rows(parts, rows).equals(expected)


def test_rows_without_parts_hash_the_lead_alone() -> None:
    assert native.hash_rows([], 3, b"\x00") == hashlib.sha256(b"\x00").digest() * 3
    assert native.hash_rows([], 0, b"\x00") == b""


def test_parts_that_are_not_strings_of_every_row_are_refused() -> None:
    with pytest.raises(LedgerError, match="not 2 strings"):
        native.hash_rows([pa.array(["a", "b", "c"])], 2)
    with pytest.raises(LedgerError, match="not 1 strings"):
        native.hash_rows([pa.array([b"a"], pa.binary())], 1)


def test_pairs_are_rfc_9162_nodes_and_an_odd_last_hash_is_left_out() -> None:
    hashes = [hashlib.sha256(bytes([index])).digest() for index in range(7)]
    expected = b"".join(node_hash(hashes[index], hashes[index + 1]) for index in range(0, 6, 2))
    assert native.hash_pairs(b"".join(hashes)) == expected
    assert native.hash_pairs(hashes[0]) == b""
