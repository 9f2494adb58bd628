"""Leaves hashed as batches are committed, so a segment's ledger work is done when it is moved.

A thread takes each committed batch (in commit order) and computes its events' leaves and ids
at once, while the caller goes on parsing. When the segment reaches the lake, `leaves` gives
them in the order of the lake files' rows, with the tree's frontier extended: the ledger records
them exactly as if it had hashed the files (tests compare both paths byte for byte). So hashing
overlaps ingest instead of starting when a segment is full, and the end of an import waits only
for its last batch. A segment the thread has not wholly seen (a crash replay) or could not hash
falls back to `custodes.ledger.hasher` in the flush thread.
"""

from __future__ import annotations

import queue
import threading
import time
from concurrent.futures import Future
from dataclasses import dataclass, field

import numpy as np
import pyarrow as pa

from custodes.ledger.encoding import ID_BYTES, id_bytes, leaf_hashes
from custodes.ledger.hasher import Prehashed
from custodes.ledger.merkle import HASH_BYTES, Frontier

#: Batches waiting for the thread; a full queue slows committers down instead of piling up.
MAX_WAITING = 4


class SegmentLeaves:
    """Leaves and ids of committed batches per WAL segment, in commit order."""

    def __init__(self) -> None:
        self.leaves: dict[int, list[bytes]] = {}
        self.ids: dict[int, list[bytes]] = {}
        self.failed: set[int] = set()

    def add(self, seq: int, batch: pa.RecordBatch) -> None:
        """Hash one batch of segment `seq` (a failure sends the segment to the fallback)."""
        try:
            self.leaves.setdefault(seq, []).append(leaf_hashes(batch))
            self.ids.setdefault(seq, []).append(id_bytes(batch))
        except Exception:  # noqa: BLE001 - the in-process fallback raises the real error
            self.failed.add(seq)

    def finish(self, seq: int, order: np.ndarray, frontier: Frontier) -> Prehashed | None:
        """Segment `seq`'s leaves and ids in `order`, and `frontier` extended by them."""
        leaves = np.frombuffer(b"".join(self.leaves.pop(seq, [])), np.uint8)
        ids = np.frombuffer(b"".join(self.ids.pop(seq, [])), np.uint8)
        if seq in self.failed or len(leaves) != len(order) * HASH_BYTES:
            self.failed.discard(seq)
            return None
        in_order = leaves.reshape(-1, HASH_BYTES)[order].tobytes()
        grown = frontier.copy()
        grown.extend(in_order)
        return Prehashed(frontier.size, in_order, ids.reshape(-1, ID_BYTES)[order].tobytes(), grown)


@dataclass
class Finish:
    """A request to the thread: a segment's leaves in `order`, from `frontier`."""

    seq: int
    order: np.ndarray
    frontier: Frontier
    answer: Future[Prehashed | None] = field(default_factory=Future)


class LeafHashing:
    """The committing side: batches in, a segment's leaves out (from a thread started on use)."""

    def __init__(self) -> None:
        self.segments = SegmentLeaves()
        self.queue: queue.Queue[tuple[int, pa.RecordBatch] | Finish | None] = queue.Queue(
            MAX_WAITING
        )
        self.thread: threading.Thread | None = None
        self.seen: set[int] = set()  # segments whose every batch was handed over
        self.segments_hashed = 0
        self.seconds = 0.0  # the thread's time at work, wall and CPU (for benchmarks)
        self.cpu_seconds = 0.0

    def add(self, seq: int, batch: pa.RecordBatch) -> None:
        """A batch committed to segment `seq`, in commit order, from the segment's first on."""
        if batch.num_rows == 0:
            return
        self.seen.add(seq)
        if self.thread is None:
            self.thread = threading.Thread(target=self.run, name="custodes-leaves", daemon=True)
            self.thread.start()
        self.queue.put((seq, batch))

    def leaves(self, seq: int, order: np.ndarray, frontier: Frontier) -> Prehashed | None:
        """Segment `seq`'s leaves in `order` and `frontier` extended (None: hash it yourself)."""
        if seq not in self.seen or self.thread is None:
            return None
        self.seen.discard(seq)
        request = Finish(seq, order, frontier)
        self.queue.put(request)
        result = request.answer.result()
        if result is not None:
            self.segments_hashed += 1
        return result

    def run(self) -> None:
        """The thread: hash batches as they come, finish segments when asked."""
        while (item := self.queue.get()) is not None:
            started, started_cpu = time.perf_counter(), time.thread_time()
            self.work(item)
            self.seconds += time.perf_counter() - started
            self.cpu_seconds += time.thread_time() - started_cpu

    def work(self, item: tuple[int, pa.RecordBatch] | Finish) -> None:
        """Hash a batch, or answer a finished segment."""
        if not isinstance(item, Finish):
            self.segments.add(*item)
            return
        try:
            item.answer.set_result(self.segments.finish(item.seq, item.order, item.frontier))
        except Exception:  # noqa: BLE001 - the fallback hashes it
            item.answer.set_result(None)

    def close(self) -> None:
        """Stop the thread (after what is queued)."""
        if self.thread is not None:
            self.queue.put(None)
            self.thread.join()
            self.thread = None
