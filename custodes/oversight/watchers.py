"""Watching the watchers: checks over the access ledger raising alerts for oversight only.

Repeated lookups of the same pseudonym without a case, searches that target protected channels,
reveal requests on people who filed protected disclosures, access outside working hours, bulk
exports. Each alert is raised once per (check, key).
"""

from __future__ import annotations

import re
from collections import defaultdict
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from custodes.oversight.policy import WEEKDAYS, Policy
from custodes.oversight.pseudonyms import Pseudonymiser
from custodes.oversight.tables import AccessEntryRow, WatcherAlertRow
from custodes.store.control import Control

READS = ("search", "events", "alert", "alerts", "export", "export-refused")
PSEUDONYM_IN_TEXT = re.compile(r"usr-[0-9a-f]{8}")


def findings(
    entries: list[AccessEntryRow], policy: Policy, pseudonyms: Pseudonymiser
) -> list[tuple[str, str, str, str, list[int]]]:
    """(check, key, actor, summary, entry seqs) for every finding over these entries."""
    found: list[tuple[str, str, str, str, list[int]]] = []
    lookups: dict[tuple[str, str], list[int]] = defaultdict(list)
    channel_names = [
        (
            channel.name,
            [
                name.lower()
                for name in (*channel.domains, *channel.emails, *channel.hosts, *channel.addresses)
            ],
        )
        for channel in policy.protected_channels
    ]
    disclosed = {pseudonyms.pseudonym(name) for name in policy.protected_disclosures}
    hours = policy.watchers.working_hours
    weekend = {WEEKDAYS.index(day) for day in hours.weekend_days}
    for entry in entries:
        where = str((entry.query or {}).get("where") or "")
        if entry.action in READS and not entry.case_id:
            for alias in set(PSEUDONYM_IN_TEXT.findall(where)):
                lookups[(entry.actor, alias)].append(entry.seq)
        for name, needles in channel_names:
            if any(needle in where.lower() for needle in needles):
                found.append(
                    (
                        "protected-channel-search",
                        f"{entry.seq}",
                        entry.actor,
                        f"{entry.actor} searched for the protected channel {name}",
                        [entry.seq],
                    )
                )
        subject = str((entry.details or {}).get("subject") or "")
        if entry.action == "reveal-request" and subject in disclosed:
            found.append(
                (
                    "reveal-on-discloser",
                    f"{entry.seq}",
                    entry.actor,
                    f"{entry.actor} asked to reveal {subject}, who filed a protected disclosure",
                    [entry.seq],
                )
            )
        at = entry.at.astimezone(UTC)
        if entry.action in READS and (
            at.weekday() in weekend or not hours.start <= at.time() < hours.end
        ):
            found.append(
                (
                    "outside-working-hours",
                    f"{entry.seq}",
                    entry.actor,
                    f"{entry.actor} read data at {at:%Y-%m-%d %H:%M} UTC",
                    [entry.seq],
                )
            )
        if entry.action in READS and entry.rows >= policy.watchers.bulk_export_rows:
            found.append(
                (
                    "bulk-export",
                    f"{entry.seq}",
                    entry.actor,
                    f"{entry.actor} took {entry.rows} events out ({entry.action})",
                    [entry.seq],
                )
            )
    for (actor, alias), seqs in lookups.items():
        if len(seqs) >= policy.watchers.repeated_lookups:
            found.append(
                (
                    "repeated-lookups",
                    f"{actor}:{alias}",
                    actor,
                    f"{actor} looked up {alias} {len(seqs)} times without a case",
                    seqs,
                )
            )
    return found


def run_watchers(
    control: Control, data_dir: Path, policy: Policy, *, now: datetime | None = None
) -> int:
    """Check the whole access ledger; store new alerts; returns how many were raised."""
    now = now or datetime.now(UTC)
    pseudonyms = Pseudonymiser.for_data_dir(data_dir, policy.identifiers)
    with control.session() as session:
        entries = list(
            session.execute(select(AccessEntryRow).order_by(AccessEntryRow.seq)).scalars()
        )
        known = {
            (check, key)
            for check, key in session.execute(select(WatcherAlertRow.check, WatcherAlertRow.key))
        }
    raised = 0
    for check, key, actor, summary, seqs in findings(entries, policy, pseudonyms):
        if (check, key) in known:
            continue
        known.add((check, key))
        try:
            with control.session() as session:
                session.add(
                    WatcherAlertRow(
                        check=check,
                        key=key,
                        actor=actor,
                        summary=summary,
                        entries=[str(seq) for seq in seqs],
                        raised_at=now,
                    )
                )
            raised += 1
        except IntegrityError:  # raised meanwhile by another process
            continue
    return raised


def list_watcher_alerts(control: Control, *, limit: int = 500) -> list[dict[str, Any]]:
    """The watchers' alerts, newest first."""
    with control.session() as session:
        rows = session.execute(
            select(WatcherAlertRow).order_by(WatcherAlertRow.id.desc()).limit(limit)
        ).scalars()
        return [
            {
                "id": row.id,
                "check": row.check,
                "actor": row.actor,
                "summary": row.summary,
                "entries": list(row.entries),
                "raised_at": row.raised_at.isoformat(),
            }
            for row in rows
        ]
