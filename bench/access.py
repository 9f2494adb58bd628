"""The cost of the one door on a search returning 10,000 events (masking on and off, one run).

    python bench/access.py [--events 10000] [--people 2000] [--rounds 5]

A fresh data directory gets `--events` Sysmon-like events (user names as `AGENCY\\account`,
command lines and paths naming the account, `TargetUserName` in the source fields, the original
record) over a roster of `--people`. baseline = `custodes.store.search` (the lake read alone);
ours = `Door.read` (policy check, grants lookup, columnar masking of every identifier and free
text, the access-ledger entry; without a case it does not read the withheld raw record). Prints
the median wall and CPU time of each, the overhead and rows/s, and for reference the search
without the withheld columns. Target: overhead under 25%.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import orjson
import pyarrow as pa
import pyarrow.parquet as pq

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from custodes.events import EVENT_SCHEMA, RawRecord  # noqa: E402
from custodes.oversight import Door, EventQuery  # noqa: E402
from custodes.pipeline import open_pipeline  # noqa: E402
from custodes.store import search  # noqa: E402
from custodes.store.control import open_control  # noqa: E402
from custodes.store.users import Role, User  # noqa: E402


def fill(data_dir: Path, events: int, people: int) -> None:
    """The lake and the roster."""
    accounts = [f"user{i:05d}" for i in range(people)]
    now = datetime.now(UTC)
    records = []
    for i in range(events):
        account = accounts[(i * 7919) % people]
        document = {
            "@timestamp": (now - timedelta(seconds=events - i)).isoformat(),
            "event": {"dataset": "windows.sysmon", "code": "1"},
            "host": {"name": f"WS-{i % 500:05d}"},
            "user": {"name": f"AGENCY\\{account}"},
            "process": {
                "command_line": f'"C:\\Users\\{account}\\AppData\\app.exe" --run {i}',
                "executable": f"C:\\Users\\{account}\\AppData\\app.exe",
            },
            "file": {"path": f"C:\\Users\\{account}\\Documents\\report-{i % 97}.docx"},
            "message": f"process started by {account}",
            "TargetUserName": account,
            "ParentImage": "C:\\Windows\\explorer.exe",
        }
        records.append(RawRecord(orjson.dumps(document), "bench", "bench", i, "json"))
    with open_pipeline(data_dir, ledger=False) as pipeline:
        pipeline.submit(records)
    roster = pa.table(
        {
            "employee_id": [f"E{i:05d}" for i in range(people)],
            "first_name": [f"First{i}" for i in range(people)],
            "last_name": [f"Last{i}" for i in range(people)],
            "email": [f"{account}@agency.gov" for account in accounts],
            "account": accounts,
        }
    )
    (data_dir / "reference").mkdir(parents=True, exist_ok=True)
    pq.write_table(roster, data_dir / "reference" / "roster.parquet")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=10_000)
    parser.add_argument("--people", type=int, default=2_000)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        data_dir = Path(folder) / "data"
        fill(data_dir, args.events, args.people)
        with open_control(data_dir) as control:
            door = Door(data_dir, control)
            analyst = User("bench", Role.ANALYST)
            query = EventQuery(limit=args.events)
            door.read(analyst, "security-monitoring", query)  # warm: key, roster, caches
            search(data_dir, limit=args.events)
            plain, masked, plain_cpu, masked_cpu, same = [], [], [], [], []
            unread = [
                name for name in EVENT_SCHEMA.names if name not in door.policy.identifiers.withheld
            ]
            for _ in range(args.rounds):  # interleaved, so machine noise hits both alike
                started, cpu = time.perf_counter(), time.process_time()
                rows = search(data_dir, limit=args.events).num_rows
                plain.append(time.perf_counter() - started)
                plain_cpu.append(time.process_time() - cpu)
                started, cpu = time.perf_counter(), time.process_time()
                result = door.read(analyst, "security-monitoring", query)
                masked.append(time.perf_counter() - started)
                masked_cpu.append(time.process_time() - cpu)
                started = time.perf_counter()  # for reference: what the door reads
                search(data_dir, limit=args.events, columns=unread)
                same.append(time.perf_counter() - started)
            assert result.table.num_rows == rows == args.events
            assert "user0" not in str(result.table.slice(0, 50).to_pylist())
    base, ours = statistics.median(plain), statistics.median(masked)
    print(f"search of {rows:,} events, {args.people:,} people, median of {args.rounds} rounds")
    loads = ", ".join(f"{load:.1f}" for load in os.getloadavg())
    print(f"  machine: {os.cpu_count()} cores, load average {loads} (other work skews both)")
    print(f"  baseline (store.search, no door): {base * 1000:8.1f} ms  {rows / base:12,.0f} rows/s")
    print(f"  ours (Door.read, masked+ledger):  {ours * 1000:8.1f} ms  {rows / ours:12,.0f} rows/s")
    print(f"  overhead: {100 * (ours / base - 1):+.1f}% (target under +25%)")
    base_cpu, ours_cpu = statistics.median(plain_cpu), statistics.median(masked_cpu)
    print(
        f"  CPU time (all threads): baseline {base_cpu * 1000:.1f} ms, ours {ours_cpu * 1000:.1f}"
        f" ms, overhead {100 * (ours_cpu / base_cpu - 1):+.1f}%"
    )
    print(
        f"  fastest round: baseline {min(plain) * 1000:.1f} ms, ours {min(masked) * 1000:.1f} ms"
        f" ({100 * (min(masked) / min(plain) - 1):+.1f}%)"
    )
    read = statistics.median(same)
    print(
        f"  for reference, store.search without the withheld columns (the door does not read"
        f" them without a case): {read * 1000:.1f} ms; ours is {100 * (ours / read - 1):+.1f}%"
        " over that (masking and ledger alone)"
    )


if __name__ == "__main__":
    main()
