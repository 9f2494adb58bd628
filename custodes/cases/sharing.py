"""Sharing a case with another unit and handing it over to an investigative unit.

Each request, and each decision, is an entry in the access ledger (action `case-share`,
`case-handover`, `case-access-approve`, `case-access-refuse`) and in the case history. Where the
policy says so (`approvals.handover` / `approvals.share`, default: hand-overs need approval by
oversight, shares do not), the request waits as `pending` until a person of an approving role,
not the requester, decides; only then does the unit see the case (and, for a hand-over, hold it).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import select, update

from custodes.cases.case import get_case, record
from custodes.cases.tables import CaseAccessRow, CaseRow
from custodes.cases.units import CaseError, get_unit
from custodes.errors import NotFound, PermissionDenied
from custodes.oversight import AccessEntry, Policy, append_entry
from custodes.store.control import Control
from custodes.store.users import User


@dataclass(frozen=True)
class AccessApproval:
    """Whether a kind of request needs approval, and who may give it."""

    needs_approval: bool
    approver_roles: tuple[str, ...] = ("oversight",)


@dataclass(frozen=True)
class CaseApprovals:
    """The approval rules for shares and hand-overs."""

    share: AccessApproval = AccessApproval(needs_approval=False)
    handover: AccessApproval = AccessApproval(needs_approval=True)

    @classmethod
    def from_policy(cls, policy: Policy) -> CaseApprovals:
        """The rules a policy states (`approvals.share` / `approvals.handover`), else defaults."""
        found: dict[str, AccessApproval] = {}
        for kind in ("share", "handover"):
            rule: Any = getattr(policy.approvals, kind, None)
            if rule is not None:
                found[kind] = AccessApproval(
                    bool(getattr(rule, "needs_approval", True)),
                    tuple(getattr(rule, "approver_roles", ("oversight",))),
                )
        return cls(**found)

    def rule(self, kind: str) -> AccessApproval:
        """The rule of one kind of request."""
        return self.share if kind == "share" else self.handover


def ledger(
    control: Control, data_dir: Path, actor: User, action: str, case_id: str, **details: Any
) -> None:
    """One access-ledger entry for a case action."""
    append_entry(
        control,
        data_dir,
        AccessEntry(
            actor=actor.name, role=actor.role.value, action=action, case_id=case_id, details=details
        ),
    )


def request_access(
    control: Control,
    data_dir: Path,
    actor: User,
    case_id: str,
    unit: str,
    kind: str,
    approvals: CaseApprovals,
    *,
    reason: str = "",
    legal_basis: str | None = None,
    now: datetime | None = None,
) -> CaseAccessRow:
    """Share (`kind="share"`) or hand over (`"handover"`) a case to a unit."""
    now = now or datetime.now(UTC)
    case = get_case(control, actor, case_id)
    target = get_unit(control, unit)
    if unit == case.unit:
        raise CaseError(f"case {case_id} is already held by {unit}")
    if kind == "handover":
        if target.kind != "investigative":
            raise CaseError(f"a hand-over goes to an investigative unit; {unit} is {target.kind}")
        if not (legal_basis or case.legal_basis or "").strip():
            raise CaseError("a hand-over to an investigative unit needs a legal basis")
    elif kind != "share":
        raise CaseError(f"unknown access kind {kind!r}")
    rule = approvals.rule(kind)
    with control.session() as session:
        row = CaseAccessRow(
            case_id=case_id,
            unit=unit,
            kind=kind,
            status="pending" if rule.needs_approval else "active",
            requested_by=actor.name,
            requested_at=now,
            reason=reason,
            legal_basis=legal_basis or case.legal_basis,
        )
        session.add(row)
        session.flush()
        session.expunge(row)
    ledger(
        control,
        data_dir,
        actor,
        f"case-{kind}",
        case_id,
        unit=unit,
        status=row.status,
        access=row.id,
    )
    record(
        control,
        case_id,
        actor,
        kind,
        {"unit": unit, "status": row.status, "reason": reason},
        now=now,
    )
    if row.status == "active" and kind == "handover":
        apply_handover(control, row)
    return row


def decide_access(
    control: Control,
    data_dir: Path,
    approver: User,
    access_id: int,
    approvals: CaseApprovals,
    *,
    approve: bool,
    reason: str = "",
    now: datetime | None = None,
) -> CaseAccessRow:
    """Approve or refuse a pending share or hand-over; never by its requester."""
    now = now or datetime.now(UTC)
    with control.session() as session:
        row = session.get(CaseAccessRow, access_id)
        if row is None:
            raise NotFound("case access request", str(access_id))
        rule = approvals.rule(row.kind)
        if approver.role.value not in rule.approver_roles:
            raise PermissionDenied(f"only {', '.join(rule.approver_roles)} may decide a {row.kind}")
        if row.requested_by == approver.name:
            raise PermissionDenied(f"a {row.kind} must be decided by someone else")
        if row.status != "pending":
            raise CaseError(f"request {access_id} is already {row.status}")
        row.status = "active" if approve else "refused"
        row.decided_by, row.decided_at = approver.name, now
        session.flush()
        session.expunge(row)
    action = "case-access-approve" if approve else "case-access-refuse"
    ledger(
        control,
        data_dir,
        approver,
        action,
        row.case_id,
        access=row.id,
        unit=row.unit,
        reason=reason,
    )
    details = {"access": row.id, "unit": row.unit, "kind": row.kind, "reason": reason}
    record(control, row.case_id, approver, "approved" if approve else "refused", details, now=now)
    if approve and row.kind == "handover":
        apply_handover(control, row)
    return row


def apply_handover(control: Control, row: CaseAccessRow) -> None:
    """The investigative unit now holds the case, on the hand-over's legal basis."""
    with control.session() as session:
        session.execute(
            update(CaseRow)
            .where(CaseRow.id == row.case_id)
            .values(unit=row.unit, legal_basis=row.legal_basis, type="investigation")
        )


def pending_access(control: Control) -> list[CaseAccessRow]:
    """Shares and hand-overs waiting for a decision, oldest first (for the Oversight page)."""
    query = select(CaseAccessRow).where(CaseAccessRow.status == "pending")
    with control.session() as session:
        rows = list(session.execute(query.order_by(CaseAccessRow.id)).scalars())
        for row in rows:
            session.expunge(row)
        return rows
