"""Sigma correlations on Spark raise the alerts the embedded hunt raises on the same lake."""

from __future__ import annotations

import shutil
from datetime import timedelta
from pathlib import Path
from typing import Any

import pyarrow as pa
from typer.testing import CliRunner

from custodes.cli.main import app
from custodes.detect.cache import load_matcher
from custodes.detect.engine import hunt_and_store, load_correlation_rules
from custodes.events import Alert
from custodes.scale import merge_alerts, spark_hunt_and_store
from custodes.scale.correlate import components
from custodes.store import open_control
from custodes.store.alerts import list_alerts
from custodes.store.lake import write_events
from tests.detect.correlation_helpers import (
    BRUTE_FORCE_ID,
    BRUTE_FORCE_RULES,
    T0,
    brute_force,
    events_batch,
    logon,
)


def brute_force_lake(tmp_path: Path) -> tuple[Path, Path]:
    """A lake in two segments: two brute forces that succeed, one that stops short, noise."""
    rules = tmp_path / "rules" / "brute_force.yml"
    rules.parent.mkdir(parents=True)
    rules.write_text(BRUTE_FORCE_RULES, encoding="utf-8")
    later = timedelta(hours=2)
    rows = brute_force("10.0.0.5") + brute_force("10.0.0.6", failures=10)
    rows += [{**row, "@timestamp": row["@timestamp"] + later} for row in brute_force("10.0.0.7")]  # type: ignore[operator]
    rows += [logon(4624, "10.0.0.9", T0 + timedelta(seconds=i)) for i in range(5)]
    data_dir = tmp_path / "data"
    half = len(rows) // 2  # one brute force split across two lake files
    write_events(data_dir, pa.Table.from_batches([events_batch(rows[:half])]), node="a", seq=1)
    write_events(data_dir, pa.Table.from_batches([events_batch(rows[half:])]), node="b", seq=1)
    return data_dir, rules


def facts(alert: Alert) -> tuple[object, ...]:
    """What must be equal between the engines for a correlation alert."""
    return (
        alert.rule_id, alert.event_ids, alert.first_seen_at, alert.last_seen_at,
        alert.host_name, alert.user_name, alert.level, alert.details,
    )  # fmt: skip


def plain(alerts: list[Alert]) -> list[tuple[object, ...]]:
    """The rule alerts (not correlations), merged per rule, host and user."""
    return [facts(a) for a in merge_alerts([a for a in alerts if a.kind != "correlation"])]


def test_brute_force_correlation_on_spark_equals_embedded(spark: Any, tmp_path: Path) -> None:
    data_dir, rules = brute_force_lake(tmp_path)
    copy = tmp_path / "copy"
    shutil.copytree(data_dir / "lake", copy / "lake")
    matcher = load_matcher([rules])
    correlations, refused = load_correlation_rules([rules], matcher)
    assert not refused and len(correlations) == 2
    assert [c.keyed for c in components(correlations)] == [True]  # one chain, by IpAddress

    embedded, _ = hunt_and_store(data_dir, [rules], matcher=matcher)
    on_spark, saved = spark_hunt_and_store(spark, copy, matcher, correlations=correlations)

    brute = sorted(facts(a) for a in embedded if a.kind == "correlation")
    assert [f[0] for f in brute] == [BRUTE_FORCE_ID, BRUTE_FORCE_ID]  # 10.0.0.5 and 10.0.0.7
    assert sorted(facts(a) for a in on_spark if a.kind == "correlation") == brute
    assert [a.count for a in embedded if a.kind == "correlation"] == [
        21,
        21,
    ]  # 20 failures, 1 success
    assert plain(on_spark) == plain(embedded)  # the silenced burst rule raises nothing on either
    with open_control(copy) as control:
        stored = list_alerts(control, limit=1000)
    assert sum(a.rule_id == BRUTE_FORCE_ID for a in stored) == 2
    _, again = spark_hunt_and_store(spark, copy, matcher, correlations=correlations)
    assert again.created == 0 and saved.created > 0


def test_cli_scale_hunt_store_raises_the_correlation(spark: Any, tmp_path: Path) -> None:
    data_dir, rules = brute_force_lake(tmp_path)
    result = CliRunner().invoke(
        app,
        ["scale", "hunt", "--data-dir", str(data_dir), "--rules", str(rules.parent), "--store"],
        catch_exceptions=False,
    )
    assert result.exit_code == 0, result.output
    with open_control(data_dir) as control:
        stored = list_alerts(control, limit=1000)
    assert sorted(a.rule_id for a in stored if a.rule_id == BRUTE_FORCE_ID) == [BRUTE_FORCE_ID] * 2
    assert spark.range(2).count() == 2  # the CLI left the session it found running
