"""Timeline bench: a 24 h timeline for one host inside 10M stored events (target: under 2 s).

    .venv/bin/python bench/timeline.py [--events 10000000] [--days 20] [--hosts 1000]

Writes synthetic Windows telemetry straight into a lake (logons with logon ids and source
addresses, Sysmon process creations with GUIDs, network connections), then times, in one run:
the baseline (one DuckDB query selecting that host's 24 h with time and partition pushdown) and
ours (`build_timeline(Seed("host", ...), "24h")`: linking rounds, steps, the read through the
one door with masking and an access-ledger entry).
"""

from __future__ import annotations

import argparse
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from custodes.events import EVENT_SCHEMA
from custodes.investigate import Seed, build_timeline
from custodes.oversight import Door
from custodes.store import connect, open_control
from custodes.store.users import Role, User

START = datetime(2026, 3, 1, tzinfo=UTC)
DAY_US = 86_400_000_000
KINDS = (
    ("windows.security", "4624", 0.3),
    ("windows.sysmon", "1", 0.4),
    ("windows.sysmon", "3", 0.3),
)


def strings(prefix: str, numbers: np.ndarray) -> pa.Array:
    """prefix + number, as an Arrow string array."""
    return pa.array(np.char.add(prefix, numbers.astype(str)).astype(object), pa.string())


def day_table(
    day: int,
    dataset: str,
    code: str,
    count: int,
    args: argparse.Namespace,
    rng: np.random.Generator,
) -> pa.Table:
    """`count` events of one kind on one day."""
    start = int((START + timedelta(days=day)).timestamp() * 1e6)
    hosts = rng.integers(0, args.hosts, count)
    users = rng.integers(0, args.hosts * 5, count)
    columns: dict[str, pa.Array] = {
        "@timestamp": pa.array(
            np.sort(start + rng.integers(0, DAY_US, count)), EVENT_SCHEMA.field("@timestamp").type
        ),
        "event.id": strings(f"{dataset}-{code}-{day}-", np.arange(count)),
        "event.dataset": pa.array([dataset] * count),
        "event.code": pa.array([code] * count),
        "host.name": strings("HOST-", hosts),
        "user.name": strings("user", users),
    }
    names: list[str] = []
    values: list[pa.Array] = []
    if code == "4624":
        logon = strings("0x", rng.integers(0x10000, 0xFFFFFF, count))
        columns["winlog.logon.id"] = logon
        origin = rng.integers(0, args.hosts, count)  # the address of the host logged on from
        columns["source.ip"] = pa.array(
            [f"10.{o // 250}.{o % 250}.1" for o in origin.tolist()], pa.string()
        )
        names, values = ["TargetLogonId", "LogonType"], [logon, pa.array(["3"] * count)]
    elif code == "1":
        guid = strings("{proc-", rng.integers(0, 1 << 40, count))
        columns["process.entity_id"] = guid
        columns["process.parent.entity_id"] = strings("{proc-", rng.integers(0, 1 << 40, count))
        columns["process.executable"] = pa.array(["C:\\Windows\\System32\\cmd.exe"] * count)
        names, values = ["ProcessGuid"], [guid]
    else:
        columns["destination.ip"] = strings("52.1.0.", rng.integers(1, 250, count))
    width = len(names)
    offsets = pa.array(np.arange(count + 1, dtype=np.int32) * width)
    keys = pa.array(names * count, pa.string())
    flat = (
        pa.array(
            np.column_stack([v.to_numpy(zero_copy_only=False) for v in values]).ravel(), pa.string()
        )
        if width
        else pa.array([], pa.string())
    )
    arrays = []
    for field in EVENT_SCHEMA:
        if field.name == "fields":
            arrays.append(pa.MapArray.from_arrays(offsets, keys, flat))
        else:
            arrays.append(
                columns[field.name].cast(field.type)
                if field.name in columns
                else pa.nulls(count, field.type)
            )
    return pa.Table.from_arrays(arrays, schema=EVENT_SCHEMA)


def write_lake(data_dir: Path, args: argparse.Namespace) -> int:
    """Write the synthetic lake; returns the events written."""
    rng = np.random.default_rng(9)
    per_day, total = args.events // args.days, 0
    for day in range(args.days):
        date = (START + timedelta(days=day)).date().isoformat()
        for number, (dataset, code, share) in enumerate(KINDS):
            table = day_table(day, dataset, code, int(per_day * share), args, rng)
            folder = data_dir / "lake" / f"dataset={dataset}" / f"date={date}"
            folder.mkdir(parents=True, exist_ok=True)
            pq.write_table(table, folder / f"node0-{day * 10 + number:012d}.parquet")
            total += table.num_rows
    return total


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=10_000_000)
    parser.add_argument("--days", type=int, default=20)
    parser.add_argument("--hosts", type=int, default=1000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="timeline-bench-") as folder:
        data_dir = Path(folder)
        began = time.perf_counter()
        written = write_lake(data_dir, args)
        print(f"wrote {written:,} events in {time.perf_counter() - began:.1f} s")
        host, until = "HOST-42", START + timedelta(days=args.days // 2)
        since = until - timedelta(hours=24)
        began = time.perf_counter()
        connection = connect(data_dir)
        rows = connection.execute(
            'SELECT * FROM events WHERE "host.name" = ? AND "@timestamp" >= ? AND "@timestamp" < ?'
            ' AND "date" >= ? AND "date" <= ?',
            [host, since, until, since.date(), until.date()],
        ).fetchall()
        connection.close()
        baseline = time.perf_counter() - began
        analyst = User(name="bench", role=Role.ANALYST)
        with open_control(data_dir) as control:
            door = Door(data_dir, control)
            timings = []
            for _ in range(3):
                began = time.perf_counter()
                timeline = build_timeline(
                    data_dir, control, door, analyst, Seed("host", host), "24h", until=until
                )
                timings.append(time.perf_counter() - began)
    ours = min(timings)
    print(f"baseline (one pushed-down query for the host's 24 h, {len(rows):,} rows):", end="")
    print(f" {baseline:.2f} s")
    print(
        f"ours (timeline of {host}, 24 h: {timeline.events.num_rows:,} linked events in "
        f"{len(timeline.steps):,} steps): best {ours:.2f} s of "
        + ", ".join(f"{t:.2f}" for t in timings)
    )
    print("target: under 2 s" + (" - met" if ours < 2 else " - MISSED"))


if __name__ == "__main__":
    main()
