"""Ingest throughput: Custodes vs the orjson + pyarrow ceiling, on the same records, in one run.

    python bench/ingest.py [--events 1000000] [--runs 3]

1. NDJSON: `--events` generated events (ECS-style nested JSON, ~350 bytes each) in four files.
   Custodes = `custodes ingest`'s code path (discover, read, normalise, WAL fsync, Parquet lake).
   Ceiling = read the lines, `orjson.loads` each, `pa.Table.from_pylist` and write one zstd
   Parquet file, in batches of ~90,000 lines (all at once is slower at 1M: memory).
2. EVTX: the .evtx files of the shared evtx-attack-samples. Custodes as above; ceiling = the
   `evtx` package's JSON
   records, `orjson.loads`, `from_pylist`, Parquet.
Each figure is the median of `--runs` runs; a line after each shows where the last Custodes run
spent its time (normalise, WAL, detection in the caller's thread; lake and ledger in the
background flush thread, which overlaps).
"""

from __future__ import annotations

import argparse
import os
import random
import shutil
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import orjson
import pyarrow as pa
import pyarrow.parquet as pq

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from custodes.file_import import import_files  # noqa: E402
from custodes.pipeline import open_pipeline  # noqa: E402
from custodes.plugins import load  # noqa: E402

ACTIONS = ["logon", "logoff", "file-open", "process-start", "network-connect", "dns-query"]
CEILING_BATCH_BYTES = 32 << 20  # about 90,000 generated lines per batch
HOSTS = [f"ws-{index:04d}.corp.example" for index in range(200)]
USERS = [f"user{index:03d}" for index in range(500)]


def generate(folder: Path, events: int, files: int = 4, seed: int = 1) -> list[Path]:
    """NDJSON files with `events` ECS-style events spread over two days."""
    chance = random.Random(seed)
    paths = []
    per_file = events // files
    start = 1_714_521_600  # 2024-05-01T00:00:00Z
    for number in range(files):
        path = folder / f"events-{number}.ndjson"
        with open(path, "wb") as handle:
            lines = []
            for index in range(per_file):
                second = start + (number * per_file + index) * 172_800 // events
                lines.append(
                    orjson.dumps(
                        {
                            "@timestamp": time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(second))
                            + f".{index % 1000:03d}Z",
                            "event": {
                                "dataset": "endpoint.events",
                                "action": chance.choice(ACTIONS),
                                "outcome": "success" if chance.random() < 0.9 else "failure",
                            },
                            "host": {"name": chance.choice(HOSTS)},
                            "user": {"name": chance.choice(USERS)},
                            "source": {
                                "ip": f"10.{chance.randrange(256)}.{chance.randrange(256)}.7"
                            },
                            "process": {
                                "pid": chance.randrange(100, 60000),
                                "command_line": f"C:\\Windows\\svc.exe -k job{index % 97}",
                            },
                            "message": f"activity {index} on shard {number}",
                            "bytes": chance.randrange(10_000),
                        }
                    )
                )
            handle.write(b"\n".join(lines) + b"\n")
        paths.append(path)
    return paths


def ceiling_ndjson(paths: list[Path], out: Path) -> int:
    """orjson decode + pyarrow Parquet write of the same lines, streamed in batches."""
    count = 0
    writer: pq.ParquetWriter | None = None
    for path in paths:
        with open(path, "rb") as handle:
            while lines := handle.readlines(CEILING_BATCH_BYTES):
                table = pa.Table.from_pylist([orjson.loads(line) for line in lines])
                if writer is None:
                    writer = pq.ParquetWriter(
                        out / "ceiling.parquet", table.schema, compression="zstd"
                    )
                writer.write_table(table)
                count += table.num_rows
    if writer is not None:
        writer.close()
    return count


def evtx_documents(folder: Path) -> list[bytes]:
    """The JSON of every record the `evtx` package yields from the sample files."""
    import evtx

    records = []
    for path in sorted(folder.rglob("*.evtx")):
        try:
            for record in evtx.PyEvtxParser(str(path)).records_json():
                records.append(record["data"].encode())
        except (RuntimeError, OSError):
            continue
    return records


def ceiling_evtx(folder: Path, out: Path) -> int:
    """evtx render + orjson decode + pyarrow Parquet write."""
    documents = [orjson.loads(data) for data in evtx_documents(folder)]
    table = pa.Table.from_pylist([{"record": orjson.dumps(doc).decode()} for doc in documents])
    pq.write_table(table, out / "ceiling.parquet", compression="zstd")
    return len(documents)


STEPS: dict[str, float] = {}


def custodes(paths: list[Path], out: Path, *, ledger: bool = True) -> int:
    """`custodes ingest` in-process: the whole path up to durable Parquet files (and ledger)."""
    pipeline = open_pipeline(
        out / "data", registry=load(entry_points=False), detect=False, ledger=ledger
    )
    begin = time.perf_counter()
    try:
        counts = import_files(pipeline, paths)
        imported = time.perf_counter()
    finally:
        pipeline.close()
    STEPS.clear()
    STEPS.update(pipeline.seconds)
    main_thread = STEPS["normalise"] + STEPS["wal"] + STEPS["detect"]
    STEPS["read+other"] = imported - begin - main_thread
    STEPS["final flush wait"] = time.perf_counter() - imported
    return sum(kind.stored for kind in counts.values())


def print_steps() -> None:
    """Where the last Custodes run spent its time (lake and ledger run in a background thread)."""
    parts = ", ".join(f"{name} {seconds:.2f}" for name, seconds in STEPS.items())
    print(f"        steps of the last run, seconds: {parts}")


def measure(work: Callable[[Path], int], runs: int) -> tuple[float, int]:
    """Median seconds over `runs` runs, each in a fresh temp dir, and the event count."""
    seconds = []
    count = 0
    for _ in range(runs):
        out = Path(tempfile.mkdtemp(prefix="custodes-bench-"))
        try:
            begin = time.perf_counter()
            count = work(out)
            seconds.append(time.perf_counter() - begin)
        finally:
            shutil.rmtree(out, ignore_errors=True)
    return statistics.median(seconds), count


def report(name: str, ours: tuple[float, int], ceiling: tuple[float, int]) -> None:
    """One line: our rate, the ceiling's, the ratio."""
    our_rate = ours[1] / ours[0]
    ceiling_rate = ceiling[1] / ceiling[0]
    print(
        f"{name:7} custodes {our_rate:>10,.0f} events/s ({ours[1]:,} events, {ours[0]:.2f} s)"
        f" | ceiling orjson+pyarrow {ceiling_rate:>10,.0f} events/s ({ceiling[1]:,} records)"
        f" | ratio {our_rate / ceiling_rate:.0%}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument(
        "--datasets",
        type=Path,
        default=Path(os.environ.get("CUSTODES_DATASETS", ROOT.parent / "shared" / "datasets")),
    )
    parser.add_argument(
        "--no-ledger",
        action="store_true",
        help="without the evidence ledger (bench/verify.py compares both in one run)",
    )
    arguments = parser.parse_args()
    ledger = not arguments.no_ledger
    with tempfile.TemporaryDirectory(prefix="custodes-bench-input-") as folder:
        paths = generate(Path(folder), arguments.events)
        ceiling = measure(lambda out: ceiling_ndjson(paths, out), arguments.runs)
        ours = measure(lambda out: custodes(paths, out, ledger=ledger), arguments.runs)
        report("ndjson", ours, ceiling)
        print_steps()
    samples = arguments.datasets / "evtx-attack-samples"
    if samples.is_dir():
        ceiling = measure(lambda out: ceiling_evtx(samples, out), arguments.runs)
        files = sorted(samples.rglob("*.evtx"))  # the same records as the ceiling
        ours = measure(lambda out: custodes(files, out, ledger=ledger), arguments.runs)
        report("evtx", ours, ceiling)
        print_steps()
    else:
        print(f"evtx    skipped: no samples at {samples}")


if __name__ == "__main__":
    main()
