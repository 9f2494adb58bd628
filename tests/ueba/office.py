"""A small hand-made office for UEBA tests: people with regular days, written into a lake."""

from __future__ import annotations

import csv
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import orjson
import pyarrow as pa

from custodes.events import RawRecord
from custodes.normalise import build_batch
from custodes.posture import ImportRequest, import_reference
from custodes.store import write_events

START = date(2026, 3, 2)  # a Monday


def at(day: int, hour: float) -> datetime:
    """A time on day `day` of the office (0 = START)."""
    return datetime.combine(START + timedelta(days=day), datetime.min.time(), tzinfo=UTC) + (
        timedelta(hours=hour)
    )


def logon(when: datetime, user: str, host: str, ip: str, *, ok: bool = True) -> dict[str, Any]:
    """A Windows 4624 (or 4625) as the normaliser stores it."""
    return {
        "@timestamp": when,
        "event.dataset": "windows.security",
        "event.code": "4624" if ok else "4625",
        "event.outcome": "success" if ok else "failure",
        "host.name": host,
        "user.name": user,
        "source.ip": ip,
    }


def privilege(when: datetime, user: str, host: str) -> dict[str, Any]:
    """A Windows 4672 (special privileges assigned to a logon)."""
    return {
        "@timestamp": when,
        "event.dataset": "windows.security",
        "event.code": "4672",
        "host.name": host,
        "user.name": user,
    }


def web(
    when: datetime, user: str, ip: str, domain: str, category: str, sent: int
) -> dict[str, Any]:
    """A proxy request in CEF as the normaliser stores it."""
    return {
        "@timestamp": when,
        "event.dataset": "cef",
        "event.action": "allowed",
        "user.name": user,
        "source.ip": ip,
        "destination.domain": domain,
        "url.original": f"https://{domain}/",
        "network.bytes": sent,
        "fields": {"cat": category, "in": "5000"},
    }


def ordinary_day(day: int, person: int) -> list[dict[str, Any]]:
    """One person's usual working day: a logon at 9, web requests through the day."""
    user, ip = f"user{person:02d}", f"10.0.0.{person + 10}"
    host = f"WS-{person:02d}"
    rows = [logon(at(day, 9 + (person % 3) / 10), user, host, ip)]
    for hour in (10, 11, 14, 16):
        rows.append(web(at(day, hour), user, ip, "intranet.example", "Business", 900 + person))
    return rows


def write_lake(data_dir: Path, rows: list[dict[str, Any]]) -> None:
    """Write events into the lake of `data_dir`."""
    records = [
        RawRecord(data=orjson.dumps(row, default=str), origin="office", position=index)
        for index, row in enumerate(rows)
    ]
    batch = build_batch(rows, records)
    write_events(data_dir, pa.Table.from_batches([batch]), node="test", seq=1)


def write_roster(data_dir: Path, people: int) -> None:
    """A roster: the first half in Finance, the rest in Legal (peer groups)."""
    path = data_dir.parent / "roster.csv"
    columns = ["employee_id", "first_name", "last_name", "email", "account", "department"]
    columns += ["title", "manager_id", "status", "start_date", "separation_date"]
    with path.open("w", newline="") as handle:
        writer = csv.DictWriter(handle, columns)
        writer.writeheader()
        for person in range(people):
            writer.writerow(
                {
                    "employee_id": f"E{person:04d}",
                    "first_name": "A",
                    "last_name": f"Person{person}",
                    "email": f"user{person:02d}@office.example",
                    "account": f"user{person:02d}",
                    "department": "Finance" if person < people // 2 else "Legal",
                    "title": "Analyst",
                    "manager_id": "",
                    "status": "active",
                    "start_date": "2020-01-01",
                    "separation_date": "",
                }
            )
    import_reference(data_dir, ImportRequest(roster=path))


def office(data_dir: Path, *, people: int = 30, days: int = 15) -> list[dict[str, Any]]:
    """Weekdays of ordinary work for everyone; returns the rows (not yet written)."""
    rows = []
    for day in range(days):
        if (START + timedelta(days=day)).isoweekday() >= 6:
            continue
        for person in range(people):
            rows += ordinary_day(day, person)
    write_roster(data_dir, people)
    return rows
