"""The generator: deterministic, complete, and every planted case really in the files."""

from __future__ import annotations

import csv
import hashlib
from datetime import UTC, datetime
from pathlib import Path

import orjson
import pytest

from custodes.demo import DemoSettings, generate
from custodes.errors import ConfigError
from tests.demo.conftest import TINY, read_json

ACTIVITY = {
    "departed-account-vpn",
    "unapproved-privileged-group-addition",
    "password-spray-lateral-movement",
    "offhours-exfiltration-personal-cloud",
    "protected-channel-hotline",
    "mobile-unapproved-country",
    "mobile-lost-device-checking-in",
    "linux-sudo-group-addition",
}


def digests(folder: Path) -> dict[str, str]:
    """Content hash of every file except the manifest (which records the time taken)."""
    return {
        path.relative_to(folder).as_posix(): hashlib.sha256(path.read_bytes()).hexdigest()
        for path in sorted(folder.rglob("*"))
        if path.is_file() and path.name != "manifest.json"
    }


def test_same_seed_and_start_give_the_same_bytes(tiny_demo: Path, tmp_path: Path) -> None:
    generate(tmp_path / "again", TINY)
    assert digests(tmp_path / "again") == digests(tiny_demo)


def test_another_seed_gives_other_data(tiny_demo: Path, tmp_path: Path) -> None:
    other = DemoSettings(people=TINY.people, days=TINY.days, seed=TINY.seed + 1, start=TINY.start)
    generate(tmp_path / "other", other)
    ours, theirs = digests(tiny_demo), digests(tmp_path / "other")
    assert ours["telemetry/windows.jsonl"] != theirs["telemetry/windows.jsonl"]
    assert ours["reference/roster.csv"] != theirs["reference/roster.csv"]


def test_manifest_counts_match_the_files(tiny_demo: Path) -> None:
    manifest = read_json(tiny_demo / "manifest.json")
    assert {entry["format"] for entry in manifest["files"]} >= {
        "evtx",
        "rfc5424",
        "rfc3164",
        "authlog",
        "cef",
        "json",
    }
    for entry in manifest["files"]:
        lines = (tiny_demo / entry["path"]).read_bytes().splitlines()
        assert len(lines) == entry["events"] > 0, entry["path"]
        assert entry["send"] in ("syslog", "http")
    assert manifest["events"] == sum(entry["events"] for entry in manifest["files"])


def test_every_activity_scenario_is_in_the_truth_with_evidence(tiny_demo: Path) -> None:
    truth = read_json(tiny_demo / "ground_truth.json")
    scenarios = {scenario["id"]: scenario for scenario in truth["scenarios"]}
    assert set(scenarios) >= ACTIVITY
    for name in ACTIVITY:
        scenario = scenarios[name]
        assert scenario["events"] or scenario["lines"], name
        assert scenario["who"]["accounts"] and scenario["detect"] and scenario["first_at"], name
        labels = {(label["account"], label["date"]) for label in scenario["user_days"]}
        assert (scenario["who"]["accounts"][0], scenario["first_at"][:10]) in labels, name


def test_planted_windows_records_are_in_the_file_exactly_once(tiny_demo: Path) -> None:
    truth = read_json(tiny_demo / "ground_truth.json")
    records: dict[tuple[str, int], int] = {}
    for line in (tiny_demo / "telemetry" / "windows.jsonl").read_bytes().splitlines():
        system = orjson.loads(line)["Event"]["System"]
        key = (system["Computer"], system["EventRecordID"])
        records[key] = records.get(key, 0) + 1
    assert max(records.values()) == 1, "EventRecordID repeats on a computer"
    planted = [event for scenario in truth["scenarios"] for event in scenario["events"]]
    assert len(planted) > 50
    for event in planted:
        assert records.get((event["computer"], event["event_record_id"])) == 1, event


def test_planted_lines_are_in_their_files(tiny_demo: Path) -> None:
    truth = read_json(tiny_demo / "ground_truth.json")
    files: dict[str, set[str]] = {}
    for scenario in truth["scenarios"]:
        for line in scenario["lines"]:
            if line["file"] not in files:
                text = (tiny_demo / "telemetry" / line["file"]).read_text()
                files[line["file"]] = set(text.splitlines())
            assert line["line"] in files[line["file"]], scenario["id"]


def test_the_spray_hits_many_accounts_from_one_source(tiny_demo: Path) -> None:
    lines = (tiny_demo / "telemetry" / "windows.jsonl").read_bytes().splitlines()
    failures = [orjson.loads(line)["Event"] for line in lines if b'"EventID":4625' in line]
    by_source: dict[str, set[str]] = {}
    for event in failures:
        data = event["EventData"]
        if data["IpAddress"] != "127.0.0.1":  # local typos at the keyboard are not a source
            by_source.setdefault(data["IpAddress"], set()).add(data["TargetUserName"])
    assert max(len(accounts) for accounts in by_source.values()) >= 25
    assert sorted(len(accounts) for accounts in by_source.values())[-2:-1] <= [1]


def test_files_are_in_time_order(tiny_demo: Path) -> None:
    stamps = [
        orjson.loads(line)["Event"]["System"]["TimeCreated"]["#attributes"]["SystemTime"]
        for line in (tiny_demo / "telemetry" / "windows.jsonl").read_bytes().splitlines()
    ]
    assert stamps == sorted(stamps)
    auth = [
        line.split(" ", 1)[0]
        for line in (tiny_demo / "telemetry" / "auth.log").read_text().splitlines()
    ]
    assert auth == sorted(auth)


def test_reference_data_agrees_with_the_truth(tiny_demo: Path) -> None:
    truth = {s["id"]: s for s in read_json(tiny_demo / "ground_truth.json")["scenarios"]}
    reference = tiny_demo / "reference"
    with (reference / "roster.csv").open() as handle:
        roster = {row["account"]: row for row in csv.DictReader(handle)}
    accounts = {
        a["sam_account_name"]: a for a in read_json(reference / "accounts.json")["accounts"]
    }
    departed = truth["departed-account-vpn"]["who"]["accounts"][0]
    assert roster[departed]["status"] == "separated" and accounts[departed]["enabled"] is True
    assert "contractor_tmp1" in accounts and "contractor_tmp1" not in roster
    approved = {a["account"] for a in read_json(reference / "privileged.json")["approved_accounts"]}
    promoted = truth["unapproved-privileged-group-addition"]["who"]["accounts"][0]
    assert "Domain Admins" in accounts[promoted]["groups"] and promoted not in approved
    devices = {d["id"]: d for d in read_json(reference / "devices.json")["devices"]}
    lost = devices[truth["mobile-lost-device-checking-in"]["devices"][0]]
    assert (
        lost["lostModeState"] == "enabled"
        and lost["lastSyncDateTime"] > lost["lostReportedDateTime"]
    )
    abroad = truth["mobile-unapproved-country"]["who"]["employee_ids"][0]
    trips = read_json(reference / "travel.json")["trips"]
    assert abroad not in {trip["employee_id"] for trip in trips}
    sudo = truth["linux-sudo-group-addition"]
    groups = read_json(reference / "linux-groups.json")["hosts"][sudo["hosts"][0]]
    assert (
        sudo["who"]["accounts"][0] in groups["sudo"] and sudo["who"]["accounts"][0] not in approved
    )
    hints = read_json(reference / "policy-hints.json")
    assert "CN" not in hints["allowed_countries"]


def test_too_small_an_agency_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ConfigError):
        generate(tmp_path, DemoSettings(people=3, days=1))


def test_travellers_connect_from_the_country_of_their_trip(tmp_path: Path) -> None:
    out = tmp_path / "travel"
    generate(out, DemoSettings(people=150, days=5, seed=3, start=TINY.start))
    trips = read_json(out / "reference" / "travel.json")["trips"]
    lines = (out / "telemetry" / "vpn.cef").read_text().splitlines()
    checked = 0
    for trip in trips:
        for line in lines:
            if f" suser={trip['account']} " not in line:
                continue
            millis = int(line.split("rt=")[1].split(" ")[0])
            day = datetime.fromtimestamp(millis / 1000, tz=UTC).date().isoformat()
            country = line.split("cs2=")[1].split(" ")[0]
            inside = trip["start_date"] <= day <= trip["end_date"]
            assert (country in trip["countries"]) == inside, (trip, line)
            checked += inside
    assert checked >= 2


def test_directory_changes_agree_with_the_directory_export(tiny_demo: Path) -> None:
    accounts = {
        a["sam_account_name"]: a
        for a in read_json(tiny_demo / "reference" / "accounts.json")["accounts"]
    }
    changes: dict[int, list[str]] = {4720: [], 4725: [], 4726: []}
    for line in (tiny_demo / "telemetry" / "windows.jsonl").read_bytes().splitlines():
        event = orjson.loads(line)["Event"]
        code = event["System"]["EventID"]  # a dict when it carries Qualifiers (7045)
        if isinstance(code, int) and code in changes:
            changes[code].append(event["EventData"]["TargetUserName"])
    assert changes[4726], "a leaver's account is deleted during the window"
    assert all(accounts[name]["enabled"] for name in changes[4720])
    assert not any(accounts[name]["enabled"] for name in changes[4725] if name in accounts)
    assert not any(name in accounts for name in changes[4726])
