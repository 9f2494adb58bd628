"""The case tables of the control database (created by migration 0005)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Boolean, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from custodes.store.control import Base


class UnitRow(Base):
    """An organisational unit: security, incident response, investigations, oversight, ..."""

    __tablename__ = "units"

    name: Mapped[str] = mapped_column(String(120), primary_key=True)
    kind: Mapped[str] = mapped_column(String(40))  # security | investigative | oversight | other
    created_at: Mapped[datetime]


class UnitMemberRow(Base):
    """A person's membership of a unit."""

    __tablename__ = "unit_members"

    unit: Mapped[str] = mapped_column(String(120), primary_key=True)
    member: Mapped[str] = mapped_column(String(255), primary_key=True)


class CaseRow(Base):
    """A case: what it is about, who owns it, which unit holds it."""

    __tablename__ = "cases"

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    title: Mapped[str] = mapped_column(String(300))
    type: Mapped[str] = mapped_column(String(60))
    severity: Mapped[str] = mapped_column(String(20))
    status: Mapped[str] = mapped_column(String(20))
    owner: Mapped[str] = mapped_column(String(255))
    unit: Mapped[str] = mapped_column(String(120))
    legal_basis: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]

    __table_args__ = (Index("ix_cases_unit", "unit"),)


class CaseItemRow(Base):
    """What a case holds: an alert, finding, event, timeline, note, task or attachment."""

    __tablename__ = "case_items"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    case_id: Mapped[str] = mapped_column(String(40))
    kind: Mapped[str] = mapped_column(String(20))
    ref: Mapped[str | None] = mapped_column(String(255))  # alert id, event id, sha256, ...
    text: Mapped[str | None] = mapped_column(Text)
    details: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    author: Mapped[str] = mapped_column(String(255))
    added_at: Mapped[datetime]
    is_done: Mapped[bool] = mapped_column(Boolean, default=False)

    __table_args__ = (Index("ix_case_items_case", "case_id", "kind"),)


class CaseAccessRow(Base):
    """A unit a case is shared with or handed over to, and the approval state of that."""

    __tablename__ = "case_access"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    case_id: Mapped[str] = mapped_column(String(40))
    unit: Mapped[str] = mapped_column(String(120))
    kind: Mapped[str] = mapped_column(String(20))  # share | handover
    status: Mapped[str] = mapped_column(String(20))  # pending | active | refused
    requested_by: Mapped[str] = mapped_column(String(255))
    requested_at: Mapped[datetime]
    reason: Mapped[str] = mapped_column(Text, default="")
    legal_basis: Mapped[str | None] = mapped_column(Text)
    decided_by: Mapped[str | None] = mapped_column(String(255))
    decided_at: Mapped[datetime | None]

    __table_args__ = (Index("ix_case_access_case", "case_id"),)


class CaseHistoryRow(Base):
    """One change to a case: who, when, what."""

    __tablename__ = "case_history"

    seq: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    case_id: Mapped[str] = mapped_column(String(40))
    at: Mapped[datetime]
    actor: Mapped[str] = mapped_column(String(255))
    action: Mapped[str] = mapped_column(String(40))
    details: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)

    __table_args__ = (Index("ix_case_history_case", "case_id"),)
