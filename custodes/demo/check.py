"""`check`: what the system raised against what the generator planted.

An alert is linked to a planted case when it points at one of the case's events (found in the
lake by EventRecordID + Computer, or by the exact line), whatever its rule (the demo's own
fallback rules count as much as SigmaHQ's); or when its rule or check is one the case expects and
its user or host and its time fit the case; or, for a behaviour-analytics alert (one per
entity-day), when its account or host is the case's (named by the truth, or by the case's stored
events, such as the targets of a spray) and its day one the case makes anomalous.
Alerts linked to no case are false positives. A feature that does not exist yet makes its cases
"pending", never hidden.
"""

from __future__ import annotations

import importlib.util
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import orjson

from custodes.errors import ConfigError
from custodes.normalise.fields import parse_iso
from custodes.ueba.run import RULE_ID as UEBA_RULE_ID

FEATURE_MODULES = {
    "sigma": "custodes.detect",
    "correlation": "custodes.detect.correlate",
    "posture": "custodes.posture.checks",  # the package exists before its checks do
    "ueba": "custodes.ueba",
    "policy": "custodes.oversight",
}
SLACK = timedelta(hours=1)
UEBA_FEATURES_SHOWN = 3


@dataclass(frozen=True)
class Verdict:
    """One planted case: found or not, by what, and what is still pending."""

    id: str
    title: str
    kind: str
    status: str  # detected | missed | pending | quiet | flagged | withheld | stored
    by: tuple[str, ...] = ()
    pending: tuple[str, ...] = ()


@dataclass
class CheckReport:
    """Every verdict, and the alerts linked to nothing."""

    verdicts: list[Verdict]
    alerts: int
    false_positives: int  # linked to no case, informational rules aside
    informational: int = 0  # linked to no case, from rules of level informational
    false_positive_rules: Counter[str] = field(default_factory=Counter)

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready summary."""
        return {
            "scenarios": [
                {
                    "id": v.id,
                    "title": v.title,
                    "kind": v.kind,
                    "status": v.status,
                    "by": list(v.by),
                    "pending": list(v.pending),
                }
                for v in self.verdicts
            ],
            "alerts": self.alerts,
            "false_positives": self.false_positives,
            "informational": self.informational,
            "false_positive_rules": dict(self.false_positive_rules.most_common()),
        }


def load_truth(path: Path) -> dict[str, Any]:
    """The ground-truth file written by `generate`."""
    try:
        document = orjson.loads(path.read_bytes())
    except (OSError, orjson.JSONDecodeError) as error:
        raise ConfigError(f"cannot read ground truth {path}: {error}", path=str(path)) from None
    if not isinstance(document, dict) or "scenarios" not in document:
        raise ConfigError(f"{path} is not a ground-truth file", path=str(path))
    return document


def feature_exists(kind: str) -> bool:
    """Whether the feature a detection needs has been built (its module can be imported)."""
    module = FEATURE_MODULES.get(kind)
    if module is None:
        return False
    try:
        return importlib.util.find_spec(module) is not None
    except ModuleNotFoundError:
        return False


def load_alerts(data_dir: Path) -> list[dict[str, Any]]:
    """Every alert in the control database, with its event ids (none when there is no database)."""
    if not (data_dir / "control.db").exists():
        return []
    from custodes.store.alerts import get_alert, list_alerts
    from custodes.store.control import open_control

    control = open_control(data_dir)
    return [get_alert(control, alert.id).to_dict() for alert in list_alerts(control, limit=10**6)]


def load_findings(data_dir: Path) -> list[dict[str, Any]]:
    """Open posture findings as alert-like dicts (a state finding has no activity window)."""
    if not feature_exists("posture") or not (data_dir / "control.db").exists():
        return []
    from custodes.posture.store import list_findings
    from custodes.store.control import open_control

    control = open_control(data_dir)
    return [
        {
            "rule_id": f"posture:{finding.check}",
            "title": finding.title,
            "level": finding.level,
            "kind": "posture-finding",
            "details": {"check": finding.check},
            "user_name": finding.account,
            "host_name": finding.host,
            "first_seen_at": finding.activity_first_at or datetime(1970, 1, 1, tzinfo=UTC),
            "last_seen_at": finding.activity_last_at or finding.last_seen_at,
            "event_ids": list(finding.event_ids),
        }
        for finding in list_findings(control)
    ]


def planted_event_ids(data_dir: Path, scenarios: list[dict[str, Any]]) -> dict[str, set[str]]:
    """Scenario id -> the event ids its evidence got in the lake (empty when not stored)."""
    wanted_records: dict[tuple[str, str], str] = {}
    wanted_lines: dict[str, str] = {}
    for scenario in scenarios:
        for event in scenario["events"]:
            wanted_records[(event["computer"], str(event["event_record_id"]))] = scenario["id"]
        for line in scenario["lines"]:
            wanted_lines[line["line"]] = scenario["id"]
    found: dict[str, set[str]] = {scenario["id"]: set() for scenario in scenarios}
    if not (data_dir / "lake").exists():
        return found
    from custodes.store import connect

    connection = connect(data_dir)
    computers = sorted({computer for computer, _ in wanted_records})
    if computers:
        marks = ", ".join("?" for _ in computers)
        rows = connection.execute(
            "SELECT \"event.id\", fields['Computer'], fields['EventRecordID'] FROM events"
            f" WHERE fields['Computer'] IN ({marks})",
            computers,
        ).fetchall()
        for event_id, computer, record in rows:
            owner = wanted_records.get((computer, record))
            if owner is not None:
                found[owner].add(event_id)
    if wanted_lines:
        lines = list(wanted_lines)
        marks = ", ".join("?" for _ in lines)
        rows = connection.execute(
            f'SELECT "event.id", "event.original" FROM events WHERE "event.original" IN ({marks})',
            lines,
        ).fetchall()
        for event_id, original in rows:
            found[wanted_lines[original]].add(event_id)
    return found


def touched_accounts(data_dir: Path, evidence: dict[str, set[str]]) -> dict[str, set[str]]:
    """Scenario id -> the accounts its stored evidence names (e.g. the targets of a spray)."""
    touched: dict[str, set[str]] = {case: set() for case in evidence}
    owners = {event_id: case for case, ids in evidence.items() for event_id in ids}
    if not owners:
        return touched
    from custodes.store import connect

    marks = ", ".join("?" for _ in owners)
    rows = (
        connect(data_dir)
        .execute(
            f'SELECT "event.id", "user.name", "user.target.name" FROM events'
            f' WHERE "event.id" IN ({marks})',
            list(owners),
        )
        .fetchall()
    )
    for event_id, user, target in rows:
        touched[owners[event_id]] |= {short(user), short(target)} - {""}
    return touched


def expected_names(scenario: dict[str, Any]) -> dict[str, str]:
    """Rule ids and check names the case expects -> the kind of feature behind each."""
    names: dict[str, str] = {}
    for detection in scenario["detect"]:
        name = detection.get("rule_id") or detection.get("check") or detection.get("rule")
        if name:
            names[str(name)] = detection["kind"]
    return names


def alert_name(alert: dict[str, Any]) -> str:
    """The rule id, or the check name of a posture alert."""
    details = alert.get("details") or {}
    return str(details.get("check") or alert.get("rule_id") or "")


def short(name: str | None) -> str:
    """A host or user name compared without domain and case."""
    return (name or "").split(".")[0].split("\\")[-1].lower()


def fits(alert: dict[str, Any], scenario: dict[str, Any]) -> bool:
    """Whether an alert's rule, subject and time fit a case (used when event ids cannot link)."""
    if alert_name(alert) not in expected_names(scenario):
        return False
    people = {short(account) for account in scenario["who"]["accounts"]}
    hosts = {short(host) for host in scenario["hosts"]}
    subject = {short(alert.get("user_name")), short(alert.get("host_name"))} - {""}
    if subject and not subject & (people | hosts):
        return False
    if scenario["first_at"] is None:
        return True
    first, last = parse_iso(scenario["first_at"]) - SLACK, parse_iso(scenario["last_at"]) + SLACK
    seen_first = as_time(alert["first_seen_at"])
    seen_last = as_time(alert["last_seen_at"])
    return seen_first <= last and seen_last >= first


def is_ueba(alert: dict[str, Any]) -> bool:
    """Whether an alert comes from behaviour analytics (one per entity and day)."""
    return alert.get("kind") == "ueba" or alert.get("rule_id") == UEBA_RULE_ID


def ueba_fits(alert: dict[str, Any], scenario: dict[str, Any], touched: set[str]) -> bool:
    """Whether a behaviour alert's account or host is the case's, on a day the case made odd.

    The case's accounts are those the ground truth names and those its evidence touched.
    """
    days = {pair["date"] for pair in scenario.get("user_days") or ()}
    details = alert.get("details") or {}
    day = str(details.get("day") or as_time(alert["first_seen_at"]).date().isoformat())
    if day not in days:
        return False
    people = {short(account) for account in scenario["who"]["accounts"]} | touched
    hosts = {short(host) for host in scenario["hosts"]}
    subject = {short(alert.get("user_name")), short(alert.get("host_name"))} - {""}
    return bool(subject & (people | hosts))


def ueba_credit(alert: dict[str, Any]) -> str:
    """`ueba: <top features>` for the table."""
    reasons = (alert.get("details") or {}).get("reasons") or []
    features = [str(reason.get("feature")) for reason in reasons[:UEBA_FEATURES_SHOWN]]
    return f"ueba: {', '.join(features)}" if features else "ueba"


def credit(
    alert: dict[str, Any], scenario: dict[str, Any], evidence: set[str], touched: set[str]
) -> str | None:
    """What the table says found this case, or None when the alert is not linked to it."""
    name = alert_name(alert)
    if is_ueba(alert):
        return ueba_credit(alert) if ueba_fits(alert, scenario, touched) else None
    if set(alert.get("event_ids") or ()) & evidence:
        if name in expected_names(scenario):
            return name
        return f"{name} ({alert.get('title')})" if alert.get("title") else name
    return name if fits(alert, scenario) else None


def as_time(value: Any) -> datetime:
    """A datetime from a stored alert field."""
    return value if isinstance(value, datetime) else parse_iso(str(value))


def check(
    data_dir: Path, truth: dict[str, Any], alerts: list[dict[str, Any]] | None = None
) -> CheckReport:
    """Compare alerts (from `data_dir`'s control database unless given) with the ground truth."""
    scenarios: list[dict[str, Any]] = truth["scenarios"]
    alerts = load_alerts(data_dir) + load_findings(data_dir) if alerts is None else alerts
    evidence = planted_event_ids(data_dir, scenarios)
    touched = touched_accounts(data_dir, evidence)
    linked: dict[str, list[Credit]] = {scenario["id"]: [] for scenario in scenarios}
    unlinked: list[dict[str, Any]] = []
    near_misses = {s["id"] for s in scenarios if s["kind"] == "near-miss"}
    for alert in alerts:
        owners = []
        for scenario in scenarios:
            name = credit(alert, scenario, evidence[scenario["id"]], touched[scenario["id"]])
            if name is not None:
                linked[scenario["id"]].append(Credit(name, alert))
                owners.append(scenario["id"])
        if not set(owners) - near_misses:  # an alert on a near miss is a false positive
            unlinked.append(alert)
    verdicts = [verdict(s, linked[s["id"]], evidence[s["id"]], data_dir) for s in scenarios]
    informational = [a for a in unlinked if a.get("level") == "informational"]
    counted = [a for a in unlinked if a.get("level") != "informational"]
    return CheckReport(
        verdicts,
        alerts=len(alerts),
        false_positives=len(counted),
        informational=len(informational),
        false_positive_rules=Counter(
            f"{a.get('level', '')} {a.get('rule_id')} {a.get('title', '')}" for a in unlinked
        ),
    )


@dataclass(frozen=True)
class Credit:
    """An alert linked to a case, and how the table names what found it."""

    name: str
    alert: dict[str, Any]


def credited(scenario: dict[str, Any], credits: list[Credit]) -> tuple[str, ...]:
    """What found the case: expected rules and checks first, then others that hit its evidence.

    An informational rule the case does not expect (e.g. a single failed logon feeding a
    correlation) links its alert to the case but is not counted as finding it. Behaviour alerts
    are one entry: the top features of the highest score, and how many entity-days in all.
    """
    expected = expected_names(scenario)
    meant = {c.name for c in credits if c.name in expected}
    others = {
        c.name
        for c in credits
        if c.name not in expected
        and c.alert.get("level") != "informational"
        and not is_ueba(c.alert)
    }
    behaviour = [c for c in credits if is_ueba(c.alert)]
    if behaviour:
        best = max(behaviour, key=lambda c: float((c.alert.get("details") or {}).get("score", 0)))
        more = f" (+{len(behaviour) - 1} more entity-days)" if len(behaviour) > 1 else ""
        others.add(best.name + more)
    return (*sorted(meant), *sorted(others))


def verdict(
    scenario: dict[str, Any], credits: list[Credit], stored: set[str], data_dir: Path
) -> Verdict:
    """The verdict on one case."""
    kinds = {detection["kind"] for detection in scenario["detect"]}
    pending = tuple(sorted(kind for kind in kinds if not feature_exists(kind)))
    by = credited(scenario, credits)
    base = (scenario["id"], scenario["title"], scenario["kind"])
    if "policy" in kinds:
        if not (data_dir / "lake").exists():
            return Verdict(*base, "pending", pending=("lake",))
        if not stored:
            return Verdict(*base, "withheld")
        # Stored although it must not be: a violation once the policy exists, pending before.
        return Verdict(*base, "pending" if pending else "stored", ("stored in the lake",), pending)
    if scenario["kind"] == "near-miss":
        # Flagged only by the feature meant for it (which knows the approval, the travel...);
        # another rule firing on its events is a false positive like any other.
        meant = tuple(name for name in by if name in expected_names(scenario))
        if meant:
            return Verdict(*base, "flagged", meant, pending)
        return Verdict(
            *base,
            "pending" if len(pending) == len(kinds) else "quiet",
            (),
            pending,
        )
    if by:
        return Verdict(*base, "detected", by, pending)
    if len(pending) == len(kinds):
        return Verdict(*base, "pending", (), pending)
    return Verdict(*base, "missed", (), pending)
