"""The detection step's own cost: matching alone beside match + correlate + suppress + store.

    python bench/detection.py [--events 200000] [--batch 5000] [--sources 2000]

Windows Security logon events (4625 failures, 4624 successes, 4648 explicit credentials) from
`--sources` source addresses, 1 in 50 of them brute-forcing, in batches of `--batch`. The same
batches go, in one run, through
baseline = `Matcher.match` (the compiled rules alone), and
ours = `Detection.process` (match, alerts grouped, suppressions, event_count + temporal_ordered
correlations with their state, all stored in SQLite).
Prints events/s of both, the ratio, and the alerts stored.
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from custodes.detect.engine import open_detection  # noqa: E402
from custodes.events import RawRecord  # noqa: E402
from custodes.normalise import build_batch  # noqa: E402
from custodes.store.alerts import list_alerts  # noqa: E402
from custodes.store.control import open_control  # noqa: E402
from tests.detect.correlation_helpers import BRUTE_FORCE_RULES  # noqa: E402

EXTRA_RULE = """
title: Explicit credentials used
id: 7a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b4648
status: test
author: bench
logsource: {product: windows, service: security}
detection: {selection: {EventID: 4648}, condition: selection}
level: medium
"""
START = datetime(2026, 3, 1, tzinfo=UTC)


def row(code: int, ip: str, at: datetime, user: str) -> dict[str, object]:
    """One normalised Security logon event."""
    return {
        "@timestamp": at,
        "event.code": str(code),
        "event.dataset": "windows.security",
        "winlog.channel": "Security",
        "host.name": f"dc{hash(ip) % 4}",
        "user.name": user,
        "source.ip": ip,
        "fields": {"EventID": str(code), "Channel": "Security", "IpAddress": ip},
    }


def make_batches(events: int, batch_size: int, sources: int) -> list:  # type: ignore[type-arg]
    """Time-ordered batches of logon events; every 50th source brute-forces once."""
    rng = random.Random(7)
    rows = []
    clock = START
    attackers = [f"10.66.{i // 256}.{i % 256}" for i in range(0, sources, 50)]
    for index in range(events):
        clock += timedelta(milliseconds=50)
        if index % 1000 < 21 and attackers:
            ip = attackers[(index // 1000) % len(attackers)]
            code = 4625 if index % 1000 < 20 else 4624
        else:
            ip = f"10.{rng.randrange(sources) // 256}.{rng.randrange(256)}.1"
            code = rng.choice((4624, 4624, 4624, 4625, 4648))
        rows.append(row(code, ip, clock, f"user{rng.randrange(300)}"))
    batches = []
    for start in range(0, len(rows), batch_size):
        part = rows[start : start + batch_size]
        records = [
            RawRecord(data=json.dumps(r, default=str).encode(), origin="bench", position=start + i)
            for i, r in enumerate(part)
        ]
        batches.append(build_batch(part, records))
    return batches


def main() -> None:
    """Build the batches, run both passes, print the figures."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--events", type=int, default=200_000)
    parser.add_argument("--batch", type=int, default=5000)
    parser.add_argument("--sources", type=int, default=2000)
    options = parser.parse_args()
    batches = make_batches(options.events, options.batch, options.sources)
    with tempfile.TemporaryDirectory() as folder:
        rules = Path(folder) / "rules.yml"
        rules.write_text(BRUTE_FORCE_RULES + "---\n" + EXTRA_RULE)
        with open_control(Path(folder) / "data") as control:
            detection = open_detection(control, [rules])
            matcher = detection.matcher
            assert matcher is not None
            begin = time.perf_counter()
            hits = sum(len(matcher.match(batch)) for batch in batches)
            baseline = time.perf_counter() - begin
            begin = time.perf_counter()
            for batch in batches:
                detection.process(batch)
            ours = time.perf_counter() - begin
            stored = list_alerts(control, limit=1_000_000)
    events = sum(batch.num_rows for batch in batches)
    correlations = sum(1 for alert in stored if alert.kind == "correlation")
    print(f"events: {events:,} in {len(batches)} batches, {hits:,} rule hits")
    print(f"baseline  Matcher.match only      {events / baseline:12,.0f} events/s")
    print(f"ours      Detection.process       {events / ours:12,.0f} events/s")
    print(f"ratio     detection / matching    {ours / baseline:12.2f}")
    print(f"alerts stored: {len(stored):,} ({correlations} brute-force correlations)")
    print(f"totals: {detection.totals}")


if __name__ == "__main__":
    main()
