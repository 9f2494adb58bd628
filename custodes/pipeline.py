"""The wiring: the only module that knows the order of the stages.

    records -> normalise -> withhold protected channels -> WAL (fsync) -> acknowledge -> on_commit
                                 `-> flush: lake (Parquet) + quarantine -> ledger -> segment deleted

`submit` returns only after the batch is durable, so whoever calls it may then acknowledge the
sender. Segments are moved into the lake by a background thread (Parquet writing releases the
GIL, so it overlaps with parsing); leftover segments from a crash are moved on open.
"""

from __future__ import annotations

import queue
import threading
import time
import weakref
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import pyarrow as pa

from custodes.events import EVENT_SCHEMA, RawRecord
from custodes.file_import import FormatCounts as FormatCounts
from custodes.file_import import import_files as import_files
from custodes.ingest.wal import (
    Cursor,
    Frame,
    WriteAheadLog,
    fsync_directory,
    read_segment,
    segment_seq,
)
from custodes.ledger import Ledger
from custodes.normalise import Normaliser
from custodes.oversight.policy import load_policy
from custodes.oversight.protected import ProtectedChannels
from custodes.plugins import Registry, load
from custodes.store.lake import EventLedger, lake_files, record_files, write_lake_files
from custodes.store.quarantine import (
    QUARANTINE_SCHEMA,
    failures_batch,
    quarantine_files,
    quarantine_records,
    read_quarantine,
    write_failures,
)
from custodes.store.resend import (
    DEFAULT_RESEND_GRACE_SECS,
    DUPLICATE_RESEND,
    ResendFilter,
    read_replayed_segment,
)

WAL_DIR = "wal"
MAX_PENDING = 2  # closed segments waiting for the flush thread


@dataclass(frozen=True, slots=True)
class SubmitResult:
    """What became of a submitted batch."""

    stored: int
    quarantined: int
    withheld: int = 0  # protected-channel events: counted per day, never stored
    duplicates: int = 0  # resent after a crash, already stored by the WAL replay


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
        max_segment_bytes: int = 64 << 20,
        resend_grace_secs: float = DEFAULT_RESEND_GRACE_SECS,
    ) -> None:
        self.data_dir = data_dir
        self.normaliser = normaliser
        self.node = node
        self.ledger = ledger
        self.registry = registry
        self.on_commit: list[Callable[[pa.RecordBatch], None]] = []
        #: The policy's protected-channel step (custodes.oversight.ProtectedChannels.withhold).
        self.withhold: Callable[[pa.RecordBatch], pa.RecordBatch] | None = None
        self.wal = WriteAheadLog(data_dir / WAL_DIR, max_segment_bytes=max_segment_bytes)
        self.cursors: dict[str, int] = dict(self.wal.state.cursors)
        self.lock = threading.Lock()
        self.flush_lock = threading.Lock()
        # Closed segments waiting for the flush thread, with their frames still in memory (no
        # need to read back what we just wrote). Bounded: a slow disk slows submitters down
        # instead of piling up memory.
        self.pending: queue.Queue[tuple[Path, list[Frame]] | None] = queue.Queue(MAX_PENDING)
        self.frames: list[Frame] = []
        self.flush_error: BaseException | None = None
        #: Seconds spent per step, for benchmarks and `custodes ingest --timings`.
        self.seconds = dict.fromkeys(("normalise", "wal", "detect", "lake", "ledger"), 0.0)
        #: The same steps in CPU seconds of the thread doing them (wall time counts waiting too).
        self.cpu_seconds = dict.fromkeys(self.seconds, 0.0)
        #: Ids the crash replay stored: a sender that missed its "ok" resends them.
        self.resends = ResendFilter(grace_secs=resend_grace_secs)
        for segment in self.wal.segments():  # a crash left these: move them into the lake now
            self.move_segment(segment, read_replayed_segment(self.resends, segment, node=node))
        self.cursors = dict(self.wal.state.cursors)
        self.flusher = threading.Thread(target=self.flush_loop, name="custodes-flush", daemon=True)
        self.flusher.start()

    def submit(
        self,
        records: Sequence[RawRecord],
        *,
        cursor: Cursor | None = None,
        cursors: Sequence[Cursor] = (),
    ) -> SubmitResult:
        """Normalise and commit a batch with the sources' cursors; durable when this returns."""
        started, started_cpu = time.perf_counter(), time.thread_time()
        events, failures = self.normaliser.normalise(records)
        events, duplicates = self.resends.drop(events)
        if duplicates and self.registry is not None:
            self.registry.track_action(DUPLICATE_RESEND, count=duplicates)
        failed = failures_batch(failures, datetime.now(UTC))
        normalised = events.num_rows
        if self.withhold is not None:
            events = self.withhold(events)
        self.seconds["normalise"] += time.perf_counter() - started
        self.cpu_seconds["normalise"] += time.thread_time() - started_cpu
        self.commit(events, failed, [cursor, *cursors] if cursor is not None else cursors)
        return SubmitResult(
            stored=events.num_rows,
            quarantined=failed.num_rows,
            withheld=normalised - events.num_rows,
            duplicates=duplicates,
        )

    def commit(
        self, events: pa.RecordBatch, failures: pa.RecordBatch, cursors: Sequence[Cursor] = ()
    ) -> None:
        """Append already-normalised events and failures to the WAL, then tell `on_commit`."""
        self.raise_flush_error()
        started, started_cpu = time.perf_counter(), time.thread_time()
        with self.lock:
            self.wal.append(events, failures, cursors)
            self.frames.append(Frame(events, failures, tuple(cursors)))
            self.cursors.update(cursors)
            if self.wal.is_full():
                self.pending.put(self.roll())
        logged, logged_cpu = time.perf_counter(), time.thread_time()
        self.seconds["wal"] += logged - started
        self.cpu_seconds["wal"] += logged_cpu - started_cpu
        if events.num_rows:
            for listener in self.on_commit:
                listener(events)
            self.seconds["detect"] += time.perf_counter() - logged
            self.cpu_seconds["detect"] += time.thread_time() - logged_cpu

    def cursor(self, key: str) -> int | None:
        """The last committed position for a cursor key (None when never seen)."""
        with self.lock:
            return self.cursors.get(key)

    def roll(self) -> tuple[Path, list[Frame]] | None:
        """Close the open segment; returns it with its frames (call with the lock held)."""
        closed = self.wal.roll()
        frames, self.frames = self.frames, []
        return (closed, frames) if closed is not None else None

    def flush(self) -> None:
        """Move everything committed so far into the lake and wait until it is there."""
        with self.lock:
            closed = self.roll()
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
            closed = self.pending.get()
            try:
                if closed is None:
                    return
                if self.flush_error is None:
                    self.move_segment(*closed)
            except BaseException as error:  # kept and raised to the caller of submit/flush
                self.flush_error = error
            finally:
                self.pending.task_done()

    def raise_flush_error(self) -> None:
        """Re-raise, in the caller's thread, an error the background flush hit."""
        if self.flush_error is not None:
            raise self.flush_error

    def move_segment(self, segment: Path, frames: list[Frame] | None = None) -> None:
        """Segment -> Parquet files in the lake and quarantine -> ledger -> state -> delete.

        `frames` are the segment's content when this process wrote it; after a crash they are
        read back from the file.
        """
        with self.flush_lock:
            seq = segment_seq(segment)
            frames = frames if frames is not None else list(read_segment(segment))
            events = pa.Table.from_batches(
                [frame.events for frame in frames if frame.events.num_rows], schema=EVENT_SCHEMA
            )
            failures = pa.Table.from_batches(
                [frame.failures for frame in frames if frame.failures.num_rows],
                schema=QUARANTINE_SCHEMA,
            )
            started, started_cpu = time.perf_counter(), time.thread_time()
            files = lake_files(events, node=self.node, seq=seq)
            write_lake_files(self.data_dir, files)
            write_failures(self.data_dir, failures, node=self.node, seq=seq)
            written, written_cpu = time.perf_counter(), time.thread_time()
            self.seconds["lake"] += written - started
            self.cpu_seconds["lake"] += written_cpu - started_cpu
            if self.ledger is not None:
                record_files(self.ledger, files)
                self.seconds["ledger"] += time.perf_counter() - written
                self.cpu_seconds["ledger"] += time.thread_time() - written_cpu
            state = self.wal.state
            for frame in frames:
                state.cursors.update(frame.cursors)
            self.wal.save_state(state)
            self.wal.remove(segment)


def open_pipeline(
    data_dir: Path,
    *,
    registry: Registry | None = None,
    node: str | None = None,
    detect: bool = True,
    max_segment_bytes: int = 64 << 20,
    rules: Sequence[Path] = (),
    ledger: bool = True,
    resend_grace_secs: float = DEFAULT_RESEND_GRACE_SECS,
) -> Pipeline:
    """The pipeline for a data directory, with the registered parsers; replays a leftover WAL.

    With `detect` and Sigma `rules`, each committed batch is matched and its alerts stored in
    the control database (`custodes.detect.engine.Detection` on `on_commit`). With `ledger`,
    every lake file is recorded in the evidence ledger (`custodes.ledger.Ledger`). `node`
    names the lake segments; by default `Settings().node` (`CUSTODES_NODE`, docs/scale.md).
    """
    if node is None:
        from custodes.config import Settings

        node = Settings().node
    registry = registry if registry is not None else load()
    data_dir.mkdir(parents=True, exist_ok=True)
    protected = ProtectedChannels.from_policy(data_dir, load_policy(data_dir))
    detection = None
    if detect and rules:
        from custodes.detect.engine import open_detection  # only a detecting pipeline needs it
        from custodes.store.control import open_control

        control = open_control(data_dir)
        try:
            detection = open_detection(control, rules)
        except BaseException:
            control.close()
            raise
    event_ledger = Ledger(data_dir) if ledger else None
    try:
        pipeline = Pipeline(
            data_dir,
            Normaliser(registry.parsers),
            node=node,
            registry=registry,
            max_segment_bytes=max_segment_bytes,
            ledger=event_ledger,
            resend_grace_secs=resend_grace_secs,
        )
    except BaseException:
        if event_ledger is not None:
            event_ledger.close()
        raise
    pipeline.withhold = protected.withhold
    if detection is not None:
        pipeline.on_commit.append(detection)
        weakref.finalize(pipeline, detection.control.close)
    return pipeline


def replay_quarantine(pipeline: Pipeline, *, batch_records: int = 20_000) -> SubmitResult:
    """Re-run the current parsers on every quarantined record.

    Successes go to the lake through the pipeline; the rest are quarantined again (in new
    files) with their new reason. Each batch is committed with a cursor on its quarantine file,
    so a replay interrupted by a crash resumes without storing anything twice; the old files
    are removed once everything in them is durable again.
    """
    pipeline.flush()
    files = quarantine_files(pipeline.data_dir)
    stored = quarantined = 0
    for path in files:
        key = f"quarantine:{path.name}"
        done = pipeline.cursor(key) or 0
        records = quarantine_records(read_quarantine(pipeline.data_dir, [path]).slice(done))
        for start in range(0, len(records), batch_records):
            chunk = records[start : start + batch_records]
            result = pipeline.submit(chunk, cursor=(key, done + start + len(chunk)))
            stored += result.stored
            quarantined += result.quarantined
    pipeline.flush()
    for path in files:
        path.unlink()
    if files:
        fsync_directory(files[0].parent)
    return SubmitResult(stored=stored, quarantined=quarantined)
