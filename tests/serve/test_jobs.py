"""Jobs the service runs itself: posture checks and UEBA scoring on a timetable, no CLI call."""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import UTC, datetime
from datetime import time as clock
from pathlib import Path

import orjson
import pytest

from custodes.errors import ConfigError
from custodes.posture.store import list_findings, list_runs
from custodes.serve import parse_config
from custodes.serve.jobs import daily_at, days_to_score, scheduled_jobs
from custodes.store.alerts import list_alerts
from custodes.store.control import open_control
from custodes.ueba import read_scores
from tests.ingest.running import RunningService
from tests.ueba.test_score import planted_office


def wait_for(condition: Callable[[], bool], *, secs: float = 90.0) -> None:
    deadline = time.monotonic() + secs
    while not condition():
        assert time.monotonic() < deadline, "the scheduled job did not run in time"
        time.sleep(0.1)


def test_service_runs_posture_and_ueba_by_itself(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    planted_office(data_dir)  # twelve days of an office in the lake, user07's odd night
    accounts = tmp_path / "accounts.json"  # re-imported before every posture run
    accounts.write_bytes(orjson.dumps({"accounts": [{"sam_account_name": "orphan"}]}))
    config = {
        "schedule": {"posture_every_secs": 0.2, "ueba_every_secs": 0.2, "ueba_threshold": 8},
        "posture": {"sources": {"accounts": str(accounts)}},
    }
    with RunningService(data_dir, config) as running:
        assert running.service is not None
        status = running.service.job_status
        wait_for(lambda: status()["posture"]["runs"] >= 1 and status()["ueba"]["runs"] >= 2)
        posture, ueba = status()["posture"], status()["ueba"]
    assert posture["failures"] == 0 and ueba["failures"] == 0
    assert posture["last_result"]["refreshed"] == {"accounts": 1}
    with open_control(data_dir) as control:
        found = [(f.check, f.subject) for f in list_findings(control)]
        assert ("account_without_owner", "orphan") in found
        assert list_runs(control)
        alerts = list_alerts(control, limit=1000)
    scores = read_scores(data_dir)
    assert len(set(scores["day"].to_pylist())) == 10  # the weekdays of the twelve days
    assert any(a.kind == "ueba" and a.user_name == "user07" for a in alerts)
    assert ueba["last_result"]["days"] == 0  # later runs find every complete day scored


def test_a_failing_run_is_counted_and_the_service_goes_on(data_dir: Path) -> None:
    missing = data_dir.parent / "nowhere.json"
    config = {
        "schedule": {"posture_every_secs": 0.1, "ueba_at": None},
        "posture": {"sources": {"accounts": str(missing)}},
        "sources": {"tcp": {"type": "syslog", "listen": "tcp:127.0.0.1:0"}},
    }
    with RunningService(data_dir, config) as running:
        assert running.service is not None
        assert set(running.service.jobs) == {"posture"}
        status = running.service.job_status
        wait_for(lambda: status()["posture"]["failures"] >= 2)
        assert "nowhere.json" in status()["posture"]["last_error"]
        assert status()["posture"]["runs"] == 0
        assert running.service.jobs["posture"].task is not None
        assert not running.service.jobs["posture"].task.done()
    assert running.service.jobs["posture"].task.cancelled()


def test_schedule_keys_are_checked() -> None:
    schedule = parse_config({"schedule": {"ueba_at": "02:15"}}).schedule
    assert schedule.ueba_at == clock(2, 15) and schedule.posture_every_secs == 3600
    assert parse_config({"schedule": {"ueba_at": "1:30"}}).schedule.ueba_at == clock(1, 30)
    for document, key in (
        ({"schedule": {"ueba_at": 150}}, "schedule.ueba_at"),  # YAML's reading of 2:30
        ({"schedule": {"ueba_at": "25:00"}}, "schedule.ueba_at"),
        ({"schedule": {"posture_every_secs": -1}}, "schedule.posture_every_secs"),
        ({"schedule": {"ueba_every": 60}}, "schedule.ueba_every"),
    ):
        with pytest.raises(ConfigError) as caught:
            parse_config(document)
        assert caught.value.key == key


def test_jobs_follow_the_config(tmp_path: Path) -> None:
    off = parse_config({"schedule": {"posture_every_secs": 0, "ueba_at": None}}).schedule
    assert scheduled_jobs(off, {}, tmp_path) == {}
    with pytest.raises(ConfigError, match="posture.colour"):
        scheduled_jobs(parse_config({}).schedule, {"colour": 1}, tmp_path)
    at = daily_at(clock(1, 30))
    assert at(datetime(2026, 11, 26, 1, 0, tzinfo=UTC)) == 1800
    assert at(datetime(2026, 11, 26, 1, 30, tzinfo=UTC)) == 24 * 3600
    assert at(datetime(2026, 11, 26, 2, 0, tzinfo=UTC)) == 23.5 * 3600


def test_ueba_scores_only_complete_days_not_scored_yet(tmp_path: Path) -> None:
    today = datetime(2026, 3, 20, tzinfo=UTC).date()
    assert days_to_score(tmp_path, today) == (None, today.replace(day=19))
    planted_office(tmp_path / "data")
    from custodes.ueba import run

    run(tmp_path / "data", raise_alerts=False)
    assert days_to_score(tmp_path / "data", today) == (today.replace(day=14), today.replace(day=19))
    assert days_to_score(tmp_path / "data", today.replace(day=14)) is None


def test_stop_lets_a_run_in_progress_finish_and_counts_it() -> None:
    import asyncio
    import threading

    from custodes.serve.jobs import Job, every

    started = threading.Event()

    def slow(now: datetime) -> dict[str, object]:
        started.set()
        time.sleep(0.3)
        return {"at": now.isoformat()}

    async def main() -> Job:
        job = Job("slow", slow, every(0.01))
        job.start()
        await asyncio.to_thread(started.wait, 10)
        await job.stop(wait_secs=10)
        return job

    job = asyncio.run(main())
    assert job.task is not None and job.task.cancelled()
    assert job.status.runs == 1 and job.status.failures == 0
    started_at = job.status.last_started_at
    assert started_at is not None and job.status.last_result["at"] == started_at.isoformat()


def test_posture_settings_from_the_yaml_else_from_custodes_config(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from custodes.serve.jobs import posture_settings

    named = tmp_path / "posture.yaml"  # the demo names its posture settings this way
    named.write_text("posture: {dormant_after_days: 5}\n")
    monkeypatch.setenv("CUSTODES_CONFIG", str(named))
    assert posture_settings({}).dormant_after_days == 5
    assert posture_settings({"dormant_after_days": 7}).dormant_after_days == 7
    monkeypatch.delenv("CUSTODES_CONFIG")
    assert posture_settings({}).dormant_after_days == 90


def test_job_status_in_metrics_the_api_and_the_sources_page(data_dir: Path) -> None:
    import httpx

    from custodes.store.users import create_token

    config = {
        "schedule": {"posture_every_secs": 0.1, "ueba_every_secs": 0.1},
        "posture": {"sources": {"accounts": str(data_dir.parent / "nowhere.json")}},
    }
    with open_control(data_dir) as control:
        analyst, _ = create_token(control, "analyst")
    headers = {"Authorization": f"Bearer {analyst}"}
    with RunningService(data_dir, config, http=True) as running:
        assert running.service is not None
        status = running.service.job_status
        wait_for(lambda: status()["posture"]["failures"] >= 1 and status()["ueba"]["runs"] >= 1)
        metrics = httpx.get(f"{running.url}/metrics", headers=headers).text.splitlines()
        jobs = httpx.get(f"{running.url}/api/jobs", headers=headers).json()["jobs"]
        page = httpx.get(f"{running.url}/sources", headers={**headers, "Accept": "text/html"})
    assert 'custodes_job_runs_total{job="posture"} 0.0' in metrics
    assert 'custodes_job_last_run_failed{job="posture"} 1.0' in metrics
    assert 'custodes_job_last_run_failed{job="ueba"} 0.0' in metrics
    assert any(
        line.startswith('custodes_job_last_success_timestamp_seconds{job="ueba"} ')
        for line in metrics
    )
    assert "nowhere.json" in jobs["posture"]["last_error"] and jobs["posture"]["runs"] == 0
    assert jobs["ueba"]["failures"] == 0 and jobs["ueba"]["last_success_at"] is not None
    assert jobs["ueba"]["last_result"]["alerts_created"] == 0
    assert page.status_code == 200, page.text[:300]
    assert "Scheduled jobs" in page.text and "nowhere.json" in page.text
