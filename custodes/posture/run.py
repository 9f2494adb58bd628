"""One posture run: evaluate the checks, store the findings, raise alerts for activity."""

from __future__ import annotations

import threading
from datetime import datetime
from pathlib import Path

from custodes.events import Alert
from custodes.posture.evaluate import evaluate
from custodes.posture.finding import Finding
from custodes.posture.reference import ImportRequest, ImportResult, import_reference
from custodes.posture.settings import PostureSettings
from custodes.posture.store import RunSummary, save_findings
from custodes.store.alerts import save_alerts
from custodes.store.control import Control

AUTHOR = "custodes posture"
#: One run at a time in a process (the service's schedule and `POST /api/posture/run`): two at
#: once would both open the same new findings.
RUN_LOCK = threading.Lock()


def finding_alert(finding: Finding) -> Alert:
    """The alert of a finding about activity (points at the events behind it)."""
    info = finding.info
    assert finding.first_at is not None and finding.last_at is not None
    return Alert(
        rule_id=f"posture:{finding.check}",
        title=info.title,
        level=info.level,
        event_ids=finding.event_ids,
        first_seen_at=finding.first_at,
        last_seen_at=finding.last_at,
        author=AUTHOR,
        tags=("posture", info.area),
        kind="posture",
        host_name=finding.host,
        user_name=finding.account,
        count=max(1, len(finding.event_ids)),
        description=f"{info.title}: {finding.subject}",
        details={"check": finding.check, "subject": finding.subject, **finding.details},
    )


def refresh_sources(data_dir: Path, settings: PostureSettings) -> ImportResult | None:
    """Re-import the exports named in the settings (none named: nothing to do)."""
    files = settings.sources
    request = ImportRequest(
        roster=files.roster,
        accounts=files.accounts,
        privileged=files.privileged,
        devices=files.devices,
        travel=files.travel,
        linux_groups=files.linux_groups,
    )
    if not any(vars(request).values()):
        return None
    return import_reference(data_dir, request)


def run_posture(
    data_dir: Path, control: Control, settings: PostureSettings, *, now: datetime
) -> RunSummary:
    """Evaluate every check at `now`, store the run, and alert on activity findings."""
    with RUN_LOCK:
        findings = evaluate(data_dir, settings, now)
        summary = save_findings(control, findings, now=now)
        alerts = [
            finding_alert(finding)
            for finding in findings
            if finding.info.is_activity and finding.event_ids and finding.first_at
        ]
        if alerts:
            save_alerts(control, alerts, now=now)
    return summary
