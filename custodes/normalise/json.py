"""Generic JSON lines: any JSON object per line; ECS-named keys become core columns."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Protocol

import orjson
import pyarrow as pa

from custodes.errors import ParseError
from custodes.events import CORE_NAMES, FIELDS_COLUMN, RawBatch, RawRecord
from custodes.normalise.fields import JSON_START, flatten, from_epoch

#: Common non-ECS names for the time of an event, tried in order.
TIME_KEYS = ("@timestamp", "timestamp", "time", "ts", "date", "eventTime", "UtcTime")
#: Integer core columns with the bits they hold; other values there become null.
INT_BITS = {
    "event.severity": 32,
    "log.offset": 64,
    "source.port": 32,
    "destination.port": 32,
    "network.bytes": 64,
    "process.pid": 64,
    "process.parent.pid": 64,
    "winlog.record_id": 64,
    "http.response.status_code": 32,
}
INT_NAMES = frozenset(INT_BITS)
#: Fewer records than this are not read as a group of their own when a larger one fails.
MIN_SPLIT = 64
#: Core columns a JSON document cannot set: they belong to the record, not its content.
RECORD_COLUMNS = frozenset({"@timestamp", "event.id", "event.original"})
SETTABLE = CORE_NAMES - RECORD_COLUMNS


class JsonFlavour(Protocol):
    """A parser of one kind of JSON object that `JsonParser` recognises after decoding it."""

    name: str

    def claims(self, document: dict[str, Any]) -> bool:
        """Whether this decoded object is of this flavour (cheap: look at its keys)."""
        ...

    def from_document(self, document: dict[str, Any]) -> dict[str, Any]:
        """The row of a decoded object; raises ParseError."""
        ...


class JsonParser:
    """One JSON object per record; known flavours (Windows events, Zeek, osquery, ...) first.

    JSON is decoded once: each flavour looks at the object's keys and the first that claims it
    reads it, which is much cheaper than asking every flavour to sniff the raw bytes. What no
    flavour claims is read generically: ECS-named keys become core columns.
    """

    name = "json"
    first_bytes = JSON_START
    first_byte_decides = True  # `accepts` takes every record starting with "{"

    def __init__(self, flavours: Sequence[JsonFlavour] = ()) -> None:
        self.flavours = tuple(flavours)

    def accepts(self, record: RawRecord) -> bool:
        return record.data[:1] == b"{"

    def parse(self, record: RawRecord) -> dict[str, Any]:
        document = load_object(record.data)
        for flavour in self.flavours:
            if flavour.claims(document):
                return flavour.from_document(document)
        fields = dict(sorted(flatten(document).items()))  # sorted, as `parse_group` gives them
        row = ecs_row(fields)
        for key in TIME_KEYS:
            value = fields.get(key)
            if value is not None:
                row["@timestamp"] = read_time(value)
                break
        row.setdefault("event.dataset", "json")
        row.setdefault("event.kind", "event")
        return row

    def parse_group(
        self, records: Sequence[RawRecord]
    ) -> tuple[Sequence[int], pa.RecordBatch] | None:
        """Plain JSON records read at once (see `json_columns`): their positions and batch.

        Records that carry a flavour's marker key (`"Event"`, `"_path"`, ...) are left out, for
        `parse` to read one by one; the markers are only looked for when the whole group cannot
        be read (or its first record has one), as scanning for them costs more than most groups
        need. A group that still cannot be read is halved (see `read_halves`), so that one bad
        line does not send thousands of good ones down the slow path. None when nothing is read.
        """
        from custodes.normalise.json_columns import has_marker, unmarked

        raw = RawBatch.of(records)
        everything = range(len(raw))
        if not has_marker(raw.datas[:1], self.flavours):
            whole = self.read_plain(raw, everything)
            if whole is not None:
                return whole
        positions: Sequence[int] = unmarked(raw.datas, self.flavours)
        if len(positions) == len(raw):
            positions = everything  # the same records: go straight to their halves
        elif len(positions) >= MIN_SPLIT:
            found = self.read_plain(raw, positions)
            if found is not None:
                return found
        parts = self.read_halves(raw, positions)
        if not parts:
            return None
        if len(parts) == 1:
            return parts[0]
        read = [position for part_positions, _ in parts for position in part_positions]
        table = pa.Table.from_batches([part for _, part in parts]).combine_chunks()
        return read, table.to_batches()[0]

    def read_plain(
        self, raw: RawBatch, positions: Sequence[int]
    ) -> tuple[Sequence[int], pa.RecordBatch] | None:
        """These records (ascending positions in `raw`) read as one group, or None."""
        from custodes.normalise.batch import assemble
        from custodes.normalise.json_columns import read_json_group

        plain = raw if len(positions) == len(raw) else raw.take(positions)
        found = read_json_group(plain.datas, self.flavours)
        if found is None:
            return None
        columns, fields, timestamps = found
        return positions, assemble(columns, fields, plain, timestamps)

    def read_halves(
        self, raw: RawBatch, positions: Sequence[int]
    ) -> list[tuple[Sequence[int], pa.RecordBatch]]:
        """Groups read from the halves of records that cannot be read as one, in order.

        A half that fails is halved again while its other half succeeded (the bad records are
        few and close together); when both fail, the bad records are everywhere and the rest
        is left to `parse`. Halves smaller than `MIN_SPLIT` are not tried.
        """
        if len(positions) < 2 * MIN_SPLIT:
            return []
        middle = len(positions) // 2
        halves = (positions[:middle], positions[middle:])
        found = [self.read_plain(raw, half) for half in halves]
        if found[0] is None and found[1] is None:
            return []
        parts: list[tuple[Sequence[int], pa.RecordBatch]] = []
        for half, part in zip(halves, found, strict=True):
            parts.extend([part] if part is not None else self.read_halves(raw, half))
        return parts


def load_object(data: bytes) -> dict[str, Any]:
    """One JSON object, or ParseError."""
    try:
        document = orjson.loads(data)
    except orjson.JSONDecodeError as error:
        raise ParseError(f"invalid JSON: {error}") from None
    if not isinstance(document, dict):
        raise ParseError("JSON record is not an object")
    return document


def ecs_row(fields: dict[str, str]) -> dict[str, Any]:
    """A row whose core columns are the ECS-named keys among `fields`.

    A key stored in the core column of its own name is not repeated in `fields` (the record as
    it came stays in `event.original`); one its column cannot hold (an integer out of range)
    stays there.
    """
    row: dict[str, Any] = {key: fields[key] for key in SETTABLE.intersection(fields)}
    for key in INT_NAMES.intersection(row):
        row[key] = to_int(row[key], INT_BITS[key])
    row[FIELDS_COLUMN] = {key: value for key, value in fields.items() if row.get(key) is None}
    return row


def to_int(value: str, bits: int = 64) -> int | None:
    """A decimal integer that fits a signed column of `bits`, else None."""
    try:
        number = int(value)
    except ValueError:
        return None
    limit = 1 << (bits - 1)
    return number if -limit <= number < limit else None


def read_time(value: str) -> Any:
    """A JSON time: ISO 8601 text (converted later, for the whole batch) or epoch s/ms."""
    if len(value) > 7 and value[4] == "-":
        return value
    try:
        number = float(value)
    except ValueError:
        raise ParseError(f"unreadable time {value!r}") from None
    try:
        return from_epoch(number / 1000 if abs(number) > 1e11 else number)
    except (OverflowError, OSError, ValueError):
        raise ParseError(f"time out of range {value!r}") from None
