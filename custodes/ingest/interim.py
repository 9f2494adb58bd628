"""Interim JSON-lines file reader, used only until `custodes.ingest.files` lands (then deleted)."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from custodes.events import RawRecord


@dataclass
class FileReport:
    """What reading one file found."""

    path: Path
    format: str
    read: int = 0
    skipped_corrupt: int = 0
    errors: list[str] = field(default_factory=list)


def discover(paths: Sequence[Path]) -> list[Path]:
    """Files under the given files and folders, recursive, sorted."""
    found: list[Path] = []
    for path in paths:
        found.extend(sorted(p for p in path.rglob("*") if p.is_file()) if path.is_dir() else [path])
    return sorted(found)


def detect_format(path: Path) -> str:
    """Always `json` here."""
    return "json"


def read_file(
    path: Path, format: str = "auto", *, start: int = 0, report: FileReport | None = None
) -> Iterator[RawRecord]:
    """One record per line, positions from 0; resumes at `start`."""
    origin = str(path.resolve())
    if report is not None:
        report.format = "json"
    with open(path, "rb") as handle:
        for position, line in enumerate(handle):
            if position < start:
                continue
            if report is not None:
                report.read += 1
            yield RawRecord(data=line.rstrip(b"\r\n"), origin=origin, position=position)
