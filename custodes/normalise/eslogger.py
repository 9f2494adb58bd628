"""macOS Endpoint Security events as `eslogger` writes them (one JSON object per event).

Fields keep eslogger's nested names flattened with dots (`process.executable.path`,
`event.exec.target.executable.path`, ...); the acting process fills the process columns and its
audit token the user id.
"""

from __future__ import annotations

from typing import Any

from custodes.errors import ParseError
from custodes.events import FIELDS_COLUMN, RawRecord
from custodes.normalise.fields import JSON_START, flatten
from custodes.normalise.json import load_object, to_int


class EsloggerParser:
    """One macOS Endpoint Security event (eslogger JSON)."""

    name = "eslogger"
    first_bytes = JSON_START
    markers = (b'"mach_time"',)  # a JSON record holding one goes to `parse`, not the group read

    def accepts(self, record: RawRecord) -> bool:
        head = record.data[:400]
        return head[:1] == b"{" and b'"mach_time"' in head and b'"event_type"' in record.data

    def parse(self, record: RawRecord) -> dict[str, Any]:
        return self.from_document(load_object(record.data))

    def claims(self, document: dict[str, Any]) -> bool:
        """Whether a decoded JSON object is an eslogger event (see `JsonParser`)."""
        return "mach_time" in document and "event_type" in document

    def from_document(self, document: dict[str, Any]) -> dict[str, Any]:
        """The row of a decoded eslogger event."""
        event = document.get("event")
        if not isinstance(event, dict) or "event_type" not in document:
            raise ParseError("not an eslogger event: no 'event' object and 'event_type'")
        fields = flatten(document)
        executable = fields.get("process.executable.path")
        return {
            "@timestamp": fields.get("time"),
            "event.dataset": "macos.eslogger",
            "event.module": "macos",
            "event.kind": "event",
            "event.code": fields.get("event_type"),
            "event.action": next(iter(event), None),
            "process.executable": executable,
            "process.name": executable.rsplit("/", 1)[-1] if executable else None,
            "process.pid": to_int(fields.get("process.audit_token.pid", "")),
            "process.parent.pid": to_int(fields.get("process.ppid", "")),
            "user.id": fields.get("process.audit_token.ruid"),
            "process.entity_id": fields.get("process.audit_token.pidversion"),
            FIELDS_COLUMN: fields,
        }
