"""Linux audit records: `type=T msg=audit(epoch:serial): key=value ...`.

Accepted as written by auditd (optionally `node=...` first), wrapped in a syslog line
(`... audispd: node=... type=...`), or grouped per event as JSON
(`{"eventid": .., "items": {"USER_LOGIN": ["pid=.. uid=.."]}, "node": .., "timestamp": ..}`).
Every key is kept in `fields` under its own name (the quoted `msg='...'` of user-space records
is unpacked; hex-encoded values such as `proctitle` are decoded).
"""

from __future__ import annotations

import re
from typing import Any

from custodes.errors import ParseError
from custodes.events import FIELDS_COLUMN, RawRecord
from custodes.normalise.fields import NOT_JSON, from_epoch
from custodes.normalise.json import load_object, to_int

HEADER = re.compile(
    r"(?:node=(?P<node>\S+) )?type=(?P<type>\w+)"
    r" msg=audit\((?P<epoch>\d+(?:\.\d+)?):(?P<serial>\d+)\): ?"
)
PAIR = re.compile(r"""([\w-]+)=("[^"]*"|'[^']*'|\S*)""")
HEX = re.compile(r"(?:[0-9A-F]{2})+")
#: Keys auditd hex-encodes when the value holds spaces or other unsafe bytes.
HEX_KEYS = frozenset({"proctitle", "cmd", "comm", "exe", "name", "acct", "cwd", "data", "key"})
UNSET_IDS = frozenset({"4294967295", "-1", "unset"})
OUTCOMES = {
    "success": "success",
    "yes": "success",
    "1": "success",
    "failed": "failure",
    "no": "failure",
    "0": "failure",
}
#: Record types whose `acct` is the account acted upon, not the actor.
ACCOUNT_MANAGEMENT = frozenset(
    {
        "ADD_USER",
        "DEL_USER",
        "ADD_GROUP",
        "DEL_GROUP",
        "USER_MGMT",
        "GRP_MGMT",
        "USER_CHAUTHTOK",
        "GRP_CHAUTHTOK",
        "ACCT_LOCK",
        "ACCT_UNLOCK",
        "ROLE_ASSIGN",
        "ROLE_REMOVE",
    }
)
#: Records that only add detail to an event; the event is named by another record if any.
AUXILIARY_TYPES = frozenset(
    {
        "SYSCALL",
        "CWD",
        "PATH",
        "PROCTITLE",
        "EXECVE",
        "SOCKADDR",
        "BPRM_FCAPS",
        "MMAP",
        "OBJ_PID",
        "EOE",
        "CAPSET",
        "KERN_MODULE",
        "AVC",
        "FD_PAIR",
        "NETFILTER_CFG",
        "SECCOMP",
    }
)
AVC_OUTCOME = re.compile(r"avc:\s+(denied|granted)")


class AuditdParser:
    """One Linux audit record (or one event's records grouped as JSON)."""

    name = "auditd"
    first_bytes = NOT_JSON  # grouped JSON events are recognised by JsonParser (see claims)
    markers = (b'"items"',)  # a JSON record holding one goes to `parse`, not the group read

    def accepts(self, record: RawRecord) -> bool:
        if record.data[:1] == b"{":
            head = record.data[:400]
            return b'"items"' in head and b'"eventid"' in head
        return b"msg=audit(" in record.data[:200]

    def claims(self, document: dict[str, Any]) -> bool:
        """Whether a decoded JSON object is an audit event grouped by type (see `JsonParser`)."""
        return "items" in document and "eventid" in document

    def from_document(self, document: dict[str, Any]) -> dict[str, Any]:
        """The row of a grouped audit event."""
        return grouped_row(document)

    def parse(self, record: RawRecord) -> dict[str, Any]:
        if record.data[:1] == b"{":
            return grouped_row(load_object(record.data))
        text = record.data.decode(errors="replace")
        match = HEADER.search(text)
        if match is None:
            raise ParseError("not an audit record: expected 'type=T msg=audit(time:serial):'")
        body = text[match.end() :]
        fields = pairs(body)
        mark_avc(body, fields)
        fields["type"] = match["type"]
        node = match["node"]
        if node is None and match.start() > 0:  # a syslog line around the record: its host
            node = syslog_host(text[: match.start()])
        if node:
            fields["node"] = node
        return audit_row(fields, float(match["epoch"]), match["serial"])


def grouped_row(document: dict[str, Any]) -> dict[str, Any]:
    """One event whose records are grouped by type in a JSON envelope."""
    items = document.get("items")
    if not isinstance(items, dict) or not items:
        raise ParseError("grouped audit event without items")
    fields: dict[str, str] = {}
    for bodies in items.values():
        for body in bodies if isinstance(bodies, list) else [bodies]:
            mark_avc(str(body), fields)
            for key, value in pairs(str(body)).items():
                fields.setdefault(key, value)
    fields["type"] = primary_type(list(items))
    fields["types"] = ",".join(items)
    if document.get("node"):
        fields["node"] = str(document["node"])
    try:
        epoch = float(f"{document.get('timestamp')}.{document.get('timestampfractional') or 0}")
    except ValueError:
        raise ParseError(f"unreadable audit time {document.get('timestamp')!r}") from None
    return audit_row(fields, epoch, str(document.get("eventid", "")))


def mark_avc(body: str, fields: dict[str, str]) -> None:
    """An SELinux decision (`avc: denied`/`granted`) as the record's result."""
    if "res" not in fields and (avc := AVC_OUTCOME.search(body)) is not None:
        fields["res"] = "success" if avc[1] == "granted" else "failed"


def primary_type(kinds: list[str]) -> str:
    """The record type that names a grouped event: its first non-auxiliary one, else SYSCALL."""
    for kind in kinds:
        if kind not in AUXILIARY_TYPES and kind != "COMMENT":
            return kind
    return "SYSCALL" if "SYSCALL" in kinds else kinds[0]


def account_names(kind: str, fields: dict[str, str]) -> tuple[str | None, str | None]:
    """(actor, target): the login identity (AUID) acts; `acct` is its target when it differs.

    Without a login identity, `acct` is the actor of a login record and the target of an
    account-management record (whose actor is then UID).
    """
    known = {key: value for key, value in fields.items() if value not in (*UNSET_IDS, "?", "")}
    account = known.get("acct")
    if "AUID" in known:
        actor = known["AUID"]
        return actor, account if account != actor else None
    if kind in ACCOUNT_MANAGEMENT:
        return known.get("UID"), account
    return account or known.get("UID"), None


def syslog_host(prefix: str) -> str | None:
    """The host of a BSD syslog header (`<pri>Mmm dd hh:mm:ss host program:`)."""
    words = prefix.split()
    return words[-2] if len(words) >= 5 else None


def pairs(text: str) -> dict[str, str]:
    """key=value pairs, unquoted; the quoted `msg='...'` of user records is unpacked in place."""
    found: dict[str, str] = {}
    for key, raw in PAIR.findall(text):
        if raw[:1] in ("'", '"'):
            value = raw[1:-1]
            if key == "msg" and raw[:1] == "'":
                found.update(pairs(value))
                continue
        else:
            value = decode_hex(raw) if key in HEX_KEYS else raw
        found[key] = value
    return found


def decode_hex(value: str) -> str:
    """An auditd hex-encoded string as text (NULs between arguments become spaces)."""
    if len(value) < 2 or HEX.fullmatch(value) is None:
        return value
    return bytes.fromhex(value).replace(b"\x00", b" ").decode(errors="replace").strip()


def audit_row(fields: dict[str, str], epoch: float, serial: str) -> dict[str, Any]:
    """Core columns of an audit record from its fields."""
    fields["serial"] = serial
    kind = fields["type"]
    user_id = next(
        (fields[key] for key in ("auid", "uid") if fields.get(key) not in (None, *UNSET_IDS)),
        None,
    )
    executable = fields.get("exe")
    name, target = account_names(kind, fields)
    try:
        stamp = from_epoch(epoch)
    except (OverflowError, OSError, ValueError):
        raise ParseError(f"audit time out of range: {epoch}") from None
    address = fields.get("addr") or fields.get("hostname")
    return {
        "@timestamp": stamp,
        "event.dataset": "auditd",
        "event.module": "auditd",
        "event.kind": "event",
        "event.code": kind,
        "event.action": (fields.get("op") or kind).lower(),
        "event.outcome": OUTCOMES.get(fields.get("res") or fields.get("success") or ""),
        "host.name": fields.get("node"),
        "user.id": user_id,
        "user.name": name,
        "user.target.name": target,
        "source.ip": address if address and address[0].isalnum() and address != "?" else None,
        "process.pid": to_int(fields.get("pid", "")),
        "process.parent.pid": to_int(fields.get("ppid", "")),
        "process.executable": executable if executable and executable != "?" else None,
        "process.name": fields.get("comm")
        or (executable.rsplit("/", 1)[-1] if executable else None),
        "process.command_line": fields.get("proctitle") or fields.get("cmd"),
        "file.path": fields.get("name") if kind == "PATH" else None,
        FIELDS_COLUMN: fields,
    }
