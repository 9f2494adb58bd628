"""Syslog RFC 5424 lines: `<pri>1 time host app procid msgid [sd-id k="v" ...] message`.

Structured-data parameters go into `fields` under their own names (and `<sd-id>.<name>` when
two elements share a name); a message of a login-related program is classified by
`custodes.normalise.auth`.
"""

from __future__ import annotations

import re
from typing import Any

from custodes.errors import ParseError
from custodes.events import FIELDS_COLUMN, RawRecord
from custodes.normalise.auth import auth_event
from custodes.normalise.fields import require_time
from custodes.normalise.rfc3164 import SEVERITIES

HEADER = re.compile(
    r"<(?P<pri>\d{1,3})>(?P<version>\d{1,2}) (?P<time>\S+) (?P<host>\S+) (?P<app>\S+)"
    r" (?P<procid>\S+) (?P<msgid>\S+) ?(?P<rest>.*)",
    re.DOTALL,
)
ELEMENT = re.compile(r'\[(?P<id>[^\s\]=]+)(?P<params>(?: [^\s=\]]+="(?:[^"\\]|\\.)*")*)\]')
PARAM = re.compile(r'([^\s=\]]+)="((?:[^"\\]|\\.)*)"')
NIL = "-"


class Rfc5424Parser:
    """An RFC 5424 syslog line."""

    name = "rfc5424"
    first_bytes = frozenset(b"<")

    def accepts(self, record: RawRecord) -> bool:
        head = record.data[:8]
        end = head.find(b">")
        version = head[end + 1 : end + 4]
        return (
            head[:1] == b"<"
            and 1 < end < 5
            and version[:1].isdigit()
            and (version[1:2] == b" " or (version[1:2].isdigit() and version[2:3] == b" "))
        )

    def parse(self, record: RawRecord) -> dict[str, Any]:
        match = HEADER.match(record.data.decode(errors="replace"))
        if match is None:
            raise ParseError("not an RFC 5424 line: expected '<pri>1 time host app procid msgid'")
        priority = int(match["pri"])
        if priority > 191:
            raise ParseError(f"syslog priority {priority} out of range")
        fields, message = structured_data(match["rest"])
        message = message.removeprefix("\ufeff").rstrip()
        host, app, procid = (
            value if value != NIL else None for value in match.group("host", "app", "procid")
        )
        header = {"hostname": host, "program": app, "pid": procid, "msgid": match["msgid"]}
        fields.update({key: value for key, value in header.items() if value and value != NIL})
        fields["facility"] = str(priority // 8)
        fields["severity"] = SEVERITIES[priority % 8]
        row: dict[str, Any] = {
            "@timestamp": require_time(match["time"]) if match["time"] != NIL else None,
            "event.dataset": "syslog",
            "event.kind": "event",
            "event.severity": priority % 8,
            "host.name": host,
            "process.name": app,
            "process.pid": int(procid)
            if procid and procid.isdigit() and len(procid) < 10
            else None,
            "message": message,
        }
        event = auth_event(app, message) if app else None
        if event:
            fields.update(event.pop(FIELDS_COLUMN, {}))
            row.update(event)
            row["event.dataset"] = "authlog"
        row[FIELDS_COLUMN] = fields
        return row


def structured_data(rest: str) -> tuple[dict[str, str], str]:
    """The structured-data parameters and the message after them."""
    if rest.startswith(NIL):
        return {}, rest[2:] if rest.startswith("- ") else rest[1:]
    fields: dict[str, str] = {}
    position = 0
    while rest.startswith("[", position):
        element = ELEMENT.match(rest, position)
        if element is None:
            raise ParseError("malformed RFC 5424 structured data")
        for name, value in PARAM.findall(element["params"]):
            value = re.sub(r'\\([\\"\]])', r"\1", value)
            fields[f"{element['id']}.{name}" if name in fields else name] = value
        position = element.end()
    if position == 0:
        raise ParseError("RFC 5424 structured data must be '-' or '[...]'")
    return fields, rest[position:].removeprefix(" ")
