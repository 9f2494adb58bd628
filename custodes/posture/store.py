"""Findings in the control database: opened, seen again, resolved when they no longer hold."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Index, Integer, String, select
from sqlalchemy.orm import Mapped, mapped_column

from custodes.posture.finding import CHECKS, Finding
from custodes.store.control import Base, Control


class PostureRunRow(Base):
    """One run of the checks: when, and how many findings of each check held."""

    __tablename__ = "posture_runs"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    ran_at: Mapped[datetime]
    counts: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    opened: Mapped[int] = mapped_column(Integer, default=0)
    resolved: Mapped[int] = mapped_column(Integer, default=0)


class PostureFindingRow(Base):
    """One finding: a check holding for a subject from first_seen_at until resolved_at."""

    __tablename__ = "posture_findings"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    check: Mapped[str] = mapped_column(String(80))
    subject: Mapped[str] = mapped_column(String(600))
    level: Mapped[str] = mapped_column(String(20))
    account: Mapped[str | None] = mapped_column(String(255))
    employee_id: Mapped[str | None] = mapped_column(String(100))
    host: Mapped[str | None] = mapped_column(String(255))
    device_id: Mapped[str | None] = mapped_column(String(255))
    details: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    event_ids: Mapped[list[str]] = mapped_column(JSON, default=list)
    activity_first_at: Mapped[datetime | None]
    activity_last_at: Mapped[datetime | None]
    first_seen_at: Mapped[datetime]
    last_seen_at: Mapped[datetime]
    resolved_at: Mapped[datetime | None]

    __table_args__ = (
        Index("ix_posture_findings_check_subject", "check", "subject"),
        Index("ix_posture_findings_resolved_at", "resolved_at"),
    )


@dataclass(frozen=True)
class StoredFinding:
    """A finding as stored, with its life cycle."""

    id: int
    check: str
    title: str
    level: str
    area: str
    subject: str
    account: str | None
    employee_id: str | None
    host: str | None
    device_id: str | None
    details: dict[str, Any]
    event_ids: tuple[str, ...]
    activity_first_at: datetime | None
    activity_last_at: datetime | None
    first_seen_at: datetime
    last_seen_at: datetime
    resolved_at: datetime | None

    @classmethod
    def from_row(cls, row: PostureFindingRow) -> StoredFinding:
        """The finding a database row holds."""
        info = CHECKS.get(row.check)
        return cls(
            row.id,
            row.check,
            info.title if info else row.check,
            row.level,
            info.area if info else "",
            row.subject,
            row.account,
            row.employee_id,
            row.host,
            row.device_id,
            dict(row.details),
            tuple(row.event_ids),
            row.activity_first_at,
            row.activity_last_at,
            row.first_seen_at,
            row.last_seen_at,
            row.resolved_at,
        )

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict (datetimes in ISO 8601)."""
        out: dict[str, Any] = {}
        for name in self.__dataclass_fields__:
            value = getattr(self, name)
            out[name] = value.isoformat() if isinstance(value, datetime) else value
        out["event_ids"] = list(self.event_ids)
        return out


@dataclass(frozen=True)
class RunSummary:
    """What one run changed."""

    run_id: int
    ran_at: datetime
    counts: dict[str, int]
    opened: int
    resolved: int


def save_findings(control: Control, findings: list[Finding], *, now: datetime) -> RunSummary:
    """Store one run: new findings open, held ones are seen again, the others are resolved."""
    current = {(finding.check, finding.subject): finding for finding in findings}
    opened = resolved = 0
    with control.session() as session:
        open_rows = session.scalars(
            select(PostureFindingRow).where(PostureFindingRow.resolved_at.is_(None))
        ).all()
        held = {(row.check, row.subject): row for row in open_rows}
        for key, row in held.items():
            if key not in current:
                row.resolved_at = now
                resolved += 1
        for key, finding in current.items():
            found = held.get(key)
            if found is None:
                found = PostureFindingRow(
                    check=finding.check, subject=finding.subject, first_seen_at=now
                )
                session.add(found)
                opened += 1
            row = found
            row.level = finding.info.level
            row.account, row.employee_id = finding.account, finding.employee_id
            row.host, row.device_id = finding.host, finding.device_id
            row.details, row.event_ids = finding.details, list(finding.event_ids)
            row.activity_first_at, row.activity_last_at = finding.first_at, finding.last_at
            row.last_seen_at = now
        counts = dict(Counter(finding.check for finding in findings))
        run = PostureRunRow(ran_at=now, counts=counts, opened=opened, resolved=resolved)
        session.add(run)
        session.flush()
        return RunSummary(run.id, now, counts, opened, resolved)


def list_findings(
    control: Control, *, include_resolved: bool = False, check: str | None = None
) -> list[StoredFinding]:
    """Findings, open ones only unless asked, ordered by check and subject."""
    query = select(PostureFindingRow)
    if not include_resolved:
        query = query.where(PostureFindingRow.resolved_at.is_(None))
    if check:
        query = query.where(PostureFindingRow.check == check)
    query = query.order_by(PostureFindingRow.check, PostureFindingRow.subject, PostureFindingRow.id)
    with control.session() as session:
        return [StoredFinding.from_row(row) for row in session.scalars(query)]


def list_runs(control: Control, *, limit: int = 50) -> list[RunSummary]:
    """The latest runs, oldest first (the trend)."""
    query = select(PostureRunRow).order_by(PostureRunRow.id.desc()).limit(limit)
    with control.session() as session:
        rows = list(session.scalars(query))
    return [
        RunSummary(row.id, row.ran_at, dict(row.counts), row.opened, row.resolved)
        for row in reversed(rows)
    ]
