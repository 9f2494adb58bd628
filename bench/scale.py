"""Retro-hunt on Spark beside the embedded hunt, over the same lake, in one run.

    python bench/scale.py [--events 300000] [--rules DIR ...]      # make bench: a small lake
    python bench/scale.py --events 10000000                         # the 10M-event figure

The shared EVTX samples are normalised and replicated into a lake of `--events` events (as
bench/hunt.py does). Then: the embedded hunt (`custodes hunt`: DuckDB reads, one process);
the Spark hunt (`custodes scale hunt`) in local mode on 1 and 2 cores, each over a one-file lake
and over the whole lake, so its start-up cost and its cost per event can be told apart. Prints
events/s, the speed-up from 1 to 2 cores, and the lake size from which Spark on k cores beats
the embedded hunt (fixed cost / (embedded cost per event - Spark cost per event)).
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from hunt import DATASETS, sample_events, write_lake  # noqa: E402

from custodes.detect import Matcher, load_matcher  # noqa: E402
from custodes.detect.hunt import hunt  # noqa: E402
from custodes.scale import merge_alerts, spark_hunt, spark_session  # noqa: E402

DEFAULT_RULES = [DATASETS / "sigma" / "rules" / "windows"]


def embedded(data_dir: Path, matcher: Matcher) -> tuple[float, int]:
    """Seconds of the embedded hunt and the alerts it gives (merged per rule, host, user)."""
    started = time.perf_counter()
    alerts = merge_alerts(list(hunt(data_dir, matcher)))
    return time.perf_counter() - started, len(alerts)


def on_spark(
    cores: int, small: Path, large: Path, matcher: Matcher
) -> tuple[float, float, float, int]:
    """(session start-up s, hunt s on the one-file lake, hunt s on the whole lake, alerts)."""
    started = time.perf_counter()
    spark = spark_session(f"local[{cores}]", app_name=f"custodes-bench-{cores}")
    startup = time.perf_counter() - started
    try:
        started = time.perf_counter()
        spark_hunt(spark, small, matcher)
        small_secs = time.perf_counter() - started
        started = time.perf_counter()
        alerts = spark_hunt(spark, large, matcher)
        large_secs = time.perf_counter() - started
    finally:
        spark.stop()
    return startup, small_secs, large_secs, len(alerts)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=300_000)
    parser.add_argument("--rules", type=Path, nargs="*", default=DEFAULT_RULES)
    args = parser.parse_args()
    scratch = Path(tempfile.mkdtemp(prefix="custodes-bench-scale-"))
    try:
        base = sample_events()
        large, small = scratch / "large", scratch / "small"
        events = write_lake(large, base, args.events)
        small_events = write_lake(small, base, 1)  # one file: the samples once
        matcher = load_matcher(args.rules)
        print(
            f"lake: {events:,} events; one-file lake: {small_events:,}; rules: {len(matcher.rules)}"
        )

        embedded(small, matcher)  # warm the page cache and the matcher's lazy parts
        embedded_secs, embedded_alerts = embedded(large, matcher)
        per_event = embedded_secs / events
        print(
            f"embedded hunt: {embedded_secs:.1f} s, {events / embedded_secs:,.0f} events/s, "
            f"{embedded_alerts} alerts"
        )
        spark_cost: dict[int, float] = {}
        for cores in (1, 2):
            startup, small_secs, large_secs, alerts = on_spark(cores, small, large, matcher)
            cost = max(large_secs - small_secs, 1e-9) / (events - small_events)
            fixed = startup + small_secs - cost * small_events
            spark_cost[cores] = cost
            same = "same alerts" if alerts == embedded_alerts else f"{alerts} alerts (DIFFERENT)"
            print(
                f"spark local[{cores}]: start-up {startup:.1f} s, one-file job {small_secs:.1f} s, "
                f"whole lake {large_secs:.1f} s = {events / large_secs:,.0f} events/s; "
                f"{cost * 1e6:.2f} us/event after a fixed {fixed:.1f} s; {same}"
            )
            if cost < per_event:
                crossover = fixed / (per_event - cost)
                print(f"  pays off beyond ~{crossover:,.0f} events per hunt")
            else:
                print(
                    f"  never beats the embedded hunt here ({cost * 1e6:.2f} vs "
                    f"{per_event * 1e6:.2f} us/event)"
                )
        speedup = spark_cost[1] / spark_cost[2]
        load = os.getloadavg()[0]
        print(
            f"scaling 1 -> 2 cores: x{speedup:.2f} (per-event cost; 2.0 = linear; load {load:.1f})"
        )
        for cores in (8, 32, 128):  # mapInArrow tasks share nothing: linear in cores assumed
            rate = cores / spark_cost[1]
            print(
                f"  at {cores} cores (linear from local[1]): {rate:,.0f} events/s; "
                f"1e9 events in {1e9 / rate / 60:,.1f} min "
                f"(embedded: {1e9 * per_event / 3600:,.1f} h)"
            )
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
