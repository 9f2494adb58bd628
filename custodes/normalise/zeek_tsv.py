"""Zeek logs in Zeek's default TSV format, read with the `#separator`/`#fields`/`#types` header
the file reader passes in `RawRecord.context`.

Values are rendered exactly as Zeek's JSON writer renders the same record (see `zeek`), so the
two formats give equal fields: `-` (unset) is left out, `(empty)` is an empty string or list,
`T`/`F` are `true`/`false`, times are ISO 8601, sets and vectors are JSON lists.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import lru_cache
from typing import Any

import orjson

from custodes.errors import ParseError
from custodes.events import RawRecord
from custodes.normalise.fields import NOT_JSON
from custodes.normalise.zeek import zeek_row

ESCAPE = re.compile(r"\\(\\|x[0-9a-fA-F]{2})")
NUMBER_TYPES = frozenset({"count", "int", "port"})
FLOAT_TYPES = frozenset({"double", "interval"})


@dataclass(frozen=True, slots=True)
class ZeekHeader:
    """What a TSV header says: separators, markers, the log's name and its typed fields."""

    separator: str
    set_separator: str
    empty: str
    unset: str
    path: str | None
    names: tuple[str, ...]
    types: tuple[str, ...]


class ZeekTsvParser:
    """One Zeek TSV record, read with its header."""

    name = "zeek-tsv"
    first_bytes = NOT_JSON

    def accepts(self, record: RawRecord) -> bool:
        return record.context is not None and record.context.startswith("#separator")

    def parse(self, record: RawRecord) -> dict[str, Any]:
        header = read_header(record.context or "")
        values = record.data.decode(errors="replace").split(header.separator)
        if len(values) != len(header.names):
            raise ParseError(f"Zeek record has {len(values)} values for {len(header.names)} fields")
        fields: dict[str, str] = {}
        if header.path:
            fields["_path"] = header.path
        for name, kind, value in zip(header.names, header.types, values, strict=True):
            if value == header.unset:
                continue
            fields[name] = render(value, kind, header)
        return zeek_row(fields, header.path)


@lru_cache(maxsize=128)
def read_header(context: str) -> ZeekHeader:
    """The header of a Zeek TSV log from its `#` lines."""
    lines = context.splitlines()
    if not lines or not lines[0].startswith("#separator "):
        raise ParseError("Zeek TSV record without a '#separator' header")
    separator = lines[0].split(" ", 1)[1].encode().decode("unicode_escape")
    values: dict[str, list[str]] = {}
    for line in lines[1:]:
        key, _, rest = line[1:].partition(separator)
        values[key] = rest.split(separator)
    if "fields" not in values or "types" not in values:
        raise ParseError("Zeek TSV header without '#fields' and '#types'")
    if len(values["fields"]) != len(values["types"]):
        raise ParseError("Zeek TSV header: '#fields' and '#types' differ in length")
    return ZeekHeader(
        separator=separator,
        set_separator=values.get("set_separator", [","])[0],
        empty=values.get("empty_field", ["(empty)"])[0],
        unset=values.get("unset_field", ["-"])[0],
        path=values.get("path", [None])[0],
        names=tuple(values["fields"]),
        types=tuple(values["types"]),
    )


def render(value: str, kind: str, header: ZeekHeader) -> str:
    """One TSV value as Zeek's JSON writer would render it (as text)."""
    if kind.startswith(("set[", "vector[")):
        inner = kind[kind.index("[") + 1 : -1]
        items = [] if value == header.empty else value.split(header.set_separator)
        return orjson.dumps([typed(item, inner) for item in items]).decode()
    if value == header.empty:
        return ""
    return str(scalar(value, kind))


def typed(value: str, kind: str) -> Any:
    """A set/vector item as the JSON value Zeek writes for it."""
    if kind in NUMBER_TYPES or kind in FLOAT_TYPES or kind == "bool":
        rendered = scalar(value, kind)
        return {"true": True, "false": False}.get(rendered, orjson.loads(rendered))
    return scalar(value, kind)


def scalar(value: str, kind: str) -> str:
    """A scalar TSV value as JSON text would show it."""
    if kind == "bool":
        return "true" if value == "T" else "false"
    if kind == "time":
        try:
            stamp = datetime.fromtimestamp(float(value), tz=UTC)
        except (ValueError, OverflowError, OSError):
            raise ParseError(f"unreadable Zeek time {value!r}") from None
        return stamp.strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    if kind in FLOAT_TYPES:
        try:
            return str(float(value))
        except ValueError:
            raise ParseError(f"not a number: {value!r}") from None
    if kind in NUMBER_TYPES:
        if not value.lstrip("-").isdigit():
            raise ParseError(f"not an integer: {value!r}")
        return str(int(value))
    return unescape(value) if "\\" in value else value


def unescape(value: str) -> str:
    """Zeek's TSV escapes undone where its JSON writer has none: `\\\\` is a backslash, and
    `\\xNN` of a printable or white-space byte is that byte; other bytes stay `\\xNN` (as in JSON).
    """
    return ESCAPE.sub(unescape_one, value)


def unescape_one(found: re.Match[str]) -> str:
    """One escape sequence, as Zeek's JSON writer would show that byte."""
    if found[1] == "\\":
        return "\\"
    code = int(found[1][1:], 16)
    return chr(code) if code in (9, 10, 13) or 0x20 <= code < 0x7F else found[0]
