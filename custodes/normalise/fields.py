"""Helpers every parser shares: flattening source fields and reading timestamps."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

import orjson
import pyarrow as pa

from custodes.errors import ParseError
from custodes.events import TIMESTAMP

#: First bytes (see `Normaliser`): JSON objects, everything but them, decimal digits.
JSON_START = frozenset(b"{")
NOT_JSON = frozenset(range(256)) - JSON_START
DIGITS = frozenset(b"0123456789")


class _Nested(Exception):
    """A value needs the slow path of `flatten` (a nested object)."""


def _scalar(value: Any) -> str:
    """A non-string JSON value as text; objects are left to the slow path."""
    kind = type(value)
    if kind is int or kind is float:
        return str(value)
    if kind is bool:
        return "true" if value else "false"
    if kind is dict:
        raise _Nested
    return orjson.dumps(value).decode()


def flatten(document: dict[str, Any], prefix: str = "") -> dict[str, str]:
    """Nested JSON as dotted keys with string values (lists stay JSON text, nulls are dropped)."""
    if not prefix:
        try:  # fast path: a flat document, the common case of JSON lines
            return {
                key: value if type(value) is str else _scalar(value)
                for key, value in document.items()
                if value is not None
            }
        except _Nested:
            pass
    flat: dict[str, str] = {}
    for key, value in document.items():
        name = f"{prefix}{key}"
        if isinstance(value, dict):
            flat.update(flatten(value, f"{name}."))
        elif isinstance(value, str):
            flat[name] = value
        elif value is not None:
            flat[name] = _scalar(value)
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


def timestamp_array(values: Sequence[datetime | str | None]) -> tuple[pa.Array, list[int]]:
    """An Arrow UTC timestamp column from datetimes and ISO 8601 strings, and the bad indices.

    All-string columns are converted in one vectorised cast; anything Arrow cannot cast (naive
    or nanosecond times, a mix with datetimes) falls back to `parse_iso` per value. Values that
    are not a time become null and their index is returned.
    """
    if isinstance(next((value for value in values if value is not None), None), str):
        try:
            return pa.array(values, type=pa.string()).cast(TIMESTAMP), []
        except (pa.ArrowInvalid, pa.ArrowTypeError):
            pass
    converted: list[datetime | None] = []
    bad: list[int] = []
    for index, value in enumerate(values):
        if isinstance(value, str):
            try:
                value = parse_iso(value)
            except ValueError:
                bad.append(index)
                value = None
        converted.append(value)
    return pa.array(converted, type=TIMESTAMP), bad


def require_time(value: str) -> str:
    """Check cheaply that a string could be an ISO time; the batch converts it later."""
    if len(value) < 10 or not value[:4].isdigit():
        raise ParseError(f"unreadable time {value!r}")
    return value
