"""The write-ahead log: frames survive, torn tails are dropped, replays never duplicate."""

from __future__ import annotations

import threading
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from custodes.ingest.wal import DataDirBusy, WriteAheadLog, read_segment
from custodes.normalise import JsonParser, Normaliser
from custodes.pipeline import Pipeline
from custodes.store import connect
from custodes.store.quarantine import failures_batch
from tests.store.helpers import json_records


def normalised(count: int, start: int = 0):  # type: ignore[no-untyped-def]
    events, failures = Normaliser([JsonParser()]).normalise(json_records(count, start=start))
    return events, failures_batch(failures, events["@timestamp"][0].as_py())


def lake_ids(data_dir: Path) -> list[str]:
    connection = connect(data_dir)
    return [row[0] for row in connection.execute('SELECT "event.id" FROM events').fetchall()]


def test_frames_read_back_with_their_cursor(data_dir: Path) -> None:
    wal = WriteAheadLog(data_dir / "wal")
    events, failures = normalised(10)
    wal.append(events, failures, [("test.jsonl", 10), ("done:test.jsonl", 1)])
    wal.append(events.slice(0, 3), failures)
    segment = wal.roll()
    assert segment is not None
    frames = list(read_segment(segment))
    wal.close()
    assert [frame.events.num_rows for frame in frames] == [10, 3]
    assert frames[0].cursors == (("test.jsonl", 10), ("done:test.jsonl", 1))
    assert frames[1].cursors == ()
    assert frames[0].events.equals(events)


def test_torn_tail_is_dropped(data_dir: Path) -> None:
    wal = WriteAheadLog(data_dir / "wal")
    events, failures = normalised(10)
    wal.append(events, failures, [("a", 10)])
    wal.append(events, failures, [("a", 20)])
    segment = wal.roll()
    assert segment is not None
    wal.close()
    size = segment.stat().st_size
    with open(segment, "r+b") as handle:  # a crash in the middle of the second write
        handle.truncate(size - 100)
    frames = list(read_segment(segment))
    assert [frame.cursors for frame in frames] == [(("a", 10),)]


def test_second_writer_is_refused(data_dir: Path) -> None:
    wal = WriteAheadLog(data_dir / "wal")
    with pytest.raises(DataDirBusy):
        WriteAheadLog(data_dir / "wal")
    wal.close()


def test_leftover_segment_is_replayed_on_open(data_dir: Path) -> None:
    # A process that committed and died before flushing: only the WAL holds the events.
    wal = WriteAheadLog(data_dir / "wal")
    events, failures = normalised(50)
    wal.append(events, failures, [("test.jsonl", 50)])
    wal.close()
    pipeline = Pipeline(data_dir, Normaliser([JsonParser()]))
    assert pipeline.cursor("test.jsonl") == 50
    pipeline.close()
    assert sorted(lake_ids(data_dir)) == sorted(events["event.id"].to_pylist())
    assert not list((data_dir / "wal").glob("*.wal"))


def test_replay_after_partial_flush_creates_no_duplicates(data_dir: Path) -> None:
    pipeline = Pipeline(data_dir, Normaliser([JsonParser()]))
    pipeline.submit(json_records(60), cursor=("test.jsonl", 60))
    pipeline.flush()
    pipeline.close()
    written = sorted((data_dir / "lake").rglob("*.parquet"))
    # Crash between writing the lake files and deleting the segment: rebuild that segment and
    # remove one of the three day files, as if the crash came in the middle of the flush.
    wal = WriteAheadLog(data_dir / "wal")
    events, failures = normalised(60)
    wal.state.next_seq = 0
    wal.append(events, failures, [("test.jsonl", 60)])
    wal.close()
    written[0].unlink()
    reopened = Pipeline(data_dir, Normaliser([JsonParser()]))
    reopened.close()
    ids = lake_ids(data_dir)
    assert len(ids) == 60
    assert len(set(ids)) == 60
    assert sorted(path.name for path in (data_dir / "lake").rglob("*.parquet")) == sorted(
        path.name for path in written
    )


def test_segment_numbers_never_repeat_across_restarts(data_dir: Path) -> None:
    for start in (0, 30, 60):
        pipeline = Pipeline(data_dir, Normaliser([JsonParser()]))
        pipeline.submit(json_records(30, start=start))
        pipeline.close()
    assert len(lake_ids(data_dir)) == 90
    names = {path.name for path in (data_dir / "lake").rglob("*.parquet")}
    assert len(names) == 3


def test_lake_files_are_sorted_by_time_and_partitioned(data_dir: Path) -> None:
    pipeline = Pipeline(data_dir, Normaliser([JsonParser()]))
    pipeline.submit(list(reversed(json_records(90))))
    pipeline.close()
    files = sorted((data_dir / "lake").rglob("*.parquet"))
    assert {path.parent.parent.name for path in files} == {"dataset=app.audit", "dataset=app.web"}
    assert {path.parent.name for path in files} == {
        "date=2024-05-01",
        "date=2024-05-02",
        "date=2024-05-03",
    }
    for path in files:
        stamps = pq.read_table(path)["@timestamp"].to_pylist()
        assert stamps == sorted(stamps)
        assert {stamp.date().isoformat() for stamp in stamps} == {path.parent.name[5:]}


class RecordingLedger:
    def __init__(self, data_dir: Path) -> None:
        self.data_dir = data_dir
        self.calls: list[tuple[str, int]] = []
        self.closed = False

    def record(self, relative_path: str, table: pa.Table) -> None:
        assert (self.data_dir / relative_path).exists()  # durable before it is told
        self.calls.append((relative_path, table.num_rows))

    def close(self) -> None:
        self.closed = True


def test_ledger_hears_of_every_file_after_it_is_written(data_dir: Path) -> None:
    ledger = RecordingLedger(data_dir)
    pipeline = Pipeline(data_dir, Normaliser([JsonParser()]), ledger=ledger)
    pipeline.submit(json_records(90))
    pipeline.close()
    files = sorted(str(path.relative_to(data_dir)) for path in data_dir.rglob("lake/**/*.parquet"))
    assert sorted(path for path, _ in ledger.calls) == files
    assert sum(rows for _, rows in ledger.calls) == 90
    assert ledger.closed


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(cut=st.integers(min_value=0, max_value=10**9), flip=st.booleans())
def test_any_crash_point_leaves_a_prefix_of_whole_frames(
    tmp_path_factory: pytest.TempPathFactory, cut: int, flip: bool
) -> None:
    directory = tmp_path_factory.mktemp("wal")
    wal = WriteAheadLog(directory)
    sizes = [3, 5, 7]
    for index, size in enumerate(sizes):
        events, failures = normalised(size, start=index * 10)
        wal.append(events, failures, [("f", index)])
    segment = wal.roll()
    assert segment is not None
    wal.close()
    data = bytearray(segment.read_bytes())
    cut %= len(data) + 1
    if flip and cut < len(data):
        data[cut] ^= 0xFF  # a damaged byte instead of a short file
    else:
        del data[cut:]
    segment.write_bytes(bytes(data))
    frames = list(read_segment(segment))
    assert [frame.events.num_rows for frame in frames] == sizes[: len(frames)]
    assert [frame.cursors for frame in frames] == [(("f", i),) for i in range(len(frames))]


def test_concurrent_submitters_store_every_event_once(data_dir: Path) -> None:
    pipeline = Pipeline(data_dir, Normaliser([JsonParser()]), max_segment_bytes=50_000)
    threads = [
        threading.Thread(
            target=lambda start=start: [
                pipeline.submit(json_records(25, start=start + offset))
                for offset in range(0, 100, 25)
            ]
        )
        for start in range(0, 400, 100)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    pipeline.close()
    ids = lake_ids(data_dir)
    assert len(ids) == len(set(ids)) == 400
