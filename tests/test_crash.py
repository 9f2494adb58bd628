"""Crash test: 200,000 events over HTTP bulk and TCP syslog while `custodes serve` is killed with
SIGKILL five times and restarted; every event the client saw acknowledged is stored once.

Acknowledged means: HTTP bulk answered 200 (sent after fsync); a TCP connection whose
half-close the server answered with `ok <n>` (sent only when all it read is committed; a crash
closes the connection without it). Whatever
was not acknowledged is sent again after the restart, as a shipper would.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import threading
import time
from abc import ABC, abstractmethod
from collections.abc import Callable
from pathlib import Path

import httpx
import orjson

from custodes.store import connect
from custodes.store.control import open_control
from custodes.store.users import create_token

HTTP_EVENTS = 150_000
TCP_EVENTS = 50_000
HTTP_BATCH = 1000
TCP_BATCH = 1000
KILLS = 5

CONFIG = """
http: {listen: "127.0.0.1:0"}
batch: {max_events: 5000, max_wait_secs: 0.01}
sources:
  tcp: {type: syslog, listen: "tcp:127.0.0.1:0"}
"""


class ServerProcess:
    """`custodes serve` as a child process; `kill` is SIGKILL, `start` waits for the ports."""

    def __init__(self, data_dir: Path, config: Path, log: Path) -> None:
        self.data_dir = data_dir
        self.config = config
        self.log = log
        self.process: subprocess.Popen[bytes] | None = None
        self.listening: dict[str, str] = {}
        self.generation = 0

    def start(self) -> None:
        ready = self.data_dir / "serve.json"
        ready.unlink(missing_ok=True)  # a killed server leaves its file behind
        with self.log.open("ab") as log:
            self.process = subprocess.Popen(
                [sys.executable, "-c", "from custodes.cli.main import app; app()", "serve"]
                + ["--data-dir", str(self.data_dir), "--config", str(self.config)],
                stdout=log,
                stderr=log,
            )
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise AssertionError(f"server exited: {self.log.read_text()[-2000:]}")
            try:
                document = orjson.loads(ready.read_bytes())
            except (OSError, orjson.JSONDecodeError):
                time.sleep(0.05)
                continue
            if document["pid"] == self.process.pid:
                self.listening = document["listening"]
                self.generation += 1
                return
            time.sleep(0.05)
        raise AssertionError("server did not start in time")

    def kill(self) -> None:
        assert self.process is not None
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(30)
        self.listening = {}

    def stop(self) -> None:
        assert self.process is not None
        self.process.send_signal(signal.SIGTERM)
        assert self.process.wait(120) == 0, self.log.read_text()[-2000:]

    def address(self, name: str) -> tuple[str, int] | None:
        listening = self.listening.get(name)
        if not listening:
            return None
        host, port = listening.rsplit(":", 1)
        return host.rsplit("/", 1)[-1].rsplit(":", 1)[-1], int(port)


def http_document(number: int) -> bytes:
    return orjson.dumps({"@timestamp": "2026-01-02T03:04:05Z", "message": f"crash-http-{number}"})


def tcp_line(number: int) -> bytes:
    return f"<13>Jan  2 03:04:05 crashhost app: crash-tcp-{number}".encode()


class Sender(ABC):
    """Sends batches until each was acknowledged once; counts attempts per batch."""

    def __init__(self, server: ServerProcess, batches: list[list[bytes]]) -> None:
        self.server = server
        self.batches = batches
        self.acked: set[int] = set()
        self.attempts = [0] * len(batches)
        self.thread = threading.Thread(target=self.run, daemon=True)

    def run(self) -> None:
        for index, batch in enumerate(self.batches):
            while True:
                self.attempts[index] += 1
                try:
                    if self.send(batch):
                        self.acked.add(index)
                        break
                except (OSError, httpx.HTTPError):
                    pass
                time.sleep(0.05)

    @abstractmethod
    def send(self, batch: list[bytes]) -> bool:
        """Send one batch; True when the server acknowledged it."""


class BulkSender(Sender):
    def __init__(self, server: ServerProcess, batches: list[list[bytes]], token: str) -> None:
        super().__init__(server, batches)
        self.headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/x-ndjson"}

    def send(self, batch: list[bytes]) -> bool:
        url = self.server.listening.get("http")
        if not url:
            return False
        body = b"".join(b'{"create": {}}\n' + document + b"\n" for document in batch)
        answer = httpx.post(f"{url}/_bulk", content=body, headers=self.headers, timeout=30)
        return answer.status_code == 200 and answer.json()["errors"] is False


class SyslogSender(Sender):
    def send(self, batch: list[bytes]) -> bool:
        address = self.server.address("tcp")
        if address is None:
            return False
        with socket.create_connection(address, timeout=30) as connection:
            connection.sendall(b"".join(line + b"\n" for line in batch))
            connection.shutdown(socket.SHUT_WR)
            # the server answers the half-close with "ok <n>" only after committing everything
            with connection.makefile("rb") as answer:
                return answer.read() == f"ok {len(batch)}\n".encode()


def wait_for(condition: Callable[[], bool], timeout_secs: float) -> None:
    deadline = time.monotonic() + timeout_secs
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError("timed out")
        time.sleep(0.02)


def test_acknowledged_events_survive_five_sigkills(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    data_dir.mkdir()
    config = tmp_path / "custodes.yaml"
    config.write_text(CONFIG)
    control = open_control(data_dir)
    token, _ = create_token(control, "ingest", name="crash-test")
    control.close()
    server = ServerProcess(data_dir, config, tmp_path / "serve.log")
    http_batches = [
        [http_document(n) for n in range(start, start + HTTP_BATCH)]
        for start in range(0, HTTP_EVENTS, HTTP_BATCH)
    ]
    tcp_batches = [
        [tcp_line(n) for n in range(start, start + TCP_BATCH)]
        for start in range(0, TCP_EVENTS, TCP_BATCH)
    ]
    server.start()
    senders = [BulkSender(server, http_batches, token), SyslogSender(server, tcp_batches)]
    for sender in senders:
        sender.thread.start()
    total = len(http_batches) + len(tcp_batches)

    def progress() -> float:
        return sum(len(sender.acked) for sender in senders) / total

    for kill in range(KILLS):
        wait_for(lambda kill=kill: progress() >= (kill + 1) / (KILLS + 2), 300)  # type: ignore[misc]
        time.sleep(0.05 * kill)  # vary the moment within the stream
        server.kill()
        server.start()
    for sender in senders:
        sender.thread.join(300)
        assert not sender.thread.is_alive()
    server.stop()
    assert server.generation == KILLS + 1

    connection = connect(data_dir)
    rows = connection.execute(
        """SELECT regexp_extract("event.original", 'crash-(http|tcp)-([0-9]+)', 0) AS marker,
                  count(*) AS copies, count(DISTINCT "event.id") AS ids,
                  min("event.original") AS original
           FROM events GROUP BY marker"""
    ).fetchall()
    found = {marker: (copies, ids, original) for marker, copies, ids, original in rows}
    resent: set[str] = set()
    expected: dict[str, bytes] = {}
    for sender, prefix, batches in (
        (senders[0], "crash-http-", http_batches),
        (senders[1], "crash-tcp-", tcp_batches),
    ):
        assert len(sender.acked) == len(batches)  # everything was acknowledged in the end
        for index, batch in enumerate(batches):
            for number_line in batch:
                number = int(number_line.decode().rsplit("-", 1)[1].split('"')[0])
                marker = f"{prefix}{number}"
                expected[marker] = number_line
                if sender.attempts[index] > 1:
                    resent.add(marker)
    missing = sorted(set(expected) - set(found))
    assert not missing, f"{len(missing)} acknowledged events lost, e.g. {missing[:5]}"
    assert set(found) - set(expected) == set()
    for marker, (copies, ids, original) in found.items():
        assert ids == 1  # one event id per event: a resent event is the same event
        assert original.encode() == expected[marker]  # stored exactly as sent
        if copies > 1:
            assert marker in resent  # only an event sent twice can be there twice
    duplicates = sum(copies - 1 for copies, _, _ in found.values())
    print(
        f"crash test: {len(expected)} events acknowledged and stored, {server.generation - 1} "
        f"SIGKILLs, {len(resent)} events resent, {duplicates} duplicate rows (same event id)"
    )
    assert os.path.exists(data_dir / "lake")
