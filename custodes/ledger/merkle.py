"""The Merkle tree of RFC 9162 (Certificate Transparency 2.0), section 2.1.

Leaf hash `SHA-256(0x00 || data)`, node hash `SHA-256(0x01 || left || right)`. Appends go
through a `Frontier` (the perfect subtrees on the right edge: O(log n) per leaf). Whole-tree
work (roots at many sizes, audit paths) goes through `TreeLevels`, built once from the stored
leaves, with every level kept as one `bytes` blob of 32-byte hashes.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence

from custodes.ledger.native import HASH_BYTES as HASH_BYTES
from custodes.ledger.native import hash_pairs

_sha256 = hashlib.sha256


def leaf_hash(data: bytes) -> bytes:
    """The hash of one leaf: SHA-256(0x00 || data)."""
    return _sha256(b"\x00" + data).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    """The hash of an inner node: SHA-256(0x01 || left || right)."""
    return _sha256(b"\x01" + left + right).digest()


def empty_root() -> bytes:
    """The root of the empty tree: SHA-256 of nothing."""
    return _sha256(b"").digest()


def split_point(size: int) -> int:
    """The largest power of two smaller than `size` (size >= 2)."""
    return 1 << ((size - 1).bit_length() - 1)


class Frontier:
    """The right edge of an append-only tree: its perfect subtrees, largest first."""

    def __init__(self, size: int = 0, hashes: Sequence[bytes] = ()) -> None:
        if len(hashes) != size.bit_count():
            raise ValueError("a frontier holds one hash per set bit of its size")
        self.size = size
        self.hashes = list(hashes)

    def append(self, leaf: bytes) -> None:
        """Add one leaf hash."""
        hashes = self.hashes
        hashes.append(leaf)
        size = self.size
        while size & 1:  # each trailing 1 bit of the old size merges two equal subtrees
            right = hashes.pop()
            hashes[-1] = node_hash(hashes[-1], right)
            size >>= 1
        self.size += 1

    def extend(self, leaves: bytes) -> None:
        """Add many leaf hashes, given as one blob of 32-byte hashes.

        Level by level, as `TreeLevels` builds them: the new nodes of each level (after the
        frontier's left sibling waiting there, if any) are paired up in one pass, and an odd
        last node stays on the new frontier. Same result as `append` for each leaf.
        """
        if len(leaves) % HASH_BYTES:
            raise ValueError("leaves must be a whole number of 32-byte hashes")
        if len(leaves) <= 4 * HASH_BYTES:
            for offset in range(0, len(leaves), HASH_BYTES):
                self.append(leaves[offset : offset + HASH_BYTES])
            return
        old, new = self.size, self.size + len(leaves) // HASH_BYTES
        waiting = dict(
            zip(
                [bit for bit in reversed(range(old.bit_length())) if old >> bit & 1],
                self.hashes,
                strict=True,
            )
        )
        frontier: list[bytes] = []
        level, nodes = 0, bytes(leaves)
        while new >> level:
            if level in waiting:  # a left sibling from before: it pairs with the first new node
                nodes = waiting[level] + nodes
            if len(nodes) // HASH_BYTES % 2:
                frontier.append(nodes[-HASH_BYTES:])
            nodes = hash_pairs(nodes)
            level += 1
        self.hashes = frontier[::-1]
        self.size = new

    def root(self) -> bytes:
        """The root hash of the tree so far."""
        if not self.hashes:
            return empty_root()
        root = self.hashes[-1]
        for subtree in reversed(self.hashes[:-1]):
            root = node_hash(subtree, root)
        return root

    def copy(self) -> Frontier:
        """An independent copy."""
        return Frontier(self.size, self.hashes)


class TreeLevels:
    """Every level of the tree over a list of leaves: level h holds the perfect subtrees of 2**h."""

    def __init__(self, leaves: bytes) -> None:
        if len(leaves) % HASH_BYTES:
            raise ValueError("leaves must be a whole number of 32-byte hashes")
        self.size = len(leaves) // HASH_BYTES
        self.levels = [bytes(leaves)]
        while len(self.levels[-1]) >= 2 * HASH_BYTES:
            self.levels.append(hash_pairs(self.levels[-1]))

    def leaf(self, index: int) -> bytes:
        """The leaf hash at `index`."""
        return self.levels[0][index * HASH_BYTES : (index + 1) * HASH_BYTES]

    def subtree(self, start: int, end: int) -> bytes:
        """MTH(D[start:end]) for a range that RFC 9162's recursion produces."""
        width = end - start
        if width & (width - 1) == 0 and start % width == 0:
            height = width.bit_length() - 1
            index = start >> height
            return self.levels[height][index * HASH_BYTES : (index + 1) * HASH_BYTES]
        middle = start + split_point(width)
        return node_hash(self.subtree(start, middle), self.subtree(middle, end))

    def root(self, size: int | None = None) -> bytes:
        """The root of the first `size` leaves (all of them by default)."""
        size = self.size if size is None else size
        if not 0 <= size <= self.size:
            raise ValueError(f"no tree of size {size} over {self.size} leaves")
        return empty_root() if size == 0 else self.subtree(0, size)

    def inclusion_proof(self, index: int, size: int) -> list[bytes]:
        """The audit path PATH(index, D[0:size]) of RFC 9162 section 2.1.3.1."""
        if not 0 <= index < size <= self.size:
            raise ValueError(f"leaf {index} is not in a tree of size {size}")
        path: list[bytes] = []
        start, end = 0, size
        while end - start > 1:
            middle = start + split_point(end - start)
            if index < middle:
                path.append(self.subtree(middle, end))
                end = middle
            else:
                path.append(self.subtree(start, middle))
                start = middle
        path.reverse()
        return path

    def consistency_proof(self, old_size: int, size: int) -> list[bytes]:
        """The proof PROOF(old_size, D[0:size]) of RFC 9162 section 2.1.4.1."""
        if not 0 < old_size <= size <= self.size:
            raise ValueError(f"no consistency proof from {old_size} to {size}")
        return self._subproof(old_size, 0, size, True)

    def _subproof(self, m: int, start: int, end: int, is_complete: bool) -> list[bytes]:
        width = end - start
        if m == width:
            return [] if is_complete else [self.subtree(start, end)]
        middle = split_point(width)
        if m <= middle:
            proof = self._subproof(m, start, start + middle, is_complete)
            return [*proof, self.subtree(start + middle, end)]
        proof = self._subproof(m - middle, start + middle, end, False)
        return [*proof, self.subtree(start, start + middle)]


def root_from_inclusion(leaf: bytes, index: int, size: int, path: Sequence[bytes]) -> bytes:
    """The root an audit path leads to (RFC 9162 section 2.1.3.2); ValueError if malformed."""
    if not 0 <= index < size:
        raise ValueError("leaf index outside the tree")
    fn, sn, result = index, size - 1, leaf
    for sibling in path:
        if sn == 0:
            raise ValueError("audit path too long")
        if fn & 1 or fn == sn:
            result = node_hash(sibling, result)
            if not fn & 1:
                while fn and not fn & 1:
                    fn >>= 1
                    sn >>= 1
        else:
            result = node_hash(result, sibling)
        fn >>= 1
        sn >>= 1
    if sn != 0:
        raise ValueError("audit path too short")
    return result


def verify_consistency(
    old_size: int, old_root: bytes, size: int, root: bytes, proof: Sequence[bytes]
) -> bool:
    """Whether `proof` shows (size, root) extends (old_size, old_root) (RFC 9162 2.1.4.2)."""
    if not 0 < old_size <= size:
        return False
    if old_size == size:
        return not proof and old_root == root
    path = list(proof)
    if old_size & (old_size - 1) == 0:  # a power of two: the old root starts the path
        path.insert(0, old_root)
    if not path:
        return False
    fn, sn = old_size - 1, size - 1
    while fn & 1:
        fn >>= 1
        sn >>= 1
    fr = sr = path[0]
    for sibling in path[1:]:
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            fr = node_hash(sibling, fr)
            sr = node_hash(sibling, sr)
            if not fn & 1:
                while fn and not fn & 1:
                    fn >>= 1
                    sn >>= 1
        else:
            sr = node_hash(sr, sibling)
        fn >>= 1
        sn >>= 1
    return fr == old_root and sr == root and sn == 0
