"""The leaf worker process: the same leaves, ids and heads as hashing in-process, and a fallback."""

from __future__ import annotations

import json
from pathlib import Path

from custodes.events import RawRecord
from custodes.ledger import Ledger, verify_store
from custodes.ledger import worker as leaf_worker
from custodes.ledger.worker import LeafWorker
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


def ingest(data_dir: Path, worker: LeafWorker | None, *, kill_after: int | None = None) -> Pipeline:
    """Six batches, a flush (one segment) after every second one."""
    ledger = Ledger(data_dir, head_every_events=300)  # a head per segment
    pipeline = Pipeline(data_dir, Normaliser([JsonParser()]), ledger=ledger, leaf_worker=worker)
    for batch in range(6):
        pipeline.submit(shuffled_records(150, start=batch * 150))
        if batch == kill_after and worker is not None and worker.process is not None:
            worker.process.kill()
            worker.process.wait()
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


def test_the_worker_gives_what_hashing_in_process_gives(tmp_path: Path) -> None:
    worker = LeafWorker(start_events=100)
    ingest(tmp_path / "worker", worker)
    ingest(tmp_path / "here", None)
    assert worker.segments_hashed == 3  # every segment came from the worker
    assert worker.process is None  # stopped on close
    assert ledger_files(tmp_path / "worker") == ledger_files(tmp_path / "here")
    assert [size for size, _ in roots(tmp_path / "worker")] == [300, 600, 900]
    assert roots(tmp_path / "worker") == roots(tmp_path / "here")
    report = verify_store(tmp_path / "worker")
    assert report.is_intact and report.events_checked == 900


def test_a_segment_below_the_start_size_is_hashed_in_process(tmp_path: Path) -> None:
    worker = LeafWorker(start_events=10_000)
    ingest(tmp_path, worker)
    assert worker.segments_hashed == 0 and worker.process is None
    assert verify_store(tmp_path).is_intact


def test_a_dead_worker_falls_back_to_hashing_in_process(tmp_path: Path) -> None:
    worker = LeafWorker(start_events=100)
    ingest(tmp_path / "killed", worker, kill_after=2)
    ingest(tmp_path / "here", None)
    assert worker.segments_hashed == 1 and worker.is_broken
    assert ledger_files(tmp_path / "killed") == ledger_files(tmp_path / "here")
    assert verify_store(tmp_path / "killed").is_intact


def test_the_worker_answers_a_segment_it_could_not_hash_with_a_failure() -> None:
    import io
    import pickle

    request = io.BytesIO()
    request.write(leaf_worker.MESSAGE.pack(leaf_worker.ADD, 7, 5) + b"junk!")
    finish = pickle.dumps((b"", 0, []))
    request.write(leaf_worker.MESSAGE.pack(leaf_worker.FINISH, 7, len(finish)) + finish)
    reply = io.BytesIO()
    leaf_worker.serve(io.BytesIO(request.getvalue()), reply)
    answer = pickle.loads(reply.getvalue()[8:])
    assert answer[:2] == ("failed", 7)
