"""Retro-hunt throughput: the full shared Sigma rule set over a >= 1M-event lake, beside the
time to merely read the same events from the lake, in one run.

    python bench/hunt.py [--events 1000000] [--runs 2]

The shared EVTX attack and parser samples are normalised once, replicated to `--events` events
and written as a lake (zstd Parquet, `custodes.store.write_events`). Then, alternating:
read = stream every event with `custodes.store.iter_batches`;
hunt = the same stream, each batch matched against every compiled rule (`Matcher.match`).
Prints events/s, the ratio hunt/read (target <= 2) and rule start-up cold vs warm (cache).
"""

from __future__ import annotations

import argparse
import contextlib
import shutil
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from custodes.detect import load_matcher  # noqa: E402
from custodes.detect.hunt import gather  # noqa: E402
from custodes.detect.regression import evtx_records  # noqa: E402
from custodes.events import RawRecord  # noqa: E402
from custodes.normalise import Normaliser  # noqa: E402
from custodes.plugins import load  # noqa: E402
from custodes.store import iter_batches, write_events  # noqa: E402

DATASETS = ROOT.parent / "shared" / "datasets"
RULES = [
    DATASETS / "sigma" / name
    for name in ("rules", "rules-threat-hunting", "rules-emerging-threats")
]
SAMPLES = [DATASETS / "evtx-attack-samples", DATASETS / "evtx-parser-samples"]


def sample_events() -> pa.Table:
    """Every readable event of the shared EVTX samples, normalised."""
    normaliser = Normaliser(load(entry_points=False).parsers)
    batches = []
    for path in sorted(p for folder in SAMPLES for p in folder.rglob("*.evtx")):
        records: list[RawRecord] = []
        # the damaged parser samples: keep what was read before the damage
        with contextlib.suppress(RuntimeError, OSError, ValueError):
            records.extend(evtx_records(path))
        if records:
            batch, _ = normaliser.normalise(records)
            batches.append(batch)
    return pa.Table.from_batches(batches)


def write_lake(data_dir: Path, base: pa.Table, events: int) -> int:
    """Replicate the samples into a lake of at least `events` events.

    The samples span hundreds of days; copies are moved onto one day (keeping the time of day),
    so the lake has files of realistic size rather than thousands of tiny ones.
    """
    stamps = base.column("@timestamp").cast(pa.int64())
    micros_per_day = 86_400_000_000
    day = 20_454 * micros_per_day  # 2026-01-01
    whole_days = pc.multiply(pc.divide(stamps, micros_per_day), micros_per_day)  # integer division
    moved = pc.add(pc.subtract(stamps, whole_days), day)
    base = base.set_column(
        base.schema.get_field_index("@timestamp"),
        "@timestamp",
        moved.cast(base.schema.field("@timestamp").type),
    )
    chunk = pa.concat_tables([base] * max(1, min(8, events // max(base.num_rows, 1))))
    written = seq = 0
    while written < events:
        write_events(data_dir, chunk, node="bench", seq=seq)
        written += chunk.num_rows
        seq += 1
    return written


def read_all(data_dir: Path) -> tuple[float, int]:
    begin = time.perf_counter()
    rows = sum(batch.num_rows for batch in iter_batches(data_dir))
    return time.perf_counter() - begin, rows


def hunt_all(data_dir: Path, matcher: object) -> tuple[float, int, Counter[str]]:
    begin = time.perf_counter()
    rows = 0
    fired: Counter[str] = Counter()
    for batch in gather(iter_batches(data_dir)):
        rows += batch.num_rows
        for hit in matcher.match(batch):  # type: ignore[attr-defined]
            fired[hit.rule.title] += len(hit.rows)
    return time.perf_counter() - begin, rows, fired


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--runs", type=int, default=2)
    args, _ = parser.parse_known_args()
    work = Path(tempfile.mkdtemp(prefix="custodes-hunt-"))
    try:
        begin = time.perf_counter()
        matcher = load_matcher(RULES, cache_dir=work / "cache")
        cold = time.perf_counter() - begin
        begin = time.perf_counter()
        matcher = load_matcher(RULES, cache_dir=work / "cache")
        warm = time.perf_counter() - begin
        print(
            f"rules: {len(matcher.rules)} compiled, {len(matcher.refused)} refused, "
            f"{len(matcher.groups)} logsource groups; start-up cold {cold:.2f} s, warm {warm:.2f} s"
        )
        base = sample_events()
        data_dir = work / "data"
        total = write_lake(data_dir, base, args.events)
        print(f"lake: {total:,} events ({base.num_rows:,} sample events replicated)")
        reads, hunts = [], []
        fired: Counter[str] = Counter()
        for _ in range(args.runs):
            seconds, rows = read_all(data_dir)
            reads.append(seconds)
            seconds, hunted, fired = hunt_all(data_dir, matcher)
            hunts.append(seconds)
            assert rows == hunted == total
        read, hunt = min(reads), min(hunts)
        print(f"read only : {read:6.2f} s  {total / read:12,.0f} events/s")
        print(
            f"read+hunt : {hunt:6.2f} s  {total / hunt:12,.0f} events/s  "
            f"(matching alone {total / max(hunt - read, 1e-9):,.0f} events/s)"
        )
        print(f"ratio hunt/read: {hunt / read:.2f}  (target <= 2; >= 100,000 events/s)")
        print(
            f"{len(fired)} rules fired, {sum(fired.values()):,} matches; top: "
            + "; ".join(f"{title} x{count}" for title, count in fired.most_common(3))
        )
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
