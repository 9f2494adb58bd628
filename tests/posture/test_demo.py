"""On the demo agency, the findings are exactly the planted posture problems, no more, no less."""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path
from typing import Any

import orjson
import pytest

from custodes.demo import DemoSettings, check, generate, load_truth
from custodes.pipeline import import_files, open_pipeline
from custodes.posture import ImportRequest, PostureSettings, import_reference
from custodes.posture.run import run_posture
from custodes.posture.store import StoredFinding, list_findings
from custodes.store.control import open_control

SIZES = {
    "tiny": DemoSettings(people=20, days=3, seed=11, start=date(2026, 11, 2)),
    "week": DemoSettings(people=200, days=7, seed=7, start=date(2026, 11, 2)),
}


@pytest.fixture(scope="module", params=sorted(SIZES))
def demo(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> tuple[Path, Path]:
    """(demo folder, data dir): generated, telemetry ingested, references imported, checks run."""
    out = tmp_path_factory.mktemp("posture-demo")
    generate(out / "demo", SIZES[request.param])
    data_dir = out / "data"
    with open_pipeline(data_dir, detect=False) as pipeline:
        import_files(pipeline, [out / "demo" / "telemetry"])
    reference = out / "demo" / "reference"
    import_reference(
        data_dir,
        ImportRequest(
            roster=reference / "roster.csv",
            accounts=reference / "accounts.json",
            privileged=reference / "privileged.json",
            devices=reference / "devices.json",
            travel=reference / "travel.json",
            linux_groups=reference / "linux-groups.json",
        ),
    )
    hints = orjson.loads((reference / "policy-hints.json").read_bytes())
    settings = PostureSettings(
        allowed_countries=tuple(hints["allowed_countries"]),
        minimum_os_versions=hints["minimum_os_versions"],
        dormant_after_days=hints["dormant_after_days"],
        device_silent_after_days=hints["device_silent_after_days"],
        holidays=tuple(date.fromisoformat(day) for day in hints["holidays"]),
    )
    exported = orjson.loads((reference / "accounts.json").read_bytes())["exported_at"]
    now = datetime.fromisoformat(exported.replace("Z", "+00:00"))
    with open_control(data_dir) as control:
        run_posture(data_dir, control, settings, now=now)
    return out / "demo", data_dir


def subjects(scenario: dict[str, Any]) -> set[str]:
    """Accounts, devices and hosts of a planted case, compared in lower case."""
    names = scenario["who"]["accounts"] + scenario["devices"] + scenario["hosts"]
    return {name.lower() for name in names}


def planted_by(finding: StoredFinding, scenarios: list[dict[str, Any]]) -> list[str]:
    """The planted cases a finding belongs to: its check expected there, its subject involved."""
    mine = {(finding.account or "").lower(), (finding.device_id or "").lower()} - {""}
    return [
        scenario["id"]
        for scenario in scenarios
        if {"kind": "posture", "check": finding.check} in scenario["detect"]
        and mine & subjects(scenario)
    ]


def test_findings_are_exactly_the_planted_posture_problems(demo: tuple[Path, Path]) -> None:
    folder, data_dir = demo
    scenarios = load_truth(folder / "ground_truth.json")["scenarios"]
    with open_control(data_dir) as control:
        findings = list_findings(control)
    planted = [s for s in scenarios if s["kind"] != "near-miss"]
    near_misses = [s for s in scenarios if s["kind"] == "near-miss"]
    unexplained = [f"{f.check} {f.subject}" for f in findings if not planted_by(f, planted)]
    assert unexplained == []
    on_near_misses = [f"{f.check} {f.subject}" for f in findings if planted_by(f, near_misses)]
    assert on_near_misses == []
    found = {(f.check, scenario) for f in findings for scenario in planted_by(f, planted)}
    expected = {
        (detection["check"], scenario["id"])
        for scenario in planted
        for detection in scenario["detect"]
        if detection["kind"] == "posture"
    }
    assert found == expected


def test_demo_check_shows_every_posture_case_detected_and_near_misses_quiet(
    demo: tuple[Path, Path],
) -> None:
    folder, data_dir = demo
    report = check(data_dir, load_truth(folder / "ground_truth.json"))
    posture_cases = [
        verdict
        for verdict, scenario in zip(
            report.verdicts, load_truth(folder / "ground_truth.json")["scenarios"], strict=True
        )
        if any(d["kind"] == "posture" for d in scenario["detect"])
    ]
    statuses = {verdict.id: verdict.status for verdict in posture_cases}
    assert set(statuses.values()) <= {"detected", "quiet"}
    assert statuses["leaver-today-near-miss"] == "quiet"
    assert statuses["mobile-travel-registered-near-miss"] == "quiet"
    assert report.false_positives == 0
