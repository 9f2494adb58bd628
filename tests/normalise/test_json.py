from datetime import UTC, datetime

from custodes.events import RawRecord
from custodes.normalise import JsonParser, Normaliser


def test_ecs_keys_become_core_columns_and_all_keys_stay_in_fields() -> None:
    record = RawRecord(
        b'{"@timestamp": "2024-03-01T10:00:00Z", "user": {"name": "alice"}, "CommandLine": "x"}',
        origin="f.jsonl",
        position=3,
    )
    batch, failures = Normaliser([JsonParser()]).normalise([record])
    row = batch.to_pylist()[0]
    assert failures == []
    assert row["@timestamp"] == datetime(2024, 3, 1, 10, tzinfo=UTC)
    assert row["user.name"] == "alice"
    assert dict(row["fields"])["CommandLine"] == "x"
    assert row["event.id"] == record.id
    assert row["event.original"] == record.data.decode()


def test_unknown_format_becomes_parse_failure() -> None:
    batch, failures = Normaliser([JsonParser()]).normalise([RawRecord(b"not json at all")])
    assert batch.num_rows == 0
    assert [failure.reason for failure in failures] == ["no parser accepts this record"]


def test_broken_json_is_quarantined_with_its_reason() -> None:
    batch, failures = Normaliser([JsonParser()]).normalise([RawRecord(b'{"a": ')])
    assert batch.num_rows == 0
    assert failures[0].parser == "json"
    assert "invalid JSON" in failures[0].reason


def test_same_record_same_place_gets_same_id() -> None:
    first = RawRecord(b"{}", origin="a", position=1)
    assert first.id == RawRecord(b"{}", origin="a", position=1).id
    assert first.id != RawRecord(b"{}", origin="a", position=2).id
