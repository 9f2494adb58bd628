"""The wiring: the only module that knows the order of the stages.

    records -> normalise -> WAL (fsync) -> acknowledge -> on_commit (detection)
                                 `-> flush: lake (Parquet) + quarantine -> ledger -> segment deleted

`submit` returns only after the batch is durable, so whoever calls it may then acknowledge the
sender. Segments are moved into the lake by a background thread (Parquet writing releases the
GIL, so it overlaps with parsing); leftover segments from a crash are moved on open.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import pyarrow as pa

from custodes.events import EVENT_SCHEMA, RawRecord
from custodes.ingest.wal import Cursor, WriteAheadLog, read_segment, segment_seq
from custodes.normalise import Normaliser
from custodes.plugins import Registry, load
from custodes.store.lake import EventLedger, write_events
from custodes.store.quarantine import QUARANTINE_SCHEMA, failures_batch, write_failures

WAL_DIR = "wal"


@dataclass(frozen=True, slots=True)
class SubmitResult:
    """What became of a submitted batch."""

    stored: int
    quarantined: int


class Pipeline:
    """Normalise, log durably, hand batches to detection, move them into the lake. Thread-safe."""

    def __init__(
        self,
        data_dir: Path,
        normaliser: Normaliser,
        *,
        node: str = "node0",
        ledger: EventLedger | None = None,
        registry: Registry | None = None,
        max_segment_bytes: int = 128 << 20,
    ) -> None:
        self.data_dir = data_dir
        self.normaliser = normaliser
        self.node = node
        self.ledger = ledger
        self.registry = registry
        self.on_commit: list[Callable[[pa.RecordBatch], None]] = []
        self.wal = WriteAheadLog(data_dir / WAL_DIR, max_segment_bytes=max_segment_bytes)
        self.cursors: dict[str, int] = dict(self.wal.state.cursors)
        self.lock = threading.Lock()
        self.flush_lock = threading.Lock()
        self.pending: queue.Queue[Path | None] = queue.Queue()
        self.flush_error: BaseException | None = None
        for segment in self.wal.segments():  # a crash left these: move them into the lake now
            self.move_segment(segment)
        self.cursors = dict(self.wal.state.cursors)
        self.flusher = threading.Thread(target=self.flush_loop, name="custodes-flush", daemon=True)
        self.flusher.start()

    def submit(self, records: Sequence[RawRecord], *, cursor: Cursor | None = None) -> SubmitResult:
        """Normalise and commit a batch (with the source's cursor); durable when this returns."""
        events, failures = self.normaliser.normalise(records)
        failed = failures_batch(failures, datetime.now(UTC))
        self.commit(events, failed, cursor)
        return SubmitResult(stored=events.num_rows, quarantined=failed.num_rows)

    def commit(
        self, events: pa.RecordBatch, failures: pa.RecordBatch, cursor: Cursor | None = None
    ) -> None:
        """Append already-normalised events and failures to the WAL, then tell `on_commit`."""
        self.raise_flush_error()
        with self.lock:
            self.wal.append(events, failures, cursor)
            if cursor is not None:
                self.cursors[cursor[0]] = cursor[1]
            if self.wal.is_full():
                self.pending.put(self.wal.roll())
        if events.num_rows:
            for listener in self.on_commit:
                listener(events)

    def cursor(self, key: str) -> int | None:
        """The last committed position for a cursor key (None when never seen)."""
        with self.lock:
            return self.cursors.get(key)

    def flush(self) -> None:
        """Move everything committed so far into the lake and wait until it is there."""
        with self.lock:
            closed = self.wal.roll()
        if closed is not None:
            self.pending.put(closed)
        self.pending.join()
        self.raise_flush_error()

    def close(self) -> None:
        """Flush, stop the background thread, release the data directory."""
        try:
            self.flush()
        finally:
            self.pending.put(None)
            self.flusher.join()
            self.wal.close()
            if self.ledger is not None:
                self.ledger.close()

    def __enter__(self) -> Pipeline:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def flush_loop(self) -> None:
        """Background thread: move closed segments into the lake, in order."""
        while True:
            segment = self.pending.get()
            try:
                if segment is None:
                    return
                if self.flush_error is None:
                    self.move_segment(segment)
            except BaseException as error:  # kept and raised to the caller of submit/flush
                self.flush_error = error
            finally:
                self.pending.task_done()

    def raise_flush_error(self) -> None:
        """Re-raise, in the caller's thread, an error the background flush hit."""
        if self.flush_error is not None:
            raise self.flush_error

    def move_segment(self, segment: Path) -> None:
        """Segment -> Parquet files in the lake and quarantine -> ledger -> state -> delete."""
        with self.flush_lock:
            seq = segment_seq(segment)
            frames = list(read_segment(segment))
            events = pa.Table.from_batches(
                [frame.events for frame in frames if frame.events.num_rows], schema=EVENT_SCHEMA
            )
            failures = pa.Table.from_batches(
                [frame.failures for frame in frames if frame.failures.num_rows],
                schema=QUARANTINE_SCHEMA,
            )
            write_events(self.data_dir, events, node=self.node, seq=seq, ledger=self.ledger)
            write_failures(self.data_dir, failures, node=self.node, seq=seq)
            state = self.wal.state
            for frame in frames:
                if frame.cursor is not None:
                    state.cursors[frame.cursor[0]] = frame.cursor[1]
            self.wal.save_state(state)
            self.wal.remove(segment)


def open_pipeline(
    data_dir: Path,
    *,
    registry: Registry | None = None,
    node: str = "node0",
    detect: bool = True,
    max_segment_bytes: int = 128 << 20,
) -> Pipeline:
    """The pipeline for a data directory, with the registered parsers; replays a leftover WAL."""
    registry = registry if registry is not None else load()
    data_dir.mkdir(parents=True, exist_ok=True)
    pipeline = Pipeline(
        data_dir,
        Normaliser(registry.parsers),
        node=node,
        registry=registry,
        max_segment_bytes=max_segment_bytes,
    )
    del detect  # streaming detection plugs into pipeline.on_commit here (detect stage)
    return pipeline
