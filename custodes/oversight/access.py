"""THE one door: every read of event data by a person or an API client goes through `Door.read`.

It checks the policy (the actor's role may declare the purpose; a purpose that needs a case has
one), reads the lake, masks person identifiers with pseudonyms except the people the actor holds
an active grant for in that case, and appends an access-ledger entry (actor, time, purpose,
case, query, rows, pseudonyms revealed). Alerts with people in them go through `Door.read_alerts`,
evidence exports through `Door.authorise_export`.
"""

from __future__ import annotations

import threading
from collections.abc import Collection, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pyarrow as pa

from custodes.errors import PermissionDenied, QueryError
from custodes.events import EVENT_SCHEMA
from custodes.oversight.access_log import AccessEntry, append_entry
from custodes.oversight.grants import active_subjects
from custodes.oversight.policy import Policy, load_policy, policy_path
from custodes.oversight.pseudonyms import Pseudonymiser, reference_files
from custodes.store import search
from custodes.store.control import Control
from custodes.store.users import User

MAX_ROWS = 10_000
DEFAULT_PURPOSE = "security-monitoring"


@dataclass(frozen=True)
class EventQuery:
    """What to read: a search (since, until, where, limit) or events by id."""

    since: datetime | str | None = None
    until: datetime | str | None = None
    where: str | None = None
    limit: int = 100
    columns: Sequence[str] | None = None
    event_ids: Sequence[str] = ()
    around: tuple[datetime, datetime] | None = None
    kind: str = "search"  # search | events | alert | export

    def to_dict(self) -> dict[str, Any]:
        """The query as recorded in the access ledger (JSON-ready)."""
        recorded: dict[str, Any] = {"kind": self.kind, "limit": self.limit}
        for name in ("since", "until", "where"):
            value = getattr(self, name)
            if value is not None:
                recorded[name] = value.isoformat() if isinstance(value, datetime) else str(value)
        if self.event_ids:
            recorded["event_ids"] = len(self.event_ids)
        if self.columns:
            recorded["columns"] = list(self.columns)
        return recorded


@dataclass(frozen=True)
class AccessResult:
    """What the door handed out: the (masked) events, the ledger entry, who was shown in clear."""

    table: pa.Table
    entry_seq: int
    revealed: frozenset[str] = field(default_factory=frozenset)


def fetch(data_dir: Path, query: EventQuery, *, skip: Collection[str] = ()) -> pa.Table:
    """Read the lake for a query (the door's only reader). Columns in `skip` (those the door
    withholds) are not read at all: they come back empty."""
    limit = max(0, min(query.limit, MAX_ROWS))
    requested = list(query.columns) if query.columns else list(EVENT_SCHEMA.names)
    kept = [name for name in requested if name not in skip]
    columns = list(query.columns) if query.columns else None
    if kept and len(kept) < len(requested):
        columns = kept
    if query.event_ids:
        ids = list(dict.fromkeys(query.event_ids))[:limit]
        if not ids:
            return EVENT_SCHEMA.empty_table()
        quoted = ", ".join("'" + event_id.replace("'", "''") + "'" for event_id in ids)
        since: datetime | str | None = None
        until: datetime | str | None = None
        if query.around is not None:
            since, until = query.around[0] - timedelta(days=1), query.around[1] + timedelta(days=1)
        table = search(
            data_dir,
            since=since,
            until=until,
            where=f"event.id in ({quoted})",
            limit=len(ids),
            columns=columns,
        )
    else:
        table = search(
            data_dir,
            since=query.since,
            until=query.until,
            where=query.where,
            limit=limit,
            columns=columns,
        )
    return with_empty(table, requested)


def with_empty(table: pa.Table, names: list[str]) -> pa.Table:
    """The table with the named columns it lacks put back in place, empty."""
    for position, name in enumerate(names):
        if name not in table.column_names:
            is_core = name in EVENT_SCHEMA.names
            kind = EVENT_SCHEMA.field(name).type if is_core else pa.string()
            table = table.add_column(position, pa.field(name, kind), pa.nulls(len(table), kind))
    return table


class Door:
    """The one door of a data directory (thread-safe; reloads the policy and roster on change)."""

    def __init__(self, data_dir: Path, control: Control) -> None:
        self.data_dir = data_dir
        self.control = control
        self.lock = threading.Lock()
        self.stamp: tuple[float, ...] = ()
        self._policy: Policy | None = None
        self._pseudonyms: Pseudonymiser | None = None

    def _current_stamp(self) -> tuple[float, ...]:
        paths = (policy_path(self.data_dir), *reference_files(self.data_dir))
        return tuple(path.stat().st_mtime if path.exists() else 0.0 for path in paths)

    def state(self) -> tuple[Policy, Pseudonymiser]:
        """The policy and pseudonymiser in force (rebuilt when the policy or roster changed)."""
        with self.lock:
            stamp = self._current_stamp()
            if self._policy is None or self._pseudonyms is None or stamp != self.stamp:
                self._policy = load_policy(self.data_dir)
                self._pseudonyms = Pseudonymiser.for_data_dir(
                    self.data_dir, self._policy.identifiers
                )
                self.stamp = stamp
            return self._policy, self._pseudonyms

    @property
    def policy(self) -> Policy:
        """The policy in force."""
        return self.state()[0]

    def authorise(self, actor: User, purpose: str, case_id: str | None) -> Policy:
        """Refuse a purpose the actor's role may not declare, or a missing case."""
        policy = self.policy
        rule = policy.purposes.get(purpose)
        if rule is None:
            known = ", ".join(sorted(policy.purposes))
            raise QueryError(f"unknown purpose {purpose!r} (the policy has: {known})")
        if actor.role.value not in rule.roles:
            raise PermissionDenied(f"role {actor.role.value!r} may not read for {purpose!r}")
        if rule.needs_case and not case_id:
            raise PermissionDenied(f"purpose {purpose!r} needs a case id")
        return policy

    def read(
        self,
        actor: User,
        purpose: str,
        request: EventQuery,
        case_id: str | None = None,
        *,
        now: datetime | None = None,
    ) -> AccessResult:
        """Events for `actor`, masked unless granted, recorded in the access ledger."""
        self.authorise(actor, purpose, case_id)
        policy, pseudonyms = self.state()
        withhold = case_id is None
        skip = policy.identifiers.withheld if withhold else ()
        table = fetch(self.data_dir, request, skip=skip)
        allowed = active_subjects(self.control, actor.name, case_id, now=now)
        query = request.to_dict()

        def record(revealed: frozenset[str]) -> int:
            return self.record(
                actor, request.kind, purpose, case_id, query, table.num_rows, revealed, now=now
            )

        if allowed:
            masked = pseudonyms.mask(table, allowed, withhold=withhold)
            return AccessResult(masked.table, record(masked.revealed), masked.revealed)
        # Nobody is shown in clear, so the entry is known before masking: it is written while
        # the table is masked, and both are done before anything is handed out.
        with ThreadPoolExecutor(max_workers=1, thread_name_prefix="access-ledger") as writer:
            pending = writer.submit(record, frozenset())
            masked = pseudonyms.mask(table, allowed, withhold=withhold)
            entry = pending.result()
        return AccessResult(masked.table, entry, masked.revealed)

    def read_alerts(
        self,
        actor: User,
        purpose: str,
        alerts: list[dict[str, Any]],
        case_id: str | None = None,
        *,
        query: dict[str, Any] | None = None,
        now: datetime | None = None,
    ) -> list[dict[str, Any]]:
        """Alert dicts with `user_name`, title and description masked; recorded."""
        self.authorise(actor, purpose, case_id)
        _policy, pseudonyms = self.state()
        table = pa.table(
            {
                "user.name": pa.array([a.get("user_name") for a in alerts], pa.string()),
                "message": pa.array([a.get("description") for a in alerts], pa.string()),
            }
        )
        allowed = active_subjects(self.control, actor.name, case_id, now=now)
        masked = pseudonyms.mask(table, allowed)
        names = masked.table.column("user.name").to_pylist()
        texts = masked.table.column("message").to_pylist()
        shown = [
            {**alert, "user_name": name, "description": text}
            for alert, name, text in zip(alerts, names, texts, strict=True)
        ]
        self.record(
            actor,
            "alerts",
            purpose,
            case_id,
            {"kind": "alerts", **(query or {})},
            len(shown),
            masked.revealed,
            now=now,
        )
        return shown

    def authorise_export(
        self,
        actor: User,
        purpose: str,
        case_id: str | None,
        table: pa.Table,
        *,
        query: dict[str, Any] | None = None,
        now: datetime | None = None,
    ) -> None:
        """An evidence package holds events as stored (its proofs need them): allow it only for
        a case whose every person the actor holds a grant for; recorded either way."""
        self.authorise(actor, purpose, case_id)
        _policy, pseudonyms = self.state()
        allowed = active_subjects(self.control, actor.name, case_id, now=now)
        masked = pseudonyms.mask(table, allowed)
        if masked.masked:
            self.record(
                actor,
                "export-refused",
                purpose,
                case_id,
                query or {},
                table.num_rows,
                masked.revealed,
                now=now,
            )
            missing = ", ".join(sorted(masked.masked)[:5])
            raise PermissionDenied(
                f"an evidence export shows people in clear: request a reveal for {missing}"
                + (" ..." if len(masked.masked) > 5 else "")
            )
        self.record(
            actor, "export", purpose, case_id, query or {}, table.num_rows, masked.revealed, now=now
        )

    def record(
        self,
        actor: User,
        action: str,
        purpose: str | None,
        case_id: str | None,
        query: dict[str, Any],
        rows: int,
        revealed: frozenset[str],
        *,
        now: datetime | None = None,
    ) -> int:
        """Append one access entry; returns its sequence number."""
        row = append_entry(
            self.control,
            self.data_dir,
            AccessEntry(
                actor=actor.name,
                role=actor.role.value,
                action=action,
                purpose=purpose,
                case_id=case_id,
                query=query,
                rows=rows,
                revealed=tuple(sorted(revealed)),
            ),
            now=now or datetime.now(UTC),
        )
        return row.seq


def read(
    door: Door,
    actor: User,
    purpose: str,
    request: EventQuery,
    case_id: str | None = None,
) -> AccessResult:
    """`door.read(...)`: the one function every person's read of event data goes through."""
    return door.read(actor, purpose, request, case_id)
