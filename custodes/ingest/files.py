"""Log files -> raw records: find files, recognise their format, read them record by record.

Every record carries its file (`origin`) and its place there (`position`: the EVTX record index
or the line index, from 0), so `read_file(..., start=n)` resumes after a crash and replays give
the same event ids. Nothing is dropped silently: damaged EVTX records are counted in the
report, and a file no reader understands still yields records, which the normaliser
quarantines with the reason.
"""

from __future__ import annotations

import gzip
import io
import json
import re
import zlib
from bisect import bisect_left
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from itertools import islice
from pathlib import Path
from typing import IO, cast

import evtx
import orjson

from custodes.events import Provenance, RawBatch, RawRecord

HEAD_BYTES = 64 * 1024
#: Bytes of a line file read at a time (each block's lines become one `RawBatch`).
LINE_BLOCK_BYTES = 1 << 20
#: Records per batch from readers that get them one at a time (EVTX, pretty-printed JSON).
BATCH_RECORDS = 1000
#: Pretty-printed JSON is read whole; larger files are quarantined in chunks instead.
MAX_JSON_DOCUMENT_BYTES = 64 * 1024 * 1024
#: Bytes per record when a file no reader understands is kept as quarantined chunks.
CHUNK_BYTES = 64 * 1024
#: An EVTX iterator that fails this many times in a row is given up (the rest is reported).
MAX_CONSECUTIVE_ERRORS = 10_000
EVTX_MAGIC = b"ElfFile\x00"
BINARY_CONTROLS = tuple(code for code in range(32) if code not in (9, 10, 12, 13, 27))
UNSUPPORTED = "unsupported"  # same name as custodes.normalise.UNSUPPORTED (ingest precedes it)
BY_SUFFIX = {".evtx": "evtx", ".json": "json", ".jsonl": "json", ".ndjson": "json"}
#: First-line patterns of text formats, tried in order (the first line that is not a comment).
LINE_FORMATS: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("json", re.compile(r"^\s*\{")),
    ("rfc5424", re.compile(r"^<\d{1,3}>\d{1,2} ")),
    ("cef", re.compile(r"CEF:\d+\|")),
    ("auditd", re.compile(r"^(node=\S+ )?type=\w+ msg=audit\(")),
    ("access-log", re.compile(r'^\S+ \S+ \S+ \[[^\]]+\] "')),
    ("netlogon", re.compile(r"^\d\d/\d\d \d\d:\d\d:\d\d \[\w+\]")),
    ("cbs", re.compile(r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d, \w+ +\S+")),
    ("logcat", re.compile(r"^\d\d-\d\d \d\d:\d\d:\d\d\.\d+ +\d+ +\d+ [VDIWEFA] ")),
    ("rfc3164", re.compile(r"^(<\d{1,3}>)?[A-Z][a-z]{2} [ \d]\d \d\d:\d\d:\d\d ")),
    # rsyslog's high-precision time (Debian 12 and later write auth.log so)
    ("rfc3164", re.compile(r"^(<\d{1,3}>)?\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\S* \S+ [^\s:]+: ")),
)
AUTHLOG_NAMES = ("auth", "secure")


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
        if path.is_dir():
            found.extend(child for child in path.rglob("*") if child.is_file())
        else:
            found.append(path)
    return sorted(set(found))


def open_file(path: Path) -> IO[bytes]:
    """The file's bytes, gunzipped when it is gzip."""
    with open(path, "rb") as handle:
        is_gzip = handle.read(2) == b"\x1f\x8b"
    return cast(IO[bytes], gzip.open(path, "rb")) if is_gzip else open(path, "rb")


def detect_format(path: Path) -> str:
    """The format of a file, from its first bytes and lines (then its name), or `unsupported`."""
    try:
        with open_file(path) as handle:
            head = handle.read(HEAD_BYTES)
    except (OSError, EOFError):
        return UNSUPPORTED
    if head.startswith(EVTX_MAGIC):
        return "evtx"
    if looks_binary(head):
        return UNSUPPORTED
    text = head.removeprefix(b"\xef\xbb\xbf").decode(errors="replace")
    lines = [line for line in text.splitlines() if line.strip()]
    if lines and lines[0].startswith("#separator"):
        return "zeek-tsv"
    if any(line.startswith("#Fields:") for line in lines[:10]):
        return "iis"
    first = next((line for line in lines if not line.startswith("#")), "")
    for name, pattern in LINE_FORMATS:
        if pattern.search(first):
            if name == "rfc3164" and any(word in path.name.lower() for word in AUTHLOG_NAMES):
                return "authlog"
            return name
    suffix = path.suffix.lower()
    return BY_SUFFIX.get(suffix, UNSUPPORTED) if suffix != ".evtx" else UNSUPPORTED


def read_batches(
    path: Path, format: str = "auto", *, start: int = 0, report: FileReport | None = None
) -> Iterator[RawBatch]:
    """The records of one file from position `start` on, a block at a time (see `RawBatch`)."""
    if format == "auto":
        format = detect_format(path)
    report = report if report is not None else FileReport(path, format)
    report.format = format
    received_at = modified_at(path)
    try:
        if format == "evtx":
            batches = read_evtx(path, report, received_at)
        elif format == UNSUPPORTED:
            batches = read_unsupported(path, received_at)
        elif format == "json" and not is_json_lines(path):
            batches = read_json_documents(path, report, received_at)
        else:
            batches = read_lines(path, format, received_at)
        for batch in batches:
            if batch.positions and batch.positions[0] < start:  # positions ascend in a file
                batch = batch[bisect_left(batch.positions, start) :]
            if len(batch):
                report.read += len(batch)
                yield batch
    except (OSError, EOFError, zlib.error) as error:  # e.g. a truncated .gz: say so, count it
        report.errors.append(f"the file ends in damaged data: {error}")
        report.skipped_corrupt += 1


def read_file(
    path: Path, format: str = "auto", *, start: int = 0, report: FileReport | None = None
) -> Iterator[RawRecord]:
    """The records of one file from position `start` on; `report` counts what was read."""
    for batch in read_batches(path, format, start=start, report=report):
        yield from batch


def batched(records: Iterator[RawRecord]) -> Iterator[RawBatch]:
    """Records one at a time as batches of up to `BATCH_RECORDS`."""
    while chunk := list(islice(records, BATCH_RECORDS)):
        yield RawBatch.of(chunk)


def is_json_lines(path: Path) -> bool:
    """Whether the first line holds a whole JSON value (else the file is pretty-printed JSON)."""
    with open_file(path) as handle:
        for line in handle:
            if line.strip():
                try:
                    orjson.loads(line)
                except orjson.JSONDecodeError:
                    return False
                return True
    return True


def read_json_documents(
    path: Path, report: FileReport, received_at: datetime | None
) -> Iterator[RawBatch]:
    """Pretty-printed JSON: each top-level object (or each element of a top-level array)."""
    return batched(json_documents(path, report, received_at))


def json_documents(
    path: Path, report: FileReport, received_at: datetime | None
) -> Iterator[RawRecord]:
    """The records of `read_json_documents`, one at a time."""
    origin = str(path.resolve())
    with open_file(path) as handle:
        content = handle.read(MAX_JSON_DOCUMENT_BYTES + 1)
    if len(content) > MAX_JSON_DOCUMENT_BYTES:
        report.errors.append(
            f"pretty-printed JSON over {MAX_JSON_DOCUMENT_BYTES} bytes: kept as is"
        )
        for batch in read_unsupported(path, received_at, reason="pretty-printed JSON too large"):
            yield from batch
        return
    text = content.removeprefix(b"\xef\xbb\xbf").decode(errors="replace")
    decoder = json.JSONDecoder()
    position = index = 0
    while (index := skip_space(text, index)) < len(text):
        try:
            value, end = decoder.raw_decode(text, index)
        except ValueError:  # the rest is not JSON: keep it, the normaliser says why
            yield RawRecord(text[index:].encode(), "file", origin, position, None, received_at)
            return
        if isinstance(value, list) and text[index] == "[":
            for item in value:
                yield RawRecord(orjson.dumps(item), "file", origin, position, None, received_at)
                position += 1
        else:
            yield RawRecord(text[index:end].encode(), "file", origin, position, None, received_at)
            position += 1
        index = end


def skip_space(text: str, index: int) -> int:
    """The index of the next character that is not white space (or the end)."""
    while index < len(text) and text[index].isspace():
        index += 1
    return index


def modified_at(path: Path) -> datetime | None:
    """When the file was last written: its records' receive time (it dates year-less lines)."""
    try:
        return datetime.fromtimestamp(path.stat().st_mtime, tz=UTC)
    except OSError:
        return None


def read_evtx(path: Path, report: FileReport, received_at: datetime | None) -> Iterator[RawBatch]:
    """EVTX records as the `evtx` package renders them, resuming past damaged records and chunks."""
    origin = str(path.resolve())
    try:
        iterator = evtx.PyEvtxParser(str(path)).records_json()
    except (RuntimeError, OSError, ValueError) as error:
        report.errors.append(f"not readable as EVTX: {error}")
        yield from read_unsupported(path, received_at, reason=f"not readable as EVTX: {error}")
        return
    provenance = Provenance("file", origin, "evtx", received_at)
    datas: list[bytes] = []
    position = 0  # of the first record in `datas`
    failed_in_a_row = 0
    while True:
        try:
            item = next(iterator)
        except StopIteration:
            break
        except (RuntimeError, OSError, ValueError) as error:  # a damaged record or chunk
            report.skipped_corrupt += 1
            report.errors.append(str(error))
            failed_in_a_row += 1
            if failed_in_a_row >= MAX_CONSECUTIVE_ERRORS:
                report.errors.append("gave up: the EVTX reader keeps failing")
                break
            continue
        failed_in_a_row = 0
        if isinstance(item, dict):
            datas.append(str(item["data"]).encode())
        if len(datas) == BATCH_RECORDS:
            yield RawBatch(datas, list(range(position, position + len(datas))), provenance)
            position, datas = position + len(datas), []
    if datas:
        yield RawBatch(datas, list(range(position, position + len(datas))), provenance)


def read_lines(path: Path, format: str, received_at: datetime | None) -> Iterator[RawBatch]:
    """Non-empty lines, a block at a time; header lines (`#...`) of Zeek and IIS become context.

    A record's position is its line's index in the file (blank lines count, so a resumed read
    and a replay give the same event ids).
    """
    origin = str(path.resolve())
    # An unknown text format: each line goes to whichever parser accepts it (or quarantine).
    record_format = None if format in ("json", UNSUPPORTED) else format
    provenance = Provenance("file", origin, record_format, received_at)
    header: list[str] = []
    position = 0
    with open_file(path) as handle:
        for lines in line_blocks(handle):
            if not position:
                lines[0] = lines[0].removeprefix(b"\xef\xbb\xbf")
            if format not in ("zeek-tsv", "iis"):
                batch = numbered(lines, position, provenance)
                if len(batch):
                    yield batch
                position += len(lines)
                continue
            datas: list[bytes] = []
            positions: list[int] = []
            for line in lines:
                if line and not line.isspace():
                    if line[:1] != b"#":
                        datas.append(line)
                        positions.append(position)
                    else:  # a header line: what follows has a new context
                        if datas:
                            yield RawBatch(datas, positions, provenance)
                            datas, positions = [], []
                        header = update_header(header, line.decode(errors="replace"), format)
                        provenance = replace(provenance, context="\n".join(header))
                position += 1
            if datas:
                yield RawBatch(datas, positions, provenance)


def line_blocks(handle: IO[bytes]) -> Iterator[list[bytes]]:
    """The lines of a file (without their line ends), one list per block read.

    A line longer than a block is gathered piece by piece and joined once, when it ends.
    """
    read = cast(io.BufferedIOBase, handle).read1  # one read at a time: a damaged end keeps the rest
    carry: list[bytes] = []  # the start of a line that has not ended yet
    while block := read(LINE_BLOCK_BYTES):
        if b"\n" not in block:
            carry.append(block)
            continue
        has_cr = b"\r" in block or any(b"\r" in piece for piece in carry)
        lines = (b"".join([*carry, block]) if carry else block).split(b"\n")
        carry = [lines.pop()]
        yield [line.rstrip(b"\r") for line in lines] if has_cr else lines
    if last := b"".join(carry):
        yield [last.rstrip(b"\r")]


def numbered(lines: list[bytes], first: int, provenance: Provenance) -> RawBatch:
    """The lines that hold something, numbered from `first` (blank lines keep their number)."""
    if all(lines) and not any(map(bytes.isspace, lines)):  # the usual block: no blank line
        return RawBatch(lines, list(range(first, first + len(lines))), provenance)
    kept = [index for index, line in enumerate(lines) if line and not line.isspace()]
    return RawBatch([lines[index] for index in kept], [first + index for index in kept], provenance)


def update_header(header: list[str], line: str, format: str) -> list[str]:
    """The header after one more `#` line: Zeek starts over at `#separator`, IIS at `#Fields`."""
    if line.startswith("#close"):
        return header
    if (format == "zeek-tsv" and line.startswith("#separator")) or (
        format == "iis" and line.startswith("#Software")
    ):
        return [line]
    if format == "iis" and line.startswith("#Fields"):
        return [kept for kept in header if not kept.startswith("#Fields")] + [line]
    return [*header, line]


def read_unsupported(
    path: Path, received_at: datetime | None, *, reason: str | None = None
) -> Iterator[RawBatch]:
    """A file no reader understands, as chunks the normaliser quarantines with the reason."""
    origin = str(path.resolve())
    kind = path.suffix.lower().lstrip(".") or "no extension"
    why = reason or f"no reader for this file ({kind}, {describe(path)})"
    text_like = reason is None and not is_binary(path)
    if text_like:
        yield from read_lines(path, UNSUPPORTED, received_at)
        return
    provenance = Provenance("file", origin, UNSUPPORTED, received_at, why)
    with open(path, "rb") as handle:
        position = 0
        while chunk := handle.read(CHUNK_BYTES):
            yield RawBatch([chunk], [position], provenance)
            position += 1


def is_binary(path: Path) -> bool:
    """Whether the file's first bytes look binary (see `looks_binary`)."""
    try:
        with open_file(path) as handle:
            return looks_binary(handle.read(HEAD_BYTES))
    except (OSError, EOFError):
        return True


def looks_binary(head: bytes) -> bool:
    """More than 1 in 20 bytes are control characters text never holds (a stray NUL is fine)."""
    controls = sum(head.count(bytes([code])) for code in BINARY_CONTROLS)
    return controls * 20 > len(head)


def describe(path: Path) -> str:
    """A short human description of an unknown file for the quarantine reason."""
    if path.suffix.lower() == ".etl":
        return "an ETW trace, a binary format Custodes does not decode"
    return "binary content" if is_binary(path) else "text in no known format"
