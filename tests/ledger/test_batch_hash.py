"""The batch SHA-256 gives exactly hashlib's hashes, and refuses offsets outside its data."""

from __future__ import annotations

import hashlib
import random

import numpy as np
import pyarrow as pa
import pytest

from custodes.errors import LedgerError
from custodes.ledger import batch_hash
from custodes.ledger.encoding import leaf_hashes
from custodes.ledger.merkle import node_hash


def test_each_message_hashes_as_hashlib_does() -> None:
    chance = random.Random(3)
    messages = [chance.randbytes(chance.choice([0, 1, 55, 64, 1100, 5000])) for _ in range(300)]
    data = b"".join(messages)
    offsets = np.cumsum([0] + [len(message) for message in messages], dtype=np.int64)
    expected = b"".join(hashlib.sha256(message).digest() for message in messages)
    assert batch_hash.hash_each(data, offsets) == expected


def test_a_sliced_arrow_array_hashes_only_its_own_rows() -> None:
    texts = pa.array([f"\x00event {index} " * (index % 7) for index in range(50)], pa.string())
    table = pa.RecordBatch.from_arrays([texts.slice(10, 20)], ["message"])
    single = [
        pa.RecordBatch.from_arrays([texts.slice(row, 1)], ["message"]) for row in range(10, 30)
    ]
    assert leaf_hashes(table) == b"".join(leaf_hashes(batch) for batch in single)


def test_pairs_are_rfc_9162_nodes_and_an_odd_last_hash_is_left_out() -> None:
    hashes = [hashlib.sha256(bytes([index])).digest() for index in range(7)]
    expected = b"".join(node_hash(hashes[index], hashes[index + 1]) for index in range(0, 6, 2))
    assert batch_hash.hash_pairs(b"".join(hashes)) == expected
    assert batch_hash.hash_pairs(hashes[0]) == b""


def test_offsets_outside_the_data_are_refused() -> None:
    with pytest.raises(LedgerError, match="outside"):
        batch_hash.hash_each(b"abc", np.array([0, 4], np.int32))
    with pytest.raises(LedgerError, match="outside"):
        batch_hash.hash_each(b"abc", np.array([2, 1], np.int32))
    assert batch_hash.hash_each(b"", np.array([0], np.int32)) == b""
