"""Imports: every format read, bad rows named by file, row and field, nothing half stored."""

from __future__ import annotations

from pathlib import Path

import orjson
import pytest

from custodes.posture import ImportRequest, ReferenceImportError, import_reference
from custodes.posture.reference import read_snapshot


def test_roster_errors_name_file_row_and_field(tmp_path: Path) -> None:
    roster = tmp_path / "roster.csv"
    roster.write_text(
        "employee_id,account,start_date,separation_date\n"
        "E1,ok,2020-01-01,\n"
        "E2,bad,2020-13-01,\n"
        ",nobody,2020-01-01,\n"
    )
    with pytest.raises(ReferenceImportError) as caught:
        import_reference(tmp_path / "data", ImportRequest(roster=roster))
    problems = caught.value.problems
    assert problems[0].startswith("roster.csv, row 3, start_date:")
    assert problems[1].startswith("roster.csv, row 4, employee_id:")
    assert not (tmp_path / "data" / "reference" / "people.parquet").exists()


def test_roster_as_json(tmp_path: Path) -> None:
    roster = tmp_path / "roster.json"
    roster.write_bytes(orjson.dumps({"people": [{"employee_id": "E1", "account": "a"}]}))
    import_reference(tmp_path, ImportRequest(roster=roster))
    assert read_snapshot(tmp_path, "people").column("account").to_pylist() == ["a"]


def test_a_bad_file_stores_none_of_the_others(tmp_path: Path) -> None:
    good = tmp_path / "travel.json"
    good.write_bytes(orjson.dumps({"trips": []}))
    bad = tmp_path / "devices.json"
    bad.write_bytes(b'{"devices": [{"id": "d1"}]}')
    with pytest.raises(
        ReferenceImportError, match=r"devices.json, row 1, (platform|operatingSystem)"
    ):
        import_reference(tmp_path / "data", ImportRequest(travel=good, devices=bad))
    assert not (tmp_path / "data" / "reference").exists()


def test_not_json_is_a_clear_error(tmp_path: Path) -> None:
    bad = tmp_path / "accounts.json"
    bad.write_text("{not json")
    with pytest.raises(ReferenceImportError, match="not valid JSON"):
        import_reference(tmp_path, ImportRequest(accounts=bad))


def test_linux_passwd_and_group_replace_one_host_at_a_time(tmp_path: Path) -> None:
    passwd = tmp_path / "passwd"
    passwd.write_text(
        "root:x:0:0:root:/root:/bin/bash\n"
        "daemon:x:1:1:daemon:/usr/sbin:/usr/sbin/nologin\n"
        "alice:x:1000:1000:Alice Smith,,,:/home/alice:/bin/bash\n"
    )
    group = tmp_path / "group"
    group.write_text("sudo:x:27:alice\nusers:x:100:\n")
    for host in ("web01", "web02"):
        import_reference(tmp_path, ImportRequest(passwd=passwd, group=group, host=host))
    import_reference(tmp_path, ImportRequest(passwd=passwd, group=group, host="web01"))
    accounts = read_snapshot(tmp_path, "linux_accounts", "accounts").to_pylist()
    assert len(accounts) == 6
    alice = next(a for a in accounts if a["account"] == "alice" and a["host"] == "web01")
    assert (alice["kind"], alice["enabled"], alice["display_name"]) == ("user", True, "Alice Smith")
    daemon = next(a for a in accounts if a["account"] == "daemon")
    assert (daemon["kind"], daemon["enabled"]) == ("system", False)
    members = read_snapshot(tmp_path, "group_members").to_pylist()
    assert sorted((m["host"], m["group"], m["account"]) for m in members) == [
        ("web01", "sudo", "alice"),
        ("web02", "sudo", "alice"),
    ]


def test_passwd_without_host_is_refused(tmp_path: Path) -> None:
    passwd = tmp_path / "passwd"
    passwd.write_text("root:x:0:0:root:/root:/bin/bash\n")
    with pytest.raises(ReferenceImportError, match="--host"):
        import_reference(tmp_path, ImportRequest(passwd=passwd))


def test_intune_words_become_booleans(tmp_path: Path) -> None:
    devices = tmp_path / "devices.json"
    entry = {
        "id": "d1",
        "operatingSystem": "Android",
        "osVersion": "14",
        "isEncrypted": True,
        "passcodeSet": True,
        "jailBroken": "Unknown",
        "managementState": "unmanaged",
        "lostModeState": "enabled",
    }
    devices.write_bytes(orjson.dumps({"devices": [entry]}))
    import_reference(tmp_path, ImportRequest(devices=devices))
    (row,) = read_snapshot(tmp_path, "devices").to_pylist()
    assert (row["is_jailbroken"], row["is_managed"], row["is_lost"]) == (False, False, True)


def test_blank_values_in_json_are_missing_values(tmp_path: Path) -> None:
    roster = tmp_path / "roster.json"
    roster.write_bytes(orjson.dumps([{"employee_id": "E1", "separation_date": ""}]))
    import_reference(tmp_path, ImportRequest(roster=roster))
    assert read_snapshot(tmp_path, "people").column("separation_date").to_pylist() == [None]


def test_a_trip_ending_before_it_starts_is_refused(tmp_path: Path) -> None:
    travel = tmp_path / "travel.json"
    trip = {"employee_id": "E1", "countries": ["FR"], "start_date": "2026-11-04"}
    travel.write_bytes(orjson.dumps({"trips": [{**trip, "end_date": "2026-11-02"}]}))
    with pytest.raises(ReferenceImportError, match="row 1.*end_date is before start_date"):
        import_reference(tmp_path, ImportRequest(travel=travel))
