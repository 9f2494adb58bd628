"""The evidence ledger's costs: ingest with and without it, and `custodes verify` over 1M events.

    python bench/verify.py [--events 1000000] [--ingest-events 200000] [--runs 3]

1. Ingest: bench/ingest.py's NDJSON events through `custodes ingest`'s code path, with the
   ledger and without it, runs alternated so both see the same machine; medians compared
   (limit: at most 15% slower with the ledger).
2. Verify: `--events` events ingested (ledger on), then `verify_store` over all of them (limit:
   under a minute), beside the baseline of merely reading the same Parquet files with pyarrow.
Exit status 1 when a limit is exceeded.
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

import pyarrow.parquet as pq

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))
sys.path.insert(0, str(HERE))

from ingest import custodes, generate  # noqa: E402

from custodes.ledger import verify_store  # noqa: E402

MAX_INGEST_COST = 0.15
MAX_VERIFY_SECS = 60.0


def ingest_seconds(paths: list[Path], *, ledger: bool) -> float:
    """Seconds to ingest `paths` into a fresh data directory."""
    out = Path(tempfile.mkdtemp(prefix="custodes-bench-"))
    try:
        begin = time.perf_counter()
        custodes(paths, out, ledger=ledger)
        return time.perf_counter() - begin
    finally:
        shutil.rmtree(out, ignore_errors=True)


def compare_ingest(events: int, runs: int) -> bool:
    """Ledger on vs off, alternated; prints both and the cost; True when within the limit."""
    with tempfile.TemporaryDirectory(prefix="custodes-bench-input-") as folder:
        paths = generate(Path(folder), events)
        with_ledger, without = [], []
        for _ in range(runs):
            without.append(ingest_seconds(paths, ledger=False))
            with_ledger.append(ingest_seconds(paths, ledger=True))
    on, off = statistics.median(with_ledger), statistics.median(without)
    cost = on / off - 1
    print(
        f"ingest  ledger on {events / on:>9,.0f} events/s ({on:.2f} s) | "
        f"baseline ledger off {events / off:>9,.0f} events/s ({off:.2f} s) | "
        f"cost {cost:+.1%} (limit {MAX_INGEST_COST:.0%})"
    )
    return cost <= MAX_INGEST_COST


def time_verify(events: int) -> bool:
    """Ingest `events` with the ledger, verify them all; True when under the limit."""
    with tempfile.TemporaryDirectory(prefix="custodes-bench-verify-") as folder:
        inputs = Path(folder) / "input"
        inputs.mkdir()
        paths = generate(inputs, events)
        out = Path(folder) / "store"
        begin = time.perf_counter()
        stored = custodes(paths, out, ledger=True)
        built = time.perf_counter() - begin
        data_dir = out / "data"
        begin = time.perf_counter()
        for path in sorted((data_dir / "lake").rglob("*.parquet")):
            pq.read_table(path)
        reading = time.perf_counter() - begin
        begin = time.perf_counter()
        report = verify_store(data_dir)
        verifying = time.perf_counter() - begin
    print(
        f"verify  {report.events_checked:,} events in {report.files_checked} files: "
        f"{verifying:.1f} s ({report.events_checked / verifying:,.0f} events/s, "
        f"limit {MAX_VERIFY_SECS:.0f} s), intact={report.is_intact} | "
        f"baseline pyarrow read of the same files {reading:.1f} s | "
        f"(store of {stored:,} events built in {built:.1f} s)"
    )
    return report.is_intact and verifying < MAX_VERIFY_SECS and report.events_checked == events


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--ingest-events", type=int, default=200_000)
    parser.add_argument("--runs", type=int, default=3)
    arguments = parser.parse_args()
    ingest_ok = compare_ingest(arguments.ingest_events, arguments.runs)
    verify_ok = time_verify(arguments.events)
    return 0 if ingest_ok and verify_ok else 1


if __name__ == "__main__":
    sys.exit(main())
