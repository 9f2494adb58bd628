"""Findings' life cycle: opened, seen again, resolved when they stop holding, reopened apart."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import sqlalchemy as sa
from alembic import command

from custodes.posture import PostureSettings
from custodes.posture.run import run_posture
from custodes.posture.store import list_findings, list_runs
from custodes.store.alerts import list_alerts
from custodes.store.control import alembic_config, migrate, open_control
from tests.posture.scene import NOW, Scene


def test_a_finding_is_seen_again_then_resolved_when_it_no_longer_holds(tmp_path: Path) -> None:
    scene = Scene(tmp_path)
    scene.person("E1", "gone", separation_date="2026-11-01")
    data_dir = scene.write()
    settings = PostureSettings()
    with open_control(data_dir) as control:
        first = run_posture(data_dir, control, settings, now=NOW)
        second = run_posture(data_dir, control, settings, now=NOW + timedelta(hours=1))
        (finding,) = list_findings(control)
        assert (first.opened, second.opened, second.resolved) == (1, 0, 0)
        assert finding.first_seen_at == NOW
        assert finding.last_seen_at == NOW + timedelta(hours=1)
        scene.accounts[0]["enabled"] = False  # the directory catches up
        scene.write()
        third = run_posture(data_dir, control, settings, now=NOW + timedelta(hours=2))
        assert third.resolved == 1
        assert list_findings(control) == []
        (resolved,) = list_findings(control, include_resolved=True)
        assert resolved.resolved_at == NOW + timedelta(hours=2)
        assert [run.counts for run in list_runs(control)] == [
            {"account_enabled_after_separation": 1},
            {"account_enabled_after_separation": 1},
            {},
        ]


def test_activity_findings_raise_one_alert_and_a_rerun_adds_none(tmp_path: Path) -> None:
    scene = Scene(tmp_path)
    scene.person("E1", "gone", separation_date="2026-11-01")
    scene.logon("2026-11-03T21:40:00Z", "gone")
    data_dir = scene.write()
    with open_control(data_dir) as control:
        run_posture(data_dir, control, PostureSettings(), now=NOW)
        run_posture(data_dir, control, PostureSettings(), now=NOW + timedelta(hours=1))
        alerts = list_alerts(control)
    assert [(a.rule_id, a.user_name, a.kind) for a in alerts] == [
        ("posture:activity_after_separation", "gone", "posture")
    ]


def test_migration_0003_goes_down_to_0002_and_up_again(tmp_path: Path) -> None:
    with open_control(tmp_path) as control:
        config = alembic_config()
        with control.engine.begin() as connection:
            config.attributes["connection"] = connection
            command.downgrade(config, "0002")
        with control.engine.connect() as connection:
            tables = set(sa.inspect(connection).get_table_names())
        assert not {"posture_findings", "posture_runs"} & tables and "users" in tables
        migrate(control.engine, "head")
        with control.engine.connect() as connection:
            tables = set(sa.inspect(connection).get_table_names())
        assert {"posture_findings", "posture_runs"} <= tables
