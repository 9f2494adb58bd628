"""Linking identifiers: which stored events share a logon, a process, an account, an address.

This is the machine's side of a timeline: it reads only the few columns that link events (ids,
hosts, accounts, addresses, logon ids, process ids and images) with DuckDB over the lake, pruned
by time and day partition, and hands back event ids. What a person then sees of those events is
read through the one door (`custodes.oversight.Door`), masked and recorded.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pyarrow as pa

from custodes.store import connect

#: Source fields read beside the core columns, as (alias, field name).
LINK_FIELDS: tuple[tuple[str, str], ...] = (
    ("target_user", "TargetUserName"),
    ("subject_user", "SubjectUserName"),
    ("target_logon", "TargetLogonId"),
    ("subject_logon", "SubjectLogonId"),
    ("logon_type", "LogonType"),
    ("service_name", "ServiceName"),
    ("service_image", "ServiceFileName"),
    ("image_path", "ImagePath"),
    ("source_guid", "SourceProcessGUID"),
    ("target_image", "TargetImage"),
    ("granted_access", "GrantedAccess"),
    ("target_server", "TargetServerName"),
    ("workstation", "WorkstationName"),
    ("workstation_short", "Workstation"),
    ("source_image", "SourceImage"),
    ("new_pid", "NewProcessId"),
    ("status", "Status"),
)
LINK_COLUMNS: tuple[str, ...] = (
    "@timestamp",
    "event.id",
    "event.dataset",
    "event.code",
    "event.action",
    "event.outcome",
    "host.name",
    "user.name",
    "user.target.name",
    "source.ip",
    "destination.ip",
    "destination.domain",
    "network.bytes",
    "winlog.logon.id",
    "process.entity_id",
    "process.parent.entity_id",
    "process.pid",
    "process.parent.pid",
    "process.executable",
    "process.parent.executable",
    "process.command_line",
    "device.id",
    "url.original",
    "file.path",
)
#: Accounts and addresses that link everything to everything, so never link.
UNLINKED_VALUES = frozenset(
    {"", "-", "system", "local service", "network service", "anonymous logon", "127.0.0.1", "::1"}
)
#: Event codes whose accounts are followed (successful logons and explicit credentials).
ACCOUNT_LINKING_CODES = frozenset({"4624", "4648", "4672", "4768", "4769"})
MAX_LINKED_EVENTS = 20_000


@dataclass
class Identifiers:
    """The identifiers a timeline follows (accounts raw, as stored: linking is the machine's)."""

    hosts: set[str] = field(default_factory=set)
    users: set[str] = field(default_factory=set)
    ips: set[str] = field(default_factory=set)
    logons: set[str] = field(default_factory=set)  # "host|logon id"
    processes: set[str] = field(default_factory=set)  # process GUIDs
    images: set[str] = field(default_factory=set)  # executables named by services
    devices: set[str] = field(default_factory=set)
    workstations: set[str] = field(default_factory=set)  # NetBIOS names logons come from
    event_ids: set[str] = field(default_factory=set)

    def copy(self) -> Identifiers:
        """An independent copy."""
        return replace(self, **{name: set(getattr(self, name)) for name in NAMES})

    def size(self) -> int:
        """How many identifiers in all."""
        return sum(len(getattr(self, name)) for name in NAMES)


NAMES = (
    "hosts",
    "users",
    "ips",
    "logons",
    "processes",
    "images",
    "devices",
    "workstations",
    "event_ids",
)


def usable(value: object) -> str | None:
    """A value worth linking on, else None."""
    if value is None:
        return None
    text = str(value).strip()
    if text.lower() in UNLINKED_VALUES or text.endswith("$") or text in ("0x0", "0x3e7", "0x3E7"):
        return None
    return text


def select_sql() -> str:
    """The SELECT list of the linking query."""
    core = ", ".join(f'"{name}"' for name in LINK_COLUMNS)
    extra = ", ".join(f"fields['{name}'] AS {alias}" for alias, name in LINK_FIELDS)
    return f"{core}, {extra}"


def read_links(
    data_dir: Path,
    since: datetime,
    until: datetime,
    ids: Identifiers,
    *,
    host_only: bool = False,
) -> pa.Table:
    """Linking columns of events in [since, until) sharing any identifier (time-ordered)."""
    conditions: list[str] = []
    params: list[Any] = [since, until, since.astimezone(UTC).date(), until.astimezone(UTC).date()]

    def any_of(expressions: Iterable[str], values: set[str]) -> None:
        if values:
            for expression in expressions:
                conditions.append(f"list_contains(?, {expression})")
                params.append(sorted(values))

    any_of(['"host.name"'], ids.hosts)
    if not host_only:
        any_of(['"user.name"', '"user.target.name"'], ids.users)
        any_of(['"source.ip"', '"destination.ip"'], ids.ips)
        any_of(['("host.name" || \'|\' || "winlog.logon.id")'], ids.logons)
        any_of(
            ['"process.entity_id"', '"process.parent.entity_id"', "fields['SourceProcessGUID']"],
            ids.processes,
        )
        any_of(
            [
                '"process.executable"',
                '"process.parent.executable"',
                "fields['ServiceFileName']",
                "fields['ImagePath']",
            ],
            ids.images,
        )
        any_of(['"device.id"'], ids.devices)
        any_of(
            ["upper(fields['Workstation'])", "upper(fields['WorkstationName'])"], ids.workstations
        )
        any_of(['"event.id"'], ids.event_ids)
    if not conditions:
        return pa.table({name: pa.array([], pa.string()) for name in LINK_COLUMNS})
    sql = (
        f"SELECT {select_sql()} FROM events"
        ' WHERE "@timestamp" >= ? AND "@timestamp" < ? AND "date" >= ? AND "date" <= ?'
        f" AND ({' OR '.join(conditions)})"
        f' ORDER BY "@timestamp", "event.id" LIMIT {MAX_LINKED_EVENTS}'
    )
    connection = connect(data_dir)
    try:
        return connection.sql(sql, params=params).to_arrow_table()
    finally:
        connection.close()


def read_by_ids(data_dir: Path, event_ids: Iterable[str]) -> pa.Table:
    """Linking columns of the given events (any time)."""
    wanted = sorted(set(event_ids))
    if not wanted:
        return pa.table({name: pa.array([], pa.string()) for name in LINK_COLUMNS})
    connection = connect(data_dir)
    try:
        sql = f'SELECT {select_sql()} FROM events WHERE list_contains(?, "event.id")'
        return connection.sql(sql + ' ORDER BY "@timestamp"', params=[wanted]).to_arrow_table()
    finally:
        connection.close()


def gather(
    table: pa.Table, ids: Identifiers, *, follow_accounts: bool, is_broad: bool = True
) -> Identifiers:
    """The identifiers of `ids` plus those the events of `table` carry.

    Narrow gathering (`is_broad=False`, for host, user, IP and process seeds, whose own events
    are many) follows only identifiers scoped to one session or process: logon ids, process
    GUIDs, service images and devices, never accounts, addresses or workstations.
    """
    found = ids.copy()
    rows = table.to_pylist()
    for row in rows:
        host = usable(row.get("host.name"))
        for name in ("source.ip", "destination.ip"):
            if is_broad and (value := usable(row.get(name))) is not None:
                found.ips.add(value)
        logon = usable(row.get("winlog.logon.id"))
        if host and logon:
            found.logons.add(f"{host}|{logon}")
        for name in ("process.entity_id", "source_guid"):
            if (value := usable(row.get(name))) is not None:
                found.processes.add(value)
        for name in ("service_image", "image_path"):
            if (value := usable(row.get(name))) is not None:
                found.images.add(value)
        if (value := usable(row.get("device.id"))) is not None:
            found.devices.add(value)
        for name in ("workstation", "workstation_short"):
            if is_broad and (value := usable(row.get(name))) is not None:
                found.workstations.add(value.upper())
        if not is_broad:
            continue
        if follow_accounts or row.get("event.code") in ACCOUNT_LINKING_CODES:
            if row.get("event.outcome") == "failure":
                continue
            for name in ("user.name", "user.target.name"):
                if (value := usable(row.get(name))) is not None:
                    found.users.add(value)
    return found


def seed_identifiers(table: pa.Table) -> Identifiers:
    """Everything the seed's own events carry, accounts included (hosts only for host seeds)."""
    ids = gather(table, Identifiers(), follow_accounts=True)
    ids.event_ids.update(v for v in table.column("event.id").to_pylist() if v)
    return ids
