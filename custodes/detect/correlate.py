"""Correlation across batches: hits of referenced rules -> correlation matches, state in the DB.

`Correlator.process(batch, hits)` turns the hits of the rules the correlations name into
entries per group (the group-by values of each event), advances each group's time window and
returns the matches. Its state is loaded from and saved to the `correlation_state` table
(`correlation_state.py`) inside the caller's transaction, so a restarted process (a new
Correlator) carries on where the last one stopped, and the state never runs ahead of the
alerts that were stored.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Protocol

import pyarrow as pa
import pyarrow.compute as pc
from sqlalchemy.orm import Session

from custodes.detect.correlation_state import GroupState, load_states, save_states
from custodes.detect.correlations import Correlation
from custodes.detect.windows import MICROS, Entry, Window, slide, tumble
from custodes.events import CORE_NAMES, FIELDS_COLUMN, Alert

#: How long after a window's end events may still arrive before a tumbling window is closed.
ALLOWED_LATENESS_SECS = 60
#: Bounds on remembered state (oldest dropped first); a threshold above it cannot be reached.
MAX_ENTRIES_PER_GROUP = 10_000
MAX_GROUPS_PER_CORRELATION = 100_000

#: Events arriving in one batch, per group-by values.
Arrivals = dict[tuple[str | None, ...], list[Entry]]

#: Where a Sigma field of a rule's events is read: (rule id, field) -> columns, first present wins.
FieldSources = Callable[[str, str], tuple[str, ...]]


class RuleHit(Protocol):
    """What the correlator needs of a matcher hit: the rule's id and the matched row indices."""

    @property
    def rule(self) -> Any: ...

    @property
    def rows(self) -> pa.Array: ...


def same_name(rule_id: str, name: str) -> tuple[str, ...]:
    """The default field sources: the field under its own name (core column or fields map)."""
    return (name,)


def read_field(batch: pa.RecordBatch, rows: pa.Array, sources: Sequence[str]) -> list[str | None]:
    """The values of a field at `rows`, from the first source that has one per row."""
    arrays = []
    for name in sources:
        if name in CORE_NAMES and name in batch.schema.names:
            arrays.append(batch.column(name).take(rows).cast(pa.string()))
        elif FIELDS_COLUMN in batch.schema.names:
            arrays.append(pc.map_lookup(batch.column(FIELDS_COLUMN).take(rows), name, "first"))
    if not arrays:
        return [None] * len(rows)
    merged = arrays[0] if len(arrays) == 1 else pc.coalesce(*arrays)
    return list(merged.to_pylist())


@dataclass(frozen=True, slots=True)
class CorrelationMatch:
    """A correlation that fired for one group: its measure and every contributing event."""

    correlation: Correlation
    group: dict[str, str | None]
    value: float
    first_us: int
    last_us: int
    event_ids: tuple[str, ...]
    host: str | None = None
    user: str | None = None

    def to_alert(self) -> Alert:
        """The alert this match raises (kind `correlation`)."""
        rule = self.correlation
        return Alert(
            rule_id=rule.id,
            title=rule.title,
            level=rule.level or "medium",
            event_ids=self.event_ids,
            first_seen_at=datetime.fromtimestamp(self.first_us / MICROS, UTC),
            last_seen_at=datetime.fromtimestamp(self.last_us / MICROS, UTC),
            author=rule.author,
            tags=rule.tags,
            kind="correlation",
            host_name=self.host,
            user_name=self.user,
            count=len(self.event_ids),
            description=rule.description,
            details={
                "correlation_type": rule.type,
                "group_by": self.group,
                "timespan_secs": rule.timespan_secs,
                "value": self.value,
                "rules": list(rule.inputs),
            },
        )


def _only(values: Iterable[str | None]) -> str | None:
    """The one value all entries share (None when any differs or is unknown)."""
    distinct = set(values)
    return distinct.pop() if len(distinct) == 1 else None


class Correlator:
    """Runs correlations over consecutive batches; state lives in memory and the control DB."""

    def __init__(
        self, correlations: Sequence[Correlation], *, field_sources: FieldSources = same_name
    ) -> None:
        self.correlations = list(correlations)  # in dependency order (see load_correlations)
        self.by_id = {correlation.id: correlation for correlation in self.correlations}
        self.field_sources = field_sources
        self.states: dict[tuple[str, str], GroupState] = {}
        self.watermark_us: int | None = None
        self.dirty: set[tuple[str, str]] = set()

    @property
    def referenced_rules(self) -> set[str]:
        """Ids of the base rules whose hits the correlations read."""
        names = {name for correlation in self.correlations for name in correlation.inputs}
        return names - set(self.by_id)

    @property
    def silenced_rules(self) -> set[str]:
        """Rules that raise no alert of their own (named by a correlation with generate: false)."""
        return {
            name
            for correlation in self.correlations
            if not correlation.generate
            for name in correlation.inputs
        }

    def load(self, session: Session) -> None:
        """Read the state saved by an earlier process."""
        self.states, self.watermark_us = load_states(session, list(self.by_id))

    def save(self, session: Session, now: datetime) -> None:
        """Write the groups changed since the last save (deleting the emptied ones)."""
        if self.dirty:
            save_states(session, self.states, self.dirty, self.watermark_us, now)
            self.dirty.clear()

    def settle(self) -> None:
        """Without a database (a hunt): forget the emptied groups, as `save` would."""
        for key in self.dirty:
            if key in self.states and not self.states[key].entries:
                del self.states[key]
        self.dirty.clear()

    def process(self, batch: pa.RecordBatch, hits: Sequence[RuleHit]) -> list[CorrelationMatch]:
        """Feed one batch's hits to every correlation; return the matches, inputs first."""
        if not self.correlations:
            return []
        times = batch.column("@timestamp").cast(pa.int64()) if batch.num_rows else None
        newest = pc.max(times).as_py() if times is not None else None
        if newest is not None and (self.watermark_us is None or newest > self.watermark_us):
            self.watermark_us = newest
        hits_by_rule: dict[str, list[RuleHit]] = {}
        for hit in hits:
            hits_by_rule.setdefault(hit.rule.id, []).append(hit)
        produced: dict[str, list[CorrelationMatch]] = {}
        matches: list[CorrelationMatch] = []
        for correlation in self.correlations:
            arrivals: Arrivals = {}
            for index, name in enumerate(correlation.inputs):
                if name in self.by_id:
                    self._add_matches(correlation, index, produced.get(name, []), arrivals)
                for hit in hits_by_rule.get(name, []):
                    self._add_hit(correlation, index, batch, hit, arrivals)
            found = self._advance(correlation, arrivals)
            produced[correlation.id] = found
            matches.extend(found)
        return matches

    def _add_hit(
        self,
        correlation: Correlation,
        index: int,
        batch: pa.RecordBatch,
        hit: RuleHit,
        arrivals: Arrivals,
    ) -> None:
        rows = hit.rows
        name = correlation.inputs[index]
        columns = [
            read_field(batch, rows, self.field_sources(name, correlation.field_for(group, name)))
            for group in correlation.group_by
        ]
        values: list[str | None] = [None] * len(rows)
        if correlation.value_field:
            field_name = correlation.field_for(correlation.value_field, name)
            values = read_field(batch, rows, self.field_sources(name, field_name))
        times = batch.column("@timestamp").take(rows).cast(pa.int64()).to_pylist()
        ids = batch.column("event.id").take(rows).to_pylist()
        hosts = read_field(batch, rows, ("host.name",))
        users = read_field(batch, rows, ("user.name",))
        keys = list(zip(*columns, strict=True)) if columns else [()] * len(times)
        for position, at_us in enumerate(times):
            if at_us is None:
                continue  # an event without a time cannot be placed in a window
            entry = Entry(
                index, at_us, at_us, (str(ids[position]),), values[position],
                hosts[position], users[position],
            )  # fmt: skip
            arrivals.setdefault(keys[position], []).append(entry)

    def _add_matches(
        self,
        correlation: Correlation,
        index: int,
        matches: Sequence[CorrelationMatch],
        arrivals: Arrivals,
    ) -> None:
        name = correlation.inputs[index]
        for match in matches:
            key = tuple(
                match.group.get(correlation.field_for(g, name)) for g in correlation.group_by
            )
            entry = Entry(
                index, match.last_us, match.first_us, match.event_ids, None, match.host, match.user
            )
            arrivals.setdefault(key, []).append(entry)

    def _advance(
        self,
        correlation: Correlation,
        arrivals: Arrivals,
    ) -> list[CorrelationMatch]:
        found: list[CorrelationMatch] = []
        for values, entries in arrivals.items():
            key = json.dumps(list(values))
            state = self.states.get((correlation.id, key))
            if state is None:
                group = dict(zip(correlation.group_by, values, strict=True))
                state = self.states[(correlation.id, key)] = GroupState(group)
            known = {(entry.input, entry.event_ids) for entry in state.entries}
            fresh = [entry for entry in entries if (entry.input, entry.event_ids) not in known]
            if not fresh:
                continue
            state.entries = sorted([*state.entries, *fresh], key=lambda e: (e.at_us, e.input))
            state.entries = state.entries[-MAX_ENTRIES_PER_GROUP:]
            self.dirty.add((correlation.id, key))
            if correlation.is_monotone:
                windows, state.entries = slide(correlation, state.entries)
                found.extend(self._match(correlation, state, window) for window in windows)
        if not correlation.is_monotone and self.watermark_us is not None:
            found.extend(self._close_windows(correlation))
        self._evict(correlation)
        return found

    def _close_windows(self, correlation: Correlation) -> list[CorrelationMatch]:
        found: list[CorrelationMatch] = []
        lateness_us = ALLOWED_LATENESS_SECS * MICROS
        for key, state in list(self.states.items()):
            if key[0] != correlation.id or not state.entries:
                continue
            until = max(state.entries[-1].at_us, (self.watermark_us or 0) - lateness_us)
            windows, state.entries, state.start_us = tumble(
                correlation, state.entries, state.start_us, until
            )
            if windows:
                self.dirty.add(key)
                found.extend(self._match(correlation, state, window) for window in windows)
        return found

    def _evict(self, correlation: Correlation) -> None:
        keys = [key for key in self.states if key[0] == correlation.id]
        if len(keys) <= MAX_GROUPS_PER_CORRELATION:
            return
        keys.sort(key=lambda k: self.states[k].entries[-1].at_us if self.states[k].entries else 0)
        for key in keys[: len(keys) - MAX_GROUPS_PER_CORRELATION]:
            self.states[key].entries = []
            self.dirty.add(key)

    def _match(
        self, correlation: Correlation, state: GroupState, window: Window
    ) -> CorrelationMatch:
        entries = window.entries
        ids = tuple(dict.fromkeys(event_id for entry in entries for event_id in entry.event_ids))
        return CorrelationMatch(
            correlation=correlation,
            group=dict(state.group),
            value=window.value,
            first_us=min(entry.first_us for entry in entries),
            last_us=max(entry.at_us for entry in entries),
            event_ids=ids,
            host=_only(entry.host for entry in entries),
            user=_only(entry.user for entry in entries),
        )
