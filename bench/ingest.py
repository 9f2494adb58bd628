"""Ingest throughput: Custodes vs the orjson + pyarrow ceiling, on the same records, in one run.

    python bench/ingest.py [--events 1000000] [--runs 3]

1. NDJSON: `--events` generated events (ECS-style nested JSON, ~350 bytes each) in four files.
   Custodes = `custodes ingest`'s code path (discover, read, normalise, WAL fsync, Parquet lake).
   Ceiling = read the lines, `orjson.loads` each, `pa.Table.from_pylist` and write one zstd
   Parquet file, in batches of ~90,000 lines (all at once is slower at 1M: memory).
2. EVTX: the .evtx files of the shared evtx-attack-samples. Custodes as above; ceiling = the
   `evtx` package's JSON
   records, `orjson.loads`, `from_pylist`, Parquet.
Each figure is the median of `--runs` runs, in wall time and in CPU time (all threads of the
process: `time.process_time`). On a shared machine wall time mostly measures the others' load;
CPU time is what the work itself costs. Custodes runs with and without the evidence ledger
alternate in the same loop, and the ledger's cost is printed as the ratio of the two. A line
after each shows where the last Custodes run spent its time (normalise, WAL, detection in the
caller's thread; lake, then the ledger's encoding, hashing and recording, in the background
flush thread, which overlaps the caller), wall and CPU.
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
from dataclasses import dataclass, field
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
                if record is not None:
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


STEPS: dict[str, tuple[float, float]] = {}


def custodes(paths: list[Path], out: Path, *, ledger: bool = True) -> int:
    """`custodes ingest` in-process: the whole path up to durable Parquet files (and ledger)."""
    pipeline = open_pipeline(
        out / "data", registry=load(entry_points=False), detect=False, ledger=ledger
    )
    begin, begin_cpu = time.perf_counter(), time.thread_time()
    try:
        counts = import_files(pipeline, paths)
        imported, imported_cpu = time.perf_counter(), time.thread_time()
    finally:
        pipeline.close()
    STEPS.clear()
    cpu_seconds = getattr(pipeline, "cpu_seconds", {})  # absent in older versions (before/after)
    for name, seconds in pipeline.seconds.items():
        STEPS[name] = (seconds, cpu_seconds.get(name, 0.0))
    caller = ("normalise", "wal", "detect")
    STEPS["read+other"] = (
        imported - begin - sum(pipeline.seconds[name] for name in caller),
        imported_cpu - begin_cpu - sum(cpu_seconds.get(name, 0.0) for name in caller),
    )
    STEPS["final flush wait"] = (time.perf_counter() - imported, 0.0)
    return sum(kind.stored for kind in counts.values())


def print_steps(label: str) -> None:
    """Where the last Custodes run spent its time (lake and ledger: the background thread)."""
    parts = ", ".join(f"{name} {wall:.2f}/{cpu:.2f}" for name, (wall, cpu) in STEPS.items())
    print(f"        {label} steps of the last run, seconds wall/thread CPU: {parts}")


@dataclass
class Measured:
    """Median wall and CPU seconds of some runs, and the events each run handled."""

    wall: list[float] = field(default_factory=list)
    cpu: list[float] = field(default_factory=list)
    count: int = 0

    def rates(self) -> tuple[float, float]:
        """Events per second: by median wall time, by median CPU time."""
        return self.count / statistics.median(self.wall), self.count / statistics.median(self.cpu)


def run_once(work: Callable[[Path], int], into: Measured) -> None:
    """One run in a fresh temp dir, its wall and process CPU seconds added to `into`."""
    out = Path(tempfile.mkdtemp(prefix="custodes-bench-"))
    try:
        begin, begin_cpu = time.perf_counter(), time.process_time()
        into.count = work(out)
        into.wall.append(time.perf_counter() - begin)
        into.cpu.append(time.process_time() - begin_cpu)
    finally:
        shutil.rmtree(out, ignore_errors=True)


def compare(
    name: str,
    runs: int,
    ceiling: Callable[[Path], int],
    ours: Callable[[Path, bool], int],
    ledger_modes: list[bool],
) -> None:
    """Ceiling and Custodes (with and/or without the ledger) alternating, then the figures."""
    top = Measured()
    measured = {mode: Measured() for mode in ledger_modes}
    for _ in range(runs):
        run_once(ceiling, top)
        for mode in ledger_modes:
            run_once(lambda out, mode=mode: ours(out, mode), measured[mode])  # type: ignore[misc]
            if mode == ledger_modes[0]:
                steps = dict(STEPS)
    top_wall, top_cpu = top.rates()
    print(
        f"{name:7} ceiling orjson+pyarrow {top_wall:>9,.0f} events/s wall, {top_cpu:>9,.0f} "
        f"events/s CPU ({top.count:,} records)"
    )
    for mode, figures in measured.items():
        wall, cpu = figures.rates()
        print(
            f"{name:7} custodes {'with' if mode else 'without'} ledger {wall:>9,.0f} events/s wall"
            f" ({wall / top_wall:.0%} of ceiling), {cpu:>9,.0f} events/s CPU"
            f" ({cpu / top_cpu:.0%} of ceiling) ({figures.count:,} events)"
        )
    if len(measured) == 2:
        on, off = measured[True], measured[False]
        wall_cost = statistics.median(on.wall) / statistics.median(off.wall) - 1
        cpu_cost = statistics.median(on.cpu) / statistics.median(off.cpu) - 1
        print(f"{name:7} ledger cost: {wall_cost:+.1%} wall, {cpu_cost:+.1%} CPU (target <= 15%)")
    STEPS.clear()
    STEPS.update(steps)
    print_steps("with ledger" if ledger_modes[0] else "without ledger")


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
        help="only without the evidence ledger (by default both run, alternating)",
    )
    arguments = parser.parse_args()
    modes = [False] if arguments.no_ledger else [True, False]
    with tempfile.TemporaryDirectory(prefix="custodes-bench-input-") as folder:
        paths = generate(Path(folder), arguments.events)
        compare(
            "ndjson",
            arguments.runs,
            lambda out: ceiling_ndjson(paths, out),
            lambda out, ledger: custodes(paths, out, ledger=ledger),
            modes,
        )
    samples = arguments.datasets / "evtx-attack-samples"
    if samples.is_dir():
        files = sorted(samples.rglob("*.evtx"))  # the same records as the ceiling
        compare(
            "evtx",
            arguments.runs,
            lambda out: ceiling_evtx(samples, out),
            lambda out, ledger: custodes(files, out, ledger=ledger),
            modes,
        )
    else:
        print(f"evtx    skipped: no samples at {samples}")


if __name__ == "__main__":
    main()
