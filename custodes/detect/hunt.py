"""Retro-hunt: run a matcher over the events stored in the lake."""

from __future__ import annotations

import threading
from collections.abc import Iterable, Iterator
from datetime import datetime
from pathlib import Path
from queue import Full, Queue

import pyarrow as pa

from custodes.detect.alerts import hits_to_alerts
from custodes.detect.levels import configured_min_level
from custodes.detect.matcher import Matcher
from custodes.events import Alert
from custodes.store import iter_batches

#: Matching has a cost per batch (per logsource group); small lake files are gathered up to this.
HUNT_BATCH_ROWS = 64 * 1024


def hunt(
    data_dir: Path,
    matcher: Matcher,
    *,
    since: datetime | str | None = None,
    until: datetime | str | None = None,
    min_level: str | None = None,
) -> Iterator[Alert]:
    """Alerts for every rule match among the lake's events in the time range, batch by batch.

    Only rules at or above `min_level` (default: the `alert_min_level` setting) raise alerts;
    `"informational"` shows every hit."""
    level = configured_min_level(min_level)
    columns = matcher.columns()
    batches = iter_batches(data_dir, since=since, until=until, columns=columns)
    for batch in prefetch(gather(batches)):
        hits = matcher.match(batch)
        if hits:
            yield from hits_to_alerts(batch, hits, level)


def prefetch(batches: Iterator[pa.RecordBatch], depth: int = 2) -> Iterator[pa.RecordBatch]:
    """The same batches, read ahead in a thread so reading the lake overlaps with matching."""
    queue: Queue[pa.RecordBatch | BaseException | None] = Queue(maxsize=depth)
    stop = threading.Event()

    def produce() -> None:
        try:
            for batch in batches:
                while not stop.is_set():
                    try:
                        queue.put(batch, timeout=0.1)
                        break
                    except Full:
                        continue
                if stop.is_set():
                    return
            queue.put(None)
        except BaseException as error:  # handed to the consumer, raised there
            queue.put(error)

    worker = threading.Thread(target=produce, name="hunt-prefetch", daemon=True)
    worker.start()
    try:
        while (item := queue.get()) is not None:
            if isinstance(item, BaseException):
                raise item
            yield item
    finally:
        stop.set()
        worker.join(timeout=5)


def gather(
    batches: Iterable[pa.RecordBatch], rows: int = HUNT_BATCH_ROWS
) -> Iterator[pa.RecordBatch]:
    """The same events in batches of at least `rows` rows (the last may be smaller)."""
    pending: list[pa.RecordBatch] = []
    count = 0
    for batch in batches:
        if batch.num_rows >= rows and not pending:
            yield batch
            continue
        pending.append(batch)
        count += batch.num_rows
        if count >= rows:
            yield combine(pending)
            pending, count = [], 0
    if pending:
        yield combine(pending)


def combine(batches: list[pa.RecordBatch]) -> pa.RecordBatch:
    """Several batches of one schema as one."""
    if len(batches) == 1:
        return batches[0]
    table = pa.Table.from_batches(batches).combine_chunks()
    return table.to_batches(max_chunksize=table.num_rows)[0]
