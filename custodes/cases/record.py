"""A case as plain data: its items, shares and hand-overs, and history, read and shaped for JSON
(the API, the pages and the evidence package all show the same record)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from custodes.cases.tables import CaseAccessRow, CaseHistoryRow, CaseItemRow, CaseRow
from custodes.store.control import Control


def list_items(control: Control, case_id: str, kind: str | None = None) -> list[CaseItemRow]:
    """A case's items in the order they were added."""
    query = select(CaseItemRow).where(CaseItemRow.case_id == case_id).order_by(CaseItemRow.id)
    if kind:
        query = query.where(CaseItemRow.kind == kind)
    with control.session() as session:
        rows = list(session.execute(query).scalars())
        for row in rows:
            session.expunge(row)
        return rows


def history(control: Control, case_id: str) -> list[CaseHistoryRow]:
    """A case's history, oldest first."""
    query = select(CaseHistoryRow).where(CaseHistoryRow.case_id == case_id)
    with control.session() as session:
        rows = list(session.execute(query.order_by(CaseHistoryRow.seq)).scalars())
        for row in rows:
            session.expunge(row)
        return rows


def list_access(control: Control, case_id: str) -> list[CaseAccessRow]:
    """A case's shares and hand-overs, oldest first."""
    query = select(CaseAccessRow).where(CaseAccessRow.case_id == case_id)
    with control.session() as session:
        rows = list(session.execute(query.order_by(CaseAccessRow.id)).scalars())
        for row in rows:
            session.expunge(row)
        return rows


def case_to_dict(control: Control, case: CaseRow) -> dict[str, Any]:
    """The whole case record as plain data: fields, items, access, history."""
    return {
        "id": case.id,
        "title": case.title,
        "type": case.type,
        "severity": case.severity,
        "status": case.status,
        "owner": case.owner,
        "unit": case.unit,
        "legal_basis": case.legal_basis,
        "created_at": case.created_at.isoformat(),
        "updated_at": case.updated_at.isoformat(),
        "items": [item_to_dict(item) for item in list_items(control, case.id)],
        "access": [access_to_dict(row) for row in list_access(control, case.id)],
        "history": [history_to_dict(row) for row in history(control, case.id)],
    }


def item_to_dict(item: CaseItemRow) -> dict[str, Any]:
    """One item as plain data."""
    return {
        "id": item.id,
        "kind": item.kind,
        "ref": item.ref,
        "text": item.text,
        "details": item.details,
        "author": item.author,
        "added_at": item.added_at.isoformat(),
        "is_done": item.is_done,
    }


def access_to_dict(row: CaseAccessRow) -> dict[str, Any]:
    """One share or hand-over as plain data."""
    return {
        "id": row.id,
        "unit": row.unit,
        "kind": row.kind,
        "status": row.status,
        "requested_by": row.requested_by,
        "requested_at": row.requested_at.isoformat(),
        "reason": row.reason,
        "legal_basis": row.legal_basis,
        "decided_by": row.decided_by,
        "decided_at": row.decided_at.isoformat() if row.decided_at else None,
    }


def history_to_dict(row: CaseHistoryRow) -> dict[str, Any]:
    """One history entry as plain data."""
    return {
        "seq": row.seq,
        "at": row.at.isoformat(),
        "actor": row.actor,
        "action": row.action,
        "details": row.details,
    }
