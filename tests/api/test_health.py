"""Liveness, and the scheduled jobs' status in /metrics and /api/jobs (from the service)."""

from __future__ import annotations

import socket
from datetime import datetime
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI

from custodes.notify import build_notifier
from custodes.store.users import Role
from tests.api.conftest import bearer
from tests.test_notify import Webhook, alert

pytestmark = pytest.mark.anyio


async def test_health_is_public_and_tells_nothing_else(client: httpx.AsyncClient) -> None:
    response = await client.get("/health")
    assert response.status_code == 200 and response.json() == {"status": "ok"}


async def test_job_status_in_metrics(client: httpx.AsyncClient, tokens: dict[Role, str]) -> None:
    text = (await client.get("/metrics", headers=bearer(tokens[Role.ANALYST]))).text
    ueba_ended = datetime.fromisoformat("2026-11-26T01:31:40+00:00").timestamp()
    assert ueba_ended == 1.7956567e09  # as the exposition format writes it, and for posture:
    assert datetime.fromisoformat("2026-11-26T02:00:00+00:00").timestamp() == 1.7956584e09
    for line in (
        'custodes_job_runs_total{job="ueba"} 3.0',
        'custodes_job_failures_total{job="ueba"} 1.0',
        'custodes_job_runs_total{job="posture"} 0.0',
        'custodes_job_failures_total{job="posture"} 2.0',
        'custodes_job_last_run_failed{job="ueba"} 0.0',
        'custodes_job_last_run_failed{job="posture"} 1.0',
        'custodes_job_last_success_timestamp_seconds{job="ueba"} 1.7956567e+09',
        'custodes_job_last_started_timestamp_seconds{job="posture"} 1.7956584e+09',
    ):
        assert line in text.splitlines()
    assert 'custodes_job_last_success_timestamp_seconds{job="posture"}' not in text


async def test_jobs_as_json_for_status_readers_only(
    client: httpx.AsyncClient, tokens: dict[Role, str]
) -> None:
    answer = await client.get("/api/jobs", headers=bearer(tokens[Role.ADMIN]))
    jobs = answer.json()["jobs"]
    assert jobs["posture"]["last_error"] == "FileNotFoundError: accounts.json"
    assert jobs["ueba"]["last_result"] == {"days": 1}
    for role in (Role.INVESTIGATOR, Role.OVERSIGHT, Role.INGEST):
        denied = await client.get("/api/jobs", headers=bearer(tokens[role]))
        assert denied.status_code == 403, role
    assert (await client.get("/api/jobs")).status_code == 401


async def test_notification_outcomes_in_metrics(
    app: FastAPI, client: httpx.AsyncClient, tokens: dict[Role, str], tmp_path: Path
) -> None:
    hook = Webhook([])
    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        closed = probe.getsockname()[1]
    notifier = build_notifier(
        {
            "hook": {"type": "webhook", "url": hook.url},
            "gone": {"type": "webhook", "url": f"http://127.0.0.1:{closed}/", "timeout_secs": 2},
        },
        {"retries": 1, "backoff_secs": 0, "routes": [{"sinks": ["hook", "gone"]}]},
        tmp_path,
    )
    app.state.custodes.extras["notifier"] = notifier
    try:
        notifier.deliver(alert())
        notifier.deliver(alert())
    finally:
        hook.close()
    text = (await client.get("/metrics", headers=bearer(tokens[Role.ANALYST]))).text
    lines = text.splitlines()
    assert 'custodes_notifications_total{outcome="delivered",sink="hook"} 2.0' in lines
    assert 'custodes_notifications_total{outcome="retried",sink="gone"} 4.0' in lines
    assert 'custodes_notifications_total{outcome="dead",sink="gone"} 2.0' in lines
