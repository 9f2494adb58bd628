"""Raw records in, one event batch and a list of parse failures out. Pure: no I/O, no clock."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Protocol

import numpy as np
import pyarrow as pa

from custodes.errors import ParseError
from custodes.events import EVENT_SCHEMA, ParseFailure, Provenance, RawBatch, RawRecord
from custodes.normalise.batch import build_batch, empty_batch
from custodes.normalise.fields import timestamp_array

#: Fewer records than this are not worth a group read.
MIN_GROUP = 64
#: The format a file reader gives records of a file no reader understands (see ingest.files).
UNSUPPORTED = "unsupported"
#: Consecutive records (first index, end index) that go to one parser (None: to quarantine).
Span = tuple[int, int, "Parser | None"]


class Parser(Protocol):
    """Reads one record of one format into a row of the event schema.

    Optional attributes the `Normaliser` uses: `first_bytes` (the first bytes this parser's
    records can start with), `first_byte_decides` (True when `accepts` takes exactly the records
    starting with one of `first_bytes`, so a run of them is given over without asking each)
    and `parse_group(records: RawBatch)` (reads many records at once; see `JsonParser`).
    """

    name: str

    def accepts(self, record: RawRecord) -> bool:
        """Cheap test whether this record looks like this parser's format; never raises."""
        ...

    def parse(self, record: RawRecord) -> dict[str, Any]:
        """Core columns by name plus `fields` (the source's own, as strings); raises ParseError."""
        ...


class Normaliser:
    """Tries the parsers in order on each record; the first that accepts reads it.

    A record whose `format` names a parser goes straight to that parser. A parser may declare
    `first_bytes` (the first bytes its records can start with): it is then not even asked about
    records that start otherwise, which keeps the JSON path short. A `RawBatch` is handled a run
    at a time where the run's format or first byte decides its parser: no object per record.
    """

    def __init__(self, parsers: Sequence[Parser]) -> None:
        self.parsers = list(parsers)
        self.by_name: dict[str, Parser] = {}
        for parser in self.parsers:  # a parser's flavours (see JsonParser) are named too
            for named in (parser, *getattr(parser, "flavours", ())):
                self.by_name.setdefault(named.name, named)
        self.by_first_byte = [
            [parser for parser in self.parsers if may_start_with(parser, byte)]
            for byte in range(257)  # 256: the empty record
        ]

    def choose(self, record: RawRecord) -> Parser | None:
        """The parser for this record, or None when no parser accepts it."""
        if record.format is not None and record.format != "auto":
            return self.by_name.get(record.format)
        data = record.data
        for parser in self.by_first_byte[data[0] if data else 256]:
            if parser.accepts(record):
                return parser
        return None

    def choose_spans(self, records: Sequence[RawRecord]) -> list[Span]:
        """The parser of every record, as spans of consecutive records with the same parser."""
        spans: list[Span] = []
        if isinstance(records, RawBatch):
            for start, end, provenance in records.runs():
                decided, parser = self.run_parser(records.datas[start:end], provenance)
                if decided:
                    spans.append((start, end, parser))
                    continue
                for index in range(start, end):
                    spans.append((index, index + 1, self.choose(records[index])))
        else:
            spans = [
                (index, index + 1, self.choose(record)) for index, record in enumerate(records)
            ]
        merged: list[Span] = []
        for start, end, parser in spans:
            if merged and merged[-1][2] is parser and merged[-1][1] == start:
                merged[-1] = (merged[-1][0], end, parser)
            else:
                merged.append((start, end, parser))
        return merged

    def run_parser(
        self, datas: Sequence[bytes], provenance: Provenance
    ) -> tuple[bool, Parser | None]:
        """(True, its parser) when a run's format or first byte decides it, else (False, None)."""
        if provenance.format is not None and provenance.format != "auto":
            return True, self.by_name.get(provenance.format)
        firsts = {data[:1] for data in datas}
        if len(firsts) != 1 or b"" in firsts:
            return False, None
        candidates = self.by_first_byte[firsts.pop()[0]]
        if candidates and getattr(candidates[0], "first_byte_decides", False):
            return True, candidates[0]
        return False, None

    def normalise(self, records: Sequence[RawRecord]) -> tuple[pa.RecordBatch, list[ParseFailure]]:
        """Parse every record: events as one batch, the rest as failures with their reasons.

        Events keep the order of their records. Records whose parser reads a group at once
        (`parse_group`, e.g. plain JSON lines) are read that way when the group allows it.
        """
        spans = self.choose_spans(records)
        grouped, rest = self.read_groups(records, spans)
        chosen = {index: parser for start, end, parser in rest for index in range(start, end)}
        batch, failures, kept = self.read_one_by_one(records, chosen)
        if not grouped:
            return batch, failures
        if not kept and len(grouped) == 1:  # all of it read as one group: already in order
            return grouped[0][1], failures
        order = np.concatenate([np.asarray(kept, dtype=np.int64)] + [at for at, _ in grouped])
        table = pa.Table.from_batches([batch, *(part for _, part in grouped)], schema=EVENT_SCHEMA)
        merged = table.take(pa.array(np.argsort(order, kind="stable"))).combine_chunks()
        return (merged.to_batches()[0] if merged.num_rows else empty_batch()), failures

    def read_groups(
        self, records: Sequence[RawRecord], spans: Sequence[Span]
    ) -> tuple[list[tuple[np.ndarray[Any, Any], pa.RecordBatch]], list[Span]]:
        """Batches read a group at a time (with the indices of their records) and the rest."""
        groups: dict[int, list[Span]] = {}
        rest: list[Span] = []
        for span in spans:
            if span[2] is not None and hasattr(span[2], "parse_group"):
                groups.setdefault(id(span[2]), []).append(span)
            else:
                rest.append(span)
        grouped: list[tuple[np.ndarray[Any, Any], pa.RecordBatch]] = []
        for group in groups.values():
            parser = group[0][2]
            count = sum(end - start for start, end, _ in group)
            indices = np.concatenate([np.arange(start, end) for start, end, _ in group])
            found = None
            if count >= MIN_GROUP:
                parse_group = getattr(parser, "parse_group")  # noqa: B009
                found = parse_group(spans_batch(records, group, indices))
            if found is None:
                rest.extend(group)
                continue
            read, part = found
            if isinstance(read, range) and len(read) == count and read.step == 1:
                read_indices = indices
            else:
                read_indices = indices[np.asarray(read, dtype=np.int64)]
            grouped.append((read_indices, part))
            if len(read_indices) < count:  # the group's records it left for `parse`
                left = np.setdiff1d(indices, read_indices).tolist()
                rest.extend((index, index + 1, parser) for index in left)
        rest.sort(key=lambda span: span[0])
        return grouped, rest

    def read_one_by_one(
        self, records: Sequence[RawRecord], chosen: dict[int, Parser | None]
    ) -> tuple[pa.RecordBatch, list[ParseFailure], list[int]]:
        """Parse the records at these indices one at a time: batch, failures, rows' indices."""
        rows: list[dict[str, Any]] = []
        kept: list[int] = []
        read: list[RawRecord] = []
        parser_names: list[str] = []
        failures: list[ParseFailure] = []
        for index, parser in chosen.items():
            record = records[index]
            if parser is None:
                reason = unparsed_reason(record)
                failures.append(ParseFailure(record, record.format or "auto", reason))
                continue
            try:
                row = parser.parse(record)
            except ParseError as error:
                failures.append(ParseFailure(record, parser.name, str(error) or "parse error"))
                continue
            except (ValueError, TypeError, KeyError, IndexError, UnicodeError) as error:
                # A parser bug on hostile input must not lose the record: quarantine it.
                failures.append(
                    ParseFailure(record, parser.name, f"{type(error).__name__}: {error}")
                )
                continue
            rows.append(row)
            kept.append(index)
            read.append(record)
            parser_names.append(parser.name)
        timestamps, bad = timestamp_array([row.get("@timestamp") for row in rows])
        if bad:  # a parser passed on a time string Arrow and fromisoformat both refuse
            for index in bad:
                reason = f"unreadable time {rows[index]['@timestamp']!r}"
                failures.append(ParseFailure(read[index], parser_names[index], reason))
            good = sorted(set(range(len(rows))) - set(bad))
            rows = [rows[index] for index in good]
            kept = [kept[index] for index in good]
            read = [read[index] for index in good]
            timestamps = timestamps.take(good)
        return build_batch(rows, read, timestamps=timestamps), failures, kept


def spans_batch(records: Sequence[RawRecord], spans: Sequence[Span], indices: Any) -> RawBatch:
    """The records of these spans (whose indices are given too) as one batch."""
    if not isinstance(records, RawBatch):
        return RawBatch.of([records[index] for index in indices.tolist()])
    if len(spans) == 1:
        return records.take(range(spans[0][0], spans[0][1]))
    return records.take(indices.tolist())


def may_start_with(parser: Parser, byte: int) -> bool:
    """Whether a record starting with `byte` (256: an empty record) could be this parser's."""
    first_bytes: frozenset[int] | None = getattr(parser, "first_bytes", None)
    return first_bytes is None or byte in first_bytes


def unparsed_reason(record: RawRecord) -> str:
    """Why no parser read this record (a file reader may say why in `context`)."""
    if record.format == UNSUPPORTED:
        return f"unsupported file format: {record.context or 'no reader understands it'}"
    if record.format not in (None, "auto"):
        return f"unknown format {record.format!r}"
    return "no parser accepts this record"
