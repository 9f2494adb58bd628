"""The vocabulary every stage speaks: the event schema, raw records, parse failures, alerts.

An event is one row of `EVENT_SCHEMA`: typed core columns named after ECS, the record exactly
as it arrived (`event.original`) and the source's own fields kept in one `fields` map
(`map<string, string>`), so a Sigma rule naming `CommandLine` or `TargetUserName` still matches.
docs/architecture.md gives the measurements behind the map.
"""

from __future__ import annotations

import hashlib
from bisect import bisect_left, bisect_right
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import overload

import pyarrow as pa

TIMESTAMP = pa.timestamp("us", tz="UTC")

#: Core columns: (name, Arrow type). Every parser fills what it understands; the rest are null.
CORE_COLUMNS: tuple[tuple[str, pa.DataType], ...] = (
    ("@timestamp", TIMESTAMP),
    ("event.id", pa.string()),
    ("event.dataset", pa.string()),
    ("event.module", pa.string()),
    ("event.code", pa.string()),
    ("event.kind", pa.string()),
    ("event.category", pa.string()),
    ("event.action", pa.string()),
    ("event.outcome", pa.string()),
    ("event.severity", pa.int32()),
    ("log.file.path", pa.string()),
    ("log.offset", pa.int64()),
    ("host.name", pa.string()),
    ("host.ip", pa.string()),
    ("user.name", pa.string()),
    ("user.domain", pa.string()),
    ("user.id", pa.string()),
    ("user.target.name", pa.string()),
    ("source.ip", pa.string()),
    ("source.port", pa.int32()),
    ("destination.ip", pa.string()),
    ("destination.port", pa.int32()),
    ("destination.domain", pa.string()),
    ("network.transport", pa.string()),
    ("network.bytes", pa.int64()),
    ("process.pid", pa.int64()),
    ("process.name", pa.string()),
    ("process.executable", pa.string()),
    ("process.command_line", pa.string()),
    ("process.entity_id", pa.string()),
    ("process.parent.pid", pa.int64()),
    ("process.parent.executable", pa.string()),
    ("process.parent.command_line", pa.string()),
    ("process.parent.entity_id", pa.string()),
    ("winlog.channel", pa.string()),
    ("winlog.provider_name", pa.string()),
    ("winlog.record_id", pa.int64()),
    ("winlog.logon.id", pa.string()),
    ("url.original", pa.string()),
    ("http.request.method", pa.string()),
    ("http.response.status_code", pa.int32()),
    ("user_agent.original", pa.string()),
    ("file.path", pa.string()),
    ("device.id", pa.string()),
    ("message", pa.string()),
    ("event.original", pa.string()),
)

FIELDS_COLUMN = "fields"
FIELDS_TYPE = pa.map_(pa.string(), pa.string())

EVENT_SCHEMA = pa.schema(
    [pa.field(name, kind) for name, kind in CORE_COLUMNS] + [pa.field(FIELDS_COLUMN, FIELDS_TYPE)]
)
CORE_NAMES: frozenset[str] = frozenset(name for name, _ in CORE_COLUMNS)


def event_id(origin: str, position: int, data: bytes) -> str:
    """Deterministic id of a record: the same bytes from the same place always get the same id.

    `origin` names where the record came from (a file path; empty for network sources, whose
    records are identified by their content alone), `position` its place there.
    """
    digest = hashlib.blake2b(digest_size=16)
    digest.update(origin.encode())
    digest.update(position.to_bytes(8, "little", signed=True))
    digest.update(data)
    return digest.hexdigest()


@dataclass(frozen=True, slots=True)
class RawRecord:
    """One record as a source received it, before any parsing."""

    data: bytes
    source: str = ""
    origin: str = ""
    position: int = 0
    format: str | None = None
    received_at: datetime | None = None
    context: str | None = None  # what a format needs beside the record, e.g. a Zeek TSV header

    @property
    def id(self) -> str:
        """The deterministic event id this record gets (see `event_id`)."""
        return event_id(self.origin, self.position, self.data)


@dataclass(frozen=True, slots=True)
class Provenance:
    """What records read together share: all of a `RawRecord` but its bytes and position."""

    source: str = ""
    origin: str = ""
    format: str | None = None
    received_at: datetime | None = None
    context: str | None = None


class RawBatch(Sequence[RawRecord]):
    """Raw records as columns: bytes and position per record, a `Provenance` per run of them.

    What a reader hands on instead of one `RawRecord` per line (the object costs more than
    reading the line). Runs are consecutive records sharing one provenance (`starts` holds the
    first index of each). Indexing or iterating still gives `RawRecord`s, built on demand.
    """

    __slots__ = ("datas", "positions", "provenances", "starts")

    def __init__(
        self,
        datas: list[bytes] | None = None,
        positions: list[int] | None = None,
        provenance: Provenance | None = None,
    ) -> None:
        self.datas: list[bytes] = datas if datas is not None else []
        self.positions: list[int] = positions if positions is not None else [0] * len(self.datas)
        self.starts: list[int] = [0] if self.datas else []
        self.provenances: list[Provenance] = [provenance or Provenance()] if self.datas else []

    @classmethod
    def of(cls, records: Sequence[RawRecord]) -> RawBatch:
        """The records as a batch (a batch is returned as it is)."""
        if isinstance(records, RawBatch):
            return records
        batch = cls()
        last: tuple[object, ...] | None = None
        for record in records:
            shared = (
                record.source,
                record.origin,
                record.format,
                record.received_at,
                record.context,
            )
            if shared != last:
                batch.starts.append(len(batch.datas))
                batch.provenances.append(Provenance(*shared))
                last = shared
            batch.datas.append(record.data)
            batch.positions.append(record.position)
        return batch

    def runs(self) -> Iterator[tuple[int, int, Provenance]]:
        """Each run as (first index, end index, provenance)."""
        ends = [*self.starts[1:], len(self.datas)] if self.starts else []
        return zip(self.starts, ends, self.provenances, strict=True)

    def extend(self, other: RawBatch) -> None:
        """Append another batch's records (a run continuing the last one is merged into it)."""
        offset = len(self.datas)
        self.datas.extend(other.datas)
        self.positions.extend(other.positions)
        for start, provenance in zip(other.starts, other.provenances, strict=True):
            if start == 0 and self.provenances and self.provenances[-1] == provenance:
                continue
            self.starts.append(offset + start)
            self.provenances.append(provenance)

    def take(self, indices: Sequence[int]) -> RawBatch:
        """The records at these indices, which must be ascending."""
        if isinstance(indices, range) and indices.step == 1:
            taken = RawBatch(self.datas[indices.start : indices.stop])
            taken.positions = self.positions[indices.start : indices.stop]
        else:
            taken = RawBatch([self.datas[index] for index in indices])
            taken.positions = [self.positions[index] for index in indices]
        taken.starts, taken.provenances, at = [], [], 0
        for _, end, provenance in self.runs():
            cut = bisect_left(indices, end, at)
            if cut > at:
                taken.starts.append(at)
                taken.provenances.append(provenance)
            at = cut
        return taken

    def __len__(self) -> int:
        return len(self.datas)

    def __iter__(self) -> Iterator[RawRecord]:
        for start, end, run in self.runs():
            for data, position in zip(
                self.datas[start:end], self.positions[start:end], strict=True
            ):
                yield RawRecord(
                    data, run.source, run.origin, position, run.format, run.received_at, run.context
                )

    @overload
    def __getitem__(self, index: int) -> RawRecord: ...

    @overload
    def __getitem__(self, index: slice) -> RawBatch: ...

    def __getitem__(self, index: int | slice) -> RawRecord | RawBatch:
        if isinstance(index, slice):
            picked = range(len(self.datas))[index]
            if picked.step > 0:
                return self.take(picked)
            return RawBatch.of([self[at] for at in picked])
        if index < 0:
            index += len(self.datas)
        if not 0 <= index < len(self.datas):
            raise IndexError("RawBatch index out of range")
        run = self.provenances[bisect_right(self.starts, index) - 1]
        return RawRecord(
            self.datas[index],
            run.source,
            run.origin,
            self.positions[index],
            run.format,
            run.received_at,
            run.context,
        )


@dataclass(frozen=True, slots=True)
class ParseFailure:
    """A record no parser could read: kept with its bytes, the parser tried and the reason."""

    record: RawRecord
    parser: str
    reason: str


@dataclass(frozen=True, slots=True)
class Alert:
    """A detection: a rule or check that fired, pointing at the stored events that made it fire."""

    rule_id: str
    title: str
    level: str
    event_ids: tuple[str, ...]
    first_seen_at: datetime
    last_seen_at: datetime
    author: str = ""
    tags: tuple[str, ...] = ()
    kind: str = "sigma"
    host_name: str | None = None
    user_name: str | None = None
    count: int = 1
    description: str = ""
    details: dict[str, object] = field(default_factory=dict)
