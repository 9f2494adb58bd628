"""Zeek logs as JSON lines (`_path`, `ts`, `uid`, `id.orig_h`, ...), and the mapping to core
columns that the TSV reader (`zeek_tsv`) shares.

Fields keep Zeek's own names; times are ISO 8601 with microseconds (as Zeek's JSON writer
prints them with `JSON::TimestampFormat=JSON::TS_ISO8601`), booleans `true`/`false`, sets and
vectors JSON lists, so a TSV record and its JSON twin give the same fields.
"""

from __future__ import annotations

from typing import Any

from custodes.events import FIELDS_COLUMN, RawRecord
from custodes.normalise.access_log import port
from custodes.normalise.fields import JSON_START, flatten
from custodes.normalise.json import load_object, read_time, to_int

#: Zeek field -> core column (strings).
CORE_KEYS = {
    "id.orig_h": "source.ip",
    "id.resp_h": "destination.ip",
    "proto": "network.transport",
    "uid": "process.entity_id",
}
#: Per log: the field naming the user of the connection.
USER_KEYS = ("username", "user", "client", "cookie")
USER_LOGS = frozenset({"ntlm", "ftp", "kerberos", "rdp", "radius", "mysql", "smb_mapping"})
META_KEYS = frozenset({"_path", "_write_ts", "_system_name"})


class ZeekJsonParser:
    """One Zeek log record as JSON (Zeek's JSON writer, e.g. `LogAscii::use_json=T`)."""

    name = "zeek-json"
    first_bytes = JSON_START
    markers = (
        b'"_path"',
        b'"id.orig_h"',
    )  # a JSON record holding one goes to `parse`, not the group read

    def accepts(self, record: RawRecord) -> bool:
        head = record.data[:300]
        return head[:1] == b"{" and (head.startswith(b'{"_path"') or b'"id.orig_h"' in head)

    def parse(self, record: RawRecord) -> dict[str, Any]:
        return self.from_document(load_object(record.data))

    def claims(self, document: dict[str, Any]) -> bool:
        """Whether a decoded JSON object is a Zeek record (see `JsonParser`)."""
        return "_path" in document or "id.orig_h" in document

    def from_document(self, document: dict[str, Any]) -> dict[str, Any]:
        """The row of a decoded Zeek record."""
        fields = flatten(document)
        return zeek_row(fields, fields.get("_path"))


def zeek_row(fields: dict[str, str], path: str | None) -> dict[str, Any]:
    """Core columns of a Zeek record; `path` is the log's name (conn, dns, ssh, ...)."""
    row: dict[str, Any] = {column: fields.get(key) for key, column in CORE_KEYS.items()}
    row.pop("process.entity_id")  # a connection uid is not a process: kept in fields only
    log = path or "unknown"
    row.update(
        {
            "event.dataset": f"zeek.{log}",
            "event.module": "zeek",
            "event.kind": "event",
            "source.port": port(fields.get("id.orig_p")),
            "destination.port": port(fields.get("id.resp_p")),
            FIELDS_COLUMN: fields,
        }
    )
    stamp = fields.get("ts")
    if stamp is not None:
        row["@timestamp"] = read_time(stamp)
    sent, received = fields.get("orig_bytes"), fields.get("resp_bytes")
    if sent is not None or received is not None:
        total = (to_int(sent or "0") or 0) + (to_int(received or "0") or 0)
        row["network.bytes"] = total
    if log in USER_LOGS:
        row["user.name"] = next((fields[key] for key in USER_KEYS if key in fields), None)
    success = fields.get("auth_success") or fields.get("success")
    if success in ("true", "false"):
        row["event.outcome"] = "success" if success == "true" else "failure"
    if log == "dns":
        row["destination.domain"] = fields.get("query")
    elif log in ("ssl", "http"):
        row["destination.domain"] = fields.get("server_name") or fields.get("host")
    return row
