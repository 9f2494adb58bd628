"""Sources of truth: the files an agency exports, validated row by row into Arrow tables.

Each reader returns a `pa.Table` of one reference schema (see `schemas`), or raises
`ReferenceImportError` listing every bad row as `file, row, field: reason`.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable
from pathlib import Path
from typing import Any, TypeVar

import orjson
import pyarrow as pa
from pydantic import BaseModel, ValidationError

from custodes.errors import CustodesError
from custodes.posture.rows import (
    AccountRow,
    ApprovalRow,
    ChangeApprovalRow,
    DeviceRow,
    PersonRow,
    TripRow,
)
from custodes.posture.schemas import SCHEMAS

Row = TypeVar("Row", bound=BaseModel)
MAX_LISTED_PROBLEMS = 20


class ReferenceImportError(CustodesError):
    """A reference file has bad rows; nothing of it was imported."""

    status = 400

    def __init__(self, path: str, problems: list[str]) -> None:
        shown = problems[:MAX_LISTED_PROBLEMS]
        more = len(problems) - len(shown)
        tail = f"; and {more} more" if more > 0 else ""
        super().__init__(f"{path}: {len(problems)} bad row(s): " + "; ".join(shown) + tail)
        self.path = path
        self.problems = problems


def read_bytes(path: Path) -> bytes:
    """A file's bytes, or ReferenceImportError saying why not."""
    try:
        return path.read_bytes()
    except OSError as error:
        raise ReferenceImportError(str(path), [f"cannot read: {error.strerror}"]) from None


def load_json(path: Path) -> Any:
    """A JSON document, or ReferenceImportError with the parser's reason."""
    try:
        return orjson.loads(read_bytes(path))
    except orjson.JSONDecodeError as error:
        raise ReferenceImportError(str(path), [f"not valid JSON: {error}"]) from None


def items(path: Path, document: Any, key: str) -> list[Any]:
    """The list of entries: the document itself or its `key` member."""
    found = document.get(key) if isinstance(document, dict) else document
    if not isinstance(found, list):
        raise ReferenceImportError(str(path), [f"expected a list or an object with {key!r}"])
    return found


def validate(path: Path, model: type[Row], entries: Iterable[Any], first_row: int = 1) -> list[Row]:
    """Every entry as `model`; all problems gathered as `file, row N, field: reason`."""
    rows: list[Row] = []
    problems: list[str] = []
    for number, entry in enumerate(entries, start=first_row):
        try:
            rows.append(model.model_validate(entry))
        except ValidationError as error:
            for problem in error.errors():
                field = ".".join(str(part) for part in problem["loc"]) or "(row)"
                problems.append(f"{path.name}, row {number}, {field}: {problem['msg']}")
    if problems:
        raise ReferenceImportError(str(path), problems)
    return rows


def to_table(name: str, rows: Iterable[dict[str, Any]]) -> pa.Table:
    """Rows as a table of the named reference schema."""
    return pa.Table.from_pylist(list(rows), schema=SCHEMAS[name])


def read_roster(path: Path) -> pa.Table:
    """The HR roster, CSV (header row) or JSON (a list, or {"people": [...]})."""
    if path.suffix.lower() == ".json":
        entries = items(path, load_json(path), "people")
        people = validate(path, PersonRow, entries)
    else:
        text = read_bytes(path).decode("utf-8-sig", errors="replace")
        reader = csv.DictReader(io.StringIO(text))
        people = validate(path, PersonRow, reader, first_row=2)  # row 1 is the header
    return to_table("people", (person.model_dump() for person in people))


def read_accounts(path: Path) -> pa.Table:
    """A directory export (Active Directory / Entra ID style JSON)."""
    accounts = validate(path, AccountRow, items(path, load_json(path), "accounts"))
    return to_table("accounts", (account.to_row("directory", None) for account in accounts))


def read_privileged(path: Path) -> tuple[pa.Table, pa.Table, list[str]]:
    """Approved privileged accounts, approved group changes, and the privileged group names."""
    document = load_json(path)
    approved = validate(path, ApprovalRow, items(path, document, "approved_accounts"))
    changes_in = document.get("approved_changes", []) if isinstance(document, dict) else []
    changes = validate(path, ChangeApprovalRow, changes_in)
    groups = document.get("privileged_groups", []) if isinstance(document, dict) else []
    return (
        to_table("approved_accounts", (row.model_dump() for row in approved)),
        to_table("approved_changes", (row.model_dump() for row in changes)),
        [str(group) for group in groups],
    )


def read_devices(path: Path) -> pa.Table:
    """An MDM inventory (Intune `devices` or Jamf-style field names)."""
    devices = validate(path, DeviceRow, items(path, load_json(path), "devices"))
    return to_table("devices", (device.model_dump() for device in devices))


def read_travel(path: Path) -> pa.Table:
    """Registered official travel: one row per person, trip and country."""
    trips = validate(path, TripRow, items(path, load_json(path), "trips"))
    return to_table("trips", (row for trip in trips for row in trip.per_country()))


def read_linux_groups(path: Path) -> pa.Table:
    """Group members per Linux host: {"hosts": {host: {group: [members]}}} (`getent group`)."""
    document = load_json(path)
    hosts = document.get("hosts") if isinstance(document, dict) else None
    if not isinstance(hosts, dict):
        raise ReferenceImportError(str(path), ["expected an object with 'hosts'"])
    rows = []
    problems = []
    for host, groups in hosts.items():
        if not isinstance(groups, dict):
            problems.append(f"{path.name}, host {host}: expected group -> members")
            continue
        for group, members in groups.items():
            if not isinstance(members, list):
                problems.append(f"{path.name}, host {host}, {group}: expected a list of members")
                continue
            rows += [{"host": host, "group": group, "account": str(m)} for m in members]
    if problems:
        raise ReferenceImportError(str(path), problems)
    return to_table("group_members", rows)


def read_passwd(path: Path, host: str) -> pa.Table:
    """Accounts of one Linux host from /etc/passwd (uid < 1000 are system accounts)."""
    rows: list[dict[str, Any]] = []
    problems: list[str] = []
    text = read_bytes(path).decode("utf-8", errors="replace")
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip() or line.startswith("#"):
            continue
        parts = line.split(":")
        if len(parts) != 7 or not parts[2].isdigit():
            problems.append(f"{path.name}, row {number}: expected 7 fields name:x:uid:gid:...")
            continue
        name, uid, shell = parts[0], int(parts[2]), parts[6]
        account = AccountRow.model_validate(
            {
                "sam_account_name": name,
                "display_name": parts[4].split(",")[0] or name,
                "kind": "user" if uid >= 1000 and name != "nobody" else "system",
                "enabled": not shell.endswith(("nologin", "false")),
            }
        )
        rows.append(account.to_row("linux", host))
        if uid == 0:
            rows[-1]["groups"] = ["root"]
    if problems:
        raise ReferenceImportError(str(path), problems)
    return to_table("accounts", rows)


def read_group_file(path: Path, host: str) -> pa.Table:
    """Group members of one Linux host from /etc/group."""
    rows: list[dict[str, Any]] = []
    problems: list[str] = []
    text = read_bytes(path).decode("utf-8", errors="replace")
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip() or line.startswith("#"):
            continue
        parts = line.split(":")
        if len(parts) != 4:
            problems.append(f"{path.name}, row {number}: expected 4 fields group:x:gid:members")
            continue
        members = [m for m in parts[3].split(",") if m]
        rows += [{"host": host, "group": parts[0], "account": m} for m in members]
    if problems:
        raise ReferenceImportError(str(path), problems)
    return to_table("group_members", rows)
