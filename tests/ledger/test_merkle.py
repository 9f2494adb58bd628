"""The tree against RFC 9162's own recursive definitions, for every size up to 40."""

from __future__ import annotations

import contextlib
import hashlib

import pytest

from custodes.ledger.merkle import (
    Frontier,
    TreeLevels,
    empty_root,
    leaf_hash,
    node_hash,
    root_from_inclusion,
    verify_consistency,
)

SIZES = range(1, 41)


def leaves(count: int) -> list[bytes]:
    return [leaf_hash(f"event {number}".encode()) for number in range(count)]


def mth(items: list[bytes]) -> bytes:
    """MTH(D[n]) exactly as RFC 9162 section 2.1.1 defines it."""
    if not items:
        return hashlib.sha256(b"").digest()
    if len(items) == 1:
        return items[0]
    k = 1
    while k * 2 < len(items):
        k *= 2
    return node_hash(mth(items[:k]), mth(items[k:]))


def test_leaf_and_node_hashes_carry_the_rfc_prefixes() -> None:
    assert leaf_hash(b"") == hashlib.sha256(b"\x00").digest()
    assert node_hash(b"a", b"b") == hashlib.sha256(b"\x01ab").digest()
    assert empty_root() == hashlib.sha256(b"").digest()


@pytest.mark.parametrize("size", SIZES)
def test_frontier_and_levels_give_the_rfc_root(size: int) -> None:
    items = leaves(size)
    frontier = Frontier()
    for number, item in enumerate(items, start=1):
        frontier.append(item)
        assert frontier.root() == mth(items[:number])
    tree = TreeLevels(b"".join(items))
    assert [tree.root(n) for n in range(size + 1)] == [mth(items[:n]) for n in range(size + 1)]


def test_frontier_restored_from_its_hashes_continues_the_same_tree() -> None:
    items = leaves(37)
    frontier = Frontier()
    frontier.extend(b"".join(items[:21]))
    restored = Frontier(frontier.size, frontier.hashes)
    restored.extend(b"".join(items[21:]))
    assert restored.root() == mth(items)


@pytest.mark.parametrize("first", [0, 1, 2, 3, 5, 8, 13, 21])
def test_extending_by_a_blob_equals_appending_one_leaf_at_a_time(first: int) -> None:
    items = leaves(first + 300)
    one_by_one, by_blob = Frontier(), Frontier()
    for item in items:
        one_by_one.append(item)
    by_blob.extend(b"".join(items[:first]))
    for start, end in ((first, first + 7), (first + 7, first + 100), (first + 100, first + 300)):
        by_blob.extend(b"".join(items[start:end]))
        assert by_blob.root() == mth(items[:end])
    assert (by_blob.size, by_blob.hashes) == (one_by_one.size, one_by_one.hashes)


@pytest.mark.parametrize("size", SIZES)
def test_every_inclusion_proof_verifies_and_a_changed_one_does_not(size: int) -> None:
    items = leaves(size)
    tree = TreeLevels(b"".join(items))
    root = tree.root()
    for index in range(size):
        path = tree.inclusion_proof(index, size)
        assert root_from_inclusion(items[index], index, size, path) == root
        assert root_from_inclusion(leaf_hash(b"other"), index, size, path) != root
        if path:
            bent = [*path[:-1], bytes(32)]
            assert root_from_inclusion(items[index], index, size, bent) != root
        if size > 1:
            other = (index + 1) % size
            with contextlib.suppress(ValueError):  # a path too long or short is refused outright
                assert root_from_inclusion(items[index], other, size, path) != root


@pytest.mark.parametrize("size", SIZES)
def test_every_consistency_proof_verifies(size: int) -> None:
    tree = TreeLevels(b"".join(leaves(size)))
    for old in range(1, size + 1):
        proof = tree.consistency_proof(old, size)
        assert verify_consistency(old, tree.root(old), size, tree.root(size), proof)
        assert not verify_consistency(old, leaf_hash(b"forged"), size, tree.root(size), proof)
        if proof:
            assert not verify_consistency(
                old, tree.root(old), size, tree.root(size), [*proof[:-1], bytes(32)]
            )
