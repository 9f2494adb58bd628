"""The one door: purposes, ledger entries, two-person reveals, grants by case and person."""

from __future__ import annotations

import sqlite3
from datetime import timedelta
from pathlib import Path

import pytest

from custodes.errors import PermissionDenied, QueryError
from custodes.oversight import (
    Door,
    EventQuery,
    RequestError,
    RevealRequest,
    decide,
    list_entries,
    request_reveal,
    verify_access_log,
)
from custodes.store.control import Control
from tests.oversight.conftest import (
    ADMIN,
    ANALYST,
    ANALYST_2,
    INVESTIGATOR,
    NOW,
    OVERSEER,
    OVERSEER_2,
)

MONITORING = "security-monitoring"


def alias_of(door: Door, name: str) -> str:
    return door.state()[1].pseudonym(name)


def reveal(door: Door, control: Control, data_dir: Path, subject: str, case: str = "C-1") -> int:
    row = request_reveal(
        control,
        data_dir,
        door.policy,
        ANALYST,
        RevealRequest(case, subject, "Inspector General Act s.6", "phishing victim", "case", 7),
        now=NOW,
    )
    return row.id


def test_each_read_appends_an_entry_with_who_why_what_and_rows(
    door: Door, control: Control
) -> None:
    result = door.read(ANALYST, MONITORING, EventQuery(where="event.code = '1'", limit=5))
    (entry,) = list_entries(control)
    assert (entry.seq, entry.actor, entry.role, entry.action) == (
        result.entry_seq,
        "ann",
        "analyst",
        "search",
    )
    assert entry.purpose == MONITORING and entry.case_id is None
    assert entry.query["where"] == "event.code = '1'" and entry.rows == 5 == result.table.num_rows
    assert entry.revealed == []


def test_a_role_may_only_declare_its_purposes(door: Door, control: Control) -> None:
    with pytest.raises(PermissionDenied, match="may not read"):
        door.read(ADMIN, MONITORING, EventQuery())
    with pytest.raises(PermissionDenied, match="may not read"):
        door.read(OVERSEER, MONITORING, EventQuery())
    with pytest.raises(QueryError, match="unknown purpose"):
        door.read(ANALYST, "curiosity", EventQuery())
    with pytest.raises(PermissionDenied, match="needs a case"):
        door.read(INVESTIGATOR, "investigation", EventQuery())
    assert list_entries(control) == []


def test_self_approval_is_refused(door: Door, control: Control, data_dir: Path) -> None:
    request_id = reveal(door, control, data_dir, alias_of(door, "jsmith"))
    with pytest.raises(PermissionDenied, match="only oversight"):
        decide(control, data_dir, door.policy, ANALYST_2, request_id, approve=True)
    with pytest.raises(PermissionDenied, match="only oversight"):
        decide(control, data_dir, door.policy, ADMIN, request_id, approve=True)
    own = RevealRequest("C-2", alias_of(door, "jsmith"), "basis", "why")
    mine = request_reveal(control, data_dir, door.policy, OVERSEER, own).id
    with pytest.raises(PermissionDenied, match="someone else"):
        decide(control, data_dir, door.policy, OVERSEER, mine, approve=True)
    decide(control, data_dir, door.policy, OVERSEER_2, mine, approve=False, reason="no basis")
    with pytest.raises(RequestError, match="already refused"):
        decide(control, data_dir, door.policy, OVERSEER_2, mine, approve=True)


def test_a_request_names_a_pseudonym_a_basis_and_a_short_expiry(
    door: Door, control: Control, data_dir: Path
) -> None:
    with pytest.raises(RequestError, match="pseudonym"):
        request_reveal(
            control, data_dir, door.policy, ANALYST, RevealRequest("C", "jsmith", "b", "j")
        )
    with pytest.raises(RequestError, match="expiry"):
        request_reveal(
            control,
            data_dir,
            door.policy,
            ANALYST,
            RevealRequest("C", alias_of(door, "jsmith"), "b", "j", expiry_days=400),
        )


def test_a_grant_reveals_one_person_in_one_case_until_it_expires(
    door: Door, control: Control, data_dir: Path
) -> None:
    smith = alias_of(door, "jsmith")
    request_id = reveal(door, control, data_dir, smith, case="C-1")
    decide(control, data_dir, door.policy, OVERSEER, request_id, approve=True, now=NOW)
    query = EventQuery(limit=100)
    in_case = door.read(ANALYST, "investigation", query, "C-1", now=NOW + timedelta(hours=1))
    users = set(in_case.table.column("user.name").to_pylist())
    assert {"jsmith", "AGENCY\\jsmith"} <= users
    assert len([user for user in users if user.startswith("usr-")]) == 2  # the other two
    assert in_case.revealed == {smith}
    other_case = door.read(ANALYST, "investigation", query, "C-9", now=NOW + timedelta(hours=1))
    assert "jsmith" not in other_case.table.column("user.name").to_pylist()
    colleague = door.read(ANALYST_2, "investigation", query, "C-1", now=NOW + timedelta(hours=1))
    assert "jsmith" not in colleague.table.column("user.name").to_pylist()
    expired = door.read(ANALYST, "investigation", query, "C-1", now=NOW + timedelta(days=8))
    assert "jsmith" not in expired.table.column("user.name").to_pylist()
    entries = list_entries(control, action="search")
    assert [entry.revealed for entry in reversed(entries)] == [[smith], [], [], []]


def test_requests_and_decisions_are_in_the_access_ledger(
    door: Door, control: Control, data_dir: Path
) -> None:
    request_id = reveal(door, control, data_dir, alias_of(door, "mgarcia"))
    decide(control, data_dir, door.policy, OVERSEER, request_id, approve=True, reason="ok")
    actions = [(entry.actor, entry.action) for entry in reversed(list_entries(control))]
    assert actions == [("ann", "reveal-request"), ("olga", "reveal-approve")]


def test_verify_catches_an_altered_entry(door: Door, control: Control, data_dir: Path) -> None:
    for _ in range(3):
        door.read(ANALYST, MONITORING, EventQuery(limit=2))
    assert verify_access_log(control, data_dir) == []
    with sqlite3.connect(data_dir / "control.db") as db:
        db.execute("UPDATE access_log SET rows = 0 WHERE seq = 2")
    assert verify_access_log(control, data_dir) == [
        "access entry 2 was altered (its hash does not match)"
    ]


def test_verify_catches_a_deleted_entry_and_a_deleted_tail(
    door: Door, control: Control, data_dir: Path
) -> None:
    for _ in range(4):
        door.read(ANALYST, MONITORING, EventQuery(limit=2))
    with sqlite3.connect(data_dir / "control.db") as db:
        db.execute("DELETE FROM access_log WHERE seq = 4")
    assert verify_access_log(control, data_dir) == [
        "the access ledger ends at entry 3, but entry 4 was signed"
    ]
    with sqlite3.connect(data_dir / "control.db") as db:
        db.execute("DELETE FROM access_log WHERE seq = 2")
    faults = verify_access_log(control, data_dir)
    assert "access entry 2 is missing (next is 3)" in faults
    assert "access entry 3 does not follow the entry before it" in faults


def test_an_export_of_people_in_clear_needs_grants(
    door: Door, control: Control, data_dir: Path
) -> None:
    from custodes.oversight.access import fetch

    query = EventQuery(where="user.name = 'jsmith'", limit=100, kind="export")
    table = fetch(data_dir, query)
    with pytest.raises(PermissionDenied, match="request a reveal for usr-"):
        door.authorise_export(INVESTIGATOR, "investigation", "C-1", table)
    smith = alias_of(door, "jsmith")
    request = RevealRequest("C-1", smith, "basis", "why")
    row = request_reveal(control, data_dir, door.policy, INVESTIGATOR, request)
    decide(control, data_dir, door.policy, OVERSEER, row.id, approve=True)
    door.authorise_export(INVESTIGATOR, "investigation", "C-1", table)
    actions = [entry.action for entry in reversed(list_entries(control))]
    assert actions == ["export-refused", "reveal-request", "reveal-approve", "export"]


def test_withheld_columns_are_not_read_and_come_back_empty(data_dir: Path) -> None:
    from custodes.oversight.access import fetch

    query = EventQuery(limit=100)
    full = fetch(data_dir, query)
    skipped = fetch(data_dir, query, skip=("event.original",))
    assert skipped.schema.equals(full.schema)
    assert skipped.column("event.original").null_count == skipped.num_rows == 30
    assert full.column("event.original").null_count == 0
    assert skipped.drop_columns(["event.original"]).equals(full.drop_columns(["event.original"]))
    only = fetch(
        data_dir, EventQuery(limit=5, columns=("event.original",)), skip=("event.original",)
    )
    assert only.column("event.original").null_count == 0  # nothing else asked for: read as is
