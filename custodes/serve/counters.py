"""Per-source counters kept in one place: what /metrics and the sources page show."""

from __future__ import annotations

import bisect
from dataclasses import dataclass, field
from typing import Any

#: Upper bounds (seconds) of the ack latency histogram buckets, Prometheus style.
LATENCY_BUCKETS_SECS: tuple[float, ...] = (
    0.005,
    0.01,
    0.025,
    0.05,
    0.1,
    0.25,
    0.5,
    1.0,
    2.5,
    5.0,
    10.0,
)


@dataclass
class LatencyHistogram:
    """Ack latencies (received to committed) in fixed buckets, plus their sum and count."""

    counts: list[int] = field(default_factory=lambda: [0] * (len(LATENCY_BUCKETS_SECS) + 1))
    total_secs: float = 0.0
    count: int = 0

    def observe(self, secs: float, times: int = 1) -> None:
        """Record `times` acks that each took `secs`."""
        self.counts[bisect.bisect_left(LATENCY_BUCKETS_SECS, secs)] += times
        self.total_secs += secs * times
        self.count += times

    def quantile(self, q: float) -> float:
        """Upper bound of the bucket holding the q-quantile (inf when beyond the last bucket)."""
        if self.count == 0:
            return 0.0
        rank = q * self.count
        seen = 0
        for bound, count in zip((*LATENCY_BUCKETS_SECS, float("inf")), self.counts, strict=True):
            seen += count
            if seen >= rank:
                return bound
        return float("inf")

    def to_dict(self) -> dict[str, Any]:
        """Cumulative buckets (`le` -> count), sum and count, as Prometheus exposes them."""
        cumulative: dict[str, int] = {}
        running = 0
        for bound, count in zip((*LATENCY_BUCKETS_SECS, float("inf")), self.counts, strict=True):
            running += count
            cumulative["+Inf" if bound == float("inf") else repr(bound)] = running
        return {"buckets": cumulative, "sum_secs": self.total_secs, "count": self.count}


@dataclass
class SourceCounters:
    """What one source received, stored, quarantined, dropped and had refused (429)."""

    kind: str = ""
    received: int = 0
    stored: int = 0
    quarantined: int = 0
    dropped: int = 0
    rejected: int = 0
    failed: int = 0
    ack_latency: LatencyHistogram = field(default_factory=LatencyHistogram)
    drop_reasons: dict[str, int] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        """Plain data for JSON and templates."""
        return {
            "kind": self.kind,
            "received": self.received,
            "stored": self.stored,
            "quarantined": self.quarantined,
            "dropped": self.dropped,
            "rejected": self.rejected,
            "failed": self.failed,
            "drop_reasons": dict(self.drop_reasons),
            "ack_latency": self.ack_latency.to_dict(),
        }


@dataclass
class Counters:
    """Every source's counters plus the queue; one object per service, read by the API.

    >>> counters = Counters()
    >>> counters.source("firewalls", kind="syslog-udp").received += 3
    >>> counters.to_dict()["sources"]["firewalls"]["received"]
    3
    """

    sources: dict[str, SourceCounters] = field(default_factory=dict)
    queue_depth: int = 0
    queue_max_events: int = 0
    batches: int = 0
    batch_errors: int = 0
    last_error: str = ""

    def source(self, name: str, *, kind: str = "") -> SourceCounters:
        """The counters of one source, created on first use."""
        counters = self.sources.get(name)
        if counters is None:
            counters = self.sources[name] = SourceCounters(kind=kind)
        elif kind and not counters.kind:
            counters.kind = kind
        return counters

    def to_dict(self) -> dict[str, Any]:
        """A snapshot as plain data: `{"queue": {...}, "sources": {name: {...}}}`."""
        return {
            "queue": {
                "depth": self.queue_depth,
                "max_events": self.queue_max_events,
                "batches": self.batches,
                "batch_errors": self.batch_errors,
                "last_error": self.last_error,
            },
            "sources": {name: counters.to_dict() for name, counters in self.sources.items()},
        }
