"""Reveal requests and grants: two people for a name.

A request (requester, case, subject pseudonym, legal basis, justification, scope, expiry) is
approved or refused by a different person whose role the policy lets approve; an approval makes
a grant that lets the requester see that one person in clear, in that case only, until it
expires. Each step is an access-ledger entry, and oversight is notified of each request.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, Protocol

from sqlalchemy import select

from custodes.errors import CustodesError, NotFound, PermissionDenied
from custodes.oversight.access_log import AccessEntry, append_entry
from custodes.oversight.policy import Policy
from custodes.oversight.pseudonyms import is_pseudonym
from custodes.oversight.tables import GrantRow, RevealRequestRow
from custodes.store.control import Control
from custodes.store.users import User


class RequestError(CustodesError):
    """A reveal request or decision that the policy does not allow (status 400)."""

    status = 400


@dataclass(frozen=True)
class RevealRequest:
    """What a requester asks to see, and why."""

    case_id: str
    subject: str
    legal_basis: str
    justification: str
    scope: str = "case"
    expiry_days: int = 7


def request_to_dict(row: RevealRequestRow) -> dict[str, Any]:
    """Plain data for JSON."""
    return {
        "id": row.id,
        "requester": row.requester,
        "case_id": row.case_id,
        "subject": row.subject,
        "legal_basis": row.legal_basis,
        "justification": row.justification,
        "scope": row.scope,
        "expiry_days": row.expiry_days,
        "status": row.status,
        "created_at": row.created_at.isoformat(),
        "decided_by": row.decided_by,
        "decided_at": row.decided_at.isoformat() if row.decided_at else None,
        "decision_reason": row.decision_reason,
    }


def grant_to_dict(row: GrantRow) -> dict[str, Any]:
    """Plain data for JSON."""
    return {
        "id": row.id,
        "request_id": row.request_id,
        "holder": row.holder,
        "case_id": row.case_id,
        "subject": row.subject,
        "created_at": row.created_at.isoformat(),
        "expires_at": row.expires_at.isoformat(),
    }


def request_reveal(
    control: Control,
    data_dir: Path,
    policy: Policy,
    requester: User,
    request: RevealRequest,
    *,
    notifier: Notifier | None = None,
    now: datetime | None = None,
) -> RevealRequestRow:
    """File a reveal request (recorded, and oversight notified)."""
    now = now or datetime.now(UTC)
    if not request.case_id.strip():
        raise RequestError("a reveal request needs a case id")
    if not is_pseudonym(request.subject):
        raise RequestError(
            f"subject must be a pseudonym like usr-3f9a1c2b, not {request.subject!r}"
        )
    if not request.legal_basis.strip() or not request.justification.strip():
        raise RequestError("a reveal request needs a legal basis and a justification")
    longest = policy.approvals.reveal.max_days
    if not 1 <= request.expiry_days <= longest:
        raise RequestError(f"expiry must be 1 to {longest} days (policy approvals.reveal.max_days)")
    with control.session() as session:
        row = RevealRequestRow(
            requester=requester.name,
            case_id=request.case_id,
            subject=request.subject,
            legal_basis=request.legal_basis,
            justification=request.justification,
            scope=request.scope,
            expiry_days=request.expiry_days,
            status="pending",
            created_at=now,
        )
        session.add(row)
        session.flush()
    append_entry(
        control,
        data_dir,
        AccessEntry(
            actor=requester.name,
            role=requester.role.value,
            action="reveal-request",
            case_id=request.case_id,
            details={"request": row.id, "subject": request.subject, "scope": request.scope},
        ),
        now=now,
    )
    if notifier is not None:
        notifier.submit(oversight_notice(row))
    return row


def decide(
    control: Control,
    data_dir: Path,
    policy: Policy,
    approver: User,
    request_id: int,
    *,
    approve: bool,
    reason: str = "",
    now: datetime | None = None,
) -> RevealRequestRow:
    """Approve (making a grant) or refuse a pending request; never by its requester."""
    now = now or datetime.now(UTC)
    if approver.role.value not in policy.approvals.reveal.approver_roles:
        allowed = ", ".join(policy.approvals.reveal.approver_roles)
        raise PermissionDenied(f"only {allowed} may decide reveal requests")
    with control.session() as session:
        row = session.get(RevealRequestRow, request_id)
        if row is None:
            raise NotFound("reveal request", str(request_id))
        if row.requester == approver.name:
            raise PermissionDenied("a reveal request must be decided by someone else")
        if row.status != "pending":
            raise RequestError(f"reveal request {request_id} is already {row.status}")
        row.status = "approved" if approve else "refused"
        row.decided_by, row.decided_at, row.decision_reason = approver.name, now, reason
        grant = None
        if approve:
            grant = GrantRow(
                request_id=row.id,
                holder=row.requester,
                case_id=row.case_id,
                subject=row.subject,
                created_at=now,
                expires_at=now + timedelta(days=row.expiry_days),
            )
            session.add(grant)
        session.flush()
        details: dict[str, Any] = {"request": row.id, "subject": row.subject, "reason": reason}
        if grant is not None:
            details.update(grant=grant.id, expires_at=grant.expires_at.isoformat())
    append_entry(
        control,
        data_dir,
        AccessEntry(
            actor=approver.name,
            role=approver.role.value,
            action="reveal-approve" if approve else "reveal-refuse",
            case_id=row.case_id,
            details=details,
        ),
        now=now,
    )
    return row


def active_subjects(
    control: Control, holder: str, case_id: str | None, *, now: datetime | None = None
) -> frozenset[str]:
    """Pseudonyms `holder` may see in clear in `case_id` now (none without a case)."""
    if not case_id:
        return frozenset()
    now = now or datetime.now(UTC)
    with control.session() as session:
        subjects = session.execute(
            select(GrantRow.subject).where(
                GrantRow.holder == holder,
                GrantRow.case_id == case_id,
                GrantRow.expires_at > now,
            )
        ).scalars()
        return frozenset(subjects)


def list_requests(control: Control, *, status: str | None = None) -> list[RevealRequestRow]:
    """Reveal requests, newest first."""
    query = select(RevealRequestRow).order_by(RevealRequestRow.id.desc())
    if status:
        query = query.where(RevealRequestRow.status == status)
    with control.session() as session:
        return list(session.execute(query).scalars())


def list_grants(control: Control, *, now: datetime | None = None) -> list[GrantRow]:
    """Grants in force now."""
    now = now or datetime.now(UTC)
    with control.session() as session:
        query = select(GrantRow).where(GrantRow.expires_at > now).order_by(GrantRow.id)
        return list(session.execute(query).scalars())


class Notifier(Protocol):
    """What a reveal request needs of custodes.notify.Notifier."""

    def submit(self, payload: Mapping[str, Any]) -> None:
        """Queue one notification."""
        ...


def oversight_notice(row: RevealRequestRow) -> dict[str, Any]:
    """A reveal request as a notification (routed like an alert tagged `oversight`)."""
    return {
        "kind": "reveal-request",
        "level": "high",
        "title": f"Reveal request {row.id} waits for a decision",
        "tags": ["oversight"],
        "rule_id": "oversight:reveal-request",
        "description": f"{row.requester} asks to see {row.subject} in case {row.case_id}"
        f" ({row.legal_basis}).",
        "first_seen_at": row.created_at.isoformat(),
        "last_seen_at": row.created_at.isoformat(),
        "event_ids": [],
    }
