"""ArcSight Common Event Format: `CEF:0|vendor|product|version|signature|name|severity|ext`.

Accepted bare or after a syslog header. Every extension key is kept in `fields` under its own
name (with the header as `deviceVendor`, `deviceProduct`, `deviceVersion`, `signatureId`,
`name`, `severity`); the well-known keys also fill core columns (src -> source.ip, dst ->
destination.ip, spt/dpt, suser -> user.name, shost -> host.name, dhost -> destination.domain,
request -> url.original, out -> network.bytes, act -> event.action, outcome, requestMethod).
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Any

from custodes.errors import ParseError
from custodes.events import FIELDS_COLUMN, RawRecord
from custodes.normalise.access_log import port
from custodes.normalise.fields import NOT_JSON, from_epoch
from custodes.normalise.json import to_int

HEADER_NAMES = ("deviceVendor", "deviceProduct", "deviceVersion", "signatureId", "name", "severity")
KEY = re.compile(r"(?:^|(?<=\s))([A-Za-z0-9_.\[\]-]+)=")
UNESCAPE = re.compile(r"\\(.)")
ESCAPES = {"n": "\n", "r": "\r"}
SEVERITY_WORDS = {"unknown": 0, "low": 3, "medium": 5, "high": 8, "very-high": 10}
CORE_KEYS = {
    "src": "source.ip",
    "dst": "destination.ip",
    "suser": "user.name",
    "shost": "host.name",
    "dhost": "destination.domain",
    "request": "url.original",
    "act": "event.action",
    "outcome": "event.outcome",
    "requestMethod": "http.request.method",
    "sproc": "process.name",
    "filePath": "file.path",
    "requestClientApplication": "user_agent.original",
    "proto": "network.transport",
}


class CefParser:
    """A CEF record, bare or inside a syslog line."""

    name = "cef"
    first_bytes = NOT_JSON

    def accepts(self, record: RawRecord) -> bool:
        return b"CEF:" in record.data[:200]

    def parse(self, record: RawRecord) -> dict[str, Any]:
        text = record.data.decode(errors="replace")
        start = text.find("CEF:")
        if start < 0:
            raise ParseError("no 'CEF:' in the record")
        header, extension = split_header(text[start + 4 :])
        fields = dict(zip(("cefVersion", *HEADER_NAMES), header, strict=True))
        fields.update(extensions(extension))
        return cef_row(fields, syslog_host(text[:start]))


def split_header(text: str) -> tuple[list[str], str]:
    """The 7 pipe-separated header values (with `\\|` and `\\\\` unescaped) and the extension."""
    parts: list[str] = []
    current: list[str] = []
    index = 0
    while index < len(text) and len(parts) < 7:
        char = text[index]
        if char == "\\" and index + 1 < len(text) and text[index + 1] in "|\\":
            current.append(text[index + 1])
            index += 2
            continue
        if char == "|":
            parts.append("".join(current))
            current = []
        else:
            current.append(char)
        index += 1
    if len(parts) < 7:
        raise ParseError(f"CEF header has {len(parts)} of 7 fields")
    return parts, text[index:]


def extensions(text: str) -> dict[str, str]:
    """`key=value` pairs; a value runs until the next ` key=` (escaped `\\=` does not count)."""
    found: dict[str, str] = {}
    matches = [match for match in KEY.finditer(text) if not is_escaped(text, match.end() - 1)]
    for index, match in enumerate(matches):
        end = matches[index + 1].start() if index + 1 < len(matches) else len(text)
        value = text[match.end() : end].rstrip()
        found[match[1]] = UNESCAPE.sub(lambda found: ESCAPES.get(found[1], found[1]), value)
    return found


def is_escaped(text: str, position: int) -> bool:
    """Whether the character at `position` follows an odd number of backslashes."""
    count = 0
    while position - count - 1 >= 0 and text[position - count - 1] == "\\":
        count += 1
    return count % 2 == 1


def syslog_host(prefix: str) -> str | None:
    """The host of a syslog header before `CEF:` (`... Mmm dd hh:mm:ss host`)."""
    words = prefix.split()
    return words[-1] if len(words) >= 4 else None


def cef_row(fields: dict[str, str], relay_host: str | None) -> dict[str, Any]:
    """Core columns of a CEF record."""
    row: dict[str, Any] = {column: fields.get(key) for key, column in CORE_KEYS.items()}
    severity = fields.get("severity", "").strip().lower()
    level = to_int(severity, 32) if severity.isdigit() else SEVERITY_WORDS.get(severity)
    outcome = (fields.get("outcome") or "").lower()
    row.update(
        {
            "event.dataset": "cef",
            "event.kind": "event",
            "event.code": fields.get("signatureId"),
            "event.severity": level,
            "event.outcome": outcome if outcome in ("success", "failure") else None,
            "source.port": port(fields.get("spt")),
            "destination.port": port(fields.get("dpt")),
            "network.bytes": to_int(fields.get("out", "")),
            "user.target.name": fields.get("duser"),
            "message": fields.get("msg") or fields.get("name"),
            "@timestamp": cef_time(fields.get("rt") or fields.get("end")),
            FIELDS_COLUMN: fields,
        }
    )
    if row["network.transport"]:
        row["network.transport"] = row["network.transport"].lower()
    row["host.name"] = row["host.name"] or fields.get("dvchost") or relay_host
    return row


def cef_time(value: str | None) -> Any:
    """`rt`: epoch milliseconds or a date such as `Jan 12 2024 10:00:00` (taken as UTC)."""
    if not value:
        return None
    if value.isdigit():
        try:
            return from_epoch(int(value) / 1000)
        except (OverflowError, OSError, ValueError):
            raise ParseError(f"CEF time out of range: {value!r}") from None
    for pattern in ("%b %d %Y %H:%M:%S", "%b %d %Y %H:%M:%S.%f", "%Y-%m-%dT%H:%M:%S%z"):
        try:
            stamp = datetime.strptime(value, pattern)
        except ValueError:
            continue
        return stamp if stamp.tzinfo else stamp.replace(tzinfo=UTC)
    raise ParseError(f"unreadable CEF time {value!r}")
