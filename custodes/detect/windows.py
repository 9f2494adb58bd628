"""Time windows of one correlation group: which entries make a match, and when.

An entry is one contributing occurrence: an event matched by a base rule, or a match of another
correlation (then it carries all that match's events). A monotone condition (gt/gte, extended
conditions without `not`) is checked on a sliding window ending at each entry and reported at
once; any other is checked on a tumbling window when time has passed its end. After a match
its entries are consumed, so one burst raises one alert.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from typing import NamedTuple

from custodes.detect.correlations import Correlation, evaluate_expression

MICROS = 1_000_000


class Entry(NamedTuple):
    """One occurrence feeding a correlation group (times in microseconds since the epoch)."""

    input: int
    at_us: int
    first_us: int
    event_ids: tuple[str, ...]
    value: str | None = None
    host: str | None = None
    user: str | None = None

    @classmethod
    def from_json(cls, item: Sequence[object]) -> Entry:
        """An entry from its stored JSON list."""
        index, at_us, first_us, ids, value, host, user = item
        return cls(
            int(str(index)),
            int(str(at_us)),
            int(str(first_us)),
            tuple(str(x) for x in ids) if isinstance(ids, list) else (),
            None if value is None else str(value),
            None if host is None else str(host),
            None if user is None else str(user),
        )

    def to_json(self) -> list[object]:
        """The JSON list stored in correlation_state."""
        return [self.input, self.at_us, self.first_us, list(self.event_ids), *self[4:]]


def ordered_chain(correlation: Correlation, window: Sequence[Entry]) -> list[Entry]:
    """The earliest chain of entries whose inputs come in the rule's order (greedy is optimal)."""
    chain: list[Entry] = []
    for entry in window:
        if len(chain) < len(correlation.inputs) and entry.input == len(chain):
            chain.append(entry)
    return chain


def measure(correlation: Correlation, window: Sequence[Entry]) -> tuple[float, list[Entry]]:
    """The value the condition tests on a window, and the entries that contribute to it."""
    if correlation.type == "event_count":
        return float(len(window)), list(window)
    if correlation.type == "value_count":
        values = {entry.value for entry in window if entry.value is not None}
        return float(len(values)), list(window)
    if correlation.type == "temporal_ordered":
        chain = ordered_chain(correlation, window)
        return float(len(chain)), chain
    return float(len({entry.input for entry in window})), list(window)


def holds(correlation: Correlation, window: Sequence[Entry]) -> tuple[bool, float, list[Entry]]:
    """Whether a window satisfies the correlation; with its measure and contributing entries."""
    value, contributing = measure(correlation, window)
    if correlation.expression is not None:
        present = {entry.input for entry in window}
        return evaluate_expression(correlation.expression, present), value, contributing
    return correlation.threshold.holds(value), value, contributing


class Window(NamedTuple):
    """A satisfied window: its measure and the entries behind it."""

    value: float
    entries: list[Entry]


class _Tracker:
    """Counts of the current sliding window, kept up to date as entries enter and leave."""

    def __init__(self, correlation: Correlation) -> None:
        self.correlation = correlation
        self.size = 0
        self.values: Counter[str] = Counter()
        self.inputs: Counter[int] = Counter()

    def add(self, entry: Entry) -> None:
        self.size += 1
        self.inputs[entry.input] += 1
        if entry.value is not None:
            self.values[entry.value] += 1

    def remove(self, entry: Entry) -> None:
        self.size -= 1
        self.inputs[entry.input] -= 1
        if self.inputs[entry.input] == 0:
            del self.inputs[entry.input]
        if entry.value is not None:
            self.values[entry.value] -= 1
            if self.values[entry.value] == 0:
                del self.values[entry.value]

    def may_hold(self) -> bool:
        """A cheap test before the full one (exact for the counting types)."""
        kind = self.correlation.type
        if self.correlation.expression is not None:
            return evaluate_expression(self.correlation.expression, set(self.inputs))
        if kind == "event_count":
            return self.correlation.threshold.holds(self.size)
        if kind == "value_count":
            return self.correlation.threshold.holds(len(self.values))
        return self.correlation.threshold.holds(len(self.inputs))


def slide(correlation: Correlation, entries: list[Entry]) -> tuple[list[Window], list[Entry]]:
    """Matches of a monotone condition over time-sorted entries, and the entries left over."""
    span_us = correlation.timespan_secs * MICROS
    found: list[Window] = []
    tracker = _Tracker(correlation)
    start = 0
    for end, entry in enumerate(entries):
        tracker.add(entry)
        while entry.at_us - entries[start].at_us > span_us:
            tracker.remove(entries[start])
            start += 1
        if not tracker.may_hold():
            continue
        ok, value, contributing = holds(correlation, entries[start : end + 1])
        if ok:
            found.append(Window(value, contributing))
            tracker = _Tracker(correlation)
            start = end + 1
    left = entries[start:]
    if left:
        newest = left[-1].at_us
        left = [entry for entry in left if newest - entry.at_us <= span_us]
    return found, left


def tumble(
    correlation: Correlation, entries: list[Entry], start_us: int | None, until_us: int
) -> tuple[list[Window], list[Entry], int | None]:
    """Close every window that ended before `until_us`; the entries left and the open window."""
    span_us = correlation.timespan_secs * MICROS
    found: list[Window] = []
    if entries and start_us is None:
        start_us = entries[0].at_us
    while entries and start_us is not None and start_us + span_us < until_us:
        end_us = start_us + span_us
        window = [entry for entry in entries if entry.at_us <= end_us]
        entries = [entry for entry in entries if entry.at_us > end_us]
        if window:
            ok, value, contributing = holds(correlation, window)
            if ok:
                found.append(Window(value, contributing))
        start_us = entries[0].at_us if entries else None
    return found, entries, start_us if entries else None
