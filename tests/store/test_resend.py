"""A batch committed just before a crash and resent by its sender is stored once."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import pyarrow as pa

from custodes.events import RawRecord
from custodes.pipeline import Pipeline, open_pipeline
from custodes.plugins import Registry, hookimpl, load
from custodes.store import connect
from custodes.store.resend import DUPLICATE_RESEND, ResendFilter
from tests.store.helpers import json_line


class Tracker:
    """A plugin that keeps every action reported through `track_action`."""

    def __init__(self) -> None:
        self.actions: list[tuple[str, dict[str, Any]]] = []

    @hookimpl
    def track_action(self, action: str, actor: str | None, details: dict[str, Any]) -> None:
        self.actions.append((action, details))


def network_records(indexes: range) -> list[RawRecord]:
    """Records as HTTP or syslog hand them over: no origin, so ids come from the content."""
    return [RawRecord(data=json_line(i), source="http") for i in indexes]


def crash(pipeline: Pipeline) -> None:
    """Stop as a SIGKILL would: nothing flushed, the WAL segments left behind."""
    pipeline.pending.put(None)
    pipeline.flusher.join()
    pipeline.wal.close()
    if pipeline.ledger is not None:
        pipeline.ledger.close()


def stored_events(data_dir: Path) -> tuple[int, int]:
    row = connect(data_dir).execute('SELECT count(*), count(DISTINCT "event.id") FROM events')
    total, distinct = row.fetchone() or (0, 0)
    return total, distinct


def open_tracked(data_dir: Path, tracker: Tracker, **options: Any) -> Pipeline:
    registry: Registry = load([tracker], entry_points=False)
    return open_pipeline(data_dir, registry=registry, ledger=False, **options)


def test_a_batch_resent_after_a_crash_is_stored_once_then_identical_records_are_kept(
    data_dir: Path,
) -> None:
    tracker = Tracker()
    first = open_tracked(data_dir, tracker)
    assert first.submit(network_records(range(10))).stored == 10
    crash(first)  # the "ok" never reached the sender

    again = open_tracked(data_dir, tracker)
    resent = again.submit(network_records(range(10)))  # the sender tries again
    assert (resent.stored, resent.duplicates) == (0, 10)
    partly = again.submit(network_records(range(5, 15)))
    assert (partly.stored, partly.duplicates) == (5, 5)
    assert [details["count"] for action, details in tracker.actions] == [10, 5]
    assert {action for action, _ in tracker.actions} == {DUPLICATE_RESEND}
    again.flush()
    assert stored_events(data_dir) == (15, 15)

    again.resends.clock = lambda: math.inf  # the grace period is over
    later = again.submit(network_records(range(3)))  # the same lines, really sent again
    assert (later.stored, later.duplicates) == (3, 0)
    again.close()
    assert stored_events(data_dir) == (18, 15)


def test_the_segment_moved_into_the_lake_just_before_the_crash_counts_too(
    data_dir: Path,
) -> None:
    first = open_tracked(data_dir, Tracker())
    first.submit(network_records(range(4)))
    first.flush()  # into the lake: this segment's acks may still have been lost
    first.submit(network_records(range(4, 8)))
    crash(first)

    again = open_tracked(data_dir, Tracker())
    assert again.submit(network_records(range(8))).duplicates == 8
    again.close()
    assert stored_events(data_dir) == (8, 8)


def test_without_a_crash_nothing_is_dropped(data_dir: Path) -> None:
    with open_tracked(data_dir, Tracker()) as first:
        first.submit(network_records(range(4)))
    with open_tracked(data_dir, Tracker()) as again:
        assert again.submit(network_records(range(4))).duplicates == 0
    assert stored_events(data_dir) == (8, 4)


def test_a_zero_grace_period_keeps_every_resent_row(data_dir: Path) -> None:
    first = open_tracked(data_dir, Tracker())
    first.submit(network_records(range(4)))
    crash(first)
    with open_tracked(data_dir, Tracker(), resend_grace_secs=0.0) as again:
        assert again.submit(network_records(range(4))).stored == 4
    assert stored_events(data_dir) == (8, 4)


def test_digest_ids_are_found_by_their_two_halves() -> None:
    ids = [RawRecord(data=json_line(i)).id for i in range(1000)]
    resends = ResendFilter()
    resends.remember([pa.record_batch({"event.id": ids[::2]})])
    assert resends.keys is not None  # the fast path: every id is 32 hex digits
    batch = pa.record_batch({"event.id": ids})
    kept, dropped = resends.drop(batch)
    assert (kept.column(0).to_pylist(), dropped) == (ids[1::2], 500)
    mixed = pa.record_batch({"event.id": [ids[0], "not-a-digest", None]})
    assert resends.drop(mixed)[0].column(0).to_pylist() == ["not-a-digest", None]


def test_the_filter_drops_only_remembered_ids_until_it_expires() -> None:
    now = [0.0]
    resends = ResendFilter(grace_secs=10, clock=lambda: now[0])
    batch = pa.record_batch({"event.id": ["a", None, "c"], "n": [1, 2, 3]})
    assert resends.drop(batch) == (batch, 0)  # nothing remembered
    resends.remember([pa.record_batch({"event.id": ["a", "b"]})])
    resends.remember([pa.table({"event.id": ["c"]})])
    kept, dropped = resends.drop(batch)
    assert (kept.column("n").to_pylist(), dropped, resends.dropped) == ([2], 2, 2)
    now[0] = 10.0
    assert resends.drop(batch) == (batch, 0)
    assert resends.ids is None  # memory released once the period is over
