"""osquery result logs: differential (`columns` + `action`) and snapshot (`snapshot`) records.

The query's columns go into `fields` under their own names (next to `name`, `hostIdentifier`,
`action`, ...); a snapshot's rows stay one JSON list in `fields["snapshot"]`.
"""

from __future__ import annotations

from typing import Any

from custodes.events import FIELDS_COLUMN, RawRecord
from custodes.normalise.fields import JSON_START, flatten, from_epoch
from custodes.normalise.json import load_object, to_int

COLUMN_KEYS = {
    "username": "user.name",
    "user": "user.name",
    "uid": "user.id",
    "path": "process.executable",
    "cmdline": "process.command_line",
    "name": "process.name",
    "remote_address": "destination.ip",
    "local_address": "source.ip",
}


class OsqueryParser:
    """One osquery result record (JSON)."""

    name = "osquery"
    first_bytes = JSON_START
    markers = (
        b'"hostIdentifier"',
    )  # a JSON record holding one goes to `parse`, not the group read

    def accepts(self, record: RawRecord) -> bool:
        head = record.data[:1000]
        return (
            head[:1] == b"{"
            and b'"hostIdentifier"' in head
            and (b'"columns"' in record.data or b'"snapshot"' in record.data)
        )

    def parse(self, record: RawRecord) -> dict[str, Any]:
        return self.from_document(load_object(record.data))

    def claims(self, document: dict[str, Any]) -> bool:
        """Whether a decoded JSON object is an osquery result (see `JsonParser`)."""
        return "hostIdentifier" in document and ("columns" in document or "snapshot" in document)

    def from_document(self, document: dict[str, Any]) -> dict[str, Any]:
        """The row of a decoded osquery result."""
        document = dict(document)
        columns = document.pop("columns", None)
        fields = flatten(document)
        if isinstance(columns, dict):
            fields.update(flatten(columns))
            fields["query"] = str(document.get("name", ""))
        row: dict[str, Any] = {}
        if isinstance(columns, dict):
            row = {column: fields.get(key) for key, column in COLUMN_KEYS.items() if key in columns}
            row["process.pid"] = to_int(fields.get("pid", ""))
            row["source.port"] = port_of(fields.get("local_port"))
            row["destination.port"] = port_of(fields.get("remote_port"))
        epoch = to_int(str(document.get("unixTime", "")))
        row.update(
            {
                "@timestamp": from_epoch(epoch)
                if epoch is not None and 0 <= epoch < 2**35
                else None,
                "event.dataset": "osquery",
                "event.module": "osquery",
                "event.kind": "state" if "snapshot" in document else "event",
                "event.action": document.get("action")
                if isinstance(document.get("action"), str)
                else None,
                "host.name": fields.get("hostIdentifier"),
                "event.code": fields.get("query") or fields.get("name"),
                FIELDS_COLUMN: fields,
            }
        )
        return row


def port_of(value: str | None) -> int | None:
    """A port number, or None."""
    number = to_int(value or "")
    return number if number is not None and 0 <= number < 65536 else None
