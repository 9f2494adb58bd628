"""Apache/nginx access logs in the common and combined formats.

`client ident user [time] "METHOD uri PROTOCOL" status bytes ["referer" "agent"]`. Fields are
also kept under the W3C names Sigma's webserver rules use (cs-method, cs-uri-stem,
cs-uri-query, sc-status, c-ip, cs-user-agent, c-useragent, cs-referer), so one rule covers
Apache and IIS.
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any

from custodes.errors import ParseError
from custodes.events import FIELDS_COLUMN, RawRecord
from custodes.normalise.fields import NOT_JSON

_START = r"(?P<client>\S+) (?P<ident>\S+) (?P<user>.+?) \[(?P<time>[^\]]+)\] "
_END = r" (?P<status>\d{3}|-) (?P<bytes>\d+|-)"
LINE = re.compile(
    _START
    + r'"(?P<request>(?:[^"\\]|\\.)*)"'
    + _END
    + r'(?: "(?P<referer>(?:[^"\\]|\\.)*)" "(?P<agent>(?:[^"\\]|\\.)*)")?(?P<rest>.*)',
    re.DOTALL,
)
#: Attack traffic puts bare quotes in the request: then the request runs to the last `" status`.
LENIENT = re.compile(
    _START + r'"(?P<request>.*)"' + _END + r'(?: "(?P<referer>[^"]*)" "(?P<agent>[^"]*)")?\s*$',
    re.DOTALL,
)
REQUEST = re.compile(r"(?P<method>[A-Za-z]+) (?P<uri>\S+)(?: (?P<protocol>[A-Z]+/[\d.]+))?")


class AccessLogParser:
    """One line of an Apache/nginx access log (common or combined)."""

    name = "access-log"
    first_bytes = NOT_JSON

    def accepts(self, record: RawRecord) -> bool:
        head = record.data[:120]
        return b" - [" in head or (b" [" in head and b'] "' in head)

    def parse(self, record: RawRecord) -> dict[str, Any]:
        text = record.data.decode(errors="replace")
        match = LINE.match(text) or LENIENT.match(text)
        if match is None:
            raise ParseError(
                "not an access log line: expected 'client ident user [time] \"request\"'"
            )
        try:
            stamp = datetime.strptime(match["time"], "%d/%b/%Y:%H:%M:%S %z")
        except ValueError:
            raise ParseError(f"unreadable access log time {match['time']!r}") from None
        fields = {"c-ip": match["client"], "cs-request": match["request"]}
        if match["user"] != "-":
            fields["cs-username"] = match["user"]
        if match["status"] != "-":
            fields["sc-status"] = match["status"]
        if match["bytes"] != "-":
            fields["sc-bytes"] = match["bytes"]
        if match["referer"] not in (None, "-"):
            fields["cs-referer"] = match["referer"]
        if match["agent"] not in (None, "-"):
            fields["cs-user-agent"] = fields["c-useragent"] = match["agent"]
        return web_row(fields, stamp, request=match["request"], dataset="web.access")


def web_row(
    fields: dict[str, str], stamp: Any, *, request: str | None, dataset: str
) -> dict[str, Any]:
    """Core columns of a web request from its W3C-named fields (shared with IIS)."""
    if request is not None and (found := REQUEST.fullmatch(request)) is not None:
        uri = found["uri"]
        fields["cs-method"] = found["method"]
        if found["protocol"]:
            fields["cs-version"] = found["protocol"]
        stem, _, query = uri.partition("?")
        fields["cs-uri-stem"] = stem
        if query:
            fields["cs-uri-query"] = query
    status = fields.get("sc-status", "")
    code = int(status) if status.isdigit() and len(status) == 3 else None
    size = fields.get("sc-bytes", "")
    query = fields.get("cs-uri-query")
    stem = fields.get("cs-uri-stem")
    return {
        "@timestamp": stamp,
        "event.dataset": dataset,
        "event.kind": "event",
        "event.category": "web",
        "event.outcome": None if code is None else ("success" if code < 400 else "failure"),
        "source.ip": fields.get("c-ip"),
        "destination.ip": fields.get("s-ip"),
        "destination.port": port(fields.get("s-port")),
        "user.name": fields.get("cs-username"),
        "url.original": None if stem is None else (f"{stem}?{query}" if query else stem),
        "http.request.method": fields.get("cs-method"),
        "http.response.status_code": code,
        "network.bytes": int(size) if size.isdigit() and len(size) < 18 else None,
        "user_agent.original": fields.get("cs-user-agent"),
        "destination.domain": fields.get("cs-host"),
        FIELDS_COLUMN: fields,
    }


def port(value: str | None) -> int | None:
    """A TCP/UDP port number, or None."""
    if value is None or not value.isdigit() or len(value) > 5:
        return None
    number = int(value)
    return number if number < 65536 else None
