"""Windows netlogon.log (debug logging of the Netlogon service, e.g. for ZeroLogon).

`MM/DD HH:MM:SS [CATEGORY] [pid] message`; the year is not written, so it is the one that puts
the line at or before the time the record was received (a file's modification time). Secure
channel authentication lines also give the client computer, its address and the account.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Any

from custodes.errors import ParseError
from custodes.events import FIELDS_COLUMN, RawRecord
from custodes.normalise.fields import DIGITS

LINE = re.compile(
    r"(?P<month>\d\d)/(?P<day>\d\d) (?P<clock>\d\d:\d\d:\d\d) \[(?P<category>[^\]]+)\]"
    r"(?: \[(?P<pid>\d+)\])? ?(?P<message>.*)",
    re.DOTALL,
)
CLIENT = re.compile(
    r"(?:(?P<domain>[^:\s]+): )?(?P<call>\w+):?(?: entered:)? .*?(?:for )?(?P<computer>[\w.$-]+)"
    r"(?: \((?P<ip>[0-9a-fA-F.:]+)\))? on account (?P<account>\S+)"
)
FAILURES = ("Failed", "Bad password", "denied", "failed")


class NetlogonParser:
    """One line of a Windows netlogon.log."""

    name = "netlogon"
    first_bytes = DIGITS

    def accepts(self, record: RawRecord) -> bool:
        data = record.data
        return data[2:3] == b"/" and data[14:16] == b" [" and data[:2].isdigit()

    def parse(self, record: RawRecord) -> dict[str, Any]:
        match = LINE.match(record.data.decode(errors="replace"))
        if match is None:
            raise ParseError("not a netlogon.log line: expected 'MM/DD hh:mm:ss [CATEGORY]'")
        received = record.received_at
        year = received.year if received is not None else 1970
        hour, minute, second = (int(part) for part in match["clock"].split(":"))
        try:
            stamp = datetime(
                year, int(match["month"]), int(match["day"]), hour, minute, second, tzinfo=UTC
            )
            if received is not None and (stamp - received).days > 31:
                stamp = stamp.replace(year=year - 1)
        except ValueError:
            raise ParseError(f"impossible date {match['month']}/{match['day']}") from None
        message = match["message"].rstrip()
        fields = {"category": match["category"]}
        if match["pid"]:
            fields["pid"] = match["pid"]
        row: dict[str, Any] = {
            "@timestamp": stamp,
            "event.dataset": "windows.netlogon",
            "event.kind": "event",
            "process.pid": int(match["pid"]) if match["pid"] else None,
            "message": message,
        }
        client = CLIENT.search(message)
        if client is not None:
            fields.update({key: value for key, value in client.groupdict().items() if value})
            row["event.action"] = client["call"]
            row["source.ip"] = client["ip"]
            row["user.name"] = client["account"]
            row["user.domain"] = client["domain"]
            failed = any(word in message for word in FAILURES)
            row["event.outcome"] = "failure" if failed else None
        row[FIELDS_COLUMN] = fields
        return row
