"""IIS logs in W3C extended format: space-separated values named by the `#Fields:` header.

The reader passes the header in `RawRecord.context`. Field names stay as IIS writes them
(`cs-method`, `cs-uri-stem`, `c-ip`, ...); `cs(User-Agent)`, `cs(Referer)` and `cs(Host)` are
also kept as `cs-user-agent`/`c-useragent`, `cs-referer` and `cs-host`, the names Sigma's
webserver rules use. `+` in the user agent stands for a space, as IIS writes it.
"""

from __future__ import annotations

from datetime import UTC, datetime
from functools import lru_cache
from typing import Any

from custodes.errors import ParseError
from custodes.events import RawRecord
from custodes.normalise.access_log import web_row
from custodes.normalise.fields import NOT_JSON

RENAMED = {
    "cs(User-Agent)": ("cs-user-agent", "c-useragent"),
    "cs(Referer)": ("cs-referer",),
    "cs(Host)": ("cs-host",),
    "cs(Cookie)": ("cs-cookie",),
}


class IisParser:
    """One line of an IIS W3C extended log, read with its `#Fields:` header."""

    name = "iis"
    first_bytes = NOT_JSON

    def accepts(self, record: RawRecord) -> bool:
        return record.context is not None and "#Fields:" in record.context

    def parse(self, record: RawRecord) -> dict[str, Any]:
        names = header_fields(record.context or "")
        if not names:
            raise ParseError("IIS line without a '#Fields:' header")
        values = record.data.decode(errors="replace").split(" ")
        if len(values) > len(names):
            raise ParseError(f"IIS line has {len(values)} values for {len(names)} fields")
        fields: dict[str, str] = {}
        for name, value in zip(names, values, strict=False):
            if value == "-":
                continue
            if name == "cs(User-Agent)":
                value = value.replace("+", " ")
            fields[name] = value
            for alias in RENAMED.get(name, ()):
                fields[alias] = value
        stamp = None
        if "date" in fields and "time" in fields:
            try:
                stamp = datetime.fromisoformat(f"{fields['date']}T{fields['time']}")
            except ValueError:
                raise ParseError(f"unreadable IIS time {fields['date']} {fields['time']}") from None
            stamp = stamp.replace(tzinfo=UTC)  # IIS writes W3C logs in UTC
        return web_row(fields, stamp, request=None, dataset="iis.access")


@lru_cache(maxsize=64)
def header_fields(context: str) -> tuple[str, ...]:
    """The field names of the last `#Fields:` line of a W3C header."""
    for line in reversed(context.splitlines()):
        if line.startswith("#Fields:"):
            return tuple(line[len("#Fields:") :].split())
    return ()
