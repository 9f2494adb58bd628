"""The wiring: the only module that knows the order of the stages.

    records -> normalise -> WAL (fsync) -> acknowledge -> on_commit (detection)
                                 `-> flush: lake (Parquet) + quarantine -> ledger -> segment deleted

`submit` returns only after the batch is durable, so whoever calls it may then acknowledge the
sender. Segments are moved into the lake by a background thread (Parquet writing releases the
GIL, so it overlaps with parsing); leftover segments from a crash are moved on open.
"""

from __future__ import annotations

import hashlib
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
from custodes.ingest.files import FileReport, detect_format, discover, read_file
from custodes.ingest.wal import Cursor, WriteAheadLog, fsync_directory, read_segment, segment_seq
from custodes.ledger import Ledger
from custodes.normalise import Normaliser
from custodes.plugins import Registry, load
from custodes.store.lake import EventLedger, lake_files, write_lake_files
from custodes.store.quarantine import (
    QUARANTINE_SCHEMA,
    failures_batch,
    quarantine_files,
    quarantine_records,
    read_quarantine,
    write_failures,
)

WAL_DIR = "wal"
HEAD_BYTES = 64 * 1024


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
        max_segment_bytes: int = 64 << 20,
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
        #: Seconds spent per step, for benchmarks and `custodes ingest --timings`.
        self.seconds = dict.fromkeys(("normalise", "wal", "detect", "lake", "ledger"), 0.0)
        for segment in self.wal.segments():  # a crash left these: move them into the lake now
            self.move_segment(segment)
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
        started = time.perf_counter()
        events, failures = self.normaliser.normalise(records)
        failed = failures_batch(failures, datetime.now(UTC))
        self.seconds["normalise"] += time.perf_counter() - started
        self.commit(events, failed, [cursor, *cursors] if cursor is not None else cursors)
        return SubmitResult(stored=events.num_rows, quarantined=failed.num_rows)

    def commit(
        self, events: pa.RecordBatch, failures: pa.RecordBatch, cursors: Sequence[Cursor] = ()
    ) -> None:
        """Append already-normalised events and failures to the WAL, then tell `on_commit`."""
        self.raise_flush_error()
        started = time.perf_counter()
        with self.lock:
            self.wal.append(events, failures, cursors)
            self.cursors.update(cursors)
            if self.wal.is_full():
                self.pending.put(self.wal.roll())
        logged = time.perf_counter()
        self.seconds["wal"] += logged - started
        if events.num_rows:
            for listener in self.on_commit:
                listener(events)
            self.seconds["detect"] += time.perf_counter() - logged

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
            started = time.perf_counter()
            files = lake_files(events, node=self.node, seq=seq)
            write_lake_files(self.data_dir, files)
            write_failures(self.data_dir, failures, node=self.node, seq=seq)
            written = time.perf_counter()
            self.seconds["lake"] += written - started
            if self.ledger is not None:
                for relative, part in files:
                    self.ledger.record(relative, part)
                self.seconds["ledger"] += time.perf_counter() - written
            state = self.wal.state
            for frame in frames:
                state.cursors.update(frame.cursors)
            self.wal.save_state(state)
            self.wal.remove(segment)


def open_pipeline(
    data_dir: Path,
    *,
    registry: Registry | None = None,
    node: str = "node0",
    detect: bool = True,
    max_segment_bytes: int = 64 << 20,
    rules: Sequence[Path] = (),
    ledger: bool = True,
) -> Pipeline:
    """The pipeline for a data directory, with the registered parsers; replays a leftover WAL.

    With `detect` and Sigma `rules`, each committed batch is matched and its alerts stored in
    the control database (`custodes.detect.engine.Detection` on `on_commit`). With `ledger`,
    every lake file is recorded in the evidence ledger (`custodes.ledger.Ledger`).
    """
    registry = registry if registry is not None else load()
    data_dir.mkdir(parents=True, exist_ok=True)
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
        )
    except BaseException:
        if event_ledger is not None:
            event_ledger.close()
        raise
    if detection is not None:
        pipeline.on_commit.append(detection)
        weakref.finalize(pipeline, detection.control.close)
    return pipeline


@dataclass
class FormatCounts:
    """What a file import did with one format's records."""

    files: int = 0
    read: int = 0
    stored: int = 0
    quarantined: int = 0
    skipped_corrupt: int = 0
    skipped_files: int = 0  # already imported whole, unchanged since


def head_digest(path: Path, length: int) -> str:
    """A short hash of a file's first `length` bytes."""
    with open(path, "rb") as handle:
        return hashlib.blake2b(handle.read(length), digest_size=8).hexdigest()


def resume_points(cursors: dict[str, int]) -> dict[str, list[tuple[str, int]]]:
    """Resume cursors of files, by path: (key, position)."""
    points: dict[str, list[tuple[str, int]]] = {}
    for key, position in cursors.items():
        if key.startswith("file:"):
            path = key[5:].rsplit(":", 2)[0]
            points.setdefault(path, []).append((key, position))
    return points


def file_cursor(path: Path, known: list[tuple[str, int]]) -> tuple[str, int, str]:
    """Where to resume a file: (resume key, start position, done key).

    A resume key names the path and a hash of the file's first bytes (up to 64 KiB, as long as
    the file was when first read), so a growing log resumes while a rewritten one starts over.
    The done key adds size and modification time: an unchanged file is skipped outright.
    """
    stat = path.stat()
    version = f"{stat.st_size}:{stat.st_mtime_ns}"
    for key, position in known:
        length, digest = key.rsplit(":", 2)[1:]
        if stat.st_size >= int(length) and head_digest(path, int(length)) == digest:
            return key, position, f"done:{key[5:]}:{version}"
    length = str(min(stat.st_size, HEAD_BYTES))
    key = f"file:{path}:{length}:{head_digest(path, int(length))}"
    return key, 0, f"done:{key[5:]}:{version}"


class FileBatches:
    """Gathers the records of consecutive files of one format into large committed batches.

    Each commit carries the cursors of the files in it (resume keys at their last record, done
    keys of the files it completes), so many small files cost one fsync, not one each.
    """

    def __init__(
        self,
        pipeline: Pipeline,
        batch_records: int,
        on_progress: Callable[[Path, int], None] | None,
    ) -> None:
        self.pipeline = pipeline
        self.batch_records = batch_records
        self.on_progress = on_progress
        self.records: list[RawRecord] = []
        self.cursors: dict[str, int] = {}
        self.counts = FormatCounts()
        self.path: Path | None = None

    def add(self, record: RawRecord, resume_key: str) -> None:
        """Take one record of the current file; commits when the batch is full."""
        self.records.append(record)
        if len(self.records) >= self.batch_records:
            self.cursors[resume_key] = record.position + 1
            self.commit()

    def finish_file(self, resume_key: str, done_key: str) -> None:
        """The current file is read to its end: its final cursors go with the next commit."""
        if self.records:
            self.cursors[resume_key] = self.records[-1].position + 1
        self.cursors[done_key] = 1

    def commit(self) -> None:
        """Submit what is gathered (records and cursors) and count the outcome."""
        if not self.records and not self.cursors:
            return
        result = self.pipeline.submit(self.records, cursors=list(self.cursors.items()))
        self.counts.stored += result.stored
        self.counts.quarantined += result.quarantined
        if self.on_progress is not None and self.path is not None:
            self.on_progress(self.path, len(self.records))
        self.records, self.cursors = [], {}


def import_files(
    pipeline: Pipeline,
    paths: Sequence[Path],
    *,
    format: str = "auto",
    batch_records: int = 20_000,
    on_progress: Callable[[Path, int], None] | None = None,
) -> dict[str, FormatCounts]:
    """Read files and folders into the pipeline; counts per format.

    Every batch is committed with its files' cursors, so after a crash a rerun skips what is
    done and resumes a file at its last durable record: no event is stored twice.
    """
    counts: dict[str, FormatCounts] = {}
    own = pipeline.data_dir.resolve()
    with pipeline.lock:
        known = resume_points(pipeline.cursors)
    batches = FileBatches(pipeline, batch_records, on_progress)
    for path in discover([Path(path).resolve() for path in paths]):
        if path.is_relative_to(own):
            continue
        resume_key, start, done_key = file_cursor(path, known.get(str(path), []))
        kind = detect_format(path) if format == "auto" else format
        total = counts.setdefault(kind, FormatCounts())
        if pipeline.cursor(done_key) is not None:
            total.skipped_files += 1
            continue
        if batches.counts is not total:  # one format per batch, so the counts stay exact
            batches.commit()
            batches.counts = total
        batches.path = path
        report = FileReport(path=path, format=kind)
        for record in read_file(path, kind, start=start, report=report):
            batches.add(record, resume_key)
        batches.finish_file(resume_key, done_key)
        total.files += 1
        total.read += report.read
        total.skipped_corrupt += report.skipped_corrupt
    batches.commit()
    return counts


def replay_quarantine(pipeline: Pipeline, *, batch_records: int = 20_000) -> SubmitResult:
    """Re-run the current parsers on every quarantined record.

    Successes go to the lake through the pipeline; the rest are quarantined again with their
    new reason, and the old quarantine files are removed once the new outcome is durable.
    """
    pipeline.flush()
    files = quarantine_files(pipeline.data_dir)
    records = quarantine_records(read_quarantine(pipeline.data_dir, files))
    stored = quarantined = 0
    for start in range(0, len(records), batch_records):
        result = pipeline.submit(records[start : start + batch_records])
        stored += result.stored
        quarantined += result.quarantined
    for path in files:
        path.unlink()
    if files:
        fsync_directory(files[0].parent)
    pipeline.flush()
    return SubmitResult(stored=stored, quarantined=quarantined)
