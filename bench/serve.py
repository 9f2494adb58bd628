"""Sustained ingest into `custodes serve`: events/s over HTTP bulk and TCP syslog, acknowledged
and stored, with p50/p99 ack latency and the server's peak memory.

    python bench/serve.py [--secs 60] [--senders 4] [--batch 1000]

Baseline, measured in the same run: `Pipeline.submit` called directly with the same records
(no network, no HTTP): the ceiling the service can reach on this machine. Senders run in their
own processes (they share the machine's cores with the server, as shippers on the same host do).
Targets (issue 5): >= 50,000 events/s over HTTP bulk, p99 ack < 500 ms.
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import orjson

CONFIG = """
http: {listen: "127.0.0.1:0"}
batch: {max_events: 20000, max_wait_secs: 0.01, queue_max_events: 400000}
sources:
  tcp: {type: syslog, listen: "tcp:127.0.0.1:0"}
"""


def bulk_bodies(sender: int, batch: int) -> Iterator[bytes]:
    """Bulk bodies of Filebeat-like documents, each unique (a running number), cheap to make."""
    heads = [
        b'{"create":{}}\n{"@timestamp":"2026-01-02T03:04:05.123Z","host.name":"web%02d",'
        b'"user.name":"user%d","source.ip":"10.0.%d.%d","event.action":"login",'
        b'"message":"bench sender %d event '
        % (index % 50, index % 1000, index % 256, sender, sender)
        for index in range(batch)
    ]
    tail = b' accepted password"}\n'
    number = 0
    while True:
        yield b"".join(head + b"%d" % (number + index) + tail for index, head in enumerate(heads))
        number += batch


def syslog_payloads(sender: int, batch: int) -> Iterator[bytes]:
    """Newline-separated RFC 3164 lines, each unique (a running number)."""
    heads = [
        b"<38>Jan  2 03:04:05 web%02d sshd[%d]: Accepted password for user%d from 10.0.%d.%d "
        b"port 22 ssh2 #%d-"
        % (index % 50, 1000 + sender, index % 1000, index % 256, sender, sender)
        for index in range(batch)
    ]
    number = 0
    while True:
        yield b"".join(head + b"%d\n" % (number + index) for index, head in enumerate(heads))
        number += batch


def send_bulk(url: str, token: str, sender: int, batch: int, until: float, out: object) -> None:
    """One sender process: bulk requests until `until`; (events acked, latencies) to `out`."""
    headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/x-ndjson"}
    latencies: list[float] = []
    acked = refused = 0
    bodies = bulk_bodies(sender, batch)
    body = next(bodies)
    with httpx.Client(base_url=url, headers=headers, timeout=60) as client:
        while time.time() < until:
            started = time.perf_counter()
            answer = client.post("/_bulk", content=body)
            if answer.status_code == 200:
                latencies.append(time.perf_counter() - started)
                acked += batch
                body = next(bodies)
            else:
                refused += 1
                time.sleep(float(answer.headers.get("Retry-After", "1")))
    out.put((acked, refused, latencies))  # type: ignore[attr-defined]


def send_tcp(address: tuple[str, int], sender: int, batch: int, until: float, out: object) -> None:
    """One sender process: a connection per batch, acked by the server's `ok <n>` after EOF."""
    latencies: list[float] = []
    acked = 0
    payloads = syslog_payloads(sender, batch)
    while time.time() < until:
        payload = next(payloads)
        started = time.perf_counter()
        with socket.create_connection(address) as connection:
            connection.sendall(payload)
            connection.shutdown(socket.SHUT_WR)
            with connection.makefile("rb") as answer:
                reply = answer.read()
        if reply == f"ok {batch}\n".encode():
            latencies.append(time.perf_counter() - started)
            acked += batch
    out.put((acked, 0, latencies))  # type: ignore[attr-defined]


def percentile(values: list[float], fraction: float) -> float:
    """The value below which `fraction` of `values` lie (nearest rank)."""
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]


def peak_rss_mib(pid: int) -> float:
    """The process's peak resident memory (VmHWM), MiB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def start_server(data_dir: Path, config: Path) -> tuple[subprocess.Popen[bytes], dict[str, str]]:
    """`custodes serve` in a child process; its addresses once it is up."""
    process = subprocess.Popen(
        [sys.executable, "-c", "from custodes.cli.main import app; app()", "serve"]
        + ["--data-dir", str(data_dir), "--config", str(config)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    ready = data_dir / "serve.json"
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        if ready.exists():
            document = orjson.loads(ready.read_bytes())
            if document["pid"] == process.pid:
                return process, document["listening"]
        time.sleep(0.1)
    process.kill()
    raise SystemExit("custodes serve did not start")


def run_senders(
    target: object, arguments: list[tuple[object, ...]]
) -> tuple[int, int, list[float]]:
    """Start one process per argument tuple; sum what they acked and gather latencies."""
    context = multiprocessing.get_context("spawn")
    out = context.Queue()
    processes = [context.Process(target=target, args=(*args, out)) for args in arguments]  # type: ignore[arg-type]
    for process in processes:
        process.start()
    acked = refused = 0
    latencies: list[float] = []
    for _ in processes:
        sender_acked, sender_refused, sender_latencies = out.get()
        acked += sender_acked
        refused += sender_refused
        latencies += sender_latencies
    for process in processes:
        process.join()
    return acked, refused, latencies


def baseline(events: int) -> float:
    """Events/s of `Pipeline.submit` called directly (same documents, 20,000 per batch)."""
    from custodes.events import RawRecord
    from custodes.pipeline import open_pipeline

    with tempfile.TemporaryDirectory() as directory:
        pipeline = open_pipeline(Path(directory))
        bodies = bulk_bodies(0, 20_000)
        batches = [
            [RawRecord(line, source="bulk") for line in next(bodies).split(b"\n")[1::2]]
            for _ in range(0, events, 20_000)
        ]
        started = time.perf_counter()
        for records in batches:
            pipeline.submit(records)
        elapsed = time.perf_counter() - started
        pipeline.close()
    return events / elapsed


def stored_events(data_dir: Path) -> int:
    """Events in the lake after the server stopped."""
    from custodes.store import connect

    row = connect(data_dir).execute("SELECT count(*) FROM events").fetchone()
    return int(row[0]) if row else 0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--secs", type=float, default=60.0, help="duration of each phase")
    parser.add_argument("--senders", type=int, default=4, help="concurrent sender processes")
    parser.add_argument("--batch", type=int, default=1000, help="events per request/connection")
    options = parser.parse_args()

    from custodes.store.control import open_control
    from custodes.store.users import create_token

    print(f"baseline Pipeline.submit: {baseline(200_000):,.0f} events/s", flush=True)
    with tempfile.TemporaryDirectory() as directory:
        data_dir = Path(directory) / "data"
        data_dir.mkdir()
        config = Path(directory) / "custodes.yaml"
        config.write_text(CONFIG)
        control = open_control(data_dir)
        token, _ = create_token(control, "ingest", name="bench")
        control.close()
        process, listening = start_server(data_dir, config)
        try:
            results = {}
            until = time.time() + options.secs
            started = time.perf_counter()
            results["HTTP bulk"] = (
                *run_senders(
                    send_bulk,
                    [
                        (listening["http"], token, n, options.batch, until)
                        for n in range(options.senders)
                    ],
                ),
                time.perf_counter() - started,
            )
            host, port = listening["tcp"].split(":", 1)[1].rsplit(":", 1)
            until = time.time() + options.secs
            started = time.perf_counter()
            results["TCP syslog"] = (
                *run_senders(
                    send_tcp,
                    [((host, int(port)), n, options.batch, until) for n in range(options.senders)],
                ),
                time.perf_counter() - started,
            )
            rss = peak_rss_mib(process.pid)
        finally:
            process.send_signal(signal.SIGTERM)
            process.wait(300)
        total_acked = sum(result[0] for result in results.values())
        stored = stored_events(data_dir)
    for name, (acked, refused, latencies, elapsed) in results.items():
        print(
            f"{name:>10}: {acked / elapsed:>9,.0f} events/s acknowledged "
            f"({acked:,} in {elapsed:.1f} s, {options.senders} senders x {options.batch}/request), "
            f"ack p50 {percentile(latencies, 0.5) * 1000:.0f} ms, "
            f"p99 {percentile(latencies, 0.99) * 1000:.0f} ms, 429s {refused}"
        )
    print(f"stored after shutdown: {stored:,} of {total_acked:,} acknowledged")
    print(f"server peak RSS: {rss:.0f} MiB (os.cpu_count() = {os.cpu_count()})")
    if stored < total_acked:
        raise SystemExit("acknowledged events missing from the lake")


if __name__ == "__main__":
    main()
