"""All posture checks over a large agency: 10,000 people, 20,000 accounts, 15,000 devices, 30 days.

    python bench/posture.py [--people 10000] [--accounts 20000] [--devices 15000] [--days 30]

A direct synthetic writer (numpy + Arrow, no per-event Python) fills a fresh data directory:
reference snapshots (roster with 5% departed, directory accounts with admin and service accounts,
approved list, MDM inventory with a few bad devices, trips) and a lake of Windows logons
(4624/4768), 4672 privileged logons, group changes, VPN logins and MDM check-ins, ~5 logons per
person per day and ~5 check-ins per device per day.
baseline = one DuckDB scan that counts the window's events by dataset (the least any check
over the lake could cost); ours = `custodes.posture.evaluate` (every check, findings built).
Prints both times, the ratio, events, and findings per check. Target: ours under 30 s.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from collections import Counter
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import numpy as np
import pyarrow as pa

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from custodes.events import EVENT_SCHEMA  # noqa: E402
from custodes.posture import PostureSettings, evaluate  # noqa: E402
from custodes.posture.reference import write_snapshot  # noqa: E402
from custodes.posture.schemas import SCHEMAS  # noqa: E402
from custodes.store import connect, write_events  # noqa: E402

START = date(2026, 10, 1)
DAY_US = 86_400_000_000
COUNTRIES = np.array(["US"] * 96 + ["FR", "CN", "GB", "DE"])


def reference(
    data_dir: Path, people: int, accounts: int, devices: int, rng: np.random.Generator
) -> None:
    """Roster, directory, approved list, inventory and travel as snapshots."""
    end = START + timedelta(days=30)
    ids = np.array([f"E{i:06d}" for i in range(people)])
    names = np.array([f"user{i:06d}" for i in range(people)])
    departed = rng.random(people) < 0.05
    separation = [
        (end - timedelta(days=int(rng.integers(1, 200)))) if gone else None for gone in departed
    ]
    write_snapshot(
        data_dir,
        "people",
        pa.table(
            {
                "employee_id": ids,
                "first_name": names,
                "last_name": names,
                "email": [f"{n}@agency.example" for n in names],
                "account": names,
                "department": ["Ops"] * people,
                "title": ["Staff"] * people,
                "manager_id": [None] * people,
                "status": np.where(departed, "separated", "active"),
                "start_date": [date(2020, 1, 6)] * people,
                "separation_date": separation,
            },
            schema=SCHEMAS["people"],
        ),
    )
    extra = accounts - people
    admins = min(extra // 2, people)
    account_names = list(names) + [f"adm_{names[i]}" for i in range(admins)]
    account_names += [f"svc_{i:05d}" for i in range(accounts - len(account_names))]
    owners = list(ids) + list(ids[:admins]) + [ids[0]] * (accounts - people - admins)
    own_ids = list(ids) + list(ids[:admins]) + [None] * (accounts - people - admins)
    kinds = ["user"] * people + ["admin"] * admins + ["service"] * (accounts - people - admins)
    groups = [["Domain Users"]] * people + [["Domain Users", "Domain Admins"]] * admins
    groups += [["Domain Users", "Service Accounts"]] * (accounts - people - admins)
    last = [datetime(2026, 10, 30, tzinfo=UTC) - gap for gap in pd_days(rng, accounts, 150)]
    write_snapshot(
        data_dir,
        "accounts",
        pa.table(
            {
                "account": account_names,
                "user_principal_name": [None] * accounts,
                "display_name": account_names,
                "employee_id": own_ids,
                "owner_employee_id": owners,
                "kind": kinds,
                "enabled": [True] * accounts,
                "created_at": [datetime(2020, 1, 6, tzinfo=UTC)] * accounts,
                "last_logon_at": last,
                "groups": groups,
                "source": ["directory"] * accounts,
                "host": [None] * accounts,
            },
            schema=SCHEMAS["accounts"],
        ),
    )
    approved = [f"adm_{names[i]}" for i in range(admins) if rng.random() > 0.01]
    write_snapshot(
        data_dir,
        "approved_accounts",
        pa.Table.from_pylist(
            [{"account": a, "groups": ["Domain Admins"]} for a in approved],
            SCHEMAS["approved_accounts"],
        ),
    )
    owner_index = rng.integers(0, people, devices)
    write_snapshot(
        data_dir,
        "devices",
        pa.table(
            {
                "device_id": [f"dev-{i:06d}" for i in range(devices)],
                "name": [None] * devices,
                "owner_upn": [f"{names[i]}@agency.example" for i in owner_index],
                "owner_employee_id": ids[owner_index],
                "platform": ["iOS"] * devices,
                "os_version": np.where(rng.random(devices) < 0.02, "16.7.10", "17.6.1"),
                "patch_level": [None] * devices,
                "model": ["iPhone 15"] * devices,
                "serial": [None] * devices,
                "is_encrypted": rng.random(devices) > 0.01,
                "has_passcode": rng.random(devices) > 0.01,
                "is_jailbroken": rng.random(devices) < 0.005,
                "is_managed": rng.random(devices) > 0.01,
                "last_checkin_at": [datetime(2026, 10, 30, tzinfo=UTC)] * devices,
                "last_country": ["US"] * devices,
                "is_lost": rng.random(devices) < 0.003,
                "lost_at": [datetime(2026, 10, 10, tzinfo=UTC)] * devices,
            },
            schema=SCHEMAS["devices"],
        ),
    )
    travellers = rng.choice(people, people // 50, replace=False)
    write_snapshot(
        data_dir,
        "trips",
        pa.Table.from_pylist(
            [
                {
                    "employee_id": ids[i],
                    "account": names[i],
                    "country": "FR",
                    "start_date": START + timedelta(days=10),
                    "end_date": START + timedelta(days=20),
                }
                for i in travellers
            ],
            SCHEMAS["trips"],
        ),
    )
    for name in ("approved_changes", "privileged_groups", "group_members"):
        write_snapshot(data_dir, name, SCHEMAS[name].empty_table())


def pd_days(rng: np.random.Generator, count: int, most: int) -> list[timedelta]:
    """Random whole-day offsets."""
    return [timedelta(days=int(d)) for d in rng.integers(0, most, count)]


def event_table(
    day_start: int,
    count: int,
    dataset: str,
    code: str | None,
    users: np.ndarray,
    hosts: np.ndarray,
    field_names: list[str],
    field_values: list[np.ndarray],
    rng: np.random.Generator,
    devices: np.ndarray | None = None,
    action: str | None = None,
) -> pa.Table:
    """`count` events of one kind on one day, built column by column."""
    times = np.sort(day_start + rng.integers(0, DAY_US, count))
    ids = [f"{dataset}-{day_start}-{i}" for i in range(count)]
    columns: dict[str, pa.Array] = {
        "@timestamp": pa.array(times, pa.timestamp("us", tz="UTC")),
        "event.id": pa.array(ids),
        "event.dataset": pa.array([dataset] * count),
        "event.code": pa.array([code] * count, pa.string()),
        "event.action": pa.array([action] * count, pa.string()),
        "host.name": pa.array(hosts),
        "user.name": pa.array(users),
    }
    if devices is not None:
        columns["device.id"] = pa.array(devices)
    width = len(field_names)
    offsets = pa.array(np.arange(count + 1, dtype=np.int32) * width)
    keys = pa.array(np.tile(np.array(field_names, dtype=object), count), pa.string())
    values = pa.array(np.column_stack(field_values).ravel() if width else [], pa.string())
    fields = pa.MapArray.from_arrays(offsets, keys, values)
    arrays = []
    for field in EVENT_SCHEMA:
        if field.name == "fields":
            arrays.append(fields)
        elif field.name in columns:
            arrays.append(columns[field.name].cast(field.type))
        else:
            arrays.append(pa.nulls(count, field.type))
    return pa.Table.from_arrays(arrays, schema=EVENT_SCHEMA)


def lake(data_dir: Path, people: int, devices: int, days: int, rng: np.random.Generator) -> int:
    """Write `days` days of telemetry into the lake; returns the events written."""
    names = np.array([f"user{i:06d}" for i in range(people)], dtype=object)
    hosts = np.array([f"SRV{i:03d}.agency.example" for i in range(200)], dtype=object)
    device_ids = np.array([f"dev-{i:06d}" for i in range(devices)], dtype=object)
    device_owner = names[rng.integers(0, people, devices)]
    total, seq = 0, 0
    for day in range(days):
        start = int(
            (datetime.combine(START + timedelta(days=day), datetime.min.time(), UTC)).timestamp()
            * 1e6
        )
        logons = people * 5
        who = names[rng.integers(0, people, logons)]
        where = hosts[rng.integers(0, 200, logons)]
        admins = np.array(
            [f"adm_{n}" for n in names[rng.integers(0, people // 2, people // 20)]], dtype=object
        )
        checkins = devices * 5
        which = rng.integers(0, devices, checkins)
        tables = [
            event_table(
                start,
                logons,
                "windows.security",
                "4624",
                who,
                where,
                ["TargetUserName"],
                [who],
                rng,
            ),
            event_table(
                start,
                admins.size,
                "windows.security",
                "4672",
                admins,
                hosts[rng.integers(0, 200, admins.size)],
                ["SubjectUserName"],
                [admins],
                rng,
            ),
            event_table(
                start,
                people // 5,
                "cef",
                None,
                who[: people // 5],
                np.array(["vpn-gw01"] * (people // 5), dtype=object),
                [],
                [],
                rng,
                action="login",
            ),
            event_table(
                start,
                checkins,
                "mdm.checkin",
                None,
                device_owner[which],
                np.array([None] * checkins, dtype=object),
                ["source.geo.country_iso_code"],
                [COUNTRIES[rng.integers(0, COUNTRIES.size, checkins)]],
                rng,
                devices=device_ids[which],
            ),
        ]
        for table in tables:
            seq += 1
            write_events(data_dir, table, node="bench", seq=seq)
            total += table.num_rows
    return total


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--people", type=int, default=10_000)
    parser.add_argument("--accounts", type=int, default=20_000)
    parser.add_argument("--devices", type=int, default=15_000)
    parser.add_argument("--days", type=int, default=30)
    args = parser.parse_args()
    rng = np.random.default_rng(7)
    with tempfile.TemporaryDirectory(prefix="posture-bench-") as folder:
        data_dir = Path(folder)
        began = time.perf_counter()
        reference(data_dir, args.people, args.accounts, args.devices, rng)
        events = lake(data_dir, args.people, args.devices, args.days, rng)
        print(f"wrote {events:,} events and the snapshots in {time.perf_counter() - began:.1f} s")
        now = datetime.combine(START + timedelta(days=args.days), datetime.min.time(), UTC)
        settings = PostureSettings(
            allowed_countries=("US", "FR", "GB", "DE"), lookback_days=args.days
        )
        began = time.perf_counter()
        connection = connect(data_dir)
        counted = connection.execute(
            'SELECT "event.dataset", count(*) FROM events WHERE "@timestamp" >= ? GROUP BY 1',
            [now - timedelta(days=args.days)],
        ).fetchall()
        baseline = time.perf_counter() - began
        began = time.perf_counter()
        findings = evaluate(data_dir, settings, now)
        ours = time.perf_counter() - began
    print(f"baseline (one scan counting {sum(n for _, n in counted):,} events): {baseline:.2f} s")
    print(
        f"ours (all {len({f.check for f in findings})} checks that found something, "
        f"{len(findings):,} findings): {ours:.2f} s ({ours / max(baseline, 1e-9):.1f}x baseline)"
    )
    for check, count in sorted(Counter(f.check for f in findings).items()):
        print(f"  {check}: {count:,}")
    print("target: under 30 s" + (" - met" if ours < 30 else " - MISSED"))


if __name__ == "__main__":
    main()
