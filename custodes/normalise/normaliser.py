"""Raw records in, one event batch and a list of parse failures out. Pure: no I/O, no clock."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Protocol

import pyarrow as pa

from custodes.errors import ParseError
from custodes.events import EVENT_SCHEMA, ParseFailure, RawRecord
from custodes.normalise.batch import build_batch, empty_batch
from custodes.normalise.fields import timestamp_array

#: Fewer records than this are not worth a group read.
MIN_GROUP = 64
#: The format a file reader gives records of a file no reader understands (see ingest.files).
UNSUPPORTED = "unsupported"


class Parser(Protocol):
    """Reads one record of one format into a row of the event schema."""

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
    records that start otherwise, which keeps the JSON path short.
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

    def normalise(self, records: Sequence[RawRecord]) -> tuple[pa.RecordBatch, list[ParseFailure]]:
        """Parse every record: events as one batch, the rest as failures with their reasons.

        Events keep the order of their records. Records whose parser reads a group at once
        (`parse_group`, e.g. plain JSON lines) are read that way when the group allows it.
        """
        chosen = [self.choose(record) for record in records]
        grouped, rest = self.read_groups(records, chosen)
        batch, failures, kept = self.read_one_by_one(records, chosen, rest)
        if not grouped:
            return batch, failures
        if not kept and len(grouped) == 1:  # all of it read as one group: already in order
            return grouped[0][1], failures
        order = list(kept)
        for indices, _ in grouped:
            order.extend(indices)
        table = pa.Table.from_batches([batch, *(part for _, part in grouped)], schema=EVENT_SCHEMA)
        merged = table.take(sorted(range(len(order)), key=order.__getitem__)).combine_chunks()
        return (merged.to_batches()[0] if merged.num_rows else empty_batch()), failures

    def read_groups(
        self, records: Sequence[RawRecord], chosen: Sequence[Parser | None]
    ) -> tuple[list[tuple[list[int], pa.RecordBatch]], list[int]]:
        """Batches read a group at a time (with the positions of their records) and the rest."""
        groups: dict[int, list[int]] = {}
        for index, parser in enumerate(chosen):
            if parser is not None and hasattr(parser, "parse_group"):
                groups.setdefault(id(parser), []).append(index)
        grouped: list[tuple[list[int], pa.RecordBatch]] = []
        taken: set[int] = set()
        for indices in groups.values():
            if len(indices) < MIN_GROUP:
                continue
            parse_group = getattr(chosen[indices[0]], "parse_group")  # noqa: B009
            found = parse_group([records[index] for index in indices])
            if found is not None:
                read, part = found
                positions = [indices[index] for index in read]
                grouped.append((positions, part))
                taken.update(positions)
        return grouped, [index for index in range(len(records)) if index not in taken]

    def read_one_by_one(
        self, records: Sequence[RawRecord], chosen: Sequence[Parser | None], positions: list[int]
    ) -> tuple[pa.RecordBatch, list[ParseFailure], list[int]]:
        """Parse the records at these positions one at a time: batch, failures, rows' positions."""
        rows: list[dict[str, Any]] = []
        kept: list[int] = []
        parser_names: list[str] = []
        failures: list[ParseFailure] = []
        for index in positions:
            record, parser = records[index], chosen[index]
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
            parser_names.append(parser.name)
        timestamps, bad = timestamp_array([row.get("@timestamp") for row in rows])
        if bad:  # a parser passed on a time string Arrow and fromisoformat both refuse
            for index in bad:
                reason = f"unreadable time {rows[index]['@timestamp']!r}"
                failures.append(ParseFailure(records[kept[index]], parser_names[index], reason))
            good = sorted(set(range(len(rows))) - set(bad))
            rows = [rows[index] for index in good]
            kept = [kept[index] for index in good]
            timestamps = timestamps.take(good)
        batch = build_batch(rows, [records[index] for index in kept], timestamps=timestamps)
        return batch, failures, kept


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
