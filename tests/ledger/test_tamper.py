"""Tamper with a real data directory in every way we know, at random: verify finds and locates it.

Each case copies a store built by the pipeline, damages it one way (seeded, so a failure names
the seed that reproduces it) and checks the faults `verify_store` reports: the right kind, file,
row and event id.
"""

from __future__ import annotations

import base64
import json
import random
import shutil
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from custodes.ledger import Fault, Ledger, verify_store

CASES_PER_KIND = 20


@dataclass
class Expected:
    """What a tamper should produce: kinds allowed, and where."""

    kinds: set[str]
    file: str | None = None  # every fault must name this file
    rows: set[int | None] | None = None  # every fault's row must be in here (None: any)
    event_id: str | None = None  # some fault must name this event
    also_global: bool = False  # faults naming no file are allowed too


def lake_files(store: Path) -> list[str]:
    lines = (store / "ledger" / "files.jsonl").read_text().splitlines()
    return [json.loads(line)["path"] for line in lines]


def read(store: Path, relative: str) -> pa.Table:
    return pq.read_table(store / relative)


def write(store: Path, relative: str, table: pa.Table) -> None:
    pq.write_table(table, store / relative, compression="zstd")


def without_row(table: pa.Table, row: int) -> pa.Table:
    return pa.concat_tables([table.slice(0, row), table.slice(row + 1)])


def altered_value(store: Path, rng: random.Random) -> Expected:
    relative = rng.choice(lake_files(store))
    table = read(store, relative)
    row = rng.randrange(table.num_rows)
    column = rng.choice(
        ["message", "host.name", "event.original", "source.port", "fields", "@timestamp"]
    )
    values = table.column(column).to_pylist()
    value = values[row]
    if column == "source.port":
        values[row] = value + 1
    elif column == "fields":
        key, item = value[0]
        values[row] = [(key, item + "!"), *value[1:]]
    elif column == "@timestamp":
        values[row] = value.replace(microsecond=(value.microsecond + 1) % 1_000_000)
    else:
        values[row] = value[:-1] + chr(ord(value[-1]) ^ 1)
    index = table.schema.get_field_index(column)
    table = table.set_column(
        index, table.schema.field(index), pa.array(values, table.schema.field(index).type)
    )
    write(store, relative, table)
    return Expected({"altered"}, relative, {row}, table.column("event.id")[row].as_py())


def deleted_row(store: Path, rng: random.Random) -> Expected:
    relative = rng.choice(lake_files(store))
    table = read(store, relative)
    row = rng.randrange(table.num_rows)
    event_id = table.column("event.id")[row].as_py()
    write(store, relative, without_row(table, row))
    return Expected({"deleted"}, relative, {row}, event_id)


def inserted_row(store: Path, rng: random.Random) -> Expected:
    relative = rng.choice(lake_files(store))
    table = read(store, relative)
    row = rng.randrange(table.num_rows + 1)
    source = table.slice(rng.randrange(table.num_rows), 1).to_pylist()[0]
    source["event.id"] = "f" * 32
    source["message"] = "planted"
    planted = pa.Table.from_pylist([source], schema=table.schema)
    write(store, relative, pa.concat_tables([table.slice(0, row), planted, table.slice(row)]))
    return Expected({"inserted"}, relative, {row}, "f" * 32)


def reordered_rows(store: Path, rng: random.Random) -> Expected:
    relative = rng.choice(lake_files(store))
    table = read(store, relative)
    first, second = sorted(rng.sample(range(table.num_rows), 2))
    order = list(range(table.num_rows))
    if rng.random() < 0.5:
        order[first], order[second] = order[second], order[first]
        touched = {first, second}
    else:  # move one event later
        order.insert(second, order.pop(first))
        touched = set(range(first, second + 1))
    write(store, relative, table.take(pa.array(order)))
    return Expected({"reordered"}, relative, set(touched))


def file_missing(store: Path, rng: random.Random) -> Expected:
    relative = rng.choice(lake_files(store))
    (store / relative).unlink()
    return Expected({"file missing"}, relative, {None})


def file_added(store: Path, rng: random.Random) -> Expected:
    relative = rng.choice(lake_files(store))
    target = Path(relative).with_name(f"node9-{rng.randrange(10**6):012d}.parquet").as_posix()
    table = read(store, relative)
    write(store, target, table.slice(0, rng.randrange(1, table.num_rows + 1)))
    return Expected({"unknown file"}, target, {None})


def head_forged(store: Path, rng: random.Random) -> Expected:
    path = store / "ledger" / "heads.jsonl"
    lines = path.read_text().splitlines()
    number = rng.randrange(len(lines))
    head = json.loads(lines[number])
    field = rng.choice(["root_hash", "signature", "tree_size", "timestamp"])
    if field == "root_hash":
        digit = rng.randrange(64)
        old = head["root_hash"][digit]
        head["root_hash"] = (
            head["root_hash"][:digit]
            + ("0" if old != "0" else "1")
            + head["root_hash"][digit + 1 :]
        )
    elif field == "signature":
        raw = bytearray(base64.b64decode(head["signature"]))
        raw[rng.randrange(len(raw))] ^= 1 << rng.randrange(8)
        head["signature"] = base64.b64encode(bytes(raw)).decode()
    else:
        head[field] += rng.choice([-1, 1])
    lines[number] = json.dumps(head)
    path.write_text("\n".join(lines) + "\n")
    return Expected({"head forged"}, None, {None})


def ledger_truncated(store: Path, rng: random.Random) -> Expected:
    path = store / "ledger" / "leaves.bin"
    data = path.read_bytes()
    cut = rng.randrange(1, len(data) // 32) * 32 - rng.choice([0, 0, 7])
    path.write_bytes(data[: len(data) - cut])
    return Expected({"ledger truncated"})


def byte_flip(store: Path, rng: random.Random) -> Expected:
    relative = rng.choice(lake_files(store))
    path = store / relative
    data = bytearray(path.read_bytes())
    position = rng.randrange(len(data))
    data[position] ^= 1 << rng.randrange(8)
    original = pq.read_table(path)
    path.write_bytes(bytes(data))
    rows: set[int | None] = {None}
    try:
        damaged = pq.read_table(path)
        if damaged.num_rows == original.num_rows and damaged.schema == original.schema:
            rows |= {
                row
                for row in range(original.num_rows)
                if damaged.slice(row, 1).to_pylist() != original.slice(row, 1).to_pylist()
            }
        else:
            rows = set(range(max(original.num_rows, damaged.num_rows))) | {None}
    except (pa.ArrowException, OSError):
        pass  # unreadable: reported for the whole file
    return Expected({"altered", "deleted", "inserted", "reordered"}, relative, rows)


def leaf_flipped(store: Path, rng: random.Random) -> Expected:
    """A stored leaf hash changed: that event no longer matches, nor does any later head."""
    path = store / "ledger" / "leaves.bin"
    data = bytearray(path.read_bytes())
    position = rng.randrange(len(data))
    data[position] ^= 1 << rng.randrange(8)
    path.write_bytes(bytes(data))
    leaf = position // 32
    entries = [
        json.loads(line) for line in (store / "ledger" / "files.jsonl").read_text().splitlines()
    ]
    entry = next(e for e in entries if e["first"] <= leaf < e["first"] + e["count"])
    row = leaf - entry["first"]
    event_id = read(store, entry["path"]).column("event.id")[row].as_py()
    return Expected({"altered", "ledger altered"}, entry["path"], {row, None}, event_id, True)


def index_edited(store: Path, rng: random.Random) -> Expected:
    """A line of files.jsonl changed: a digest, a count or a first leaf."""
    path = store / "ledger" / "files.jsonl"
    lines = path.read_text().splitlines()
    number = rng.randrange(len(lines))
    entry = json.loads(lines[number])
    field = rng.choice(["sha256", "count", "first"])
    if field == "sha256":
        entry["sha256"] = ("0" if entry["sha256"][0] != "0" else "1") + entry["sha256"][1:]
    else:
        entry[field] += rng.choice([-1, 1]) if entry[field] > 0 else 1
    lines[number] = json.dumps(entry)
    path.write_text("\n".join(lines) + "\n")
    kinds = {"altered", "deleted", "inserted", "ledger altered", "ledger truncated"}
    # a changed count or first leaf breaks the chain of ranges at this line or the next one
    return Expected(kinds, entry["path"] if field == "sha256" else None, None, None, True)


TAMPERS: dict[str, Callable[[Path, random.Random], Expected]] = {
    "altered": altered_value,
    "deleted": deleted_row,
    "inserted": inserted_row,
    "reordered": reordered_rows,
    "file missing": file_missing,
    "file added": file_added,
    "head forged": head_forged,
    "ledger truncated": ledger_truncated,
    "byte flip": byte_flip,
    "leaf flipped": leaf_flipped,
    "index edited": index_edited,
}
CASES = [(kind, seed) for kind in TAMPERS for seed in range(CASES_PER_KIND)]


def check(faults: list[Fault], expected: Expected) -> None:
    assert faults, "tampering went unnoticed"
    for fault in faults:
        assert fault.kind in expected.kinds, fault
        if expected.file is not None and not (expected.also_global and fault.file is None):
            assert fault.file == expected.file, fault
        if expected.rows is not None:
            assert fault.row in expected.rows, fault
    if expected.event_id is not None:
        assert expected.event_id in {fault.event_id for fault in faults}


def test_untouched_store_verifies_clean(store: Path) -> None:
    report = verify_store(store)
    assert report.faults == []
    assert report.events_checked == report.tree_size == report.signed_size == 1200
    assert report.heads >= 4


@pytest.mark.parametrize(("kind", "seed"), CASES, ids=[f"{k}-{s}" for k, s in CASES])
def test_tampering_is_detected_and_located(
    template_store: Path, tmp_path: Path, kind: str, seed: int
) -> None:
    store = tmp_path / "store"
    shutil.copytree(template_store, store)
    expected = TAMPERS[kind](store, random.Random(f"{kind}-{seed}"))
    # Verify as if right after the template was built: the suite may take minutes on a busy
    # machine, and a store whose heads were tampered with then also counts as truncated.
    built_at = (template_store / "ledger" / "files.jsonl").stat().st_mtime
    report = verify_store(store, now=datetime.fromtimestamp(built_at + 1, tz=UTC))
    check(report.faults, expected)
    assert not report.is_intact


def test_purge_is_not_tampering_but_hides_nothing_else(store: Path) -> None:
    files = lake_files(store)
    with Ledger(store) as ledger:
        entry = ledger.record_purge(files[:2], reason="retention: 30 days")
    assert [item.path for item in entry.files] == files[:2]
    for relative in files[:2]:
        (store / relative).unlink()
    report = verify_store(store)
    assert report.faults == [] and report.files_purged == 2
    (store / files[2]).unlink()
    assert [(fault.kind, fault.file) for fault in verify_store(store).faults] == [
        ("file missing", files[2])
    ]


def test_forged_purge_excuses_nothing(store: Path) -> None:
    files = lake_files(store)
    with Ledger(store) as ledger:
        ledger.record_purge(files[:1], reason="retention")
    path = store / "ledger" / "purges.jsonl"
    purge = json.loads(path.read_text())
    index = [
        json.loads(line) for line in (store / "ledger" / "files.jsonl").read_text().splitlines()
    ]
    purge["files"].append(index[3])  # try to excuse one more file without the key
    path.write_text(json.dumps(purge) + "\n")
    (store / files[3]).unlink()
    kinds = sorted((fault.kind, fault.file) for fault in verify_store(store).faults)
    assert kinds == [("file missing", files[3]), ("purge forged", None)]
