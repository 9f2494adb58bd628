"""The detection step: real compiled rules on batches -> stored alerts, on ingest and in a hunt."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path

import orjson
import pytest
from sqlalchemy import select

from custodes.detect.engine import BatchDetection, open_detection, rule_paths_from_config
from custodes.errors import ConfigError
from custodes.events import RawRecord
from custodes.normalise.evtx import EvtxParser
from custodes.pipeline import open_pipeline
from custodes.plugins import Registry
from custodes.store.alerts import get_alert, list_alerts
from custodes.store.control import Control, CorrelationStateRow, open_control
from custodes.store.suppressions import add_suppression, list_suppressions
from tests.detect.correlation_helpers import (
    BRUTE_FORCE_ID,
    BRUTE_FORCE_RULES,
    FAILED_ID,
    T0,
    brute_force,
    events_batch,
    logon,
)

SINGLE_RULE = """
title: Failed logon
id: 1f0b7f3e-5a8e-4d8c-9f51-0e0f6f0a4625
status: test
author: Custodes tests
logsource: {product: windows, service: security}
detection: {selection: {EventID: 4625}, condition: selection}
level: low
"""


@pytest.fixture(autouse=True)
def rule_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CUSTODES_CACHE_DIR", str(tmp_path / "rule-cache"))


@pytest.fixture
def control(data_dir: Path) -> Iterator[Control]:
    with open_control(data_dir) as opened:
        yield opened


def rules_file(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "rules" / "rules.yml"
    path.parent.mkdir(exist_ok=True)
    path.write_text(text)
    return path


def test_brute_force_is_one_stored_alert_and_its_parts_raise_none(
    control: Control, tmp_path: Path
) -> None:
    rules = rules_file(tmp_path, BRUTE_FORCE_RULES)
    detection = open_detection(control, [rules])
    assert [c.id for c in detection.correlations] == ["many_failed_logons", BRUTE_FORCE_ID]
    told: list[BatchDetection] = []
    detection.on_saved.append(told.append)
    rows = brute_force("10.0.0.5")
    for start in range(0, len(rows), 5):
        detection.process(events_batch(rows[start : start + 5], origin=f"b{start}"))
    assert [len(result.saved.created_ids) for result in told] == [0] * 5 + [1]

    [alert] = list_alerts(control)  # failed/success rules are silenced by generate: false
    assert (alert.rule_id, alert.kind, alert.level) == (BRUTE_FORCE_ID, "correlation", "high")
    assert alert.details["group_by"] == {"IpAddress": "10.0.0.5"}
    assert alert.count == 21
    assert len(get_alert(control, alert.id).event_ids) == 21
    assert detection.totals.events == len(rows)


def test_brute_force_across_a_restart_of_the_step(control: Control, tmp_path: Path) -> None:
    rules = rules_file(tmp_path, BRUTE_FORCE_RULES)
    rows = brute_force("10.0.0.5")
    first = open_detection(control, [rules])
    for start in range(0, 15, 5):
        first.process(events_batch(rows[start : start + 5], origin=f"b{start}"))
    del first

    with open_control(control.url) as reopened:  # a new process: new engine, new objects
        second = open_detection(reopened, [rules])
        for start in range(15, len(rows), 5):
            second.process(events_batch(rows[start : start + 5], origin=f"b{start}"))
        assert [a.rule_id for a in list_alerts(reopened)] == [BRUTE_FORCE_ID]


def test_rule_alerts_group_and_suppressions_count(control: Control, tmp_path: Path) -> None:
    detection = open_detection(control, [rules_file(tmp_path, SINGLE_RULE)])
    add_suppression(
        control,
        rule_id=FAILED_ID,
        conditions={"user_name": "svc_backup"},
        justification="backup service account retries by design",
        owner="alice",
        expires_at=datetime.now().astimezone() + timedelta(days=1),
        now=datetime.now().astimezone(),
    )
    detection.process(events_batch([logon(4625, "10.0.0.1", T0, n=1)], origin="a"))
    detection.process(events_batch([logon(4625, "10.0.0.1", T0, n=2)], origin="b"))
    detection.process(
        events_batch([logon(4625, "10.0.0.1", T0, user="svc_backup", n=3)], origin="c")
    )
    detection.process(events_batch([logon(4624, "10.0.0.1", T0, n=4)], origin="d"))

    [alert] = list_alerts(control)
    assert (alert.rule_id, alert.count, alert.user_name) == (FAILED_ID, 2, "admin")
    assert alert.author == "Custodes tests"
    [suppression] = list_suppressions(control, now=datetime.now().astimezone())
    assert suppression.suppressed_count == 1
    assert detection.totals.suppressed == 1


def test_hunt_mode_keeps_no_state_and_is_idempotent(control: Control, tmp_path: Path) -> None:
    rules = rules_file(tmp_path, BRUTE_FORCE_RULES)
    batch = events_batch(brute_force("10.0.0.5"))
    for _ in range(2):
        hunt = open_detection(control, [rules], keep_state=False)
        assert len(hunt.process(batch).alerts) == 1
    [alert] = list_alerts(control)
    assert alert.count == 21
    with control.session() as session:  # the hunts left no correlation state behind
        assert session.scalars(select(CorrelationStateRow)).all() == []
    states = hunt.correlator.states  # in memory: the 5 failures after the burst, nothing else
    assert {key: len(state.entries) for key, state in states.items()} == {
        ("many_failed_logons", '["10.0.0.5"]'): 5
    }


def windows_event(code: int, ip: str, at: datetime, seq: int) -> bytes:
    return orjson.dumps(
        {
            "Event": {
                "System": {
                    "EventID": code,
                    "Channel": "Security",
                    "Computer": "dc01.corp.example",
                    "Provider": {"#attributes": {"Name": "Microsoft-Windows-Security-Auditing"}},
                    "TimeCreated": {"#attributes": {"SystemTime": at.isoformat()}},
                    "EventRecordID": seq,
                },
                "EventData": {"TargetUserName": "admin", "IpAddress": ip, "LogonType": 3},
            }
        }
    )


def test_ingest_pipeline_raises_alerts_on_commit(data_dir: Path, tmp_path: Path) -> None:
    rules = rules_file(tmp_path, BRUTE_FORCE_RULES)
    registry = Registry(parsers=[EvtxParser()])
    pipeline = open_pipeline(data_dir, registry=registry, rules=[rules])
    try:
        events = [windows_event(4625, "192.0.2.9", T0 + timedelta(seconds=i), i) for i in range(22)]
        events.append(windows_event(4624, "192.0.2.9", T0 + timedelta(seconds=30), 99))
        for start in range(0, len(events), 6):
            records = [
                RawRecord(data=data, origin="forwarder", position=start + i)
                for i, data in enumerate(events[start : start + 6])
            ]
            assert pipeline.submit(records).stored == len(records)
    finally:
        pipeline.close()
    with open_control(data_dir) as control:
        [alert] = list_alerts(control)
    assert alert.rule_id == BRUTE_FORCE_ID
    assert alert.host_name == "dc01.corp.example"
    assert alert.count == 21


def test_two_brute_force_sources_stay_two_alerts(control: Control, tmp_path: Path) -> None:
    detection = open_detection(control, [rules_file(tmp_path, BRUTE_FORCE_RULES)])
    rows = brute_force("10.0.0.5") + brute_force("10.0.0.6")
    rows[-1] = logon(4624, "10.0.0.6", T0 + timedelta(seconds=151), user="root", n=99)
    detection.process(events_batch(rows))
    found = {a.details["group_by"]["IpAddress"]: a for a in list_alerts(control)}
    assert sorted(found) == ["10.0.0.5", "10.0.0.6"]
    assert found["10.0.0.5"].user_name == "admin"  # every event names admin
    assert found["10.0.0.6"].user_name is None  # failures for admin, success for root


def test_rules_from_custodes_yaml_resolve_relative_to_it(tmp_path: Path) -> None:
    rules = rules_file(tmp_path, SINGLE_RULE)
    entries = [{"type": "directory", "path": "rules"}, {"type": "file", "path": str(rules)}]
    assert rule_paths_from_config(entries, base=tmp_path) == [tmp_path / "rules", rules]
    with pytest.raises(ConfigError, match=r"rules\.0\.path: no such file"):
        rule_paths_from_config([{"type": "directory", "path": "missing"}], base=tmp_path)
    with pytest.raises(ConfigError, match=r"rules\.0: expected"):
        rule_paths_from_config([{"type": "git", "url": "x"}])


SECOND_HALF = """
import sys
from pathlib import Path
from custodes.detect.engine import open_detection
from custodes.store.control import open_control
from tests.detect.correlation_helpers import brute_force, events_batch

data_dir, rules = Path(sys.argv[1]), Path(sys.argv[2])
rows = brute_force("10.0.0.5")
with open_control(data_dir) as control:
    detection = open_detection(control, [rules])
    for start in range(15, len(rows), 5):
        detection.process(events_batch(rows[start : start + 5], origin=f"b{start}"))
    print(detection.totals.correlation_matches)
"""


def test_brute_force_completed_by_another_process(data_dir: Path, tmp_path: Path) -> None:
    rules = rules_file(tmp_path, BRUTE_FORCE_RULES)
    rows = brute_force("10.0.0.5")
    with open_control(data_dir) as control:
        first = open_detection(control, [rules])
        for start in range(0, 15, 5):
            first.process(events_batch(rows[start : start + 5], origin=f"b{start}"))
        assert list_alerts(control) == []
    done = subprocess.run(
        [sys.executable, "-c", SECOND_HALF, str(data_dir), str(rules)],
        cwd=Path(__file__).resolve().parents[2],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["2"]  # the burst (event_count) and the brute force
    with open_control(data_dir) as control:
        assert [alert.rule_id for alert in list_alerts(control)] == [BRUTE_FORCE_ID]


RANGE_RULE = """
title: A few failures, not a flood
id: 3b1c2d4e-0000-4000-8000-00000000a11e
level: medium
correlation:
  type: event_count
  rules: 1f0b7f3e-5a8e-4d8c-9f51-0e0f6f0a4625
  group-by: [IpAddress]
  timespan: 1m
  condition: {gte: 3, lte: 5}
"""


def test_range_condition_fires_only_inside_the_range(control: Control, tmp_path: Path) -> None:
    rules = rules_file(tmp_path, SINGLE_RULE)
    (rules.parent / "range.yml").write_text(RANGE_RULE)  # pySigma 2 refuses it: kept apart
    detection = open_detection(control, [rules.parent])
    assert detection.refused == []
    [correlation] = detection.correlations
    assert (correlation.threshold.op, correlation.threshold.upper_op) == ("gte", "lte")
    rows = [logon(4625, "10.0.0.1", T0 + timedelta(seconds=i), n=i) for i in range(2)]
    rows += [logon(4625, "10.0.0.2", T0 + timedelta(seconds=i), n=10 + i) for i in range(4)]
    rows += [logon(4625, "10.0.0.3", T0 + timedelta(seconds=i), n=20 + i) for i in range(7)]
    detection.process(events_batch(rows))
    assert list_alerts(control) == []  # a range is judged when its window has closed
    detection.process(events_batch([logon(4624, "10.9.9.9", T0 + timedelta(minutes=5))], "z"))
    [alert] = list_alerts(control)
    assert alert.details["group_by"] == {"IpAddress": "10.0.0.2"}
    assert alert.count == 4


def test_failed_store_rolls_the_correlation_state_back(
    control: Control, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from custodes.detect import engine

    detection = open_detection(control, [rules_file(tmp_path, BRUTE_FORCE_RULES)])
    rows = brute_force("10.0.0.5")
    detection.process(events_batch(rows[:15], origin="first"))
    last = events_batch(rows[15:], origin="last")

    def broken(*args: object, **kwargs: object) -> None:
        raise OSError("disk full")

    with monkeypatch.context() as patch:
        patch.setattr(engine, "save_alerts_in", broken)
        with pytest.raises(OSError, match="disk full"):
            detection.process(last)
    assert list_alerts(control) == []
    detection.process(last)  # the retry sees the burst again: nothing was lost or half-counted
    [alert] = list_alerts(control)
    assert (alert.rule_id, alert.count) == (BRUTE_FORCE_ID, 21)


def test_a_hunt_reads_only_the_columns_rules_and_correlations_need(
    control: Control, tmp_path: Path
) -> None:
    detection = open_detection(control, [rules_file(tmp_path, BRUTE_FORCE_RULES)])
    columns = detection.columns()
    assert columns is not None
    assert {"@timestamp", "event.id", "host.name", "user.name"} <= set(columns)
    # IpAddress (the correlations' group-by) is read from source.ip or the fields map
    assert "source.ip" in columns or "fields" in columns
    assert "event.original" not in columns and "message" not in columns
