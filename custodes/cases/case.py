"""Cases: open, list, show, change; what they hold (alerts, findings, events, timelines, notes,
tasks, attachments); every change in the case's history."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import func, select, update

from custodes.cases.tables import CaseHistoryRow, CaseItemRow, CaseRow, UnitRow
from custodes.cases.units import CaseError, add_unit, can_see, units_of
from custodes.errors import NotFound, PermissionDenied
from custodes.store import get_alert
from custodes.store.control import Control
from custodes.store.users import User

CASE_TYPES = ("incident", "investigation", "review", "disclosure")
SEVERITIES = ("low", "medium", "high", "critical")
STATUSES = ("open", "in-progress", "closed")
ITEM_KINDS = ("alert", "finding", "event", "timeline", "note", "task", "attachment")


def record(
    control: Control,
    case_id: str,
    actor: User,
    action: str,
    details: dict[str, Any],
    *,
    now: datetime | None = None,
) -> None:
    """Append one change to a case's history."""
    with control.session() as session:
        session.add(
            CaseHistoryRow(
                case_id=case_id,
                at=now or datetime.now(UTC),
                actor=actor.name,
                action=action,
                details=details,
            )
        )
        session.execute(
            update(CaseRow).where(CaseRow.id == case_id).values(updated_at=now or datetime.now(UTC))
        )


def next_case_id(control: Control) -> str:
    """C-1, C-2, ...: one more than the most cases so far."""
    with control.session() as session:
        count = session.execute(select(func.count()).select_from(CaseRow)).scalar_one()
        number = count + 1
        while session.get(CaseRow, f"C-{number}") is not None:
            number += 1
        return f"C-{number}"


def open_case(
    control: Control,
    actor: User,
    *,
    title: str,
    unit: str,
    type: str = "incident",
    severity: str = "medium",
    legal_basis: str | None = None,
    now: datetime | None = None,
) -> CaseRow:
    """A new case held by `unit` (created with the actor as its first member if new)."""
    now = now or datetime.now(UTC)
    if not title.strip():
        raise CaseError("a case needs a title")
    check_choice("type", type, CASE_TYPES)
    check_choice("severity", severity, SEVERITIES)
    with control.session() as session:
        known = session.get(UnitRow, unit)
        unit_kind = known.kind if known is not None else None
    if unit_kind is None:
        add_unit(control, unit, "security", [actor.name], now=now)
    elif unit not in units_of(control, actor.name):
        raise PermissionDenied(f"{actor.name} is not a member of unit {unit!r}")
    investigative = type == "investigation" or unit_kind == "investigative"
    if investigative and not (legal_basis or "").strip():
        raise CaseError("an investigative case needs a legal basis")
    case_id = next_case_id(control)
    with control.session() as session:
        row = CaseRow(
            id=case_id,
            title=title.strip(),
            type=type,
            severity=severity,
            status="open",
            owner=actor.name,
            unit=unit,
            legal_basis=legal_basis or None,
            created_at=now,
            updated_at=now,
        )
        session.add(row)
    details = {"title": title, "type": type, "severity": severity, "unit": unit}
    record(control, case_id, actor, "created", details, now=now)
    return get_case(control, actor, case_id)


def check_choice(name: str, value: str, choices: tuple[str, ...]) -> None:
    """Refuse a value outside its choices, naming them."""
    if value not in choices:
        raise CaseError(f"unknown {name} {value!r} (one of {', '.join(choices)})")


def get_case(control: Control, actor: User, case_id: str) -> CaseRow:
    """A case the actor may see; NotFound otherwise (its existence is not disclosed)."""
    with control.session() as session:
        row = session.get(CaseRow, case_id)
        if row is not None:
            session.expunge(row)
    if row is None or not can_see(control, actor, row):
        raise NotFound("case", case_id)
    return row


def list_cases(control: Control, actor: User, *, status: str | None = None) -> list[CaseRow]:
    """The cases the actor may see, newest first."""
    query = select(CaseRow).order_by(CaseRow.created_at.desc(), CaseRow.id.desc())
    if status:
        query = query.where(CaseRow.status == status)
    with control.session() as session:
        rows = list(session.execute(query).scalars())
        for row in rows:
            session.expunge(row)
    return [row for row in rows if can_see(control, actor, row)]


def update_case(
    control: Control,
    actor: User,
    case_id: str,
    *,
    status: str | None = None,
    severity: str | None = None,
    now: datetime | None = None,
) -> CaseRow:
    """Change status or severity (recorded)."""
    get_case(control, actor, case_id)
    changes: dict[str, Any] = {}
    if status is not None:
        check_choice("status", status, STATUSES)
        changes["status"] = status
    if severity is not None:
        check_choice("severity", severity, SEVERITIES)
        changes["severity"] = severity
    if changes:
        with control.session() as session:
            session.execute(update(CaseRow).where(CaseRow.id == case_id).values(**changes))
        record(control, case_id, actor, "updated", changes, now=now)
    return get_case(control, actor, case_id)


def add_item(
    control: Control,
    actor: User,
    case_id: str,
    kind: str,
    *,
    ref: str | None = None,
    text: str | None = None,
    details: dict[str, Any] | None = None,
    now: datetime | None = None,
) -> CaseItemRow:
    """Add one item to a case the actor may see (recorded)."""
    check_choice("item kind", kind, ITEM_KINDS)
    get_case(control, actor, case_id)
    now = now or datetime.now(UTC)
    with control.session() as session:
        item = CaseItemRow(
            case_id=case_id,
            kind=kind,
            ref=ref,
            text=text,
            details=details or {},
            author=actor.name,
            added_at=now,
            is_done=False,
        )
        session.add(item)
        session.flush()
        session.expunge(item)
    summary = {"item": item.id, "kind": kind, "ref": ref}
    if kind in ("note", "task"):
        summary["text"] = text
    record(control, case_id, actor, f"added-{kind}", summary, now=now)
    return item


def add_alert(
    control: Control, actor: User, case_id: str, alert_id: int, *, now: datetime | None = None
) -> CaseItemRow:
    """Add an alert (its title, rule and event ids kept with it)."""
    alert = get_alert(control, alert_id)
    details = {
        "title": alert.title,
        "rule_id": alert.rule_id,
        "level": alert.level,
        "host_name": alert.host_name,
        "first_seen_at": alert.first_seen_at.isoformat(),
        "last_seen_at": alert.last_seen_at.isoformat(),
        "event_ids": list(alert.event_ids),
    }
    return add_item(
        control,
        actor,
        case_id,
        "alert",
        ref=str(alert_id),
        text=alert.title,
        details=details,
        now=now,
    )


def add_note(
    control: Control, actor: User, case_id: str, text: str, *, now: datetime | None = None
) -> CaseItemRow:
    """Add a note."""
    if not text.strip():
        raise CaseError("a note needs text")
    return add_item(control, actor, case_id, "note", text=text, now=now)


def cases_by_type(control: Control, since: datetime, until: datetime) -> dict[str, int]:
    """How many cases were opened in [since, until), by type (for the transparency report)."""
    query = (
        select(CaseRow.type, func.count())
        .where(CaseRow.created_at >= since, CaseRow.created_at < until)
        .group_by(CaseRow.type)
    )
    with control.session() as session:
        return {str(kind): int(count) for kind, count in session.execute(query).all()}
