"""Batches resent after a crash: for a while, drop the events the WAL replay already stored.

A batch committed just before a crash (SIGKILL, power loss) is in the WAL, so the replay on the
next start stores it; but the sender may never have heard "ok" and sends it again. Records from
the network have content-based event ids (origin "", position 0), so the resent events carry the
ids of the replayed ones. For `grace_secs` after the pipeline opened, `ResendFilter.drop` removes
rows whose id was in a replayed segment (or in the lake files of the segment moved just before
the crash). Every dropped row is counted as `duplicate_resend`, never silently.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterable
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from custodes.ingest.wal import Frame, read_segment, segment_seq
from custodes.store.lake import LAKE_DIR

DUPLICATE_RESEND = "duplicate_resend"
DEFAULT_RESEND_GRACE_SECS = 300.0
ID_COLUMN = "event.id"


class ResendFilter:
    """Event ids replayed from the WAL on start, refused again until the grace period ends.

    >>> resends = ResendFilter(grace_secs=300)
    >>> resends.remember([pa.record_batch({"event.id": ["a", "b"]})])
    >>> kept, dropped = resends.drop(pa.record_batch({"event.id": ["a", "c"]}))
    >>> kept.column(0).to_pylist(), dropped
    (['c'], 1)
    """

    def __init__(
        self,
        *,
        grace_secs: float = DEFAULT_RESEND_GRACE_SECS,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.clock = clock
        self.expires_at = clock() + grace_secs
        self.chunks: list[pa.Array] = []
        self.ids: pa.Array | None = None
        self.dropped = 0
        self.lock = threading.Lock()

    def remember(self, batches: Iterable[pa.RecordBatch | pa.Table]) -> None:
        """Add the event ids of replayed batches (call before the first `drop`)."""
        for batch in batches:
            if batch.num_rows and ID_COLUMN in batch.column_names:
                column = batch.column(ID_COLUMN)
                self.chunks.extend(
                    column.chunks if isinstance(column, pa.ChunkedArray) else [column]
                )
        if self.chunks:
            self.ids = pc.unique(pa.chunked_array(self.chunks, pa.string()))
            self.chunks = [self.ids]

    def remember_lake_files(self, paths: Iterable[Path]) -> None:
        """Add the event ids stored in these Parquet files (read only their id column)."""
        self.remember(pq.read_table(path, columns=[ID_COLUMN]) for path in paths)

    @property
    def is_active(self) -> bool:
        """Whether rows may still be dropped (ids remembered, grace period not over)."""
        if self.ids is None:
            return False
        if self.clock() >= self.expires_at:
            self.ids = None  # the period is over: release the memory
            self.chunks = []
            return False
        return True

    def drop(self, events: pa.RecordBatch) -> tuple[pa.RecordBatch, int]:
        """`events` without the rows a replayed batch already stored, and how many went."""
        ids = self.ids
        if not events.num_rows or not self.is_active or ids is None:
            return events, 0
        seen = pc.fill_null(pc.is_in(events.column(ID_COLUMN), value_set=ids), False)
        count = pc.sum(seen).as_py() or 0
        if not count:
            return events, 0
        with self.lock:
            self.dropped += count
        return events.filter(pc.invert(seen)), count


def segment_lake_files(lake: Path, *, node: str, seq: int) -> list[Path]:
    """The lake files a WAL segment became (`dataset=*/date=*/<node>-<seq>.parquet`)."""
    if seq < 0 or not lake.is_dir():
        return []
    return sorted(lake.glob(f"dataset=*/date=*/{node}-{seq:012d}.parquet"))


def read_replayed_segment(resends: ResendFilter, segment: Path, *, node: str) -> list[Frame]:
    """A crash's leftover WAL segment, its event ids remembered; for the first one, also the
    ids of the segment moved into the lake just before it (its batches' acks may be lost too)."""
    if resends.ids is None and not resends.chunks:
        lake = segment.parent.parent / LAKE_DIR
        resends.remember_lake_files(
            segment_lake_files(lake, node=node, seq=segment_seq(segment) - 1)
        )
    frames = list(read_segment(segment))
    resends.remember(frame.events for frame in frames)
    return frames
