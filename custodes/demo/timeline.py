"""Blocks of generated lines, merged per day into time order and numbered per log.

A generator appends `Block`s (a column of times, the log each row belongs to, and a function that
renders the rows once their order is known); `Stream.flush_day` sorts all rows of the day by time,
numbers them per log (EventRecordID is per computer and channel) and writes the lines.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from operator import itemgetter
from pathlib import Path
from typing import IO

import numpy as np

MICROS = 1_000_000
DAY_MICROS = 86_400 * MICROS
WRITE_LINES = 4096

#: render(stamps, numbers) -> lines: ISO 8601 UTC times (microseconds, "Z") and record numbers.
Render = Callable[[Sequence[str], Sequence[int]], list[str]]


def day_start(day: date) -> int:
    """Midnight UTC of a day in microseconds since the epoch."""
    return int(datetime(day.year, day.month, day.day, tzinfo=UTC).timestamp()) * MICROS


def iso_stamps(micros: np.ndarray) -> list[str]:
    """ISO 8601 UTC times with microseconds, e.g. 2026-11-26T08:12:31.123456Z."""
    text = np.datetime_as_string(micros.astype("datetime64[us]"), unit="us", timezone="UTC")
    return text.tolist()  # type: ignore[no-any-return]


@dataclass
class Block:
    """Rows of one kind: their times (µs), the log each belongs to, and how to render them."""

    times: np.ndarray
    render: Render
    logs: np.ndarray | None = None
    needs_stamps: bool = True  # False when render formats the times itself (saves the strings)


@dataclass
class Stream:
    """One output file: collects a day's blocks, then writes them in time order."""

    path: Path
    format: str
    send: str
    logs: int = 1
    lines: int = 0
    blocks: list[Block] = field(default_factory=list)
    numbers: np.ndarray = field(init=False)
    handle: IO[bytes] | None = None

    def __post_init__(self) -> None:
        # Logs were not empty before the demo starts: each begins at its own number.
        self.numbers = (np.arange(max(1, self.logs), dtype=np.int64) * 7919) % 90_000 + 1000

    def add(
        self,
        times: np.ndarray,
        render: Render,
        logs: np.ndarray | int | None = None,
        *,
        needs_stamps: bool = True,
    ) -> None:
        """Queue rows for the current day (`render` gets no stamps unless `needs_stamps`)."""
        times = np.asarray(times, dtype=np.int64)
        if times.size == 0:
            return
        if isinstance(logs, int):
            logs = np.full(times.size, logs, dtype=np.int64)
        self.blocks.append(Block(times, render, logs, needs_stamps))

    def flush_day(self) -> int:
        """Sort the queued rows, number them per log, render and write; returns rows written."""
        if not self.blocks:
            return 0
        times = np.concatenate([block.times for block in self.blocks])
        logs = np.concatenate(
            [
                block.logs if block.logs is not None else np.zeros(block.times.size, np.int64)
                for block in self.blocks
            ]
        )
        order = np.argsort(times, kind="stable")
        numbers = np.empty(times.size, dtype=np.int64)
        numbers[order] = self.number(logs[order])
        rendered: list[str] = []
        position = 0
        for block in self.blocks:
            end = position + block.times.size
            stamps = iso_stamps(block.times) if block.needs_stamps else []
            rendered.extend(block.render(stamps, numbers[position:end].tolist()))
            position = end
        if self.handle is None:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self.handle = self.path.open("wb")
        ordered = order.tolist()
        for first in range(0, len(ordered), WRITE_LINES):
            # Modest pieces: one huge join and encode per day costs more than the formatting.
            chosen = ordered[first : first + WRITE_LINES]
            piece = itemgetter(*chosen)(rendered) if len(chosen) > 1 else (rendered[chosen[0]],)
            self.handle.write("\n".join(piece).encode())
            self.handle.write(b"\n")
        self.blocks.clear()
        self.lines += times.size
        return int(times.size)

    def number(self, logs: np.ndarray) -> np.ndarray:
        """Consecutive record numbers per log for rows already in time order."""
        order = np.argsort(logs, kind="stable")
        sorted_logs = logs[order]
        starts = np.flatnonzero(np.r_[True, sorted_logs[1:] != sorted_logs[:-1]])
        run_lengths = np.diff(np.r_[starts, sorted_logs.size])
        rank = np.arange(sorted_logs.size) - np.repeat(starts, run_lengths)
        result = np.empty(logs.size, dtype=np.int64)
        result[order] = self.numbers[sorted_logs] + rank + 1
        np.add.at(self.numbers, sorted_logs[starts], run_lengths)
        return result

    def close(self) -> None:
        """Close the file (an empty stream still leaves an empty file)."""
        if self.handle is None:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self.path.touch()
        else:
            self.handle.close()
            self.handle = None
