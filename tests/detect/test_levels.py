"""The minimum alert level: informational rules feed correlations and hunts, raise no alert."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import orjson
import pyarrow as pa
import pytest
from typer.testing import CliRunner

from custodes.cli.main import app
from custodes.detect import load_matcher
from custodes.detect.engine import hunt_and_store, open_detection
from custodes.detect.hunt import hunt
from custodes.detect.levels import configured_min_level, raises_alert
from custodes.errors import ConfigError
from custodes.serve.config import parse_config
from custodes.store import write_events
from custodes.store.alerts import list_alerts
from custodes.store.control import Control, open_control
from tests.detect.correlation_helpers import (
    FAILED_NETWORK_ID,
    LOGON_NO_LEVEL_ID,
    SPRAY_ID,
    SPRAY_RULES,
    spray,
)

runner = CliRunner()


@pytest.fixture(autouse=True)
def clean_settings(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CUSTODES_CACHE_DIR", str(tmp_path / "rule-cache"))
    monkeypatch.delenv("CUSTODES_ALERT_MIN_LEVEL", raising=False)


@pytest.fixture
def rules(tmp_path: Path) -> Path:
    path = tmp_path / "rules" / "spray.yml"
    path.parent.mkdir()
    path.write_text(SPRAY_RULES)
    return path


@pytest.fixture
def control(data_dir: Path) -> Iterator[Control]:
    with open_control(data_dir) as opened:
        yield opened


def test_levels_are_ordered_and_a_missing_level_counts_as_medium() -> None:
    assert not raises_alert("informational", "low")
    assert raises_alert("low", "low") and raises_alert("critical", "low")
    assert raises_alert("informational", "informational")
    assert not raises_alert("medium", "high")
    assert raises_alert("", "medium") and not raises_alert("", "high")


def test_the_setting_comes_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    assert configured_min_level() == "low"
    monkeypatch.setenv("CUSTODES_ALERT_MIN_LEVEL", "Medium")
    assert configured_min_level() == "medium"
    assert configured_min_level("informational") == "informational"  # given beats configured
    monkeypatch.setenv("CUSTODES_ALERT_MIN_LEVEL", "severe")
    with pytest.raises(ConfigError, match="CUSTODES_ALERT_MIN_LEVEL"):
        configured_min_level()
    with pytest.raises(ConfigError, match="unknown level 'loud'"):
        configured_min_level("loud")


def test_informational_base_rule_raises_nothing_but_its_correlation_fires(
    control: Control, rules: Path
) -> None:
    detection = open_detection(control, [rules])
    result = detection.process(spray())
    assert sorted(a.rule_id for a in result.alerts) == sorted([SPRAY_ID, LOGON_NO_LEVEL_ID])
    spray_alert = next(a for a in result.alerts if a.rule_id == SPRAY_ID)
    assert (spray_alert.level, spray_alert.count) == ("high", 10)  # fired at the tenth account
    assert detection.totals.hits == 2  # both plain rules matched; one of them alerts
    assert {a.rule_id for a in list_alerts(control)} == {SPRAY_ID, LOGON_NO_LEVEL_ID}


def test_a_lower_minimum_lets_the_informational_rule_alert(control: Control, rules: Path) -> None:
    detection = open_detection(control, [rules], alert_min_level="informational")
    raised = detection.process(spray()).alerts
    assert {a.rule_id for a in raised} == {FAILED_NETWORK_ID, SPRAY_ID, LOGON_NO_LEVEL_ID}
    failed = [a for a in raised if a.rule_id == FAILED_NETWORK_ID]
    assert (len(failed), sum(a.count for a in failed)) == (12, 12)  # one per targeted account


def test_a_higher_minimum_quiets_correlations_below_it_too(
    control: Control, rules: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CUSTODES_ALERT_MIN_LEVEL", "critical")  # as ingest reads it
    detection = open_detection(control, [rules])
    assert detection.alert_min_level == "critical"
    assert detection.process(spray()).alerts == []
    assert detection.totals.correlation_matches == 1  # matched, but below the minimum


def test_hunts_apply_the_minimum_and_show_everything_when_asked(
    data_dir: Path, rules: Path
) -> None:
    batch = spray()
    write_events(data_dir, pa.Table.from_batches([batch]), node="test", seq=0)
    matcher = load_matcher([rules])
    assert {a.rule_id for a in hunt(data_dir, matcher)} == {LOGON_NO_LEVEL_ID}
    everything = list(hunt(data_dir, matcher, min_level="informational"))
    assert {a.rule_id for a in everything} == {FAILED_NETWORK_ID, LOGON_NO_LEVEL_ID}

    stored, totals = hunt_and_store(data_dir, [rules], matcher=matcher)
    assert {a.rule_id for a in stored} == {SPRAY_ID, LOGON_NO_LEVEL_ID}
    assert totals.created == 2


def test_hunt_command_min_level_option(data_dir: Path, rules: Path) -> None:
    write_events(data_dir, pa.Table.from_batches([spray()]), node="test", seq=0)
    base = ["hunt", "--data-dir", str(data_dir), "--rules", str(rules)]
    result = runner.invoke(app, base, env={"COLUMNS": "250"})
    assert result.exit_code == 0, result.output
    assert "Failed network logon" not in result.output
    assert "1 rules below low raise none (--min-level informational shows them)" in result.output

    result = runner.invoke(app, [*base, "--min-level", "informational", "--format", "jsonl"])
    assert result.exit_code == 0, result.output
    lines = [orjson.loads(line) for line in result.output.splitlines()]
    assert {line["rule_id"] for line in lines} == {FAILED_NETWORK_ID, LOGON_NO_LEVEL_ID}
    assert sum(line["count"] for line in lines if line["rule_id"] == FAILED_NETWORK_ID) == 12

    result = runner.invoke(app, [*base, "--min-level", "loud"])
    assert result.exit_code == 2
    assert "unknown level 'loud'" in result.output


def test_custodes_yaml_accepts_a_level_and_names_a_bad_one() -> None:
    assert parse_config({"alert_min_level": "informational"}).alert_min_level == "informational"
    assert parse_config({}).alert_min_level is None
    with pytest.raises(ConfigError) as caught:
        parse_config({"alert_min_level": "severe"})
    assert caught.value.key == "alert_min_level"
