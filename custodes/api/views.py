"""The data of each page, one function each: the web page renders it, the API returns it as JSON.

Counts and rule facts are read here; event rows only through `custodes.api.access`.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import func, select

from custodes.api.access import events_to_rows, read_alerts, read_events
from custodes.api.deps import AppState
from custodes.detect.rules import RuleInfo, RuleSet, load_rules
from custodes.store import connect, stats
from custodes.store.alerts import get_alert, list_alerts, set_alert_status
from custodes.store.control import AlertRow
from custodes.store.suppressions import parse_expiry, suppress_alert
from custodes.store.users import User

LEVELS = ("critical", "high", "medium", "low", "informational")
MAX_BARS = 240


def overview(state: AppState, *, hours: int = 6, now: datetime | None = None) -> dict[str, Any]:
    """Events per dataset and alerts per hour per level over the last `hours`.

    Events are counted per minute, or per `bucket_minutes` in long windows (at most `MAX_BARS`
    bars); the chart divides by the bucket to show events per minute.
    """
    now = now or datetime.now(UTC)
    since = now - timedelta(hours=hours)
    bucket_minutes = max(1, hours * 60 // MAX_BARS)
    connection = connect(state.data_dir)
    try:
        rows = connection.execute(
            'SELECT time_bucket(to_minutes(CAST(? AS BIGINT)), "@timestamp") AS minute, dataset,'
            ' count(*) FROM events WHERE "@timestamp" >= ? AND "@timestamp" < ? AND date >= ?'
            " GROUP BY ALL ORDER BY 1, 2",
            [bucket_minutes, since, now, since.date()],
        ).fetchall()
    finally:
        connection.close()
    events: dict[str, dict[str, list[Any]]] = defaultdict(lambda: {"minutes": [], "counts": []})
    for minute, dataset, count in rows:
        series = events[str(dataset)]
        series["minutes"].append(minute.astimezone(UTC).isoformat())
        series["counts"].append(int(count))
    alerts_per_hour: dict[str, Counter[str]] = defaultdict(Counter)
    with state.control.session() as session:
        for first_seen_at, level in session.execute(
            select(AlertRow.first_seen_at, AlertRow.level).where(AlertRow.first_seen_at >= since)
        ):
            hour = first_seen_at.replace(minute=0, second=0, microsecond=0).isoformat()
            alerts_per_hour[level][hour] += 1
        open_by_level = dict(
            session.execute(
                select(AlertRow.level, func.count())
                .where(AlertRow.status == "open")
                .group_by(AlertRow.level)
            ).all()
        )
    return {
        "since": since.isoformat(),
        "until": now.isoformat(),
        "bucket_minutes": bucket_minutes,
        "events_per_minute": [
            {"dataset": name, **series} for name, series in sorted(events.items())
        ],
        "events_total": sum(int(row[2]) for row in rows),
        "alerts_per_hour": [
            {
                "level": level,
                "hours": sorted(alerts_per_hour[level]),
                "counts": [alerts_per_hour[level][hour] for hour in sorted(alerts_per_hour[level])],
            }
            for level in LEVELS
            if level in alerts_per_hour
        ],
        "open_alerts": {level: int(open_by_level.get(level, 0)) for level in LEVELS},
    }


def event_search(
    state: AppState,
    actor: User,
    *,
    since: str | None = None,
    until: str | None = None,
    where: str | None = None,
    limit: int = 100,
    purpose: str | None = None,
    case_id: str | None = None,
) -> dict[str, Any]:
    """A search over the lake, through the one door."""
    table = read_events(
        state,
        actor,
        purpose=purpose,
        case_id=case_id,
        since=since or None,
        until=until or None,
        where=where or None,
        limit=limit,
    )
    return {
        "since": since,
        "until": until,
        "where": where,
        "limit": limit,
        "count": table.num_rows,
        "events": events_to_rows(table),
    }


COUNTER_ORDER = ("received", "stored", "quarantined", "dropped")


def counter_order(name: str) -> tuple[int, str]:
    """The flow's own order first (received, stored, quarantined, dropped), then by name."""
    return (COUNTER_ORDER.index(name) if name in COUNTER_ORDER else len(COUNTER_ORDER), name)


def sources(state: AppState) -> dict[str, Any]:
    """Per source: the service's counters; per dataset: events stored; quarantine by reason;
    the scheduled jobs' status (as `/api/jobs`)."""
    counters = {}
    queues: dict[str, int] = {}
    jobs: dict[str, Any] = {}
    if state.service is not None:
        counters = {name: dict(values) for name, values in state.service.source_counters().items()}
        queues = dict(state.service.queue_depths())
        jobs = dict(state.service.job_status())
    lake = stats(state.data_dir)
    per_dataset: Counter[str] = Counter()
    last_day: dict[str, str] = {}
    for dataset, day, count in lake["per_day"]:
        per_dataset[dataset] += count
        last_day[dataset] = day.isoformat()
    return {
        "sources": [{"name": name, **values} for name, values in sorted(counters.items())],
        "counter_names": sorted(
            {key for values in counters.values() for key in values}, key=counter_order
        ),
        "queues": queues,
        "jobs": [{"name": name, **status} for name, status in sorted(jobs.items())],
        "datasets": [
            {"dataset": name, "events": count, "last_day": last_day[name]}
            for name, count in sorted(per_dataset.items())
        ],
        "quarantined": lake["quarantined"],
        "quarantine": [
            {"parser": parser, "reason": reason, "count": count}
            for parser, reason, count in lake["quarantine"]
        ],
    }


def rules(state: AppState) -> dict[str, Any]:
    """The detection rules the service runs, and the files that failed to load."""
    cached = state.extras.get("rules")
    if cached is None:
        rule_set = load_rules(list(state.rule_paths)) if state.rule_paths else RuleSet()
        infos = [RuleInfo.from_rule(rule) for rule in rule_set.rules]
        infos += [RuleInfo.from_rule(rule) for rule in rule_set.correlations]
        cached = {
            "rules": [
                {
                    "id": info.id,
                    "title": info.title,
                    "level": info.level,
                    "tags": list(info.tags),
                    "author": info.author,
                    "logsource": info.logsource,
                    "path": info.path,
                }
                for info in sorted(infos, key=lambda info: (info.title, info.id))
            ],
            "errors": [{"path": error.path, "reason": error.reason} for error in rule_set.errors],
        }
        state.extras["rules"] = cached
    result: dict[str, Any] = cached
    return result


def alert_list(
    state: AppState,
    actor: User,
    *,
    min_level: str | None = None,
    status: str | None = None,
    rule_id: str | None = None,
    hours: int | None = None,
    limit: int = 500,
    purpose: str | None = None,
    case_id: str | None = None,
) -> dict[str, Any]:
    """Alerts, most recently seen first, filtered by level, status, rule and age (people
    masked by the one door)."""
    since = datetime.now(UTC) - timedelta(hours=hours) if hours else None
    found = list_alerts(
        state.control,
        min_level=min_level or None,
        status=status or None,
        rule_id=rule_id or None,
        since=since,
        limit=limit,
    )
    filters = {"min_level": min_level, "status": status, "rule_id": rule_id, "hours": hours}
    alerts = read_alerts(
        state,
        actor,
        [alert.to_dict() for alert in found],
        purpose=purpose,
        case_id=case_id,
        query={key: value for key, value in filters.items() if value},
    )
    return {"filters": filters, "count": len(found), "alerts": alerts}


def attack_tags(tags: list[str]) -> list[dict[str, str]]:
    """ATT&CK tags (`attack.t1059.001`, `attack.execution`) as techniques and tactics."""
    found = []
    for tag in tags:
        name = tag.removeprefix("attack.")
        if name == tag:
            continue
        if name[:1] in "tgs" and name[1:2].isdigit():
            found.append({"kind": "technique", "id": name.upper(), "tag": tag})
        else:
            found.append({"kind": "tactic", "id": name.replace("_", "-"), "tag": tag})
    return found


def alert_detail(
    state: AppState,
    actor: User,
    alert_id: int,
    *,
    purpose: str | None = None,
    case_id: str | None = None,
) -> dict[str, Any]:
    """One alert with its rule, ATT&CK tags and matched events (read through the one door)."""
    alert = get_alert(state.control, alert_id)
    events = read_events(
        state,
        actor,
        purpose=purpose,
        case_id=case_id,
        event_ids=alert.event_ids,
        around=(alert.first_seen_at, alert.last_seen_at),
        limit=200,
        kind="alert",
    )
    (shown,) = read_alerts(
        state, actor, [alert.to_dict()], purpose=purpose, case_id=case_id, query={"id": alert_id}
    )
    rule = next((item for item in rules(state)["rules"] if item["id"] == alert.rule_id), None)
    return {
        "alert": shown,
        "rule": rule,
        "attack": attack_tags(list(alert.tags)),
        "events": events_to_rows(events),
    }


def acknowledge(state: AppState, actor: User, alert_id: int) -> dict[str, Any]:
    """Mark an alert acknowledged."""
    return set_alert_status(
        state.control, alert_id, "acknowledged", now=datetime.now(UTC), actor=actor.name
    ).to_dict()


def suppress(
    state: AppState, actor: User, alert_id: int, *, justification: str, expires: str
) -> dict[str, Any]:
    """Suppress what an alert is about (its rule on its host and user) until `expires`."""
    now = datetime.now(UTC)
    suppression = suppress_alert(
        state.control,
        alert_id,
        justification=justification,
        owner=actor.name,
        expires_at=parse_expiry(expires, now=now),
        now=now,
    )
    return suppression.to_dict()
