"""The CLI through the door: search, alerts and exports masked; reveals; policy; verify."""

from __future__ import annotations

import json
import sqlite3
from datetime import timedelta
from pathlib import Path

import orjson
from typer.testing import CliRunner

from custodes.cli.main import app
from custodes.events import Alert
from custodes.oversight import Door, list_entries
from custodes.store.alerts import save_alerts
from custodes.store.control import Control
from custodes.store.users import Role, add_user
from tests.oversight.conftest import NOW, PEOPLE

runner = CliRunner()


def invoke(*args: str, code: int = 0) -> str:
    result = runner.invoke(app, list(args))
    assert result.exit_code == code, result.output
    return result.output


def test_search_prints_pseudonyms_in_every_format(data_dir: Path, door: Door) -> None:
    alias = door.state()[1].pseudonym("jsmith")
    for output in ("jsonl", "csv", "table"):
        text = invoke("search", "--data-dir", str(data_dir), "--format", output, "--limit", "30")
        assert not any(name in text for name in PEOPLE), output
        assert alias in text
    assert [entry.action for entry in list_entries(door.control)] == ["search"] * 3


def test_alerts_list_and_show_mask_the_user(data_dir: Path, control: Control, door: Door) -> None:
    alert = Alert(
        rule_id="r1",
        title="Odd logon",
        level="high",
        event_ids=("x",),
        first_seen_at=NOW - timedelta(minutes=5),
        last_seen_at=NOW,
        user_name="AGENCY\\mgarcia",
        host_name="WS-00001",
        description="mgarcia logged on at night",
    )
    (alert_id,) = save_alerts(control, [alert], now=NOW).alert_ids
    alias = door.state()[1].pseudonym("mgarcia")
    listed = invoke("alerts", "list", "--data-dir", str(data_dir), "--format", "jsonl")
    shown = orjson.loads(
        invoke("alerts", "show", str(alert_id), "--data-dir", str(data_dir), "--format", "jsonl")
    )
    assert orjson.loads(listed)["user_name"] == alias == shown["user_name"]
    assert shown["description"] == f"{alias} logged on at night"
    assert "mgarcia" not in listed


def test_reveal_flow_and_an_export_in_clear(
    data_dir: Path, control: Control, door: Door, tmp_path: Path
) -> None:
    add_user(control, "ivy", "a long password 1", Role.INVESTIGATOR)
    add_user(control, "olga", "a long password 2", Role.OVERSIGHT)
    alias = door.state()[1].pseudonym("tnguyen")
    out = tmp_path / "evidence.zip"
    export = (
        "export-evidence",
        "--data-dir",
        str(data_dir),
        "--out",
        str(out),
        "--where",
        "user.name = 'tnguyen'",
        "--actor",
        "ivy",
        "--case",
        "C-7",
    )
    refused = invoke(*export, code=2)
    assert "request a reveal for" in refused and not out.exists()
    invoke(
        "reveal",
        "request",
        "--data-dir",
        str(data_dir),
        "--actor",
        "ivy",
        "--case",
        "C-7",
        "--subject",
        alias,
        "--legal-basis",
        "IG Act",
        "--justification",
        "insider case",
    )
    assert "only oversight may decide" in invoke(
        "reveal", "approve", "1", "--data-dir", str(data_dir), "--actor", "ivy", code=2
    )
    invoke("reveal", "approve", "1", "--data-dir", str(data_dir), "--actor", "olga")
    invoke(*export)
    assert out.exists()
    clear = invoke(
        "search",
        "--data-dir",
        str(data_dir),
        "--format",
        "jsonl",
        "--actor",
        "ivy",
        "--case",
        "C-7",
        "--where",
        "user.name = 'tnguyen'",
    )
    assert '"user.name":"tnguyen"' in clear
    log = [
        json.loads(line) for line in invoke("access-log", "--data-dir", str(data_dir)).splitlines()
    ]
    assert [entry["action"] for entry in reversed(log)] == [
        "export-refused",
        "reveal-request",
        "reveal-approve",
        "export",
        "search",
    ]
    assert log[0]["revealed"] == [alias]


def test_verify_reports_a_tampered_access_ledger(data_dir: Path) -> None:
    invoke("search", "--data-dir", str(data_dir), "--limit", "3")
    invoke("search", "--data-dir", str(data_dir), "--limit", "3")
    assert "intact" in invoke("verify", "--data-dir", str(data_dir))
    with sqlite3.connect(data_dir / "control.db") as db:
        db.execute("UPDATE access_log SET actor = 'nobody' WHERE seq = 1")
    output = invoke("verify", "--data-dir", str(data_dir), code=1)
    assert "access entry 1 was altered" in output


def test_policy_apply_is_recorded_and_errors_name_the_key(data_dir: Path, tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("retention: {default: {searchable_months: -1}}\n")
    assert "retention.default.searchable_months" in invoke("policy", "check", str(bad), code=2)
    hints = tmp_path / "hints.json"
    hints.write_text(json.dumps({"protected_channels": [{"name": "IG", "domains": ["ig.gov"]}]}))
    policy = tmp_path / "policy.yaml"
    invoke("policy", "from-hints", str(hints), "--out", str(policy))
    invoke("policy", "apply", str(policy), "--reason", "IG hotline", "--data-dir", str(data_dir))
    assert "ig.gov" in invoke("policy", "show", "--data-dir", str(data_dir))
    log = json.loads(invoke("access-log", "--data-dir", str(data_dir)).splitlines()[0])
    assert log["action"] == "policy-apply" and log["details"]["reason"] == "IG hotline"


def test_transparency_report_counts(data_dir: Path) -> None:
    invoke("search", "--data-dir", str(data_dir), "--limit", "3")
    period = NOW.strftime("%Y-%m")
    report = json.loads(
        invoke("report", "transparency", "--period", period, "--data-dir", str(data_dir))
    )
    assert sum(report["events_collected"].values()) == 30
    assert report["accesses"] == {"search": 1}
    html = invoke(
        "report",
        "transparency",
        "--period",
        period,
        "--format",
        "html",
        "--data-dir",
        str(data_dir),
    )
    assert "<h1>Transparency report</h1>" in html
    assert "period must be" in invoke(
        "report", "transparency", "--period", "soon", "--data-dir", str(data_dir), code=2
    )
