"""The demo's own Sigma rules (used without SigmaHQ's) find its Windows attacks, nothing else."""

from __future__ import annotations

from pathlib import Path

import pytest
from rich.console import Console

from custodes.demo import load_truth, run
from custodes.demo.check import load_alerts, planted_event_ids
from custodes.demo.run import DEMO_RULES, default_rules
from custodes.detect import load_rules
from custodes.pipeline import import_files, open_pipeline

TITLES = {
    "Service installed from a temporary folder",
    "Process memory dumped with comsvcs.dll MiniDump",
    "LSASS opened with full access",
    "Member added to a domain-wide administrators group",
    "Password spraying from one source",
}


def test_every_rule_loads() -> None:
    rule_set = load_rules([DEMO_RULES])
    assert rule_set.errors == []
    assert len(rule_set.rules) == 5 and len(rule_set.correlations) == 1


@pytest.fixture(scope="module")
def alerts(tiny_demo: Path, tmp_path_factory: pytest.TempPathFactory) -> list[dict[str, object]]:
    data_dir = tmp_path_factory.mktemp("demo-rules")
    with open_pipeline(data_dir, rules=[DEMO_RULES]) as pipeline:
        import_files(pipeline, [tiny_demo / "telemetry"])
    truth = load_truth(tiny_demo / "ground_truth.json")
    evidence = planted_event_ids(data_dir, truth["scenarios"])
    attacks = evidence["password-spray-lateral-movement"]
    attacks |= evidence["unapproved-privileged-group-addition"]
    found = load_alerts(data_dir)
    for alert in found:
        assert isinstance(alert["event_ids"], list)
        alert["on_planted_events"] = set(alert["event_ids"]) <= attacks
    return found


def test_each_rule_fires_on_the_planted_attack_and_only_there(
    alerts: list[dict[str, object]],
) -> None:
    assert {alert["title"] for alert in alerts} == TITLES
    assert all(alert["on_planted_events"] for alert in alerts), alerts


def test_the_spray_correlation_names_every_failed_logon_of_the_burst(
    alerts: list[dict[str, object]],
) -> None:
    spray = next(alert for alert in alerts if alert["title"] == "Password spraying from one source")
    assert spray["host_name"] == "DC01.agency.example"
    event_ids = spray["event_ids"]
    assert isinstance(event_ids, list) and len(event_ids) >= 10


def test_the_demo_runs_its_own_rules_when_sigmahq_is_absent(
    monkeypatch: pytest.MonkeyPatch, datasets: Path
) -> None:
    console = Console(record=True, width=200)
    monkeypatch.setenv("CUSTODES_DATASETS", str(datasets))
    assert default_rules(console) == [(datasets / "sigma" / "rules").resolve()]
    monkeypatch.setattr(run, "shared_sigma_rules", lambda: None)
    assert default_rules(console) == [DEMO_RULES]
    assert "SigmaHQ's rules not found" in console.export_text()
