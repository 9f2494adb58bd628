"""Process trees from process-creation events: Sysmon 1 (ProcessGuid / ParentProcessGuid) and
Security 4688 (NewProcessId / ProcessId on one host).

A process is a node keyed by its GUID (Sysmon) or by `host|pid` (4688, where Windows reuses pids,
so a pid names the newest process started with it before the child). A parent seen only as a
child's parent becomes a node of its own, marked `is_seen = False`, with the image the child
names; an all-zero parent GUID (Sysmon did not know the parent) makes a root.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import pyarrow as pa

from custodes.investigate.steps import program


@dataclass
class ProcessNode:
    """One process."""

    key: str
    host: str | None
    pid: int | None
    image: str | None
    command_line: str | None = None
    started_at: datetime | None = None
    event_id: str | None = None
    parent_key: str | None = None
    is_seen: bool = True
    children: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        """Plain data for JSON."""
        return {
            "key": self.key,
            "host": self.host,
            "pid": self.pid,
            "image": self.image,
            "name": program(self.image),
            "command_line": self.command_line,
            "started_at": self.started_at.isoformat() if self.started_at else None,
            "event_id": self.event_id,
            "parent": self.parent_key,
            "is_seen": self.is_seen,
            "children": list(self.children),
        }


def number(value: object) -> int | None:
    """A pid written in decimal or 0x hex, else None."""
    if value is None:
        return None
    if isinstance(value, int):
        return value
    text = str(value).strip()
    try:
        return int(text, 16) if text.lower().startswith("0x") else int(text)
    except ValueError:
        return None


def field_of(row: dict[str, Any], name: str) -> str | None:
    """A source field of an event row (`fields` as a dict or as key/value pairs)."""
    fields = row.get("fields") or {}
    if isinstance(fields, list):
        fields = dict(fields)
    value = fields.get(name)
    return None if value in (None, "", "-") else str(value)


def is_null_guid(value: str | None) -> bool:
    """Sysmon writes an all-zero GUID when it does not know the parent."""
    return not value or not value.strip("{}").replace("0", "").replace("-", "")


def build_process_trees(events: pa.Table) -> dict[str, ProcessNode]:
    """Every process the creation events in `events` show, linked to its parent (by key)."""
    nodes: dict[str, ProcessNode] = {}
    rows = [
        row
        for row in events.to_pylist()
        if (row.get("event.dataset") == "windows.sysmon" and row.get("event.code") == "1")
        or (row.get("event.dataset") == "windows.security" and row.get("event.code") == "4688")
    ]
    rows.sort(key=lambda row: row.get("@timestamp") or datetime.min)
    pid_owner: dict[str, str] = {}  # host|pid -> key of the newest process with that pid
    for row in rows:
        host = row.get("host.name")
        if row.get("event.code") == "1":
            key = field_of(row, "ProcessGuid") or row.get("process.entity_id") or ""
            parent = field_of(row, "ParentProcessGuid") or row.get("process.parent.entity_id")
            if is_null_guid(parent):
                parent = None
            pid = number(field_of(row, "ProcessId"))
            parent_pid = number(field_of(row, "ParentProcessId"))
            image = field_of(row, "Image") or row.get("process.executable")
        else:
            pid = number(field_of(row, "NewProcessId"))
            parent_pid = number(field_of(row, "ProcessId"))
            key = f"{host}|{pid}|{row.get('event.id')}"
            parent = pid_owner.get(f"{host}|{parent_pid}")
            if parent is None and parent_pid is not None:
                parent = f"{host}|{parent_pid}"
            image = field_of(row, "NewProcessName") or row.get("process.executable")
        if not key:
            continue
        pid_owner[f"{host}|{pid}"] = key
        node = nodes.get(key)
        if node is None:
            node = nodes[key] = ProcessNode(key, host, pid, image)
        node.is_seen, node.pid, node.image = True, pid, image
        node.command_line = field_of(row, "CommandLine") or row.get("process.command_line")
        node.started_at, node.event_id = row.get("@timestamp"), row.get("event.id")
        if parent:
            node.parent_key = parent
            if parent not in nodes:
                nodes[parent] = ProcessNode(
                    parent,
                    host,
                    parent_pid,
                    field_of(row, "ParentImage") or field_of(row, "ParentProcessName"),
                    command_line=field_of(row, "ParentCommandLine"),
                    is_seen=False,
                )
            nodes[parent].children.append(key)
    return nodes


def roots(nodes: dict[str, ProcessNode]) -> list[ProcessNode]:
    """The processes with no parent among `nodes`."""
    return [node for node in nodes.values() if node.parent_key not in nodes]


def tree_dict(nodes: dict[str, ProcessNode], key: str, depth: int = 0) -> dict[str, Any]:
    """A nested dict of one tree (children inline), for the web view."""
    node = nodes[key].to_dict()
    if depth < 64:
        node["children"] = [tree_dict(nodes, child, depth + 1) for child in nodes[key].children]
    return node
