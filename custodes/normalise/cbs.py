"""Windows component servicing logs (CBS.log, also DISM.log): `date time, Level  Component  text`.

The time is local to the machine and carries no zone; it is taken as UTC.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Any

from custodes.errors import ParseError
from custodes.events import FIELDS_COLUMN, RawRecord
from custodes.normalise.fields import DIGITS

LINE = re.compile(
    r"(?P<date>\d{4}-\d\d-\d\d) (?P<time>\d\d:\d\d:\d\d), (?P<level>\w+)\s+"
    r"(?P<component>\S+)(?:\s+(?P<message>.*))?",
    re.DOTALL,
)


class CbsParser:
    """One line of a Windows CBS/DISM servicing log."""

    name = "cbs"
    first_bytes = DIGITS

    def accepts(self, record: RawRecord) -> bool:
        data = record.data
        return data[4:5] == b"-" and data[19:21] == b", " and data[:4].isdigit()

    def parse(self, record: RawRecord) -> dict[str, Any]:
        match = LINE.match(record.data.decode(errors="replace"))
        if match is None:
            raise ParseError("not a CBS log line: expected 'YYYY-MM-DD hh:mm:ss, Level Component'")
        try:
            stamp = datetime.fromisoformat(f"{match['date']}T{match['time']}").replace(tzinfo=UTC)
        except ValueError:
            raise ParseError(f"impossible time {match['date']} {match['time']}") from None
        return {
            "@timestamp": stamp,
            "event.dataset": "windows.cbs",
            "event.kind": "event",
            "process.name": match["component"],
            "message": (match["message"] or "").rstrip(),
            FIELDS_COLUMN: {"level": match["level"], "component": match["component"]},
        }
