"""Demo generator throughput: events/s written, beside a per-event dict + orjson baseline.

    python bench/generate.py [--people 2000] [--days 7] [--keep DIR]

Ours = `custodes demo generate` (numpy per day and entity, string templates, files written).
Baseline, same run = the serialisation floor of a per-event generator: our own Windows events,
already parsed into dicts (untimed, first 300,000), each written with `orjson.dumps`.
Target: >= 100,000 events/s. `--people 10000 --days 30` makes the benchmark input of other
stages (about 12 million events, 9 GB: use --keep DIR to keep it).
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

import orjson

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from custodes.demo import DemoSettings, generate  # noqa: E402

DUMPS = "orjson.dumps per ready-made Windows dict"
SAMPLE = 300_000  # Windows events the baseline serialises (at most)


def baseline(windows: Path, out: Path) -> tuple[int, float]:
    """Events and seconds to serialise our own Windows events again, one dict and dumps each.

    The records are parsed into dicts first (not timed): what is timed is the serialisation
    floor of a per-event generator that already had every value in hand.
    """
    with windows.open("rb") as handle:  # a sample keeps memory bounded at any size
        events = [orjson.loads(line) for line, _ in zip(handle, range(SAMPLE), strict=False)]
    begin = time.perf_counter()
    with out.open("wb") as handle:
        for event in events:
            handle.write(orjson.dumps(event) + b"\n")
    return len(events), time.perf_counter() - begin


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--people", type=int, default=2000)
    parser.add_argument("--days", type=int, default=7)
    parser.add_argument("--keep", type=Path, default=None, help="write here and keep the data")
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="custodes-bench-generate-"))
    out = args.keep or work / "demo"
    try:
        begin = time.perf_counter()
        manifest = generate(
            out, DemoSettings(people=args.people, days=args.days, start=date(2026, 11, 2))
        )
        ours = time.perf_counter() - begin
        size = sum(path.stat().st_size for path in out.rglob("*") if path.is_file())
        windows, naive = baseline(out / "telemetry" / "windows.jsonl", work / "baseline.jsonl")
        events, rate = manifest["events"], manifest["events"] / ours
        print(f"people {args.people}, days {args.days}: {events:,} events, {size / 1e6:,.0f} MB")
        print(f"ours      {rate:>12,.0f} events/s  ({ours:.1f} s, all files, reference and truth)")
        print(f"baseline  {windows / naive:>12,.0f} events/s  ({naive:.1f} s, {DUMPS})")
        print(f"target    {100_000:>12,} events/s  {'met' if rate >= 100_000 else 'NOT met'}")
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
