"""Leaves hashed in a worker process while events are ingested, so the ledger costs ingest little.

Encoding and hashing cost about 3 µs an event, and the SHA-256 of each leaf and tree node holds
the GIL (hashlib keeps it for inputs under 2 KiB): in the ingesting process that time would be
taken from normalising, and the last segment's hashing would wait until the import ends. So a
pipeline hands each committed batch (the zstd Arrow IPC bytes it just wrote to the WAL) to
`python -m custodes.ledger.worker`, which computes the batch's leaves and ids on another core at
once. When the segment reaches the lake, the pipeline sends the order of its rows in the lake
files and the tree's frontier, and gets back the leaves in that order, the ids and the new
frontier; the ledger records them as if it had hashed the files itself (same bytes: the tests
compare both paths).

The worker starts only once a segment holds `START_EVENTS` events (starting it costs ~0.2 s of
CPU; the live service's small timed flushes and most tests never need it). A segment not wholly
seen by the worker, a worker that died or failed, and a crash replay all fall back to hashing
in-process (`custodes.ledger.hasher`). Messages: kind (1 byte), segment, payload length (u64 each),
payload; replies are pickles (the pipe joins two processes of this program, nothing else).
"""

from __future__ import annotations

import pickle
import struct
import subprocess
import sys
import threading
from typing import IO

import numpy as np
import pyarrow as pa

from custodes.ledger.encoding import ID_BYTES
from custodes.ledger.hasher import Prehashed
from custodes.ledger.merkle import HASH_BYTES, Frontier

#: A segment this large starts the worker (the frames held until then are sent first).
START_EVENTS = 20_000
MESSAGE = struct.Struct("<cQQ")
ADD, FINISH = b"A", b"F"


def _read_exactly(stream: IO[bytes], size: int) -> bytes:
    data = stream.read(size)
    if data is None or len(data) != size:
        raise EOFError("the other side of the ledger pipe closed")
    return data


class LeafWorker:
    """The ingesting side: hands batches to the worker process and asks for segments' leaves."""

    def __init__(self, *, start_events: int | None = None) -> None:
        #: 0: never start (everything is hashed in-process).
        self.start_events = START_EVENTS if start_events is None else start_events
        self.segments_hashed = 0  # segments whose leaves came from the worker
        self.process: subprocess.Popen[bytes] | None = None
        self.is_broken = False
        self.write_lock = threading.Lock()
        self.held: dict[int, list[bytes]] = {}  # frames of a segment, until the worker starts
        self.held_events: dict[int, int] = {}
        self.sent: set[int] = set()  # segments whose every batch went to the worker

    def add(self, seq: int, events_ipc: bytes | pa.Buffer, rows: int) -> None:
        """A batch committed to segment `seq` (call in commit order; empty batches are ignored)."""
        if self.is_broken or rows == 0 or self.start_events == 0:
            return
        if self.process is None:
            for older in [held for held in self.held if held != seq]:
                del self.held[older], self.held_events[older]  # hashed in-process instead
            self.held.setdefault(seq, []).append(bytes(events_ipc))
            self.held_events[seq] = self.held_events.get(seq, 0) + rows
            if self.held_events[seq] < self.start_events:
                return
            self._start()
            frames = self.held.pop(seq)
            del self.held_events[seq]
            self.sent.add(seq)
            for frame in frames:
                self._send(ADD, seq, frame)
            return
        if seq not in self.sent:
            self.sent.add(seq)  # started after the worker: its first batch is this one
        self._send(ADD, seq, events_ipc)

    def leaves(self, seq: int, order: np.ndarray, frontier: Frontier) -> Prehashed | None:
        """Segment `seq`'s leaves and ids in `order`, and `frontier` extended (None: hash here)."""
        self.held.pop(seq, None)
        self.held_events.pop(seq, None)
        if seq not in self.sent or self.is_broken:
            return None
        self.sent.discard(seq)
        request = pickle.dumps(
            (np.ascontiguousarray(order, dtype=np.int64).tobytes(), frontier.size, frontier.hashes)
        )
        self._send(FINISH, seq, request)
        if self.is_broken or self.process is None or self.process.stdout is None:
            return None
        try:
            header = _read_exactly(self.process.stdout, 8)
            reply = pickle.loads(
                _read_exactly(self.process.stdout, int.from_bytes(header, "little"))
            )
        except (OSError, EOFError, pickle.UnpicklingError):
            self._break()
            return None
        if reply[0] != "ok" or reply[1] != seq:
            return None  # the worker could not hash it: the in-process path says why
        _, _, leaves, ids, size, hashes = reply
        self.segments_hashed += 1
        return Prehashed(frontier.size, leaves, ids, Frontier(size, hashes))

    def _start(self) -> None:
        self.process = subprocess.Popen(
            [sys.executable, "-m", "custodes.ledger.worker"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
        )

    def _send(self, kind: bytes, seq: int, payload: bytes | pa.Buffer) -> None:
        if self.is_broken or self.process is None or self.process.stdin is None:
            return
        size = len(payload) if isinstance(payload, bytes) else payload.size
        try:
            with self.write_lock:
                self.process.stdin.write(MESSAGE.pack(kind, seq, size))
                self.process.stdin.write(payload)
                self.process.stdin.flush()
        except OSError:
            self._break()

    def _break(self) -> None:
        self.is_broken = True
        self.sent.clear()
        if self.process is not None:
            self.process.kill()

    def close(self) -> None:
        """Stop the worker process (it exits when its input ends)."""
        process, self.process = self.process, None
        if process is None:
            return
        try:
            if process.stdin is not None:
                process.stdin.close()
        except OSError:
            pass
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        if process.stdout is not None:
            process.stdout.close()


def serve(source: IO[bytes], sink: IO[bytes]) -> None:
    """The worker process: hash each batch as it comes, answer each finished segment."""
    from custodes.ledger.encoding import id_bytes, leaf_hashes

    leaves: dict[int, list[bytes]] = {}
    ids: dict[int, list[bytes]] = {}
    failed: dict[int, str] = {}
    while True:
        header = source.read(MESSAGE.size)
        if len(header) < MESSAGE.size:
            return
        kind, seq, size = MESSAGE.unpack(header)
        payload = _read_exactly(source, size)
        if kind == ADD:
            try:
                table = pa.ipc.open_stream(pa.py_buffer(payload)).read_all()
                leaves.setdefault(seq, []).append(leaf_hashes(table))
                ids.setdefault(seq, []).append(id_bytes(table))
            except Exception as error:  # any failure: that segment is hashed in-process
                failed[seq] = repr(error)
            continue
        order_bytes, size_before, hashes = pickle.loads(payload)
        order = np.frombuffer(order_bytes, dtype=np.int64)
        reply: tuple[object, ...]
        leaf_rows = np.frombuffer(b"".join(leaves.pop(seq, [])), np.uint8).reshape(-1, HASH_BYTES)
        id_rows = np.frombuffer(b"".join(ids.pop(seq, [])), np.uint8).reshape(-1, ID_BYTES)
        if seq in failed or len(leaf_rows) != len(order):
            reply = ("failed", seq, failed.pop(seq, "the segment's rows do not match"))
        else:
            in_order = leaf_rows[order].tobytes()
            frontier = Frontier(size_before, hashes)
            frontier.extend(in_order)
            reply = ("ok", seq, in_order, id_rows[order].tobytes(), frontier.size, frontier.hashes)
        data = pickle.dumps(reply)
        sink.write(len(data).to_bytes(8, "little") + data)
        sink.flush()


if __name__ == "__main__":
    serve(sys.stdin.buffer, sys.stdout.buffer)
