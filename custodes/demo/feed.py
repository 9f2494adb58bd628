"""Feeding the demo's telemetry to a running service through its own network inputs.

Syslog files go over TCP with RFC 6587 octet counting, one connection per file; the sender
half-closes and reads the service's `ok <messages>` (sent after the commit). JSON files go to the
Elasticsearch-compatible `POST /_bulk` as `create` actions, other line files to `POST /ingest`
with their parser named. Every HTTP answer comes after the fsync; a 429 is retried after its
Retry-After. Nothing here reads or writes the data directory: only the service does.
"""

from __future__ import annotations

import socket
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import orjson

from custodes.errors import CustodesError

#: Records per request (bulk) or per write (syslog).
CHUNK_RECORDS = 2000
#: How long an answer may take (a commit under load on a busy machine).
ANSWER_TIMEOUT_SECS = 120.0
#: Files the manifest says to send over HTTP whose lines are JSON documents (the rest: /ingest).
JSON_FORMATS = frozenset({"json", "evtx"})

Advance = Callable[[int], None]


class FeedError(CustodesError):
    """The service refused or did not acknowledge part of the demo's telemetry."""


@dataclass(frozen=True)
class TelemetryFile:
    """One file of the demo's manifest and how it is sent."""

    path: Path
    format: str
    send: str
    events: int

    @property
    def route(self) -> str:
        """`syslog TCP`, `HTTP _bulk` or `HTTP /ingest`: what the progress bar names."""
        if self.send == "syslog":
            return "syslog TCP"
        return "HTTP _bulk" if self.format in JSON_FORMATS else "HTTP /ingest"


@dataclass(frozen=True)
class Inputs:
    """Where the running service listens, and the ingest token that HTTP senders present."""

    http: str
    syslog: tuple[str, int]
    token: str


def telemetry_files(folder: Path, manifest: Mapping[str, Any]) -> list[TelemetryFile]:
    """The manifest's files, in its order; FeedError for a way of sending we do not know."""
    files = []
    for entry in manifest["files"]:
        send = str(entry["send"])
        if send not in ("syslog", "http"):
            raise FeedError(f"{entry['path']}: unknown way of sending {send!r} in manifest.json")
        files.append(TelemetryFile(folder / entry["path"], entry["format"], send, entry["events"]))
    return files


def chunks(path: Path, size: int = CHUNK_RECORDS) -> Iterator[list[bytes]]:
    """The file's non-empty lines (without their line end), `size` at a time."""
    chunk: list[bytes] = []
    with path.open("rb") as lines:
        for line in lines:
            line = line.rstrip(b"\r\n")
            if line:
                chunk.append(line)
                if len(chunk) == size:
                    yield chunk
                    chunk = []
    if chunk:
        yield chunk


def send_file(file: TelemetryFile, inputs: Inputs, client: httpx.Client, advance: Advance) -> int:
    """Send one file the way its manifest entry says; the number of records acknowledged."""
    if file.send == "syslog":
        return send_syslog(file.path, inputs.syslog, advance)
    if file.format in JSON_FORMATS:
        return send_bulk(file.path, client, advance)
    return send_lines(file.path, file.format, client, advance)


def send_syslog(path: Path, address: tuple[str, int], advance: Advance) -> int:
    """Octet-counted syslog over one TCP connection; the count the service acknowledged."""
    sent = 0
    with socket.create_connection(address, timeout=ANSWER_TIMEOUT_SECS) as connection:
        for chunk in chunks(path):
            connection.sendall(b"".join(b"%d %s" % (len(line), line) for line in chunk))
            sent += len(chunk)
            advance(len(chunk))
        connection.shutdown(socket.SHUT_WR)
        answer = b""
        while piece := connection.recv(256):
            answer += piece
    words = answer.split()
    if len(words) != 2 or words[0] != b"ok" or not words[1].isdigit():
        raise FeedError(f"{path.name}: the syslog input did not acknowledge ({answer[:80]!r})")
    acknowledged = int(words[1])
    if acknowledged != sent:
        raise FeedError(f"{path.name}: sent {sent} syslog messages, {acknowledged} acknowledged")
    return acknowledged


def send_bulk(path: Path, client: httpx.Client, advance: Advance) -> int:
    """JSON lines as Elasticsearch `_bulk` create actions; the number created."""
    created = 0
    for chunk in chunks(path):
        body = b"".join(b'{"create":{}}\n' + line + b"\n" for line in chunk)
        answer = post(client, "/_bulk", body, {}).json()
        items = answer.get("items", [])
        if answer.get("errors") or len(items) != len(chunk):
            raise FeedError(f"{path.name}: _bulk refused records: {first_bulk_error(items)}")
        created += len(items)
        advance(len(chunk))
    return created


def first_bulk_error(items: Sequence[Mapping[str, Any]]) -> str:
    """The reason of the first refused item of a `_bulk` answer."""
    for item in items:
        for result in item.values():
            if result.get("status", 201) >= 300:
                return str(result.get("error", {}).get("reason", result))
    return "the answer does not list every record"


def send_lines(path: Path, format: str, client: httpx.Client, advance: Advance) -> int:
    """Text lines to `POST /ingest?format=...`; the number committed."""
    committed = 0
    for chunk in chunks(path):
        answer = post(client, "/ingest", b"\n".join(chunk) + b"\n", {"format": format}).json()
        if answer.get("received") != len(chunk):
            raise FeedError(
                f"{path.name}: /ingest received {answer.get('received')} of {len(chunk)}"
            )
        committed += len(chunk)
        advance(len(chunk))
    return committed


def post(
    client: httpx.Client, route: str, body: bytes, params: Mapping[str, str], *, tries: int = 30
) -> httpx.Response:
    """POST one body; a 429 (service full: nothing was accepted) is sent again after Retry-After."""
    for _ in range(tries):
        response = client.post(
            route, content=body, params=params, headers={"content-type": "application/x-ndjson"}
        )
        if response.status_code != 429:
            break
        time.sleep(float(response.headers.get("retry-after", "1")))
    if response.status_code != 200:
        raise FeedError(f"POST {route}: HTTP {response.status_code}: {response.text[:200]}")
    return response


def stored_and_committed(sources: Mapping[str, Any]) -> tuple[int, int]:
    """From `GET /api/sources`: records in the lake (events and quarantine), and committed."""
    in_lake = sum(int(row["events"]) for row in sources["datasets"]) + int(sources["quarantined"])
    committed = sum(
        int(row.get("stored", 0)) + int(row.get("quarantined", 0)) for row in sources["sources"]
    )
    return in_lake, committed


def wait_until_stored(client: httpx.Client, *, timeout_secs: float = 120.0) -> int:
    """Wait until every committed record has left the WAL for the lake; the count stored."""
    deadline = time.monotonic() + timeout_secs
    while True:
        response = client.get("/api/sources")
        if response.status_code != 200:
            raise FeedError(f"GET /api/sources: HTTP {response.status_code}: {response.text[:200]}")
        sources = orjson.loads(response.content)
        in_lake, committed = stored_and_committed(sources)
        if in_lake >= committed and not any(sources.get("queues", {}).values()):
            return in_lake
        if time.monotonic() > deadline:
            raise FeedError(
                f"after {timeout_secs:.0f} s, {in_lake} of {committed} records are stored"
            )
        time.sleep(0.5)
