"""The transparency report: what was collected, looked at, revealed, withheld and purged."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from jinja2 import Environment, PackageLoader, select_autoescape
from sqlalchemy import func, select

from custodes.oversight.policy import Policy
from custodes.oversight.protected import protected_counts
from custodes.oversight.tables import AccessEntryRow, GrantRow, RevealRequestRow
from custodes.store import stats
from custodes.store.control import AlertRow, Control


def parse_period(text: str, *, today: date | None = None) -> tuple[date, date]:
    """`2026-11`, `2026`, `2026-11-01..2026-11-30` -> first and last day (inclusive)."""
    from custodes.errors import QueryError

    text = text.strip()
    try:
        if ".." in text:
            first, last = text.split("..", 1)
            return date.fromisoformat(first), date.fromisoformat(last)
        if len(text) == 4:
            return date(int(text), 1, 1), date(int(text), 12, 31)
        if len(text) == 7:
            year, month = int(text[:4]), int(text[5:7])
            following = date(year + month // 12, month % 12 + 1, 1)
            return date(year, month, 1), date.fromordinal(following.toordinal() - 1)
    except ValueError:
        pass
    raise QueryError(f"period must be YYYY, YYYY-MM or DAY..DAY, not {text!r}")


def transparency(
    data_dir: Path, control: Control, policy: Policy, first: date, last: date
) -> dict[str, Any]:
    """The report's counts over [first, last]."""
    from custodes.cases import cases_by_type  # cases reads through the door: import when used

    since = datetime(first.year, first.month, first.day, tzinfo=UTC)
    until = datetime.fromordinal(last.toordinal() + 1).replace(tzinfo=UTC)
    per_category: Counter[str] = Counter()
    if (data_dir / "lake").exists():
        for dataset, day, count in stats(data_dir)["per_day"]:
            if first <= day <= last:
                per_category[policy.category_of(str(dataset))] += int(count)
    withheld: Counter[str] = Counter()
    for day, channels in protected_counts(data_dir).items():
        if first.isoformat() <= day <= last.isoformat():
            withheld.update(channels)
    with control.session() as session:
        alerts = dict(
            session.execute(
                select(AlertRow.level, func.count())
                .where(AlertRow.first_seen_at >= since, AlertRow.first_seen_at < until)
                .group_by(AlertRow.level)
            ).all()
        )
        requests = dict(
            session.execute(
                select(RevealRequestRow.status, func.count())
                .where(RevealRequestRow.created_at >= since, RevealRequestRow.created_at < until)
                .group_by(RevealRequestRow.status)
            ).all()
        )
        actions = dict(
            session.execute(
                select(AccessEntryRow.action, func.count())
                .where(AccessEntryRow.at >= since, AccessEntryRow.at < until)
                .group_by(AccessEntryRow.action)
            ).all()
        )
        grants_active = session.execute(
            select(func.count()).select_from(GrantRow).where(GrantRow.expires_at > until)
        ).scalar_one()
    return {
        "period": {"first": first.isoformat(), "last": last.isoformat()},
        "events_collected": dict(sorted(per_category.items())),
        "alerts": {level: int(count) for level, count in sorted(alerts.items())},
        "cases_opened": dict(sorted(cases_by_type(control, since, until).items())),
        "reveal_requests": {
            "made": int(sum(requests.values())),
            "approved": int(requests.get("approved", 0)),
            "refused": int(requests.get("refused", 0)),
            "pending": int(requests.get("pending", 0)),
        },
        "grants_active_at_end": int(grants_active),
        "exports": int(actions.get("export", 0)),
        "exports_refused": int(actions.get("export-refused", 0)),
        "accesses": {name: int(count) for name, count in sorted(actions.items())},
        "protected_channel_events_discarded": dict(sorted(withheld.items())),
        "purges": int(actions.get("retention-purge", 0)),
    }


def render_html(report: dict[str, Any]) -> str:
    """The report as a standalone HTML page."""
    environment = Environment(
        loader=PackageLoader("custodes.oversight", "templates"),
        autoescape=select_autoescape(),
    )
    return environment.get_template("transparency.html").render(report=report)
