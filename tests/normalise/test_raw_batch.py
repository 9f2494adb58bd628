"""A `RawBatch` is read exactly as the list of `RawRecord`s it stands for."""

from datetime import UTC, datetime
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from custodes.events import Provenance, RawBatch, RawRecord, event_id
from custodes.normalise import Normaliser, builtin_parsers
from custodes.normalise.batch import event_ids

JAN = datetime(2024, 1, 2, 3, 4, 5, tzinfo=UTC)
PROVENANCES = [
    Provenance("file", "/var/log/a.ndjson", None, JAN),
    Provenance("file", "/var/log/b.log", None, None),
    Provenance("file", "/var/log/auth.log", "authlog", JAN),
    Provenance("http", "", "json", JAN),
    Provenance("file", "/x.bin", "unsupported", None, "no reader for this file"),
    Provenance("file", "/x.log", "nonesuch", None),
]
LINES = [
    b'{"@timestamp": "2024-03-01T10:00:00Z", "user": {"name": "alice"}, "process.pid": 7}',
    b'{"a": 1, "ok": true}',
    b'{"Event": {"System": {"EventID": 4624, "Channel": "Security"}}}',
    b'{"_path": "conn", "ts": 1521911799.7, "id.orig_h": "10.0.0.1"}',
    b'{"l": [1, 2]}',
    b'{"a": ',
    b"Jan  1 00:00:00 host sshd[1]: Accepted password for a from 1.2.3.4 port 2 ssh2",
    b"<13>1 2024-01-01T00:00:00Z h a - - - x",
    b"CEF:0|a|b|c|d|e|5|src=1.2.3.4",
    b"not a log at all",
    b"\xff\xfe broken bytes",
    b"",
]


def rows(batch: Any) -> list[dict[str, Any]]:
    return [{**row, "fields": sorted(row["fields"])} for row in batch.to_pylist()]


def failures_of(failures: Any) -> list[tuple[RawRecord, str, str]]:
    return [(failure.record, failure.parser, failure.reason) for failure in failures]


@st.composite
def raw_batches(draw: st.DrawFn) -> RawBatch:
    """Runs of lines, each run with its provenance; some runs long enough for a group read."""
    batch = RawBatch()
    position = 0
    for _ in range(draw(st.integers(1, 4))):
        provenance = draw(st.sampled_from(PROVENANCES))
        if draw(st.booleans()):
            datas = [draw(st.sampled_from(LINES[:2])) for _ in range(draw(st.integers(60, 90)))]
        else:
            datas = draw(st.lists(st.sampled_from(LINES), min_size=1, max_size=20))
        positions = list(range(position, position + len(datas)))
        position += len(datas) + draw(st.integers(0, 3))
        batch.extend(RawBatch(datas, positions, provenance))
    return batch


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(raw_batches())
def test_a_batch_normalises_as_its_records(batch: RawBatch) -> None:
    normaliser = Normaliser(builtin_parsers())
    records = list(batch)
    assert len(records) == len(batch)
    events, failures = normaliser.normalise(batch)
    expected, expected_failures = normaliser.normalise(records)
    assert rows(events) == rows(expected)
    assert failures_of(failures) == failures_of(expected_failures)
    assert events.column("event.id").to_pylist() == [
        record.id for record in records if record not in {f.record for f in failures}
    ]


def test_records_come_back_with_their_provenance() -> None:
    first, second = PROVENANCES[0], PROVENANCES[2]
    batch = RawBatch([b"a", b"b"], [3, 4], first)
    batch.extend(RawBatch([b"c"], [9], second))
    batch.extend(RawBatch([b"d"], [10], second))  # continues the last run
    assert batch.starts == [0, 2] and len(batch) == 4
    assert batch[1] == RawRecord(b"b", "file", first.origin, 4, None, JAN, None)
    assert batch[-1] == RawRecord(b"d", "file", second.origin, 10, "authlog", JAN, None)
    assert list(batch[1:3]) == [batch[1], batch[2]]
    assert list(batch[::-1]) == list(reversed(list(batch)))
    assert list(batch.take([0, 3])) == [batch[0], batch[3]]
    assert list(RawBatch.of(list(batch))) == list(batch)
    assert RawBatch.of(list(batch)).starts == [0, 2]
    assert event_ids(batch).to_pylist() == [
        event_id(record.origin, record.position, record.data) for record in batch
    ]
