"""Windows events as the `evtx` package renders them to JSON (`{"Event": {"System": ...}}`).

The same shape arrives from EVTX files (`custodes.ingest.read_file`) and as JSON lines from
forwarders. `fields` keeps every EventData/UserData child under its own name and the System
fields under the names Sigma rules use (EventID, Channel, Provider_Name, ...).
"""

from __future__ import annotations

from typing import Any

import orjson

from custodes.errors import ParseError
from custodes.events import FIELDS_COLUMN, RawRecord
from custodes.normalise.fields import JSON_START
from custodes.normalise.json import load_object

#: Security events whose subject is the account logging on (the target), not the actor.
LOGON_CODES = frozenset({"4624", "4625", "4634", "4647", "4648", "4768", "4769", "4771", "4776"})
#: Keywords bits of the Security log: audit success / audit failure.
AUDIT_SUCCESS = 0x0020000000000000
AUDIT_FAILURE = 0x0010000000000000
#: Short dataset names of well-known channels; the rest derive from the channel name.
DATASETS = {
    "security": "windows.security",
    "system": "windows.system",
    "application": "windows.application",
    "microsoft-windows-sysmon/operational": "windows.sysmon",
    "microsoft-windows-powershell/operational": "windows.powershell",
    "windows powershell": "windows.powershell",
    "powershellcore/operational": "windows.powershell",
}
#: Source fields read into core columns, first present wins: column -> field names.
CORE_FROM_FIELDS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("process.executable", ("Image", "NewProcessName", "ProcessName", "Application")),
    ("process.command_line", ("CommandLine",)),
    ("process.entity_id", ("ProcessGuid",)),
    ("process.parent.executable", ("ParentImage", "ParentProcessName")),
    ("process.parent.command_line", ("ParentCommandLine",)),
    ("process.parent.entity_id", ("ParentProcessGuid",)),
    ("source.ip", ("IpAddress", "SourceIp", "SourceAddress", "ClientAddress")),
    ("destination.ip", ("DestinationIp", "DestAddress")),
    ("destination.domain", ("DestinationHostname",)),
    ("file.path", ("TargetFilename", "ObjectName")),
)
PORTS = (("source.port", ("IpPort", "SourcePort")), ("destination.port", ("DestinationPort",)))
EMPTY = frozenset({"", "-", "::", "0.0.0.0"})


class EvtxParser:
    """A Windows event in the `evtx` package's JSON rendering."""

    name = "evtx"
    first_bytes = JSON_START
    markers = (b'"Event"',)  # a JSON record holding one goes to `parse`, not the group read

    def accepts(self, record: RawRecord) -> bool:
        return record.data[:1] == b"{" and b'"Event"' in record.data[:16]

    def parse(self, record: RawRecord) -> dict[str, Any]:
        return self.from_document(load_object(record.data))

    def claims(self, document: dict[str, Any]) -> bool:
        """Whether a decoded JSON object is a Windows event (see `JsonParser`)."""
        return "Event" in document

    def from_document(self, document: dict[str, Any]) -> dict[str, Any]:
        """The row of a decoded Windows event."""
        event = document.get("Event")
        if not isinstance(event, dict) or not isinstance(event.get("System"), dict):
            raise ParseError("not a Windows event: no Event.System object")
        fields = system_fields(event["System"])
        for section in ("EventData", "UserData"):
            data = event.get(section)
            if isinstance(data, dict):
                fields.update(data_fields(data, user_data=section == "UserData"))
        return windows_row(fields)


def text(value: Any) -> str | None:
    """One rendered value as text: `#text` of an element, JSON text for lists."""
    kind = type(value)
    if kind is str:
        return value  # type: ignore[no-any-return]
    if kind is int:
        return str(value)
    if isinstance(value, dict):
        value = value.get("#text")
    if value is None:
        return None
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return str(value)
    return orjson.dumps(value).decode()


def attribute(element: Any, name: str) -> str | None:
    """An XML attribute of a rendered element (`{"#attributes": {...}}`)."""
    if isinstance(element, dict):
        attributes = element.get("#attributes")
        if isinstance(attributes, dict):
            return text(attributes.get(name))
    return None


def system_fields(system: dict[str, Any]) -> dict[str, str]:
    """The System block under Sigma's names."""
    found = {
        "EventID": text(system.get("EventID")),
        "Qualifiers": attribute(system.get("EventID"), "Qualifiers"),
        "Version": text(system.get("Version")),
        "Level": text(system.get("Level")),
        "Task": text(system.get("Task")),
        "Opcode": text(system.get("Opcode")),
        "Keywords": text(system.get("Keywords")),
        "TimeCreated": attribute(system.get("TimeCreated"), "SystemTime"),
        "EventRecordID": text(system.get("EventRecordID")),
        "ActivityID": attribute(system.get("Correlation"), "ActivityID"),
        "ProcessID": attribute(system.get("Execution"), "ProcessID"),
        "ThreadID": attribute(system.get("Execution"), "ThreadID"),
        "Channel": text(system.get("Channel")),
        "Computer": text(system.get("Computer")),
        "SecurityUserID": attribute(system.get("Security"), "UserID"),
        "Provider_Name": attribute(system.get("Provider"), "Name"),
        "Provider_Guid": attribute(system.get("Provider"), "Guid"),
        "EventSourceName": attribute(system.get("Provider"), "EventSourceName"),
    }
    return {name: value for name, value in found.items() if value is not None}


def data_fields(data: dict[str, Any], *, user_data: bool) -> dict[str, str]:
    """EventData/UserData children under their own names (UserData: its one wrapper's children)."""
    if user_data and len(data) == 1:
        (only,) = data.values()
        if isinstance(only, dict):
            data = only
    fields: dict[str, str] = {}
    for name, value in data.items():
        if type(value) is str and name != "#text":  # the common case, first
            fields[name] = value
            continue
        if name == "#attributes":
            continue
        if isinstance(value, dict) and "#text" not in value:
            for child, inner in value.items():
                if child != "#attributes" and (rendered := text(inner)) is not None:
                    fields[f"{name}.{child}"] = rendered
            continue
        rendered = text(value)
        if rendered is not None:
            fields["Data" if name == "#text" else name] = rendered
    return fields


def first(fields: dict[str, str], names: tuple[str, ...]) -> str | None:
    """The first of these fields that holds a real value."""
    for name in names:
        value = fields.get(name)
        if value is not None and value not in EMPTY:
            return value
    return None


def number(value: str | None) -> int | None:
    """A decimal or 0x-hex number, or None."""
    if value is None:
        return None
    try:
        return int(value, 16) if value[:2].lower() == "0x" else int(value)
    except ValueError:
        return None


def dataset(channel: str | None, provider: str | None) -> str:
    """`windows.<short channel name>`, e.g. windows.security, windows.sysmon."""
    name = (channel or provider or "").strip()
    known = DATASETS.get(name.lower())
    if known:
        return known
    short = name.split("/")[0].removeprefix("Microsoft-Windows-").lower()
    short = "".join(char if char.isalnum() else "_" for char in short).strip("_")
    return f"windows.{short}" if short else "windows"


def windows_row(fields: dict[str, str]) -> dict[str, Any]:
    """Core columns from the Windows fields."""
    code = fields.get("EventID")
    row: dict[str, Any] = {
        FIELDS_COLUMN: fields,
        "@timestamp": fields.get("TimeCreated"),
        "event.code": code,
        "event.kind": "event",
        "event.module": "windows",
        "event.dataset": dataset(fields.get("Channel"), fields.get("Provider_Name")),
        "event.severity": number(fields.get("Level")),
        "winlog.channel": fields.get("Channel"),
        "winlog.provider_name": fields.get("Provider_Name"),
        "winlog.record_id": number(fields.get("EventRecordID")),
        "host.name": fields.get("Computer"),
    }
    keywords = number(fields.get("Keywords"))
    if keywords is not None and keywords & AUDIT_FAILURE:
        row["event.outcome"] = "failure"
    elif keywords is not None and keywords & AUDIT_SUCCESS:
        row["event.outcome"] = "success"
    for column, names in CORE_FROM_FIELDS:
        row[column] = first(fields, names)
    for column, names in PORTS:
        port = number(first(fields, names))
        row[column] = port if port is not None and 0 <= port < 65536 else None
    if "NewProcessId" in fields:  # Security 4688: ProcessId is the creator, the parent
        row["process.pid"] = number(fields["NewProcessId"])
        row["process.parent.pid"] = number(fields.get("ProcessId"))
    else:
        row["process.pid"] = number(fields.get("ProcessId"))
        row["process.parent.pid"] = number(fields.get("ParentProcessId"))
    executable = row["process.executable"]
    if executable:
        row["process.name"] = executable.replace("/", "\\").rsplit("\\", 1)[-1]
    protocol = fields.get("Protocol")
    if protocol and protocol.isalpha():
        row["network.transport"] = protocol.lower()
    add_user(row, fields, is_logon=code in LOGON_CODES)
    return row


def add_user(row: dict[str, Any], fields: dict[str, str], *, is_logon: bool) -> None:
    """user.* and winlog.logon.id: the account logging on, else the acting subject."""
    target = first(fields, ("TargetUserName",))
    subject = first(fields, ("SubjectUserName",))
    if is_logon and target:
        row["user.name"] = target
        row["user.domain"] = first(fields, ("TargetDomainName",))
        row["user.id"] = first(fields, ("TargetUserSid", "TargetSid"))
        row["winlog.logon.id"] = first(fields, ("TargetLogonId", "SubjectLogonId"))
        return
    if subject:
        row["user.name"] = subject
        row["user.domain"] = first(fields, ("SubjectDomainName",))
        row["user.id"] = first(fields, ("SubjectUserSid",))
        row["user.target.name"] = target
    elif target:
        row["user.name"] = target
        row["user.domain"] = first(fields, ("TargetDomainName",))
        row["user.id"] = first(fields, ("TargetUserSid", "TargetSid"))
    elif (account := first(fields, ("User", "AccountName", "UserName"))) is not None:
        domain, _, name = account.rpartition("\\")
        row["user.name"] = name
        row["user.domain"] = domain or None
    row.setdefault("user.id", fields.get("SecurityUserID"))
    row["winlog.logon.id"] = first(fields, ("SubjectLogonId", "LogonId", "TargetLogonId"))
