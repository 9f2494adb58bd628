"""Generic JSON lines: any JSON object per line; ECS-named keys become core columns."""

from __future__ import annotations

from typing import Any

import orjson

from custodes.errors import ParseError
from custodes.events import CORE_NAMES, FIELDS_COLUMN, RawRecord
from custodes.normalise.fields import flatten, parse_iso

#: Common non-ECS names for the time of an event, tried in order.
TIME_KEYS = ("@timestamp", "timestamp", "time", "ts", "date", "eventTime", "UtcTime")
INT_COLUMNS = frozenset(
    {
        "event.severity",
        "log.offset",
        "source.port",
        "destination.port",
        "network.bytes",
        "process.pid",
        "process.parent.pid",
        "winlog.record_id",
        "http.response.status_code",
    }
)


class JsonParser:
    """One JSON object per record."""

    name = "json"

    def accepts(self, record: RawRecord) -> bool:
        return record.data[:1] == b"{"

    def parse(self, record: RawRecord) -> dict[str, Any]:
        try:
            document = orjson.loads(record.data)
        except orjson.JSONDecodeError as error:
            raise ParseError(f"invalid JSON: {error}") from None
        if not isinstance(document, dict):
            raise ParseError("JSON record is not an object")
        fields = flatten(document)
        row: dict[str, Any] = {FIELDS_COLUMN: fields}
        for key, value in fields.items():
            if key in CORE_NAMES and key not in ("@timestamp", "event.id", "event.original"):
                row[key] = (
                    int(value)
                    if key in INT_COLUMNS and value.lstrip("-").isdigit()
                    else (None if key in INT_COLUMNS else value)
                )
        for key in TIME_KEYS:
            if key in fields:
                row["@timestamp"] = read_time(fields[key])
                break
        row.setdefault("event.dataset", "json")
        row.setdefault("event.kind", "event")
        return row


def read_time(value: str) -> Any:
    """A JSON time: ISO 8601 text or epoch seconds/milliseconds."""
    try:
        number = float(value)
    except ValueError:
        try:
            return parse_iso(value)
        except ValueError:
            raise ParseError(f"unreadable time {value!r}") from None
    from custodes.normalise.fields import from_epoch

    return from_epoch(number / 1000 if number > 1e11 else number)
