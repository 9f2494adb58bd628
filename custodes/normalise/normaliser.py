"""Raw records in, one event batch and a list of parse failures out. Pure: no I/O, no clock."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Protocol

import pyarrow as pa

from custodes.errors import ParseError
from custodes.events import ParseFailure, RawRecord
from custodes.normalise.batch import build_batch


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

    A record whose `format` names a parser goes straight to that parser.
    """

    def __init__(self, parsers: Sequence[Parser]) -> None:
        self.parsers = list(parsers)
        self.by_name = {parser.name: parser for parser in self.parsers}

    def choose(self, record: RawRecord) -> Parser | None:
        """The parser for this record, or None when no parser accepts it."""
        if record.format is not None and record.format != "auto":
            return self.by_name.get(record.format)
        for parser in self.parsers:
            if parser.accepts(record):
                return parser
        return None

    def normalise(self, records: Sequence[RawRecord]) -> tuple[pa.RecordBatch, list[ParseFailure]]:
        """Parse every record: events as one batch, the rest as failures with their reasons."""
        rows: list[dict[str, Any]] = []
        parsed: list[RawRecord] = []
        failures: list[ParseFailure] = []
        for record in records:
            parser = self.choose(record)
            if parser is None:
                reason = (
                    f"unknown format {record.format!r}"
                    if record.format not in (None, "auto")
                    else "no parser accepts this record"
                )
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
            parsed.append(record)
        return build_batch(rows, parsed), failures
