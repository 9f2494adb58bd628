"""The writer: idempotent records, heads on schedule, crash recovery, key rotation, incremental."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from custodes.errors import LedgerError, NotFound
from custodes.ledger import KeyRing, Ledger, verify_store
from custodes.normalise import JsonParser, Normaliser
from custodes.pipeline import Pipeline, open_pipeline
from tests.ledger.conftest import sample_record

ROOT = Path(__file__).resolve().parents[2]


def lake_file(data_dir: Path, name: str, rows: int, offset: int = 0) -> tuple[str, pa.Table]:
    """A Parquet file of `rows` simple events written under the lake; returns (path, table)."""
    table = pa.table(
        {
            "event.id": [f"{n:032x}" for n in range(offset, offset + rows)],
            "message": [f"m{n}" for n in range(offset, offset + rows)],
        }
    )
    relative = f"lake/dataset=test/date=2024-05-01/{name}.parquet"
    (data_dir / relative).parent.mkdir(parents=True, exist_ok=True)
    pq.write_table(table, data_dir / relative)
    return relative, table


def heads(data_dir: Path) -> list[dict[str, object]]:
    lines = (data_dir / "ledger" / "heads.jsonl").read_text().splitlines()
    return [json.loads(line) for line in lines]


def more_events(data_dir: Path, start: int, count: int) -> None:
    with Pipeline(data_dir, Normaliser([JsonParser()]), ledger=Ledger(data_dir)) as pipeline:
        pipeline.submit([sample_record(n) for n in range(start, start + count)])


def test_record_many_writes_what_one_record_per_file_writes(tmp_path: Path) -> None:
    one, many = tmp_path / "one", tmp_path / "many"
    for data_dir in (one, many):
        files = [lake_file(data_dir, name, rows, offset) for name, rows, offset in FILES]
        wider = files[1][1].append_column("user.name", pa.array(["u"] * files[1][1].num_rows))
        pq.write_table(wider, data_dir / files[1][0])  # a schema of its own between two
        files[1] = (files[1][0], wider)
        with Ledger(data_dir, clock=lambda: 7) as ledger:
            if data_dir == one:
                for path, table in files:
                    ledger.record(path, table)
            else:
                ledger.record_many(files[:2])
                ledger.record_many(files)  # known paths are skipped, the new one is added
    for name in ("leaves.bin", "ids.bin", "files.jsonl"):
        assert (one / "ledger" / name).read_bytes() == (many / "ledger" / name).read_bytes()
    assert verify_store(many).is_intact


FILES = [("a", 3, 0), ("b", 40, 3), ("c", 1, 43), ("d", 17, 44)]


def test_record_is_idempotent_per_path(data_dir: Path) -> None:
    with Ledger(data_dir) as ledger:
        path, table = lake_file(data_dir, "a", 5)
        ledger.record(path, table)
        ledger.record(path, table)
        assert ledger.size == 5
        with pytest.raises(LedgerError, match="recorded with 5 events"):
            ledger.record(path, table.slice(1))
        with pytest.raises(LedgerError, match="cannot read"):
            ledger.record("lake/none.parquet", table)
    assert verify_store(data_dir).is_intact


def test_heads_every_m_events_and_on_close(data_dir: Path) -> None:
    with Ledger(data_dir, head_every_events=100, head_interval_secs=0) as ledger:
        for number in range(3):
            ledger.record(*lake_file(data_dir, f"f{number}", 60, offset=number * 60))
    assert [head["tree_size"] for head in heads(data_dir)] == [120, 180]


def test_a_head_follows_within_the_interval(data_dir: Path) -> None:
    with Ledger(data_dir, head_interval_secs=0.05) as ledger:
        ledger.record(*lake_file(data_dir, "a", 3))
        deadline = time.monotonic() + 10
        while ledger.signed_size < 3 and time.monotonic() < deadline:
            time.sleep(0.02)
        assert ledger.signed_size == 3


def test_one_writer_at_a_time(data_dir: Path) -> None:
    with Ledger(data_dir), pytest.raises(LedgerError, match="open in another process"):
        Ledger(data_dir)


def test_crash_leftovers_are_cut_and_unsigned_leaves_signed_on_open(data_dir: Path) -> None:
    path, _ = lake_file(data_dir, "a", 4)
    script = (
        "import os, sys, pyarrow.parquet as pq\n"
        "from pathlib import Path\n"
        "from custodes.ledger import Ledger\n"
        "d = Path(sys.argv[1]); ledger = Ledger(d, head_interval_secs=0)\n"
        f"ledger.record({path!r}, pq.read_table(d / {path!r}))\n"
        "with open(d / 'ledger' / 'leaves.bin', 'ab') as f: f.write(b'x' * 40)\n"
        "with open(d / 'ledger' / 'files.jsonl', 'ab') as f: f.write(b'{\"path\": \"lake/b')\n"
        "os._exit(0)\n"
    )
    subprocess.run([sys.executable, "-c", script, str(data_dir)], check=True, cwd=ROOT)
    assert not (data_dir / "ledger" / "heads.jsonl").exists()
    with Ledger(data_dir) as ledger:
        assert ledger.size == 4 and ledger.signed_size == 4
    assert (data_dir / "ledger" / "leaves.bin").stat().st_size == 4 * 32
    assert verify_store(data_dir).is_intact


def test_rotation_keeps_old_heads_verifiable(store: Path) -> None:
    old_id = KeyRing.for_data_dir(store).current_id()
    with Ledger(store) as ledger:
        new_id = ledger.rotate_key()
    more_events(store, 5000, 40)
    ring = KeyRing.for_data_dir(store)
    assert new_id != old_id and ring.current_id() == new_id
    assert set(ring.public_keys()) == {old_id, new_id}
    assert not (ring.directory / f"{old_id}.key").exists()
    assert {head["key_id"] for head in heads(store)} == {old_id, new_id}
    assert heads(store)[-1]["key_id"] == new_id
    assert verify_store(store).is_intact


def test_purge_of_an_unknown_file_is_refused(store: Path) -> None:
    with Ledger(store) as ledger, pytest.raises(NotFound):
        ledger.record_purge(["lake/nowhere.parquet"], reason="retention")


def test_incremental_verify_rereads_only_new_files_but_still_sees_old_ones_change(
    store: Path,
) -> None:
    first = verify_store(store)
    assert first.is_intact and first.files_skipped == 0
    more_events(store, 5000, 30)
    second = verify_store(store, incremental=True)
    assert second.is_intact
    assert second.files_skipped == first.files_checked
    assert second.events_checked == 30
    old = json.loads((store / "ledger" / "files.jsonl").read_text().splitlines()[0])["path"]
    table = pq.read_table(store / old)
    pq.write_table(table.slice(1), store / old)
    kinds = {
        (fault.kind, fault.file, fault.row)
        for fault in verify_store(store, incremental=True).faults
    }
    assert kinds == {("deleted", old, 0)}


def test_a_ledger_cut_back_below_the_last_verify_is_caught(store: Path) -> None:
    assert verify_store(store).is_intact
    directory = store / "ledger"
    lines = (directory / "heads.jsonl").read_text().splitlines()
    (directory / "heads.jsonl").write_text(lines[0] + "\n")
    kinds = {fault.kind for fault in verify_store(store).faults}
    assert "ledger truncated" in kinds


def test_since_checks_only_later_partitions(store: Path) -> None:
    from datetime import UTC, datetime

    report = verify_store(store, since=datetime(2024, 5, 3, tzinfo=UTC))
    assert report.is_intact
    assert 0 < report.events_checked < report.tree_size
    assert report.files_skipped > 0


def test_open_pipeline_records_every_lake_file(data_dir: Path) -> None:
    with open_pipeline(data_dir) as pipeline:
        pipeline.submit([sample_record(n) for n in range(20)])
    report = verify_store(data_dir)
    assert report.is_intact and report.signed_size == 20 == report.events_checked


def test_open_pipeline_without_ledger_writes_none(data_dir: Path) -> None:
    with open_pipeline(data_dir, ledger=False) as pipeline:
        pipeline.submit([sample_record(n) for n in range(5)])
    assert not (data_dir / "ledger").exists()


def test_heads_removed_leave_old_events_unsigned_and_that_is_caught(store: Path) -> None:
    from datetime import UTC, datetime, timedelta

    (store / "ledger" / "heads.jsonl").write_text("")
    later = datetime.now(UTC) + timedelta(minutes=5)
    faults = verify_store(store, now=later).faults
    assert [fault.kind for fault in faults] == ["ledger truncated"]
    assert verify_store(store).is_intact  # just recorded: the writer may still be signing


def test_sigkill_during_ingest_leaves_a_ledger_that_verifies(data_dir: Path) -> None:
    import os
    import signal

    script = (
        "import sys\n"
        "from pathlib import Path\n"
        "from custodes.normalise import JsonParser, Normaliser\n"
        "from custodes.pipeline import Pipeline\n"
        "from custodes.ledger import Ledger\n"
        "from tests.ledger.conftest import sample_record\n"
        "d = Path(sys.argv[1]); start = int(sys.argv[2])\n"
        "ledger = Ledger(d, head_every_events=50)\n"
        "pipeline = Pipeline(d, Normaliser([JsonParser()]), ledger=ledger)\n"
        "for n in range(start, start + 100_000, 40):\n"
        "    pipeline.submit([sample_record(m) for m in range(n, n + 40)])\n"
        "    pipeline.flush()\n"
        "    print(n, flush=True)\n"
    )
    for round_number in range(3):
        with subprocess.Popen(
            [sys.executable, "-c", script, str(data_dir), str(round_number * 100_000)],
            cwd=ROOT,
            stdout=subprocess.PIPE,
            text=True,
        ) as process:
            assert process.stdout is not None
            for _ in range(3 + round_number * 2):  # let a few flushes through, then kill
                process.stdout.readline()
            os.kill(process.pid, signal.SIGKILL)
            process.wait()
    with Pipeline(data_dir, Normaliser([JsonParser()]), ledger=Ledger(data_dir)):
        pass  # replays whatever the last kill left in the WAL
    report = verify_store(data_dir)
    assert report.faults == []
    assert report.events_checked == report.signed_size == report.tree_size > 0


def test_a_writer_refuses_a_ledger_cut_back_below_its_last_head(store: Path) -> None:
    index = store / "ledger" / "files.jsonl"
    lines = index.read_text().splitlines()
    index.write_text("\n".join(lines[:-3]) + "\n")
    with pytest.raises(LedgerError, match="cut back"):
        Ledger(store)
    with pytest.raises(LedgerError, match="cut back"):
        open_pipeline(store)
