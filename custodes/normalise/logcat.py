"""Android logcat in `threadtime` format: `MM-DD hh:mm:ss.mmm  pid  tid L tag: message`.

logcat writes no year and no zone: the year is the one that puts the line at or before the time
the record was received, and the time is taken as UTC.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Any

from custodes.errors import ParseError
from custodes.events import FIELDS_COLUMN, RawRecord
from custodes.normalise.fields import DIGITS

LINE = re.compile(
    r"(?P<month>\d\d)-(?P<day>\d\d) (?P<clock>\d\d:\d\d:\d\d)\.(?P<millis>\d{3})\s+"
    r"(?P<pid>\d+)\s+(?P<tid>\d+) (?P<level>[VDIWEFA]) (?P<tag>.*?)\s*: (?P<message>.*)",
    re.DOTALL,
)
LEVELS = {"V": 7, "D": 7, "I": 6, "W": 4, "E": 3, "F": 2, "A": 1}


class LogcatParser:
    """One line of Android logcat output (threadtime format)."""

    name = "logcat"
    first_bytes = DIGITS

    def accepts(self, record: RawRecord) -> bool:
        data = record.data
        return data[2:3] == b"-" and data[14:15] == b"." and data[:2].isdigit()

    def parse(self, record: RawRecord) -> dict[str, Any]:
        match = LINE.match(record.data.decode(errors="replace"))
        if match is None:
            raise ParseError("not a logcat line: expected 'MM-DD hh:mm:ss.mmm pid tid L tag: text'")
        received = record.received_at
        year = received.year if received is not None else 1970
        hour, minute, second = (int(part) for part in match["clock"].split(":"))
        try:
            stamp = datetime(
                year,
                int(match["month"]),
                int(match["day"]),
                hour,
                minute,
                second,
                int(match["millis"]) * 1000,
                tzinfo=UTC,
            )
            if received is not None and (stamp - received).days > 31:
                stamp = stamp.replace(year=year - 1)
        except ValueError:
            raise ParseError(f"impossible date {match['month']}-{match['day']}") from None
        return {
            "@timestamp": stamp,
            "event.dataset": "android.logcat",
            "event.kind": "event",
            "event.severity": LEVELS[match["level"]],
            "process.pid": int(match["pid"]) if len(match["pid"]) < 12 else None,
            "process.name": match["tag"],
            "message": match["message"].rstrip(),
            FIELDS_COLUMN: {"tid": match["tid"], "level": match["level"], "tag": match["tag"]},
        }
