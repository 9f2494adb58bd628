"""The Spark retro-hunt gives exactly the alerts of the embedded hunt on the same lake."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import pyarrow as pa
import pytest
from typer.testing import CliRunner

from custodes.cli.main import app
from custodes.detect import Matcher, load_matcher
from custodes.detect.engine import hunt_and_store, load_correlation_rules
from custodes.detect.hunt import hunt
from custodes.errors import QueryError
from custodes.events import EVENT_SCHEMA
from custodes.scale import as_event_batch, merge_alerts, spark_hunt, spark_hunt_and_store
from custodes.scale.lake import column_alias
from custodes.store import open_control
from custodes.store.alerts import list_alerts
from custodes.store.lake import write_events
from tests.detect.correlation_helpers import (
    FAILED_NETWORK_ID,
    LOGON_NO_LEVEL_ID,
    SPRAY_ID,
    SPRAY_RULES,
    spray,
)


def test_spark_hunt_equals_embedded_hunt(
    spark: Any, attack_lake: Path, windows_matcher: Matcher
) -> None:
    embedded = merge_alerts(list(hunt(attack_lake, windows_matcher)))
    on_spark = spark_hunt(spark, attack_lake, windows_matcher)
    assert len(embedded) > 100  # the attack samples trip many rules
    assert len({a.rule_id for a in embedded}) > 50
    key = lambda a: (a.rule_id, a.host_name or "", a.user_name or "")  # noqa: E731
    assert sorted(on_spark, key=key) == sorted(embedded, key=key)


def test_spark_hunt_applies_the_minimum_alert_level_as_the_embedded_hunt(
    spark: Any, attack_lake: Path, windows_matcher: Matcher
) -> None:
    everything = spark_hunt(spark, attack_lake, windows_matcher, min_level="informational")
    embedded = merge_alerts(list(hunt(attack_lake, windows_matcher, min_level="informational")))
    key = lambda a: (a.rule_id, a.host_name or "", a.user_name or "")  # noqa: E731
    assert sorted(everything, key=key) == sorted(embedded, key=key)
    quiet = {a.rule_id for a in everything if a.level == "informational"}
    assert quiet  # the attack samples trip informational rules too
    default = spark_hunt(spark, attack_lake, windows_matcher)  # alert_min_level: low
    assert {a.rule_id for a in everything} - {a.rule_id for a in default} == quiet
    assert sorted(default, key=key) == [
        a for a in sorted(everything, key=key) if a.rule_id not in quiet
    ]


def test_spark_store_keeps_informational_rules_quiet_and_their_correlation_fires(
    spark: Any, tmp_path: Path
) -> None:
    rules = tmp_path / "rules" / "spray.yml"
    rules.parent.mkdir()
    rules.write_text(SPRAY_RULES, encoding="utf-8")
    data_dir, copy = tmp_path / "data", tmp_path / "copy"
    write_events(data_dir, pa.Table.from_batches([spray()]), node="a", seq=1)
    shutil.copytree(data_dir / "lake", copy / "lake")
    matcher = load_matcher([rules])
    correlations = load_correlation_rules([rules], matcher)[0]

    embedded, _ = hunt_and_store(data_dir, [rules], matcher=matcher)
    on_spark, _ = spark_hunt_and_store(spark, copy, matcher, correlations=correlations)
    assert {a.rule_id for a in on_spark} == {a.rule_id for a in embedded}
    assert {a.rule_id for a in on_spark} == {SPRAY_ID, LOGON_NO_LEVEL_ID}
    everything, _ = spark_hunt_and_store(
        spark, copy, matcher, correlations=correlations, min_level="informational"
    )
    assert {a.rule_id for a in everything} == {FAILED_NETWORK_ID, SPRAY_ID, LOGON_NO_LEVEL_ID}
    only_critical, _ = spark_hunt_and_store(
        spark, copy, matcher, correlations=correlations, min_level="critical"
    )
    assert only_critical == []  # the high correlation is below critical too


def test_spark_hunt_time_range(spark: Any, attack_lake: Path, windows_matcher: Matcher) -> None:
    until = "2019-01-01"
    embedded = merge_alerts(list(hunt(attack_lake, windows_matcher, until=until)))
    on_spark = spark_hunt(spark, attack_lake, windows_matcher, until=until)
    everything = spark_hunt(spark, attack_lake, windows_matcher)
    assert 0 < len(on_spark) < len(everything)
    assert {(a.rule_id, a.event_ids) for a in on_spark} == {
        (a.rule_id, a.event_ids) for a in embedded
    }


def test_alerts_stored_through_the_normal_path(
    spark: Any, attack_lake: Path, windows_matcher: Matcher, tmp_path: Path
) -> None:
    data_dir = tmp_path / "copy"
    shutil.copytree(attack_lake / "lake", data_dir / "lake")
    alerts, saved = spark_hunt_and_store(spark, data_dir, windows_matcher)
    assert saved.created > 0 and saved.created + saved.grouped == len(alerts)
    with open_control(data_dir) as control:
        stored = list_alerts(control, limit=10_000)
    assert {a.rule_id for a in stored} == {a.rule_id for a in alerts}
    _, again = spark_hunt_and_store(spark, data_dir, windows_matcher)
    assert again.created == 0  # a replay stores nothing twice


def test_cli_scale_hunt_prints_alerts_and_refuses_an_empty_lake(
    attack_lake: Path, datasets: Path, tmp_path: Path, spark: Any
) -> None:
    rules = datasets / "sigma" / "rules" / "windows" / "process_creation"
    runner = CliRunner()
    result = runner.invoke(
        app,
        ["scale", "hunt", "--data-dir", str(attack_lake), "--rules", str(rules), "--jsonl"],
        catch_exceptions=False,
    )
    assert result.exit_code == 0, result.output
    lines = [line for line in result.stdout.splitlines() if line.startswith("{")]
    assert len(lines) > 10
    assert spark.range(3).count() == 3  # the CLI left the session it found running
    empty = runner.invoke(
        app, ["scale", "hunt", "--data-dir", str(tmp_path), "--rules", str(rules)]
    )
    assert empty.exit_code == 2
    assert "no events in the lake" in empty.output


def test_as_event_batch_restores_names_and_types() -> None:
    names = ["@timestamp", "event.id", "host.name"]
    spark_like = pa.record_batch(
        [
            pa.array([0], pa.timestamp("us", tz="Etc/UTC")),
            pa.array(["e1"], pa.large_string()),
            pa.array([None], pa.large_string()),
        ],
        names=[column_alias(name) for name in names],
    )
    batch = as_event_batch(spark_like)
    assert batch.schema.names == names
    assert [f.type for f in batch.schema] == [EVENT_SCHEMA.field(n).type for n in names]


def test_unknown_lake_is_a_clear_error(
    spark: Any, tmp_path: Path, windows_matcher: Matcher
) -> None:
    with pytest.raises(QueryError, match="no events in the lake"):
        spark_hunt(spark, tmp_path, windows_matcher)
