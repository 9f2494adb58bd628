"""Reference snapshots: Parquet files under `<data_dir>/reference/`, one per source of truth.

An import replaces its snapshot whole (an export is the complete truth at `exported_at`);
Linux accounts and groups are replaced host by host. The checks see every snapshot as a DuckDB
view of the same name, empty when nothing was imported yet.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from custodes.posture.schemas import SCHEMAS
from custodes.posture.sources import (
    ReferenceImportError,
    read_accounts,
    read_devices,
    read_group_file,
    read_linux_groups,
    read_passwd,
    read_privileged,
    read_roster,
    read_travel,
)

REFERENCE_DIR = "reference"
#: Snapshot file names of the tables Linux hosts add to (replaced host by host).
LINUX_ACCOUNTS = "linux_accounts"


@dataclass
class ImportRequest:
    """Which files to import; any may be left out (its snapshot is kept as it was)."""

    roster: Path | None = None
    accounts: Path | None = None
    privileged: Path | None = None
    devices: Path | None = None
    travel: Path | None = None
    linux_groups: Path | None = None
    passwd: Path | None = None
    group: Path | None = None
    host: str | None = None


@dataclass
class ImportResult:
    """Rows stored per snapshot."""

    rows: dict[str, int] = field(default_factory=dict)


def reference_dir(data_dir: Path) -> Path:
    """Where the snapshots live."""
    return data_dir / REFERENCE_DIR


def write_snapshot(data_dir: Path, name: str, table: pa.Table) -> None:
    """Replace one snapshot atomically."""
    folder = reference_dir(data_dir)
    folder.mkdir(parents=True, exist_ok=True)
    temporary = folder / f".{name}.parquet.tmp"
    pq.write_table(table, temporary)
    os.replace(temporary, folder / f"{name}.parquet")


def read_snapshot(data_dir: Path, name: str, schema_name: str | None = None) -> pa.Table:
    """One snapshot (an empty table of its schema when never imported)."""
    path = reference_dir(data_dir) / f"{name}.parquet"
    schema = SCHEMAS[schema_name or name]
    if not path.exists():
        return schema.empty_table()
    return pq.read_table(path, schema=schema)


def replace_host(data_dir: Path, name: str, schema_name: str, host: str, rows: pa.Table) -> int:
    """Replace one host's rows of a per-host snapshot; returns the rows now held for it."""
    kept = read_snapshot(data_dir, name, schema_name)
    kept = kept.filter(pc.invert(pc.fill_null(pc.equal(kept["host"], host), False)))
    write_snapshot(data_dir, name, pa.concat_tables([kept, rows]))
    return int(rows.num_rows)


def import_reference(data_dir: Path, request: ImportRequest) -> ImportResult:
    """Validate every given file first, then store them; a bad file stores nothing."""
    tables: dict[str, pa.Table] = {}
    if request.roster:
        tables["people"] = read_roster(request.roster)
    if request.accounts:
        tables["accounts"] = read_accounts(request.accounts)
    if request.privileged:
        approved, changes, groups = read_privileged(request.privileged)
        tables["approved_accounts"] = approved
        tables["approved_changes"] = changes
        rows = [{"group": group} for group in groups]
        tables["privileged_groups"] = pa.Table.from_pylist(rows, SCHEMAS["privileged_groups"])
    if request.devices:
        tables["devices"] = read_devices(request.devices)
    if request.travel:
        tables["trips"] = read_travel(request.travel)
    if request.linux_groups:
        tables["group_members"] = read_linux_groups(request.linux_groups)
    per_host: dict[str, pa.Table] = {}
    if request.passwd or request.group:
        if not request.host:
            raise ReferenceImportError("--host", ["/etc/passwd and /etc/group need --host NAME"])
        if request.passwd:
            per_host[LINUX_ACCOUNTS] = read_passwd(request.passwd, request.host)
        if request.group:
            per_host["group_members"] = read_group_file(request.group, request.host)
    result = ImportResult()
    for name, table in tables.items():
        write_snapshot(data_dir, name, table)
        result.rows[name] = table.num_rows
    for name, table in per_host.items():
        schema_name = "accounts" if name == LINUX_ACCOUNTS else name
        assert request.host is not None
        result.rows[name] = replace_host(data_dir, name, schema_name, request.host, table)
    return result


def register_reference(connection: duckdb.DuckDBPyConnection, data_dir: Path) -> None:
    """Every snapshot as a DuckDB view (accounts = directory and Linux accounts together)."""
    for name in SCHEMAS:
        table = read_snapshot(data_dir, name)
        if name == "accounts":
            table = pa.concat_tables([table, read_snapshot(data_dir, LINUX_ACCOUNTS, "accounts")])
        connection.register(f"ref_{name}", table)
