"""A small world for posture tests: reference files written as an agency exports them, events."""

from __future__ import annotations

import csv
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import orjson
import pyarrow as pa

from custodes.events import RawRecord
from custodes.normalise.batch import build_batch
from custodes.posture import Finding, ImportRequest, PostureSettings, evaluate, import_reference
from custodes.store import write_events

NOW = datetime(2026, 11, 5, 0, 0, tzinfo=UTC)
ROSTER_COLUMNS = ["employee_id", "first_name", "last_name", "account", "status", "start_date"]


@dataclass
class Scene:
    """Reference data and events; `findings()` imports and evaluates them."""

    folder: Path
    people: list[dict[str, Any]] = field(default_factory=list)
    accounts: list[dict[str, Any]] = field(default_factory=list)
    approved: list[dict[str, Any]] = field(default_factory=list)
    changes: list[dict[str, Any]] = field(default_factory=list)
    devices: list[dict[str, Any]] = field(default_factory=list)
    trips: list[dict[str, Any]] = field(default_factory=list)
    linux_groups: dict[str, dict[str, list[str]]] = field(default_factory=dict)
    events: list[dict[str, Any]] = field(default_factory=list)

    def person(self, employee_id: str, account: str, separation_date: str = "") -> None:
        """Someone on the roster, with a directory account logged on yesterday."""
        self.people.append(
            {
                "employee_id": employee_id,
                "first_name": account.title(),
                "last_name": "Tester",
                "account": account,
                "status": "separated" if separation_date else "active",
                "start_date": "2020-01-06",
                "separation_date": separation_date,
            }
        )
        self.account(account, employee_id)

    def account(self, name: str, employee_id: str | None, **changes: Any) -> None:
        """A directory account (enabled, seen yesterday, a plain user unless changed)."""
        self.accounts.append(
            {
                "sam_account_name": name,
                "display_name": changes.pop("display_name", name.title()),
                "employee_id": employee_id,
                "owner_employee_id": changes.pop("owner_employee_id", employee_id),
                "kind": "user",
                "enabled": True,
                "created_at": "2020-01-06T09:00:00Z",
                "last_logon_at": "2026-11-04T17:00:00Z",
                "groups": ["Domain Users"],
                **changes,
            }
        )

    def device(self, device_id: str, owner: str, account: str, **changes: Any) -> None:
        """A healthy managed phone (Intune names) unless changed."""
        self.devices.append(
            {
                "id": device_id,
                "userPrincipalName": f"{account}@agency.example",
                "ownerEmployeeId": owner,
                "operatingSystem": "iOS",
                "osVersion": "17.6.1",
                "isEncrypted": True,
                "passcodeSet": True,
                "jailBroken": "False",
                "managementState": "managed",
                "lastSyncDateTime": "2026-11-04T20:00:00Z",
                "lastKnownCountry": "US",
                "lostModeState": "disabled",
                **changes,
            }
        )

    def event(self, at: str, dataset: str, **columns: Any) -> None:
        """One event; keyword names with `__` stand for dots (`user__name` is `user.name`)."""
        row: dict[str, Any] = {"@timestamp": at, "event.dataset": dataset}
        for name, value in columns.items():
            if name == "fields":
                row["fields"] = value
            else:
                row[name.replace("__", ".")] = value
        self.events.append(row)

    def logon(self, at: str, account: str, code: str = "4624", host: str = "FS01") -> None:
        """A Windows logon event on `host`."""
        self.event(
            at,
            "windows.security",
            event__code=code,
            host__name=host,
            user__name=account,
            fields={"TargetUserName": account, "EventID": code},
        )

    def checkin(self, at: str, device_id: str, account: str, country: str) -> None:
        """An MDM check-in."""
        self.event(
            at,
            "mdm.checkin",
            device__id=device_id,
            user__name=account,
            fields={"source.geo.country_iso_code": country},
        )

    def write(self) -> Path:
        """Write the exports and the lake; returns the data directory."""
        exports, data_dir = self.folder / "exports", self.folder / "data"
        exports.mkdir(parents=True, exist_ok=True)
        with (exports / "roster.csv").open("w", newline="") as handle:
            writer = csv.DictWriter(handle, ROSTER_COLUMNS + ["separation_date"])
            writer.writeheader()
            writer.writerows(self.people)
        documents = {
            "accounts.json": {"accounts": self.accounts},
            "privileged.json": {
                "privileged_groups": ["Domain Admins", "Administrators"],
                "approved_accounts": self.approved,
                "approved_changes": self.changes,
            },
            "devices.json": {"devices": self.devices},
            "travel.json": {"trips": self.trips},
            "linux-groups.json": {"hosts": self.linux_groups},
        }
        for name, document in documents.items():
            (exports / name).write_bytes(orjson.dumps(document))
        import_reference(
            data_dir,
            ImportRequest(
                roster=exports / "roster.csv",
                accounts=exports / "accounts.json",
                privileged=exports / "privileged.json",
                devices=exports / "devices.json",
                travel=exports / "travel.json",
                linux_groups=exports / "linux-groups.json",
            ),
        )
        if self.events:
            records = [
                RawRecord(data=orjson.dumps(row, default=str), origin="scene", position=index)
                for index, row in enumerate(self.events)
            ]
            batch = build_batch(self.events, records)
            write_events(data_dir, pa.Table.from_batches([batch]), node="test", seq=1)
        return data_dir

    def found(self, settings: PostureSettings | None = None, now: datetime = NOW) -> list[Finding]:
        """Every finding at `now`."""
        return evaluate(self.write(), settings or PostureSettings(), now)

    def subjects(self, check: str, settings: PostureSettings | None = None) -> set[str]:
        """Subjects of one check's findings."""
        return {f.subject for f in self.found(settings) if f.check == check}
