"""BSD syslog (RFC 3164) lines: `<pri>Mmm dd hh:mm:ss host program[pid]: message`.

Also the variants files and relays write: no `<pri>`, an ISO 8601 time instead of the BSD one
(rsyslog's high-precision format, macOS), a `program(module)` tag as old PAM wrote it. The BSD
time has no year and no zone: the year is the one that puts the line at or before the time the
record was received (a file's modification time), and the time is taken as UTC.
Messages of login-related programs (sshd, sudo, su, PAM, useradd, ...) are classified by
`custodes.normalise.auth`.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Any

from custodes.errors import ParseError
from custodes.events import FIELDS_COLUMN, RawRecord
from custodes.normalise.auth import auth_event
from custodes.normalise.fields import parse_iso

MONTHS = {
    name: number
    for number, name in enumerate(
        ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"), 1
    )
}
SEVERITIES = ("emerg", "alert", "crit", "err", "warning", "notice", "info", "debug")
_HEADER = (
    r"(?:<(?P<pri>\d{1,3})>)?"
    r"(?:(?P<bsd>(?P<month>[A-Z][a-z]{2}) +(?P<day>\d{1,2}) (?P<clock>\d\d:\d\d:\d\d))(?:\.\d+)?"
    r"|(?P<iso>\d{4}-\d\d-\d\d[T ]\d\d:\d\d:\d\d(?:\.\d+)?(?:Z|[+-]\d\d:?\d\d)?))"
    r" +(?P<host>[^\s:\[]+)"
)
LINE = re.compile(
    _HEADER + r" +(?P<program>[^\s:\[][^:\[]{0,47}?)(?:\[(?P<pid>\d+)\])?: ?(?P<message>.*)",
    re.DOTALL,
)
#: A line without a `program:` tag ("last message repeated 2 times").
UNTAGGED = re.compile(_HEADER + r" +(?P<program>)(?P<pid>)(?P<message>.*)", re.DOTALL)


class Rfc3164Parser:
    """A BSD syslog line (with or without `<pri>`)."""

    name = "rfc3164"
    first_bytes: frozenset[int] = frozenset(b"<ADFJMNOS0123456789")  # <pri>, a month, a year
    dataset = "syslog"

    def accepts(self, record: RawRecord) -> bool:
        head = record.data[:40]
        if head[:1] == b"<":
            head = head[head.find(b">") + 1 :]
        return len(head) > 16 and (
            (head[:3].isalpha() and head[3:4] == b" " and head[9:10] == b":")
            or (head[:4].isdigit() and head[4:5] == b"-" and head[13:14] == b":")
        )

    def parse(self, record: RawRecord) -> dict[str, Any]:
        text = record.data.decode(errors="replace")
        match = LINE.match(text) or UNTAGGED.match(text)
        if match is None:
            raise ParseError("not a BSD syslog line: expected '[<pri>]time host program: message'")
        return syslog_row(match, record, self.dataset)


def syslog_row(match: re.Match[str], record: RawRecord, dataset: str) -> dict[str, Any]:
    """Core columns and fields of a matched BSD syslog line."""
    program, pid, message = (
        match["program"] or None,
        match["pid"] or None,
        match["message"].rstrip(),
    )
    fields = {"hostname": match["host"]}
    if program is not None:
        fields["program"] = program
    if pid is not None:
        fields["pid"] = pid
    row: dict[str, Any] = {
        "@timestamp": bsd_time(match, record.received_at),
        "event.dataset": dataset,
        "event.kind": "event",
        "host.name": match["host"],
        "process.name": program,
        "process.pid": int(pid) if pid is not None else None,
        "message": message,
    }
    if match["pri"] is not None:
        priority = int(match["pri"])
        if priority > 191:
            raise ParseError(f"syslog priority {priority} out of range")
        fields["facility"] = str(priority // 8)
        fields["severity"] = SEVERITIES[priority % 8]
        row["event.severity"] = priority % 8
    event = auth_event(program, message) if program is not None else None
    if event:
        fields.update(event.pop(FIELDS_COLUMN, {}))
        row.update(event)
        row["event.dataset"] = "authlog" if dataset == "syslog" else dataset
    row[FIELDS_COLUMN] = fields
    return row


def bsd_time(match: re.Match[str], received_at: datetime | None) -> datetime:
    """The line's time; a BSD time gets the year that puts it at or before `received_at`."""
    if match["iso"] is not None:
        try:
            return parse_iso(match["iso"])
        except ValueError:
            raise ParseError(f"unreadable time {match['iso']!r}") from None
    month = MONTHS.get(match["month"])
    if month is None:
        raise ParseError(f"unknown month {match['month']!r}")
    hour, minute, second = (int(part) for part in match["clock"].split(":"))
    year = received_at.year if received_at is not None else 1970
    try:
        stamp = datetime(year, month, int(match["day"]), hour, minute, second, tzinfo=UTC)
        if received_at is not None and (stamp - received_at).days > 31:
            stamp = stamp.replace(year=year - 1)  # a December line received in January
    except ValueError:
        raise ParseError(f"impossible date {match['bsd']!r}") from None
    return stamp
