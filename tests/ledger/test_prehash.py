"""Leaves hashed as batches are committed: the same leaves, ids and heads as hashing the files."""

from __future__ import annotations

import json
from pathlib import Path

import pyarrow as pa
import pytest

from custodes.events import RawRecord
from custodes.ledger import Ledger, verify_store
from custodes.ledger.prehash import LeafHashing
from custodes.normalise import JsonParser, Normaliser
from custodes.pipeline import Pipeline


def shuffled_records(count: int, start: int = 0) -> list[RawRecord]:
    """Events out of time order over two datasets and three days (the lake reorders them)."""
    records = []
    for number in range(start, start + count):
        second = (number * 7919) % 86_400
        document = {
            "@timestamp": f"2024-05-0{1 + number % 3}T{second // 3600:02d}:"
            f"{second // 60 % 60:02d}:{second % 60:02d}Z",
            "event": {"dataset": ("auth", "proxy")[number % 2]},
            "user": {"name": f"user{number % 13}"},
            "message": f"event {number} ✓",
            "TargetUserName": f"admin{number % 5}",
        }
        records.append(RawRecord(data=json.dumps(document).encode(), origin="t", position=number))
    return records


def ingest(data_dir: Path, hashing: LeafHashing | None) -> Pipeline:
    """Six batches, a flush (one segment) after every second one."""
    ledger = Ledger(data_dir, head_every_events=300)  # a head per segment
    pipeline = Pipeline(data_dir, Normaliser([JsonParser()]), ledger=ledger, leaf_hashing=hashing)
    for batch in range(6):
        pipeline.submit(shuffled_records(150, start=batch * 150))
        if batch % 2:
            pipeline.flush()
    pipeline.close()
    return pipeline


def ledger_files(data_dir: Path) -> dict[str, bytes]:
    folder = data_dir / "ledger"
    return {name: (folder / name).read_bytes() for name in ("leaves.bin", "ids.bin")}


def roots(data_dir: Path) -> list[tuple[int, str]]:
    lines = (data_dir / "ledger" / "heads.jsonl").read_text().splitlines()
    return [(head["tree_size"], head["root_hash"]) for head in map(json.loads, lines)]


def test_hashing_as_committed_gives_what_hashing_the_files_gives(tmp_path: Path) -> None:
    hashing = LeafHashing()
    ingest(tmp_path / "early", hashing)
    ingest(tmp_path / "late", None)
    assert hashing.segments_hashed == 3  # every segment's leaves were ready when it moved
    assert hashing.thread is None  # stopped on close
    assert ledger_files(tmp_path / "early") == ledger_files(tmp_path / "late")
    assert [size for size, _ in roots(tmp_path / "early")] == [300, 600, 900]
    assert roots(tmp_path / "early") == roots(tmp_path / "late")
    report = verify_store(tmp_path / "early")
    assert report.is_intact and report.events_checked == 900


def test_a_batch_that_cannot_be_hashed_sends_its_segment_to_the_files(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from custodes.ledger import encoding, prehash

    calls = 0
    real = encoding.leaf_hashes

    def fails_once(batch: pa.RecordBatch) -> bytes:
        nonlocal calls
        calls += 1
        if calls == 2:
            raise RuntimeError("no memory, say")
        return real(batch)

    monkeypatch.setattr(prehash, "leaf_hashes", fails_once)
    hashing = LeafHashing()
    ingest(tmp_path / "early", hashing)
    ingest(tmp_path / "late", None)
    assert hashing.segments_hashed == 2  # the first segment was hashed from its files
    assert ledger_files(tmp_path / "early") == ledger_files(tmp_path / "late")
    assert verify_store(tmp_path / "early").is_intact


def test_a_replayed_segment_is_hashed_from_its_files(tmp_path: Path) -> None:
    crashed = Pipeline(tmp_path, Normaliser([JsonParser()]), ledger=None)
    crashed.submit(shuffled_records(200))
    crashed.wal.close()  # as a crash leaves it: the segment never reached the lake
    hashing = LeafHashing()
    ledger = Ledger(tmp_path)
    Pipeline(tmp_path, Normaliser([JsonParser()]), ledger=ledger, leaf_hashing=hashing).close()
    assert hashing.segments_hashed == 0
    report = verify_store(tmp_path)
    assert report.is_intact and report.events_checked == 200
