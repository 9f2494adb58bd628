"""Searching the lake: time ranges, field filters, columns, stats, concurrent readers."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pyarrow as pa
import pytest

from custodes.errors import QueryError
from custodes.events import RawRecord
from custodes.normalise import JsonParser, Normaliser
from custodes.pipeline import Pipeline
from custodes.store import connect, iter_batches, parse_time, search, stats
from tests.store.helpers import json_records


@pytest.fixture
def lake(data_dir: Path) -> Path:
    with Pipeline(data_dir, Normaliser([JsonParser()])) as pipeline:
        pipeline.submit(json_records(300))
        pipeline.submit([RawRecord(data=b"garbage", origin="bad.txt")])
    return data_dir


def expected(predicate) -> set[int]:  # type: ignore[no-untyped-def]
    rows = []
    for index in range(300):
        day = 1 + index % 3
        stamp = datetime(2024, 5, day, 10, index // 60 % 60, index % 60, tzinfo=UTC)
        rows.append((index, stamp, f"user{index % 5}", str(4624 + index % 4)))
    return {index for index, stamp, user, code in rows if predicate(stamp, user, code)}


def numbers(table: pa.Table) -> set[int]:
    return {int(value) for value in table["n"].to_pylist()}


def test_time_range_and_field_filters(lake: Path) -> None:
    table = search(
        lake,
        since="2024-05-02",
        until="2024-05-02T10:03:00Z",
        where="user.name = 'user2' and EventID != '4625'",
        limit=None,
        columns=["@timestamp", "user.name", "n"],
    )
    since = datetime(2024, 5, 2, tzinfo=UTC)
    until = datetime(2024, 5, 2, 10, 3, tzinfo=UTC)
    want = expected(
        lambda stamp, user, code: since <= stamp < until and user == "user2" and code != "4625"
    )
    assert want
    assert numbers(table) == want
    assert table.num_rows == len(want)


def test_newest_first_and_limit(lake: Path) -> None:
    table = search(lake, where="user.name in ('user1', 'user3')", limit=5)
    stamps = table["@timestamp"].to_pylist()
    assert len(stamps) == 5
    assert stamps == sorted(stamps, reverse=True)
    assert table.schema.names[: len(table.schema.names)] == table.column_names


def test_source_field_columns_and_numeric_comparison(lake: Path) -> None:
    table = search(lake, where="n >= 295", limit=None, columns=["n", "CommandLine"])
    assert numbers(table) == {295, 296, 297, 298, 299}
    assert set(table["CommandLine"].to_pylist()) == {f"run --job {n}" for n in range(295, 300)}


def test_injection_in_a_value_matches_nothing(lake: Path) -> None:
    table = search(lake, where="user.name = 'x'' OR ''1''=''1'", limit=None)
    assert table.num_rows == 0
    assert search(lake, limit=None).num_rows == 300


def test_iter_batches_streams_everything_in_order(lake: Path) -> None:
    batches = list(iter_batches(lake, columns=["@timestamp", "event.id"], ordered=True))
    table = pa.Table.from_batches(batches)
    assert table.num_rows == 300
    assert table["@timestamp"].to_pylist() == sorted(table["@timestamp"].to_pylist())
    filtered = pa.Table.from_batches(list(iter_batches(lake, filter="EventID = 4626")))
    assert filtered.num_rows == len(expected(lambda stamp, user, code: code == "4626"))


def test_stats_count_days_datasets_and_quarantine(lake: Path) -> None:
    result = stats(lake)
    assert result["events"] == 300
    assert len(result["per_day"]) == 6
    assert sum(count for _, _, count in result["per_day"]) == 300
    assert result["quarantined"] == 1
    assert result["quarantine"][0][1] == "no parser accepts this record"


def test_empty_lake_answers_with_no_rows(data_dir: Path) -> None:
    assert search(data_dir, where="user.name = 'a'").num_rows == 0
    assert stats(data_dir)["events"] == 0


def test_readers_see_new_files_while_a_writer_is_open(data_dir: Path) -> None:
    pipeline = Pipeline(data_dir, Normaliser([JsonParser()]))
    pipeline.submit(json_records(10))
    pipeline.flush()
    assert search(data_dir, limit=None).num_rows == 10
    pipeline.submit(json_records(10, start=10))
    pipeline.flush()
    other = connect(data_dir)
    assert other.execute("SELECT count(*) FROM events").fetchone() == (20,)
    pipeline.close()


def test_times_iso_and_relative() -> None:
    now = datetime(2024, 5, 10, 12, tzinfo=UTC)
    assert parse_time("24h", now=now) == datetime(2024, 5, 9, 12, tzinfo=UTC)
    assert parse_time("7d", now=now) == datetime(2024, 5, 3, 12, tzinfo=UTC)
    assert parse_time("2024-05-01") == datetime(2024, 5, 1, tzinfo=UTC)
    assert parse_time("2024-05-01T02:00:00+02:00") == datetime(2024, 5, 1, tzinfo=UTC)
    with pytest.raises(QueryError):
        parse_time("yesterday-ish")


def test_text_operators_run_on_any_column_type(lake: Path) -> None:
    where = "process.pid like '1%' or n not contains '9'"
    table = search(lake, where=where, limit=None, columns=["n"])
    assert numbers(table) == {n for n in range(300) if "9" not in str(n)}


def test_connections_print_no_progress_bar(data_dir: Path) -> None:
    connection = connect(data_dir)
    [(enabled,)] = connection.execute("SELECT current_setting('enable_progress_bar')").fetchall()
    assert enabled is False
