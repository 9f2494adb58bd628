"""The write-ahead log: committed batches, fsync'ed to disk before a sender hears "ok".

A segment (`<data_dir>/wal/<seq:012d>.wal`) is a sequence of frames, one per committed batch:

    b"CWAL" | payload length (u64) | crc32 of payload (u32) | payload
    payload = header length (u32) | JSON header | events (Arrow IPC) | failures (Arrow IPC)

(Arrow IPC streams with zstd-compressed buffers.)

The JSON header holds the source cursors `(key, position)` committed with the batch, so a file
import resumes exactly where the last durable batch ended. A frame cut short by a crash fails
its length or checksum and is dropped on replay: its submit never returned, nobody was told "ok".
`state.json` beside the segments holds the next segment number and the cursors of every
segment already moved into the lake; it is replaced atomically.
"""

from __future__ import annotations

import fcntl
import os
import struct
import zlib
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import orjson
import pyarrow as pa

from custodes.errors import CustodesError

MAGIC = b"CWAL"
FRAME_HEADER = struct.Struct("<4sQI")
JSON_LENGTH = struct.Struct("<I")
SEGMENT_SUFFIX = ".wal"
STATE_FILE = "state.json"
LOCK_FILE = ".lock"
IPC_OPTIONS = pa.ipc.IpcWriteOptions(compression="zstd")

Cursor = tuple[str, int]


class DataDirBusy(CustodesError):
    """Another process is already writing to this data directory."""

    status = 409


@dataclass(frozen=True, slots=True)
class Frame:
    """One committed batch as read back from a segment."""

    events: pa.RecordBatch
    failures: pa.RecordBatch
    cursors: tuple[Cursor, ...]


@dataclass
class WalState:
    """What survives segments: the next segment number and the cursors already in the lake."""

    next_seq: int = 0
    cursors: dict[str, int] = field(default_factory=dict)


def fsync_directory(path: Path) -> None:
    """Make a directory's entries (new, renamed or removed files) durable."""
    descriptor = os.open(path, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)


def write_atomically(path: Path, data: bytes) -> None:
    """Replace `path` with `data`: temp file, fsync, rename, fsync the directory."""
    temporary = path.with_name(f".{path.name}.tmp")
    with open(temporary, "wb") as handle:
        handle.write(data)
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(temporary, path)
    fsync_directory(path.parent)


def ipc_bytes(batch: pa.RecordBatch) -> pa.Buffer:
    """A batch as an Arrow IPC stream (schema + one batch), zstd-compressed per buffer.

    Measured on 20,000 normalised JSON events: 21 MB plain, 3.8 MB compressed, and faster to
    produce than the plain stream (less memory to touch, less to write and fsync).
    """
    sink = pa.BufferOutputStream()
    with pa.ipc.new_stream(sink, batch.schema, options=IPC_OPTIONS) as writer:
        writer.write_batch(batch)
    return sink.getvalue()


def read_ipc(buffer: pa.Buffer) -> pa.RecordBatch:
    """The single batch of an Arrow IPC stream."""
    reader = pa.ipc.open_stream(buffer)
    batches = list(reader)
    if len(batches) == 1:
        return batches[0]
    return pa.Table.from_batches(batches, schema=reader.schema).combine_chunks().to_batches()[0]


def encode_frame(
    events: pa.RecordBatch, failures: pa.RecordBatch, cursors: Sequence[Cursor]
) -> list[bytes | pa.Buffer]:
    """The pieces of one frame, ready to be written in order."""
    events_ipc = ipc_bytes(events)
    failures_ipc = ipc_bytes(failures)
    header = orjson.dumps(
        {
            "cursors": [list(cursor) for cursor in cursors],
            "events": events_ipc.size,
            "failures": failures_ipc.size,
        }
    )
    crc = zlib.crc32(JSON_LENGTH.pack(len(header)))
    crc = zlib.crc32(header, crc)
    crc = zlib.crc32(events_ipc, crc)
    crc = zlib.crc32(failures_ipc, crc)
    length = JSON_LENGTH.size + len(header) + events_ipc.size + failures_ipc.size
    return [
        FRAME_HEADER.pack(MAGIC, length, crc),
        JSON_LENGTH.pack(len(header)),
        header,
        events_ipc,
        failures_ipc,
    ]


def read_segment(path: Path) -> Iterator[Frame]:
    """The intact frames of a segment, in order; stops at the first torn or damaged frame."""
    with pa.memory_map(str(path)) as source:
        data = source.read_buffer()
    offset = 0
    view = memoryview(data)
    while offset + FRAME_HEADER.size <= data.size:
        magic, length, crc = FRAME_HEADER.unpack_from(view, offset)
        start = offset + FRAME_HEADER.size
        if magic != MAGIC or start + length > data.size:
            return
        payload = data.slice(start, length)
        if zlib.crc32(payload) != crc:
            return
        (header_length,) = JSON_LENGTH.unpack_from(view, start)
        header = orjson.loads(bytes(view[start + 4 : start + 4 + header_length]))
        events_at = start + 4 + header_length
        failures_at = events_at + header["events"]
        yield Frame(
            events=read_ipc(data.slice(events_at, header["events"])),
            failures=read_ipc(data.slice(failures_at, header["failures"])),
            cursors=tuple((key, position) for key, position in header["cursors"]),
        )
        offset = start + length


def segment_seq(path: Path) -> int:
    """The sequence number in a segment's file name."""
    return int(path.stem)


class WriteAheadLog:
    """Append-only segments of committed batches; one writer per data directory.

    `append` returns only once the frame is on disk (file fsync'ed, and the directory too when
    the segment is new). `roll` closes the open segment so that it can be moved into the lake.
    """

    def __init__(
        self,
        directory: Path,
        *,
        max_segment_bytes: int = 64 << 20,
        max_segment_events: int = 100_000,
    ) -> None:
        self.directory = directory
        self.max_segment_bytes = max_segment_bytes
        self.max_segment_events = max_segment_events
        directory.mkdir(parents=True, exist_ok=True)
        self.lock = open(directory / LOCK_FILE, "a+b")  # noqa: SIM115 - held for our lifetime
        try:
            fcntl.flock(self.lock.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            self.lock.close()
            raise DataDirBusy(
                f"another process is writing to {directory.parent}; wait for it to finish"
            ) from None
        self.state = self.load_state()
        leftover = self.segments()
        if leftover:
            self.state.next_seq = max(self.state.next_seq, segment_seq(leftover[-1]) + 1)
        self.current: Path | None = None
        self.handle: int | None = None
        self.current_bytes = 0
        self.current_events = 0

    def load_state(self) -> WalState:
        """The state file, or a fresh state when there is none yet."""
        path = self.directory / STATE_FILE
        if not path.exists():
            return WalState()
        document = orjson.loads(path.read_bytes())
        return WalState(next_seq=document["next_seq"], cursors=dict(document["cursors"]))

    def save_state(self, state: WalState) -> None:
        """Replace the state file atomically."""
        write_atomically(
            self.directory / STATE_FILE,
            orjson.dumps({"next_seq": state.next_seq, "cursors": state.cursors}),
        )

    def segments(self) -> list[Path]:
        """Closed and open segments on disk, oldest first."""
        return sorted(self.directory.glob(f"*{SEGMENT_SUFFIX}"), key=segment_seq)

    def append(
        self, events: pa.RecordBatch, failures: pa.RecordBatch, cursors: Sequence[Cursor] = ()
    ) -> None:
        """Write one frame and fsync it; after this returns the batch survives a crash."""
        if self.handle is None:
            self.open_segment()
        assert self.handle is not None
        pieces = encode_frame(events, failures, cursors)
        written = os.writev(self.handle, pieces)
        expected = sum(len(piece) if isinstance(piece, bytes) else piece.size for piece in pieces)
        if written != expected:  # writev may be short on huge frames: finish the rest
            flat = b"".join(bytes(piece) for piece in pieces)
            while written < expected:
                written += os.write(self.handle, flat[written:])
        os.fsync(self.handle)
        self.current_bytes += expected
        self.current_events += events.num_rows

    @property
    def current_seq(self) -> int | None:
        """The number of the open segment (None between segments)."""
        return segment_seq(self.current) if self.current is not None else None

    def is_full(self) -> bool:
        """Whether the open segment has reached its size limit."""
        return (
            self.current_bytes >= self.max_segment_bytes
            or self.current_events >= self.max_segment_events
        )

    def open_segment(self) -> None:
        """Start a new segment and make its name durable."""
        seq = self.state.next_seq
        self.state.next_seq += 1
        self.current = self.directory / f"{seq:012d}{SEGMENT_SUFFIX}"
        self.handle = os.open(self.current, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
        self.current_bytes = 0
        self.current_events = 0
        fsync_directory(self.directory)

    def roll(self) -> Path | None:
        """Close the open segment (if any) and return it; the next append starts a new one."""
        if self.handle is None:
            return None
        os.close(self.handle)
        closed, self.current, self.handle = self.current, None, None
        return closed

    def remove(self, segment: Path) -> None:
        """Delete a segment whose content is durably in the lake."""
        segment.unlink()
        fsync_directory(self.directory)

    def close(self) -> None:
        """Close the open segment and release the writer lock."""
        self.roll()
        self.lock.close()
