"""The pipeline end to end: commit order, quarantine replay, and SIGKILL in the middle of ingest."""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import pyarrow as pa
import pytest

from custodes.events import RawRecord
from custodes.file_import import import_files
from custodes.normalise import JsonParser, Normaliser
from custodes.pipeline import Pipeline, replay_quarantine
from custodes.store import connect, read_quarantine
from tests.store.helpers import json_line, json_records

ROOT = Path(__file__).resolve().parent.parent


def count_events(data_dir: Path) -> tuple[int, int]:
    connection = connect(data_dir)
    row = connection.execute('SELECT count(*), count(DISTINCT "event.id") FROM events').fetchone()
    assert row is not None
    return row[0], row[1]


def test_on_commit_sees_each_batch_after_it_is_durable(data_dir: Path) -> None:
    pipeline = Pipeline(data_dir, Normaliser([JsonParser()]))
    seen: list[tuple[int, int]] = []

    def listener(batch: pa.RecordBatch) -> None:
        frames = sum(path.stat().st_size for path in (data_dir / "wal").glob("*.wal"))
        seen.append((batch.num_rows, frames))

    pipeline.on_commit.append(listener)
    result = pipeline.submit([*json_records(5), RawRecord(data=b"??", origin="x")])
    pipeline.close()
    assert (result.stored, result.quarantined) == (5, 1)
    assert seen[0][0] == 5
    assert seen[0][1] > 0  # the WAL already held the batch when detection saw it


def test_quarantine_replay_after_a_parser_fix(data_dir: Path) -> None:
    broken = Pipeline(data_dir, Normaliser([]))  # no parser yet: everything is quarantined
    assert broken.submit(json_records(12)).quarantined == 12
    broken.submit([RawRecord(data=b"still not json", origin="y")])
    broken.close()
    assert read_quarantine(data_dir).num_rows == 13
    fixed = Pipeline(data_dir, Normaliser([JsonParser()]))
    result = replay_quarantine(fixed)
    fixed.close()
    assert (result.stored, result.quarantined) == (12, 1)
    assert count_events(data_dir) == (12, 12)
    left = read_quarantine(data_dir)
    assert left["data"].to_pylist() == [b"still not json"]
    assert left["reason"].to_pylist() == ["no parser accepts this record"]


class Crash(Exception):
    """The process dies here."""


def test_interrupted_quarantine_replay_resumes_without_duplicates(
    data_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    broken = Pipeline(data_dir, Normaliser([]))
    broken.submit(json_records(50))
    broken.close()
    (old_file,) = (data_dir / "quarantine").glob("*.parquet")
    real_unlink = Path.unlink

    def unlink(self: Path, missing_ok: bool = False) -> None:
        if self == old_file:
            raise Crash  # every replayed batch is durable, the old file not yet removed
        real_unlink(self, missing_ok)

    monkeypatch.setattr(Path, "unlink", unlink)
    fixed = Pipeline(data_dir, Normaliser([JsonParser()]))
    with pytest.raises(Crash):
        replay_quarantine(fixed, batch_records=20)
    fixed.close()
    monkeypatch.undo()
    assert old_file.exists()
    again = Pipeline(data_dir, Normaliser([JsonParser()]))
    result = replay_quarantine(again)
    again.close()
    assert (result.stored, result.quarantined) == (0, 0)
    assert not old_file.exists()
    assert count_events(data_dir) == (50, 50)


def test_import_resumes_at_the_cursor(tmp_path: Path, data_dir: Path) -> None:
    path = tmp_path / "a.jsonl"
    path.write_bytes(b"\n".join(json_line(i) for i in range(100)) + b"\n")
    pipeline = Pipeline(data_dir, Normaliser([JsonParser()]))
    import_files(pipeline, [path], batch_records=30)
    cursors = sorted(pipeline.cursors.items())
    pipeline.close()
    assert [(key.split(":")[0], value) for key, value in cursors] == [("done", 1), ("file", 100)]
    skipped = Pipeline(data_dir, Normaliser([JsonParser()]))
    assert import_files(skipped, [path])["json"].skipped_files == 1
    skipped.close()
    with path.open("ab") as handle:  # the log grows: only the new lines are read
        handle.write(b"\n".join(json_line(i) for i in range(100, 120)) + b"\n")
    pipeline = Pipeline(data_dir, Normaliser([JsonParser()]))
    counts = import_files(pipeline, [path], batch_records=30)
    pipeline.close()
    assert counts["json"].read == 20
    assert count_events(data_dir) == (120, 120)


def test_small_files_share_one_commit_and_resume_exactly(tmp_path: Path, data_dir: Path) -> None:
    for number in range(30):
        lines = [json_line(i) for i in range(number * 10, number * 10 + 10)]
        (tmp_path / f"small{number:02d}.jsonl").write_bytes(b"\n".join(lines) + b"\n")
    pipeline = Pipeline(data_dir, Normaliser([JsonParser()]))
    commits: list[int] = []
    pipeline.on_commit.append(lambda batch: commits.append(batch.num_rows))
    counts = import_files(pipeline, [tmp_path], batch_records=120)
    pipeline.close()
    assert commits == [120, 120, 60]
    assert (counts["json"].files, counts["json"].stored) == (30, 300)
    pipeline = Pipeline(data_dir, Normaliser([JsonParser()]))
    again = import_files(pipeline, [tmp_path], batch_records=120)
    pipeline.close()
    assert (again["json"].read, again["json"].skipped_files) == (0, 30)
    assert count_events(data_dir) == (300, 300)


def ingest_command(data_dir: Path, source: Path) -> list[str]:
    run_cli = "from custodes.cli.main import app; app()"
    return [sys.executable, "-c", run_cli, "ingest", "--data-dir", str(data_dir), str(source)]


def test_sigkill_during_ingest_then_rerun_stores_every_event_once(
    tmp_path: Path, data_dir: Path
) -> None:
    source = tmp_path / "logs"
    source.mkdir()
    total = 0
    for part in range(3):
        lines = [json_line(i, day=1 + i % 3) for i in range(part * 60_000, (part + 1) * 60_000)]
        (source / f"part{part}.jsonl").write_bytes(b"\n".join(lines) + b"\n")
        total += len(lines)
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    chance = random.Random(7)
    killed_mid_way = 0
    counts_seen: list[int] = []
    for _ in range(4):
        process = subprocess.Popen(
            ingest_command(data_dir, source),
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 60
        while not list((data_dir / "wal").glob("*.wal")) and time.monotonic() < deadline:
            if process.poll() is not None:
                break
            time.sleep(0.02)
        kill_at = time.monotonic() + chance.uniform(0.1, 1.5)
        while time.monotonic() < kill_at:  # another process reads while this one writes
            counts_seen.append(count_events(data_dir)[0])
            time.sleep(0.05)
        if process.poll() is None:
            process.send_signal(signal.SIGKILL)
            killed_mid_way += 1
        process.wait()
    finished = subprocess.run(
        ingest_command(data_dir, source), env=env, capture_output=True, timeout=300
    )
    assert finished.returncode == 0, finished.stderr.decode()
    assert killed_mid_way >= 2
    assert counts_seen == sorted(counts_seen)  # readers only ever see whole files appear
    assert count_events(data_dir) == (total, total)
