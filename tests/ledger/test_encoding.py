"""The column-wise encoding equals the standard-library one the standalone verifier uses."""

from __future__ import annotations

import hashlib
import random
from datetime import UTC, datetime

import pyarrow as pa
import pytest

from custodes.events import EVENT_SCHEMA
from custodes.ledger import encode_events, leaf_hashes
from custodes.ledger.encoding import column_type, id_bytes
from custodes.ledger.export import _json_rows
from custodes.ledger.verify_package import encode_event, leaf_hash
from custodes.normalise import JsonParser, Normaliser
from tests.ledger.conftest import sample_record

MAP = pa.map_(pa.string(), pa.string())
SCHEMA = pa.schema(
    [
        ("@timestamp", pa.timestamp("us", tz="UTC")),
        ("message", pa.string()),
        ("source.port", pa.int32()),
        ("network.bytes", pa.int64()),
        ("fields", MAP),
    ]
)


def random_table(rng: random.Random, rows: int) -> pa.Table:
    def text() -> str | None:
        if rng.random() < 0.2:
            return None
        return "".join(rng.choice("ab:,9é✓\x00\n ") for _ in range(rng.randrange(6)))

    def mapping() -> list[tuple[str, str | None]] | None:
        if rng.random() < 0.2:
            return None
        return [(text() or "", text()) for _ in range(rng.randrange(4))]

    stamps = [None if rng.random() < 0.1 else rng.randrange(-(10**15), 10**17) for _ in range(rows)]
    return pa.table(
        {
            "@timestamp": pa.array(stamps, pa.int64()).cast(SCHEMA.field(0).type),
            "message": [text() for _ in range(rows)],
            "source.port": [rng.choice([None, 0, 1, 65535, -5]) for _ in range(rows)],
            "network.bytes": [rng.choice([None, 2**62, -(2**63), 7]) for _ in range(rows)],
            "fields": [mapping() for _ in range(rows)],
        },
        schema=SCHEMA,
    )


def reference_leaves(table: pa.Table) -> bytes:
    columns = {name: column_type(table.schema.field(name).type) for name in table.column_names}
    return b"".join(leaf_hash(encode_event(row, columns)) for row in _json_rows(table))


@pytest.mark.parametrize("seed", range(20))
def test_arrow_encoding_matches_the_standard_library_one(seed: int) -> None:
    rng = random.Random(seed)
    rows = rng.randrange(1, 60)
    table = random_table(rng, rows)
    assert leaf_hashes(table) == reference_leaves(table)
    start = rng.randrange(rows)
    sliced = table.slice(start, rng.randrange(1, rows - start + 1))
    assert leaf_hashes(sliced) == reference_leaves(sliced)


@pytest.mark.parametrize("longest", [0, 1, 4095, 4096, 70_000])
def test_long_values_encode_the_same_both_ways(longest: int) -> None:
    """Short values take their length prefix from a table, long ones are rendered: same bytes."""
    texts = ["x" * longest, "é" * (longest // 2), None, ""]
    table = pa.table(
        {
            "message": texts,
            "fields": [[("k" * longest, text)] for text in texts],
        },
        schema=pa.schema([("message", pa.string()), ("fields", MAP)]),
    )
    assert leaf_hashes(table) == reference_leaves(table)


def test_real_events_encode_the_same_both_ways() -> None:
    batch, _ = Normaliser([JsonParser()]).normalise([sample_record(n) for n in range(50)])
    table = pa.Table.from_batches([batch], schema=EVENT_SCHEMA)
    assert leaf_hashes(table) == reference_leaves(table)
    assert id_bytes(table).hex()[:32] == table.column("event.id")[0].as_py()


def test_worked_example_from_the_docs() -> None:
    table = pa.table(
        {
            "@timestamp": pa.array([datetime(2024, 5, 1, 12, 0, tzinfo=UTC)], SCHEMA.field(0).type),
            "host.name": ["ws-1"],
            "user.name": pa.array([None], pa.string()),
            "source.port": pa.array([443], pa.int32()),
            "fields": pa.array([[("EventID", "4624"), ("Note", None)]], MAP),
        }
    )
    expected = (
        b"\x00"
        b"10:@timestampt16:1714564800000000"
        b"6:fieldsm23:7:EventIDs4:46244:Noten"
        b"9:host.names4:ws-1"
        b"11:source.porti3:443"
    )
    assert encode_events(table.to_batches()[0])[0].as_py().encode() == expected
    assert leaf_hashes(table) == hashlib.sha256(expected).digest()


def test_null_and_absent_columns_encode_alike_and_values_matter() -> None:
    base = pa.table({"message": ["hi"], "user.name": pa.array([None], pa.string())})
    assert leaf_hashes(base) == leaf_hashes(base.drop_columns(["user.name"]))
    assert leaf_hashes(base) != leaf_hashes(pa.table({"message": ["hi "]}))
    assert leaf_hashes(pa.table({"a": ["1"]})) != leaf_hashes(pa.table({"a": pa.array([1])}))
    assert leaf_hashes(pa.table({"a": ["b"], "c": ["d"]})) != leaf_hashes(
        pa.table({"a": ["b1:cs1:d"]})
    )
    empty_map = pa.table({"fields": pa.array([[]], MAP)})
    null_map = pa.table({"fields": pa.array([None], MAP)})
    assert leaf_hashes(empty_map) != leaf_hashes(null_map)


def test_column_order_in_the_file_does_not_matter() -> None:
    table = pa.table({"b": ["x"], "a": [1]})
    assert leaf_hashes(table) == leaf_hashes(table.select(["a", "b"]))
