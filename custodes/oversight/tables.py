"""The oversight tables of the control database (created by migration 0004)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from custodes.store.control import Base


class AccessEntryRow(Base):
    """One entry of the access ledger, chained to the previous one by its hash."""

    __tablename__ = "access_log"

    seq: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    at: Mapped[datetime]
    actor: Mapped[str] = mapped_column(String(255))
    role: Mapped[str] = mapped_column(String(40))
    action: Mapped[str] = mapped_column(String(40))
    purpose: Mapped[str | None] = mapped_column(String(80))
    case_id: Mapped[str | None] = mapped_column(String(120))
    query: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    rows: Mapped[int] = mapped_column(Integer, default=0)
    revealed: Mapped[list[str]] = mapped_column(JSON, default=list)
    details: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64))

    __table_args__ = (
        Index("ix_access_log_actor", "actor"),
        Index("ix_access_log_action", "action"),
    )


class RevealRequestRow(Base):
    """A request to see who is behind a pseudonym, for a case."""

    __tablename__ = "reveal_requests"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    requester: Mapped[str] = mapped_column(String(255))
    case_id: Mapped[str] = mapped_column(String(120))
    subject: Mapped[str] = mapped_column(String(40))
    legal_basis: Mapped[str] = mapped_column(Text)
    justification: Mapped[str] = mapped_column(Text)
    scope: Mapped[str] = mapped_column(String(255))
    expiry_days: Mapped[int] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(20))  # pending | approved | refused
    created_at: Mapped[datetime]
    decided_by: Mapped[str | None] = mapped_column(String(255))
    decided_at: Mapped[datetime | None]
    decision_reason: Mapped[str | None] = mapped_column(Text)

    __table_args__ = (Index("ix_reveal_requests_status", "status"),)


class GrantRow(Base):
    """A time-limited grant: `holder` sees `subject` in clear, in `case_id` only."""

    __tablename__ = "grants"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    request_id: Mapped[int] = mapped_column(Integer)
    holder: Mapped[str] = mapped_column(String(255))
    case_id: Mapped[str] = mapped_column(String(120))
    subject: Mapped[str] = mapped_column(String(40))
    created_at: Mapped[datetime]
    expires_at: Mapped[datetime]

    __table_args__ = (Index("ix_grants_holder_case", "holder", "case_id"),)


class WatcherAlertRow(Base):
    """An alert about the watchers, for oversight only."""

    __tablename__ = "watcher_alerts"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    check: Mapped[str] = mapped_column(String(60))
    key: Mapped[str] = mapped_column(String(255))
    actor: Mapped[str] = mapped_column(String(255))
    summary: Mapped[str] = mapped_column(Text)
    entries: Mapped[list[str]] = mapped_column(JSON, default=list)
    raised_at: Mapped[datetime]

    __table_args__ = (Index("ix_watcher_alerts_check_key", "check", "key", unique=True),)
