"""A case's evidence package verifies with the standalone verifier; any change fails it."""

from __future__ import annotations

import hashlib
import json
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
from typer.testing import CliRunner

from custodes.cases import (
    add_alert,
    add_attachment,
    add_note,
    add_timeline,
    case_event_ids,
    export_case,
    open_case,
)
from custodes.cli.main import app
from custodes.demo.truth import SIGMA_COMSVCS_DUMP, SIGMA_UNCOMMON_SERVICE
from custodes.errors import PermissionDenied
from custodes.investigate import Seed, build_timeline
from custodes.ledger.verify_package import PackageError, verify
from custodes.oversight import Door, EventQuery, RevealRequest, decide, request_reveal
from custodes.oversight.access import fetch
from custodes.store import list_alerts, open_control
from custodes.store.users import Role, User

ANA = User(name="ana", role=Role.INVESTIGATOR, kind="cli")
OLGA = User(name="olga", role=Role.OVERSIGHT, kind="cli")


@pytest.fixture(scope="module")
def package(demo_data: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("package") / "case.zip"
    with open_control(demo_data) as control:
        door = Door(demo_data, control)
        alerts = {a.rule_id: a.id for a in list_alerts(control, limit=100)}
        case = open_case(control, ANA, title="Lateral movement on APP01", unit="ir")
        add_alert(control, ANA, case.id, alerts[SIGMA_UNCOMMON_SERVICE])
        add_alert(control, ANA, case.id, alerts[SIGMA_COMSVCS_DUMP])
        add_note(control, ANA, case.id, "service from C:\\Windows\\Temp, then a MiniDump")
        add_attachment(control, demo_data, ANA, case.id, "memo.txt", b"first responder memo\n")
        with pytest.raises(PermissionDenied, match="request a reveal"):
            export_case(control, demo_data, door, ANA, case.id, out)
        seed = Seed("alert", str(alerts[SIGMA_UNCOMMON_SERVICE]))
        timeline = build_timeline(
            demo_data, control, door, ANA, seed, "1h", purpose="investigation", case_id=case.id
        )
        chain = [s for s in timeline.to_dict()["steps"] if "lateral movement" in s["label"]]
        add_timeline(control, ANA, case.id, {**timeline.to_dict(), "steps": chain})
        events = fetch(demo_data, EventQuery(event_ids=tuple(case_event_ids(control, case.id))))
        policy, pseudonyms = door.state()
        for subject in sorted(pseudonyms.mask(events).masked):
            reveal = RevealRequest(case.id, subject, "IG Act s.6", "evidence package")
            row = request_reveal(control, demo_data, policy, ANA, reveal)
            decide(control, demo_data, policy, OLGA, row.id, approve=True)
        export_case(control, demo_data, door, ANA, case.id, out)
    return out


def members(path: Path) -> dict[str, bytes]:
    with zipfile.ZipFile(path) as package:
        return {name: package.read(name) for name in package.namelist()}


def rewrite(path: Path, out: Path, changes: dict[str, bytes]) -> Path:
    with zipfile.ZipFile(out, "w") as package:
        for name, data in {**members(path), **changes}.items():
            package.writestr(name, data)
    return out


def test_the_standalone_verifier_accepts_the_package(package: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "custodes.ledger.verify_package", str(package)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stdout
    assert "and 4 case document(s) proved" in result.stdout


def test_the_package_holds_the_case_its_history_attachments_and_access_entries(
    package: Path,
) -> None:
    found = members(package)
    record = json.loads(found["case/case.json"])
    assert record["title"] == "Lateral movement on APP01"
    kinds = [item["kind"] for item in record["items"]]
    assert kinds == ["alert", "alert", "note", "attachment", "timeline"]
    assert record["history"][-1]["action"] == "exported"
    attachments = json.loads(found["case/attachments.json"])
    assert attachments[0]["sha256"] == hashlib.sha256(b"first responder memo\n").hexdigest()
    actions = {entry["action"] for entry in json.loads(found["case/access-ledger.json"])}
    assert {"reveal-request", "reveal-approve", "export-refused", "export", "timeline"} <= actions
    timelines = json.loads(found["case/timelines.json"])
    assert "lateral movement" in timelines[0]["steps"][0]["label"]


@pytest.mark.parametrize(
    "member", ["case/case.json", "case/access-ledger.json", "events.jsonl", "manifest.json"]
)
def test_any_change_fails_verification(package: Path, tmp_path: Path, member: str) -> None:
    original = members(package)[member]
    changed = original.replace(b"a", b"b", 1) if b"a" in original else original + b" "
    assert changed != original
    with pytest.raises(PackageError):
        verify(str(rewrite(package, tmp_path / "changed.zip", {member: changed})))


def test_a_changed_document_with_its_new_hash_fails_on_the_signature(
    package: Path, tmp_path: Path
) -> None:
    found = members(package)
    note = found["case/case.json"].replace(b"then a MiniDump", b"then nothing!!")
    manifest = json.loads(found["manifest.json"])
    manifest["documents"]["case/case.json"] = hashlib.sha256(note).hexdigest()
    canonical = json.dumps(manifest, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    changes = {"case/case.json": note, "manifest.json": canonical.encode()}
    with pytest.raises(PackageError, match="signature"):
        verify(str(rewrite(package, tmp_path / "resigned.zip", changes)))


def test_an_extra_member_fails_verification(package: Path, tmp_path: Path) -> None:
    with pytest.raises(PackageError, match="exactly"):
        verify(str(rewrite(package, tmp_path / "extra.zip", {"case/extra.json": b"{}"})))


def test_cli_export_writes_a_package_the_verifier_accepts(
    package: Path, demo_data: Path, tmp_path: Path
) -> None:
    case_id = json.loads(members(package)["case/case.json"])["id"]
    out = tmp_path / "cli.zip"
    result = CliRunner().invoke(
        app,
        [
            "case",
            "export",
            case_id,
            "--out",
            str(out),
            "--actor",
            "ana",
            "--data-dir",
            str(demo_data),
        ],
    )
    assert result.exit_code == 0, result.output
    assert "4 case documents" in result.stdout
    assert "case document(s) proved" in verify(str(out))
    refused = CliRunner().invoke(
        app,
        [
            "case",
            "export",
            case_id,
            "--out",
            str(out),
            "--actor",
            "eve",
            "--data-dir",
            str(demo_data),
        ],
    )
    assert refused.exit_code == 2 and f"case '{case_id}' not found" in refused.output
