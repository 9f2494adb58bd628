"""Plain JSON lines read as a group (Arrow) must give exactly what record-by-record gives."""

from typing import Any

import orjson
import pyarrow as pa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from custodes.events import RawRecord
from custodes.normalise import JsonParser, Normaliser, builtin_parsers
from custodes.normalise.json import MIN_SPLIT
from custodes.normalise.json_columns import repeated


class OneByOneJsonParser(JsonParser):
    """The same parser without its group path."""

    def parse_group(self, records: Any) -> pa.RecordBatch | None:
        return None


KEYS = st.sampled_from(
    [
        "a",
        "b",
        "host.name",
        "user.name",
        "source.port",
        "process.pid",
        "event.dataset",
        "message",
        "CommandLine",
        "ts",
        "time",
        "@timestamp",
        "event.severity",
        "x.y",
    ]
)
SCALARS = st.one_of(
    st.text(max_size=12),
    st.integers(min_value=-(2**40), max_value=2**40),
    st.booleans(),
    st.none(),
    st.sampled_from(["2024-03-01T10:00:00Z", "2024-03-01T10:00:00.123+02:00", "1709280000"]),
    st.sampled_from([1709280000, 1709280000123, 2**31 + 5]),
)
VALUES = st.recursive(SCALARS, lambda inner: st.dictionaries(KEYS, inner, max_size=3), max_leaves=6)
DOCUMENTS = st.dictionaries(KEYS, VALUES, max_size=8)


def normalise_both(documents: list[dict[str, Any]]) -> tuple[Any, Any]:
    records = [
        RawRecord(orjson.dumps(document), origin="t", position=index)
        for index, document in enumerate(documents)
    ]
    grouped = Normaliser([JsonParser()]).normalise(records)
    single = Normaliser([OneByOneJsonParser()]).normalise(records)
    return grouped, single


KINDS = {
    "text": st.text(max_size=10),
    "integer": st.integers(min_value=-(2**40), max_value=2**40),
    "boolean": st.booleans(),
    "iso": st.sampled_from(["2024-03-01T10:00:00Z", "2024-03-01T10:00:00.5+02:00"]),
    "epoch": st.sampled_from([1709280000, 1709280000123]),
    "object": st.fixed_dictionaries(
        {"name": st.text(max_size=5)}, optional={"id": st.integers(0, 9)}
    ),
}


@st.composite
def consistent_documents(draw: st.DrawFn) -> list[dict[str, Any]]:
    """Documents whose keys keep one type each: the shape JSON lines from one source have."""
    shape = draw(st.dictionaries(KEYS, st.sampled_from(sorted(KINDS)), min_size=1, max_size=6))
    documents = []
    for _ in range(draw(st.integers(64, 80))):
        keys = draw(st.lists(st.sampled_from(sorted(shape)), unique=True))
        documents.append({key: draw(st.one_of(st.none(), KINDS[shape[key]])) for key in keys})
    return documents


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(consistent_documents())
def test_group_read_of_consistent_lines_equals_record_by_record(
    documents: list[dict[str, Any]],
) -> None:
    (batch, failures), (expected, expected_failures) = normalise_both(documents)
    assert batch.to_pylist() == expected.to_pylist()
    assert [(f.record.id, f.reason) for f in failures] == [
        (f.record.id, f.reason) for f in expected_failures
    ]


@settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(DOCUMENTS, min_size=64, max_size=70))
def test_group_read_equals_record_by_record(documents: list[dict[str, Any]]) -> None:
    (batch, failures), (expected, expected_failures) = normalise_both(documents)
    assert batch.to_pylist() == expected.to_pylist()
    assert [(f.record.id, f.reason) for f in failures] == [
        (f.record.id, f.reason) for f in expected_failures
    ]


def test_typical_lines_take_the_group_path() -> None:
    documents = [
        {
            "@timestamp": f"2024-03-01T10:00:{index % 60:02d}Z",
            "user": {"name": "alice"},
            "process.pid": index,
            "ok": True,
        }
        for index in range(100)
    ]
    records = [RawRecord(orjson.dumps(document)) for document in documents]
    assert JsonParser().parse_group(records) is not None
    (batch, _), (expected, _) = normalise_both(documents)
    assert batch.to_pylist() == expected.to_pylist()
    row = batch.to_pylist()[5]
    assert (row["user.name"], row["process.pid"]) == ("alice", 5)
    # Keys held by the core column of their own name are not repeated among the fields.
    assert dict(row["fields"]) == {"@timestamp": "2024-03-01T10:00:05Z", "ok": "true"}


def test_a_value_its_core_column_cannot_hold_stays_among_the_fields() -> None:
    documents = [
        {"@timestamp": "2024-03-01T10:00:00Z", "source": {"port": port}, "user.name": "bob"}
        for port in [443] * 70 + [1 << 40]
    ]
    (batch, _), (expected, _) = normalise_both(documents)
    assert batch.to_pylist() == expected.to_pylist()
    rows = batch.to_pylist()
    assert rows[0]["source.port"] == 443 and "source.port" not in dict(rows[0]["fields"])
    assert rows[-1]["source.port"] is None
    assert dict(rows[-1]["fields"])["source.port"] == str(1 << 40)


def test_groups_with_flavours_or_lists_fall_back_and_keep_order() -> None:
    lines = [b'{"a": 1}'] * 70 + [b'{"Event": {"System": {"EventID": 1}}}', b'{"l": [1, 2]}']
    records = [RawRecord(line, position=index) for index, line in enumerate(lines)]
    parser = builtin_parsers()
    json_parser = next(p for p in parser if p.name == "json")
    assert json_parser.parse_group(records) is None  # type: ignore[attr-defined]
    batch, failures = Normaliser(parser).normalise(records)
    assert failures == []
    assert batch.column("event.id").to_pylist() == [record.id for record in records]
    assert batch.column("event.dataset").to_pylist()[-2:] == ["windows", "json"]


def test_mixed_batch_keeps_input_order() -> None:
    lines = [b'{"a": 1}'] * 70
    lines[10] = b"Jan  1 00:00:00 host prog: text"
    lines[20] = b"not a log"
    records = [RawRecord(line, position=index) for index, line in enumerate(lines)]
    batch, failures = Normaliser(builtin_parsers()).normalise(records)
    assert [failure.record.position for failure in failures] == [20]
    expected = [record.id for record in records if record.position != 20]
    assert batch.column("event.id").to_pylist() == expected


def test_windows_events_among_plain_lines_are_read_one_by_one() -> None:
    event = b'{"Event": {"System": {"EventID": 4624, "Channel": "Security"}}}'
    lines = [b'{"a": %d}' % index for index in range(80)]
    lines[3] = lines[50] = event
    records = [RawRecord(line, position=index) for index, line in enumerate(lines)]
    json_parser = next(p for p in builtin_parsers() if p.name == "json")
    found = json_parser.parse_group(records)  # type: ignore[attr-defined]
    assert found is not None
    positions, part = found
    assert 3 not in positions and 50 not in positions and part.num_rows == 78
    batch, failures = Normaliser(builtin_parsers()).normalise(records)
    assert failures == []
    assert batch.column("event.id").to_pylist() == [record.id for record in records]
    datasets = batch.column("event.dataset").to_pylist()
    assert (datasets[3], datasets[50], datasets[4]) == (
        "windows.security",
        "windows.security",
        "json",
    )


def test_repeated_names_are_the_names_row_after_row() -> None:
    assert repeated(["a", "bc", "é"], 3).to_pylist() == ["a", "bc", "é"] * 3
    assert repeated(["a"], 0).to_pylist() == []


def test_lines_with_every_key_keep_their_fields_in_order() -> None:
    documents = [{"z": index, "a": {"b": "x"}, "m": index % 2 == 0} for index in range(70)]
    records = [RawRecord(orjson.dumps(document)) for document in documents]
    assert JsonParser().parse_group(records) is not None
    (batch, _), (expected, _) = normalise_both(documents)
    assert batch.to_pylist() == expected.to_pylist()
    assert list(batch.to_pylist()[3]["fields"]) == [("a.b", "x"), ("m", "false"), ("z", "3")]


def test_a_bad_line_leaves_the_rest_of_its_group_on_the_group_path() -> None:
    lines = [b'{"n": %d, "user": {"name": "u%d"}}' % (index, index % 7) for index in range(1000)]
    lines[500] = b'{"n": 500, "user": {"name": "cut'
    lines[501] = b'{"n": [1, 2]}'  # a list: this record must go one by one too
    records = [RawRecord(line, origin="f", position=index) for index, line in enumerate(lines)]
    found = JsonParser().parse_group(records)
    assert found is not None
    positions, part = found
    left = set(range(1000)) - set(positions)  # the bad lines and a few neighbours
    assert {500, 501} <= left and len(left) < 2 * MIN_SPLIT
    assert list(positions) == sorted(positions) and part.num_rows == 1000 - len(left)
    batch, failures = Normaliser([JsonParser()]).normalise(records)
    expected, expected_failures = Normaliser([OneByOneJsonParser()]).normalise(records)
    assert batch.to_pylist() == expected.to_pylist()
    assert [(f.record, f.reason) for f in failures] == [
        (f.record, f.reason) for f in expected_failures
    ]
    assert [f.record.position for f in failures] == [500]


def test_bad_lines_everywhere_give_the_group_up() -> None:
    lines = [b'{"n": %d}' % index if index % 3 else b'{"n": [%d]}' % index for index in range(300)]
    assert JsonParser().parse_group([RawRecord(line) for line in lines]) is None
