"""Generated JSON-lines records for store tests."""

from __future__ import annotations

import orjson

from custodes.events import RawRecord


def json_line(index: int, *, day: int = 1, user: str | None = None) -> bytes:
    """One JSON event: a time on 2024-05-<day>, a user, an EventID and a command line."""
    return orjson.dumps(
        {
            "@timestamp": f"2024-05-{day:02d}T10:{index // 60 % 60:02d}:{index % 60:02d}Z",
            "event.dataset": "app.audit" if index % 2 else "app.web",
            "user.name": user or f"user{index % 5}",
            "EventID": str(4624 + index % 4),
            "CommandLine": f"run --job {index}",
            "n": index,
        }
    )


def json_records(count: int, *, origin: str = "test.jsonl", start: int = 0) -> list[RawRecord]:
    """`count` JSON records over three days, positions from `start`."""
    return [
        RawRecord(data=json_line(index, day=1 + index % 3), origin=origin, position=index)
        for index in range(start, start + count)
    ]
