"""An entity graph drawn as SVG on the server: nodes on rings by kind, edges as lines."""

from __future__ import annotations

import math
from html import escape
from typing import Any

RINGS = {"host": 0.0, "user": 1.0, "ip": 2.0, "device": 2.0, "process": 3.0}
COLOURS = {
    "host": "#2f6fb3",
    "user": "#b3122e",
    "ip": "#5d8a2d",
    "device": "#8a5da8",
    "process": "#d98a06",
}
SIZE = 760
MAX_DRAWN = 150


def positions(nodes: list[dict[str, Any]]) -> dict[str, tuple[float, float]]:
    """Each node on the ring of its kind, spread evenly."""
    by_ring: dict[float, list[dict[str, Any]]] = {}
    for node in nodes:
        by_ring.setdefault(RINGS.get(node["kind"], 3.0), []).append(node)
    centre, step = SIZE / 2, SIZE / 2 / 4.4
    placed: dict[str, tuple[float, float]] = {}
    for ring, members in by_ring.items():
        radius = step * (ring + 0.6) if len(members) > 1 or ring else 0.0
        for number, node in enumerate(members):
            angle = 2 * math.pi * number / len(members) + ring * 0.4
            placed[node["id"]] = (
                centre + radius * math.cos(angle),
                centre + radius * math.sin(angle),
            )
    return placed


def graph_svg(graph: dict[str, Any]) -> str:
    """An SVG document of the graph (the busiest nodes, at most MAX_DRAWN)."""
    nodes = sorted(graph["nodes"], key=lambda node: -node["events"])[:MAX_DRAWN]
    placed = positions(nodes)
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {SIZE} {SIZE}" '
        'class="graph" role="img" aria-label="entity graph">'
    ]
    for edge in graph["edges"]:
        if edge["source"] in placed and edge["target"] in placed:
            (x1, y1), (x2, y2) = placed[edge["source"]], placed[edge["target"]]
            parts.append(
                f'<line x1="{x1:.1f}" y1="{y1:.1f}" x2="{x2:.1f}" y2="{y2:.1f}" '
                f'stroke="#9aa5b4" stroke-width="1"><title>{escape(edge["kind"])} '
                f"({edge['events']})</title></line>"
            )
    for node in nodes:
        x, y = placed[node["id"]]
        colour = COLOURS.get(node["kind"], "#666")
        label = escape(str(node["label"])[:28])
        parts.append(
            f'<g class="node node-{escape(node["kind"])}"><circle cx="{x:.1f}" cy="{y:.1f}" r="7" '
            f'fill="{colour}"><title>{escape(node["id"])} ({node["events"]} events)</title>'
            f'</circle><text x="{x + 9:.1f}" y="{y + 4:.1f}" font-size="10">{label}</text></g>'
        )
    parts.append("</svg>")
    return "".join(parts)
