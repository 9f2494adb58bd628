"""Follow a local log file as it grows, across rotation, resuming where it stopped.

The position reached is committed with each batch as a WAL cursor keyed by the file's identity
(`tail:<path>:<device>:<inode>`), so after a restart or a crash the tail resumes after the last
committed line: nothing committed is read twice, nothing is skipped. Rotation by rename (the
path now names a new file) finishes the old file first, then starts the new one at its
beginning; truncation in place (copytruncate) starts again at offset 0.
"""

from __future__ import annotations

import asyncio
import logging
import os
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import BinaryIO, Literal

from custodes.events import RawRecord
from custodes.ingest.intake import Intake

log = logging.getLogger(__name__)

READ_BYTES = 1 << 20


def cursor_key(path: Path, status: os.stat_result) -> str:
    """The cursor key of one file: its path and identity (rotation makes a new identity)."""
    return f"tail:{path}:{status.st_dev}:{status.st_ino}"


def split_complete_lines(
    data: bytes, start: int, max_message_bytes: int
) -> tuple[list[tuple[int, bytes]], int]:
    """(offset, line) for every complete line of `data` read at `start`, and bytes consumed.

    A line longer than `max_message_bytes` is cut there (its rest becomes the next record).

    >>> split_complete_lines(b"a\\r\\n\\nbb\\ncc", 100, 1024)
    ([(100, b'a'), (104, b'bb')], 7)
    """
    lines: list[tuple[int, bytes]] = []
    position = 0
    while position < len(data):
        newline = data.find(b"\n", position, position + max_message_bytes + 1)
        if newline == -1:
            if len(data) - position > max_message_bytes:
                lines.append((start + position, data[position : position + max_message_bytes]))
                position += max_message_bytes
                continue
            break
        line = data[position:newline]
        if line.endswith(b"\r"):
            line = line[:-1]
        if line:
            lines.append((start + position, line))
        position = newline + 1
    return lines, position


@dataclass
class FileTail:
    """Tails one path; `run` until cancelled. `resume(key)` is the last committed offset."""

    name: str
    path: Path
    intake: Intake
    resume: Callable[[str], int | None]
    format: str | None = None
    start_at: Literal["beginning", "end"] = "beginning"
    poll_interval_secs: float = 0.5
    max_message_bytes: int = 1 << 20

    async def run(self) -> None:
        """Follow the file forever (until the task is cancelled)."""
        is_first = True
        while True:
            opened = self.open(is_first)
            if opened is None:
                await asyncio.sleep(self.poll_interval_secs)
                continue
            is_first = False
            handle, status, offset = opened
            with handle:
                await self.follow(handle, status, offset)

    def open(self, is_first: bool) -> tuple[BinaryIO, os.stat_result, int] | None:
        """The file, its identity and where to start (resume, beginning or end)."""
        try:
            handle = self.path.open("rb")
        except OSError:
            return None
        status = os.fstat(handle.fileno())
        committed = self.resume(cursor_key(self.path, status))
        if committed is not None and committed <= status.st_size:
            offset = committed
        elif is_first and self.start_at == "end":
            offset = status.st_size
        else:
            offset = 0
        handle.seek(offset)
        return handle, status, offset

    async def follow(self, handle: BinaryIO, status: os.stat_result, offset: int) -> None:
        """Read lines until the path names another file (rotation) and this one is done."""
        key = cursor_key(self.path, status)
        pending = b""
        while True:
            data = handle.read(READ_BYTES)
            if data:
                pending += data
                lines, used = split_complete_lines(pending, offset, self.max_message_bytes)
                pending = pending[used:]
                offset += used
                await self.commit(lines, (key, offset))
                continue
            rotated = self.is_rotated(status)
            if rotated:
                if pending:  # the old file ended without a final newline
                    await self.commit(
                        [(offset, pending.rstrip(b"\r"))], (key, offset + len(pending))
                    )
                return
            if os.fstat(handle.fileno()).st_size < handle.tell():  # truncated in place
                log.info("tail %s: %s was truncated, reading from the start", self.name, self.path)
                handle.seek(0)
                offset, pending = 0, b""
                await self.commit([], (key, 0))
                continue
            await asyncio.sleep(self.poll_interval_secs)

    def is_rotated(self, status: os.stat_result) -> bool:
        """Whether the path now names a different file (or none)."""
        try:
            current = os.stat(self.path)
        except OSError:
            return False  # gone for now: keep the old file open until a new one appears
        return (current.st_dev, current.st_ino) != (status.st_dev, status.st_ino)

    async def commit(self, lines: list[tuple[int, bytes]], cursor: tuple[str, int]) -> None:
        """Queue lines with the position after them; return once they are durable."""
        now = datetime.now(UTC)
        origin = str(self.path)
        records = [
            RawRecord(
                line,
                source=self.name,
                origin=origin,
                position=offset,
                format=self.format,
                received_at=now,
            )
            for offset, line in lines
            if line
        ]
        committed = await self.intake.put(self.name, records, cursor=cursor)
        await committed
