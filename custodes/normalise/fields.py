"""Helpers every parser shares: flattening source fields and reading timestamps."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import orjson


def flatten(document: dict[str, Any], prefix: str = "") -> dict[str, str]:
    """Nested JSON as dotted keys with string values (lists stay JSON text)."""
    flat: dict[str, str] = {}
    for key, value in document.items():
        name = f"{prefix}{key}"
        if isinstance(value, dict):
            flat.update(flatten(value, f"{name}."))
        elif isinstance(value, str):
            flat[name] = value
        elif value is None:
            continue
        elif isinstance(value, bool):
            flat[name] = "true" if value else "false"
        elif isinstance(value, int | float):
            flat[name] = str(value)
        else:
            flat[name] = orjson.dumps(value).decode()
    return flat


def parse_iso(text: str) -> datetime:
    """An ISO 8601 time as an aware UTC datetime (naive times are taken as UTC)."""
    text = text.strip()
    if text.endswith("Z"):
        text = text[:-1] + "+00:00"
    stamp = datetime.fromisoformat(text)
    if stamp.tzinfo is None:
        return stamp.replace(tzinfo=UTC)
    return stamp.astimezone(UTC)


def from_epoch(seconds: float) -> datetime:
    """Seconds since the epoch (fractions allowed) as an aware UTC datetime."""
    return datetime.fromtimestamp(seconds, tz=UTC)
