"""Every alert the service creates reaches the notification sinks once: streaming detection,
scheduled posture runs and scheduled UEBA runs, through a real `custodes serve` and webhook."""

from __future__ import annotations

import asyncio
import os
import socket
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path

import orjson

from custodes.events import Alert
from custodes.notify import alerts_created
from custodes.serve.jobs import Job, every
from custodes.store.alerts import list_alerts, save_alerts
from custodes.store.control import open_control
from tests.test_notify import Webhook
from tests.test_service import RULE as FAILED_LOGON_RULE
from tests.test_service import failed_logon
from tests.ueba.office import at, logon, office, privilege, write_lake


def office_with_findings(data_dir: Path) -> None:
    """Twelve office days with user07's odd night (UEBA), and a logon by the built-in
    Administrator an hour ago (posture: shared administrator account used)."""
    rows = office(data_dir, people=30, days=12)
    for number in range(6):
        when = at(11, 2 + number / 10)
        rows.append(logon(when, "user07", f"SRV-{number:02d}", "10.0.0.17"))
        rows.append(privilege(when, "user07", f"SRV-{number:02d}"))
    recent = datetime.now(UTC) - timedelta(hours=1)
    rows.append(logon(recent, "Administrator", "SRV-01", "10.0.0.5"))
    write_lake(data_dir, rows)


def send_failed_logon(data_dir: Path) -> None:
    ready = orjson.loads((data_dir / "serve.json").read_bytes())
    port = int(ready["listening"]["tcp"].rsplit(":", 1)[1])
    with socket.create_connection(("127.0.0.1", port)) as sender:
        sender.sendall(failed_logon())
        sender.shutdown(socket.SHUT_WR)
        with sender.makefile("rb") as answer:
            assert answer.read() == b"ok 1\n"


def test_serve_notifies_detection_posture_and_ueba_alerts_once(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    office_with_findings(data_dir)
    (tmp_path / "rules").mkdir()
    (tmp_path / "rules" / "failed.yml").write_text(FAILED_LOGON_RULE)
    hook = Webhook([])
    config = tmp_path / "custodes.yaml"
    config.write_text(
        "http: {listen: '127.0.0.1:0'}\n"
        "sources: {tcp: {type: syslog, listen: 'tcp:127.0.0.1:0'}}\n"
        "rules: [{type: directory, path: rules}]\n"
        "schedule: {posture_every_secs: 0.5, ueba_every_secs: 0.5, ueba_threshold: 8}\n"
        f"sinks: {{hook: {{type: webhook, url: '{hook.url}'}}}}\n"
        "notifications: {routes: [{min_level: low, sinks: [hook]}]}\n"
    )
    environment = {**os.environ, "CUSTODES_CACHE_DIR": str(tmp_path / "cache")}
    environment.pop("CUSTODES_CONFIG", None)
    process = subprocess.Popen(
        [sys.executable, "-c", "from custodes.cli.main import app; app()", "serve"]
        + ["--data-dir", str(data_dir), "--config", str(config)],
        stderr=subprocess.PIPE,
        env=environment,
    )
    try:
        deadline = time.monotonic() + 60
        while not (data_dir / "serve.json").exists():
            assert process.poll() is None and time.monotonic() < deadline
            time.sleep(0.05)
        send_failed_logon(data_dir)
        deadline = time.monotonic() + 90
        while {"sigma", "posture", "ueba"} - {alert["kind"] for alert in hook.received}:
            assert process.poll() is None and time.monotonic() < deadline, hook.received
            time.sleep(0.1)
        time.sleep(2.0)  # several more posture and UEBA runs: the same findings, no new alert
    finally:
        process.terminate()
        _, errors = process.communicate(timeout=60)
        hook.close()
    assert process.returncode == 0, errors.decode()[-2000:]
    with open_control(data_dir) as control:
        stored = {alert.id: alert for alert in list_alerts(control, limit=10_000)}
    notified = Counter(alert["id"] for alert in hook.received)
    assert notified == Counter(set(stored)), "every stored alert notified, each once"
    titles = {alert["kind"]: alert["title"] for alert in hook.received}
    assert titles["sigma"] == "Failed logon"
    assert titles["posture"] == "Use of a shared or built-in administrator account"
    ueba = [alert for alert in hook.received if alert["kind"] == "ueba"]
    assert "user07" in {alert["user_name"] for alert in ueba}


def test_a_run_tells_its_listeners_only_of_the_alerts_it_created(tmp_path: Path) -> None:
    """Repeats grouped into an open alert, and alerts of another kind stored meanwhile, are not
    the run's news; a run that created nothing tells nobody."""
    now = datetime(2026, 11, 26, 9, 0, tzinfo=UTC)

    def posture_alert(subject: str, event_id: str) -> Alert:
        return Alert(
            rule_id="posture:shared_admin_account_use",
            title="Shared admin used",
            level="medium",
            event_ids=(event_id,),
            first_seen_at=now,
            last_seen_at=now,
            kind="posture",
            user_name=subject,
        )

    control = open_control(tmp_path)
    save_alerts(control, [posture_alert("root", "e1")], now=now)
    batches = [
        [posture_alert("root", "e2"), posture_alert("admin", "e3")],  # root's is a repeat
        [posture_alert("admin", "e3")],  # the same event again: nothing new
    ]

    def work(when: datetime) -> dict[str, object]:
        with alerts_created(control, "posture") as created:
            save_alerts(control, [Alert("sigma-1", "Other", "high", ("x1",), now, now)], now=when)
            save_alerts(control, batches.pop(0), now=when)
        return {"created_ids": created}

    told: list[Sequence[int]] = []

    async def two_runs() -> Job:
        job = Job("posture", work, every(3600))
        job.on_alerts.append(told.append)
        await job.run_once()
        await job.run_once()
        return job

    job = asyncio.run(two_runs())
    alerts = {alert.user_name: alert for alert in list_alerts(control) if alert.kind == "posture"}
    control.close()
    assert told == [[alerts["admin"].id]]
    assert job.status.runs == 2 and job.status.last_result == {"alerts_created": 0}
    assert job.status.last_success_at == job.status.last_finished_at
