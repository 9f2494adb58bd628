"""Sysmon for Linux: the Windows event XML it writes to syslog (`... sysmon: <Event>...`).

Read into the same fields as a Windows event (`custodes.normalise.evtx`): System fields under
Sigma's names, every `<Data Name="X">` under X; `event.dataset` is `linux.sysmon`.
"""

from __future__ import annotations

import xml.etree.ElementTree as ElementTree
from typing import Any

from custodes.errors import ParseError
from custodes.events import RawRecord
from custodes.normalise.evtx import windows_row
from custodes.normalise.fields import NOT_JSON

#: System elements whose value is an attribute: element -> (attribute, field name) pairs.
SYSTEM_ATTRIBUTES = {
    "Provider": (("Name", "Provider_Name"), ("Guid", "Provider_Guid")),
    "TimeCreated": (("SystemTime", "TimeCreated"),),
    "Execution": (("ProcessID", "ProcessID"), ("ThreadID", "ThreadID")),
    "Security": (("UserId", "SecurityUserID"), ("UserID", "SecurityUserID")),
    "Correlation": (("ActivityID", "ActivityID"),),
}


class SysmonLinuxParser:
    """A Sysmon for Linux event (XML, usually inside a syslog line)."""

    name = "sysmon-linux"
    first_bytes = NOT_JSON

    def accepts(self, record: RawRecord) -> bool:
        return b"<Event>" in record.data[:300] and b"Linux-Sysmon" in record.data[:600]

    def parse(self, record: RawRecord) -> dict[str, Any]:
        data = record.data
        start = data.find(b"<Event>")
        if start < 0 or b"<!" in data:  # no DTDs or entities: they are an attack, never sysmon
            raise ParseError("not a Sysmon for Linux event: expected '<Event>' XML")
        try:
            root = ElementTree.fromstring(data[start : data.rfind(b"</Event>") + 8])
        except ElementTree.ParseError as error:
            raise ParseError(f"invalid Sysmon XML: {error}") from None
        fields: dict[str, str] = {}
        system = root.find("System")
        for element in system if system is not None else ():
            pairs = SYSTEM_ATTRIBUTES.get(element.tag)
            if pairs is not None:
                for attribute, name in pairs:
                    if (value := element.get(attribute)) is not None:
                        fields[name] = value
            elif element.text is not None:
                fields[element.tag] = element.text
        for item in root.iterfind("EventData/Data"):
            data_name = item.get("Name")
            if data_name:
                fields[data_name] = item.text or ""
        if "EventID" not in fields:
            raise ParseError("Sysmon event without an EventID")
        row = windows_row(fields)
        row["event.dataset"] = "linux.sysmon"
        row["event.module"] = "sysmon"
        return row
