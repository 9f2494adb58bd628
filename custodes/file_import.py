"""File import: read files and folders into the pipeline, resumable after a crash.

Every batch is committed with the cursors of the files in it, so a rerun skips finished files,
resumes a partly read one after its last durable record, and never stores an event twice.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from custodes.events import RawBatch
from custodes.ingest.files import FileReport, detect_format, discover, read_batches

if TYPE_CHECKING:  # the pipeline re-exports import_files, so no import at run time
    from custodes.pipeline import Pipeline

HEAD_BYTES = 64 * 1024


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
        self.records = RawBatch()
        self.cursors: dict[str, int] = {}
        self.counts = FormatCounts()
        self.path: Path | None = None

    def add(self, records: RawBatch, resume_key: str) -> None:
        """Take records of the current file; commits each time the batch is full."""
        while len(records):
            room = self.batch_records - len(self.records)
            self.records.extend(records[:room] if len(records) > room else records)
            records = records[room:] if len(records) > room else RawBatch()
            if len(self.records) >= self.batch_records:
                self.cursors[resume_key] = self.records.positions[-1] + 1
                self.commit()

    def finish_file(self, resume_key: str, done_key: str) -> None:
        """The current file is read to its end: its final cursors go with the next commit."""
        if self.records:
            self.cursors[resume_key] = self.records.positions[-1] + 1
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
        self.records, self.cursors = RawBatch(), {}


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
        for records in read_batches(path, kind, start=start, report=report):
            batches.add(records, resume_key)
        batches.finish_file(resume_key, done_key)
        total.files += 1
        total.read += report.read
        total.skipped_corrupt += report.skipped_corrupt
    batches.commit()
    return counts
