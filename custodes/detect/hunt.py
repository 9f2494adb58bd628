"""Retro-hunt: run a matcher over the events stored in the lake."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from datetime import datetime
from pathlib import Path

import pyarrow as pa

from custodes.detect.alerts import hits_to_alerts
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
) -> Iterator[Alert]:
    """Alerts for every rule match among the lake's events in the time range, batch by batch."""
    columns = matcher.columns()
    for batch in gather(iter_batches(data_dir, since=since, until=until, columns=columns)):
        hits = matcher.match(batch)
        if hits:
            yield from hits_to_alerts(batch, hits)


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
