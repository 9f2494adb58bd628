"""The entity graph of a set of events: users, hosts, IPs, processes and devices as nodes, edges
from events (logon, connection, ran, started, used), as JSON nodes and edges.

Built from the events the door handed out, so users appear as it showed them (pseudonyms unless
granted).
"""

from __future__ import annotations

from collections import Counter
from typing import Any

import pyarrow as pa

from custodes.investigate.links import usable
from custodes.investigate.process_tree import field_of
from custodes.investigate.steps import program

MAX_NODES = 400


def node_id(kind: str, value: str) -> str:
    """A node's id: kind and value."""
    return f"{kind}:{value}"


def build_graph(events: pa.Table) -> dict[str, Any]:
    """{"nodes": [{id, kind, label, events}], "edges": [{source, target, kind, events}]}."""
    nodes: Counter[tuple[str, str]] = Counter()
    edges: Counter[tuple[str, str, str]] = Counter()

    def connect(a: tuple[str, str] | None, b: tuple[str, str] | None, kind: str) -> None:
        if a is None or b is None or a == b:
            return
        nodes[a] += 1
        nodes[b] += 1
        edges[(node_id(*a), node_id(*b), kind)] += 1

    for row in events.to_pylist():
        host = entity("host", row.get("host.name"))
        user = entity("user", row.get("user.name"))
        source = entity("ip", row.get("source.ip"))
        target = entity("ip", row.get("destination.ip"))
        device = entity("device", row.get("device.id"))
        guid = row.get("process.entity_id") or field_of(row, "ProcessGuid")
        image = row.get("process.executable")
        process = entity("process", f"{program(image)} {guid}" if guid else None)
        if host is not None:
            nodes[host] += 1
        connect(user, host, "logon" if row.get("event.code") in ("4624", "4648") else "acted on")
        connect(source, host, "connected to")
        connect(host, target, "connected to")
        connect(user, device, "used")
        connect(device, host, "reached")
        if process is not None:
            connect(host, process, "ran")
            parent_guid = row.get("process.parent.entity_id")
            parent_image = row.get("process.parent.executable")
            if parent_guid:
                connect(
                    entity("process", f"{program(parent_image)} {parent_guid}"), process, "started"
                )
    kept = {key for key, _count in nodes.most_common(MAX_NODES)}
    return {
        "nodes": [
            {"id": node_id(*key), "kind": key[0], "label": key[1].split(" {")[0], "events": count}
            for key, count in nodes.items()
            if key in kept
        ],
        "edges": [
            {"source": source, "target": target, "kind": kind, "events": count}
            for (source, target, kind), count in edges.items()
            if tuple(source.split(":", 1)) in kept and tuple(target.split(":", 1)) in kept
        ],
    }


def entity(kind: str, value: object) -> tuple[str, str] | None:
    """A node key, or None for values that name nothing."""
    text = usable(value)
    return None if text is None else (kind, text)
