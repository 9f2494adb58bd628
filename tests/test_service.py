"""The service as a whole: config errors name the key, backpressure instead of loss on TCP,
counted drops on UDP, the ready file with the ports really bound, `custodes check`."""

from __future__ import annotations

import os
import socket
import threading
import time
from pathlib import Path
from typing import Any

import orjson
import pytest
from typer.testing import CliRunner

from custodes.errors import ConfigError
from custodes.serve import Counters, LatencyHistogram, load_config, parse_config
from tests.ingest.running import RunningService, stored


def failed_logon() -> bytes:
    """A Windows 4625 as JSON on one syslog TCP line."""
    event = {
        "Event": {
            "System": {
                "EventID": 4625,
                "Channel": "Security",
                "Computer": "ws01",
                "Provider": {"#attributes": {"Name": "Microsoft-Windows-Security-Auditing"}},
                "TimeCreated": {"#attributes": {"SystemTime": "2026-01-02T03:04:05Z"}},
            },
            "EventData": {"TargetUserName": "alice", "IpAddress": "10.0.0.9"},
        }
    }
    return orjson.dumps(event) + b"\n"


@pytest.mark.parametrize(
    ("document", "key"),
    [
        ({"sources": {"fw": {"type": "syslog", "listen": "udp:1.2.3.4"}}}, "sources.fw.listen"),
        ({"sources": {"fw": {"type": "syslog", "listen": "sctp:h:1"}}}, "sources.fw.listen"),
        (
            {"sources": {"fw": {"type": "syslog", "listen": "udp:h:1", "colour": 1}}},
            "sources.fw.colour",
        ),
        ({"sources": {"fw": {"type": "carrier-pigeon"}}}, "sources.fw"),
        ({"sources": {"s": {"type": "syslog", "listen": "tls:h:1"}}}, "sources.s"),
        ({"batch": {"max_events": 0}}, "batch.max_events"),
        ({"htp": {"listen": "x"}}, "htp"),
        ({"http": {"listen": "nowhere"}}, "http.listen"),
    ],
)
def test_config_errors_name_the_bad_key(document: dict[str, object], key: str) -> None:
    with pytest.raises(ConfigError) as caught:
        parse_config(document)
    assert caught.value.key == key
    assert key in str(caught.value)


def test_config_file_errors_are_config_errors(tmp_path: Path) -> None:
    path = tmp_path / "custodes.yaml"
    path.write_text("sources: [unclosed\n")
    with pytest.raises(ConfigError, match="not valid YAML"):
        load_config(path)
    with pytest.raises(ConfigError, match="cannot read"):
        load_config(tmp_path / "missing.yaml")
    path.write_text("sources:\n  fw: {type: syslog, listen: 'udp:127.0.0.1:5514'}\n")
    assert load_config(path).sources["fw"].type == "syslog"


def test_check_command_validates_without_starting(tmp_path: Path) -> None:
    from custodes.cli.main import app

    good, bad = tmp_path / "good.yaml", tmp_path / "bad.yaml"
    good.write_text("sources:\n  fw: {type: syslog, listen: 'udp:127.0.0.1:5514'}\n")
    bad.write_text("sources:\n  fw: {type: syslog, listen: 'udp:127.0.0.1:5514', prot: 1}\n")
    runner = CliRunner()
    assert runner.invoke(app, ["check", "--config", str(good)]).exit_code == 0
    refused = runner.invoke(app, ["check", "--config", str(bad)])
    assert refused.exit_code == 2
    assert "sources.fw.prot: unknown key" in refused.output


def test_latency_histogram_and_counters_are_plain_data() -> None:
    histogram = LatencyHistogram()
    histogram.observe(0.003, 99)
    histogram.observe(0.7)
    assert histogram.quantile(0.5) == 0.005
    assert histogram.quantile(1.0) == 1.0
    assert histogram.to_dict()["buckets"]["+Inf"] == 100
    counters = Counters()
    counters.source("fw", kind="syslog-udp").dropped += 2
    assert orjson.loads(orjson.dumps(counters.to_dict()))["sources"]["fw"]["dropped"] == 2


def test_ready_file_names_the_ports_really_bound(data_dir: Path) -> None:
    sources = {"tcp": {"type": "syslog", "listen": "tcp:127.0.0.1:0"}}
    with RunningService(data_dir, {"sources": sources}, http=True) as running:
        ready = orjson.loads((data_dir / "serve.json").read_bytes())
        assert ready["listening"]["tcp"] == f"tcp:127.0.0.1:{running.port('tcp')}"
        assert ready["listening"]["http"] == running.url
        assert running.port("tcp") != 0
    assert not (data_dir / "serve.json").exists()


def test_tcp_stops_reading_while_the_queue_is_full_and_loses_nothing(data_dir: Path) -> None:
    config = {
        "sources": {"tcp": {"type": "syslog", "listen": "tcp:127.0.0.1:0"}},
        "batch": {"queue_max_events": 100, "max_events": 50, "max_wait_secs": 0},
    }
    lines = [f"<13>Jan  1 00:00:00 host app: backpressure line {n:07d}" for n in range(200_000)]
    payload = "".join(line + "\n" for line in lines).encode()
    with RunningService(data_dir, config) as running:
        assert running.service is not None
        gate = threading.Event()
        running.service.intake.executor.submit(gate.wait)  # the commit worker is busy
        sender = socket.create_connection(("127.0.0.1", running.port("tcp")))
        sending = threading.Thread(target=sender.sendall, args=(payload,))
        sending.start()
        time.sleep(1.0)
        received = running.counters()["sources"]["tcp"]["received"]
        assert sending.is_alive()  # the sender is blocked: its window is full
        assert 0 < received < len(lines) // 4  # only what was read before the pause
        gate.set()
        sending.join(60)
        sender.shutdown(socket.SHUT_WR)
        # the server answers the half-close once everything is committed, then closes
        assert sender.makefile("rb").read() == f"ok {len(lines)}\n".encode()
        sender.close()
        counters = running.counters()["sources"]["tcp"]
        assert counters["received"] == len(lines)
        assert counters["stored"] + counters["quarantined"] == len(lines)
        assert counters["dropped"] == 0
    row = (
        stored(data_dir)
        .execute(
            'SELECT count(DISTINCT "event.original"), count(*) FROM events'
            " WHERE \"event.original\" LIKE '%backpressure line%'"
        )
        .fetchone()
    )
    assert row == (len(lines), len(lines))


def test_udp_drops_are_counted_when_the_queue_is_full(data_dir: Path) -> None:
    config = {
        "sources": {"udp": {"type": "syslog", "listen": "udp:127.0.0.1:0"}},
        "batch": {"queue_max_events": 10, "max_wait_secs": 0},
    }
    with RunningService(data_dir, config) as running:
        assert running.service is not None
        gate = threading.Event()
        running.service.intake.executor.submit(gate.wait)
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as udp:
            for number in range(100):
                udp.sendto(
                    f"<13>udp drop test {number}".encode(), ("127.0.0.1", running.port("udp"))
                )
                time.sleep(0.001)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            counters = running.counters()["sources"]["udp"]
            if counters["received"] + counters["dropped"] == 100:
                break
            time.sleep(0.02)
        gate.set()
        assert counters["dropped"] > 0
        assert counters["drop_reasons"] == {"queue full": counters["dropped"]}
        received = counters["received"]
    final = running.counters()["sources"]["udp"]
    assert final["stored"] + final["quarantined"] == received


RULE = """
title: Failed logon
id: 1f0b7f3e-5a8e-4d8c-9f51-0e0f6f0a4625
status: test
author: Custodes tests
logsource: {product: windows, service: security}
detection: {selection: {EventID: 4625}, condition: selection}
level: high
"""


def test_serve_detects_on_the_stream_and_notifies_a_webhook(tmp_path: Path) -> None:
    import http.server
    import subprocess
    import sys

    received: list[dict[str, object]] = []

    class Hook(http.server.BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802 (the stdlib's name)
            received.append(orjson.loads(self.rfile.read(int(self.headers["Content-Length"]))))
            self.send_response(204)
            self.end_headers()

        def log_message(self, *args: object) -> None:
            pass

    hook = http.server.HTTPServer(("127.0.0.1", 0), Hook)
    threading.Thread(target=hook.serve_forever, daemon=True).start()
    (tmp_path / "rules").mkdir()
    (tmp_path / "rules" / "failed.yml").write_text(RULE)
    config = tmp_path / "custodes.yaml"
    config.write_text(
        "http: {listen: '127.0.0.1:0'}\n"
        "sources: {tcp: {type: syslog, listen: 'tcp:127.0.0.1:0'}}\n"
        "rules: [{type: directory, path: rules}]\n"
        f"sinks: {{hook: {{type: webhook, url: 'http://127.0.0.1:{hook.server_port}/'}}}}\n"
        "notifications: {routes: [{min_level: high, sinks: [hook]}]}\n"
    )
    data_dir = tmp_path / "data"
    environment = {**os.environ, "CUSTODES_CACHE_DIR": str(tmp_path / "cache")}
    process = subprocess.Popen(
        [sys.executable, "-c", "from custodes.cli.main import app; app()", "serve"]
        + ["--data-dir", str(data_dir), "--config", str(config)],
        stderr=subprocess.PIPE,
        env=environment,
    )
    try:
        ready = data_dir / "serve.json"
        deadline = time.monotonic() + 60
        while not ready.exists():
            assert process.poll() is None and time.monotonic() < deadline
            time.sleep(0.05)
        address = orjson.loads(ready.read_bytes())["listening"]["tcp"].rsplit(":", 1)
        with socket.create_connection(("127.0.0.1", int(address[1]))) as sender:
            sender.sendall(failed_logon())
            sender.shutdown(socket.SHUT_WR)
            with sender.makefile("rb") as answer:
                assert answer.read() == b"ok 1\n"
        deadline = time.monotonic() + 30
        while not received and time.monotonic() < deadline:
            time.sleep(0.05)
    finally:
        process.terminate()
        _, errors = process.communicate(timeout=60)
        hook.shutdown()
        hook.server_close()
    assert process.returncode == 0, errors.decode()[-2000:]
    assert [alert["title"] for alert in received] == ["Failed logon"]


def test_batcher_acknowledges_only_after_the_commit_returned() -> None:
    import asyncio
    from types import SimpleNamespace

    from custodes.events import RawRecord
    from custodes.serve import Batcher

    calls: list[tuple[list[bytes], tuple[str, int] | None]] = []
    release = threading.Event()

    def submit(records: list[RawRecord], *, cursor: tuple[str, int] | None = None) -> Any:
        release.wait(10)
        calls.append(([record.data for record in records], cursor))
        return SimpleNamespace(stored=len(records) - 1, quarantined=1)

    async def scenario() -> tuple[list[int], Counters]:
        counters = Counters()
        batcher = Batcher(submit, counters, max_wait_secs=0)
        running = asyncio.create_task(batcher.run())
        first = batcher.offer("a", [RawRecord(b"1"), RawRecord(b"2")])
        second = batcher.offer("b", [RawRecord(b"3"), RawRecord(b"4")])
        third = await batcher.put("a", [RawRecord(b"5"), RawRecord(b"6")], cursor=("file", 6))
        await asyncio.sleep(0.1)
        assert not first.done()  # submit has not returned: nobody hears ok
        release.set()
        receipts = await asyncio.gather(first, second, third)
        await batcher.close()
        await running
        batcher.shutdown()
        return [receipt.committed for receipt in receipts], counters

    committed, counters = asyncio.run(scenario())
    assert committed == [2, 2, 2]
    assert sorted(calls) == [
        ([b"1", b"2"], None),
        ([b"3", b"4"], None),
        ([b"5", b"6"], ("file", 6)),
    ]
    assert counters.sources["a"].stored == 2 and counters.sources["a"].quarantined == 2
    assert counters.sources["b"].received == 2
    assert counters.queue_depth == 0


def test_batcher_counts_resent_duplicates_as_drops_with_their_reason() -> None:
    import asyncio
    from types import SimpleNamespace

    from custodes.events import RawRecord
    from custodes.serve import Batcher

    def submit(records: list[RawRecord], **_: Any) -> Any:
        return SimpleNamespace(stored=1, quarantined=0, duplicates=len(records) - 1)

    async def scenario() -> Counters:
        counters = Counters()
        batcher = Batcher(submit, counters, max_wait_secs=0)
        running = asyncio.create_task(batcher.run())
        receipt = await batcher.offer("http", [RawRecord(b"1"), RawRecord(b"2"), RawRecord(b"3")])
        assert receipt.committed == 3  # stored before: the sender hears ok
        await batcher.close()
        await running
        batcher.shutdown()
        return counters

    http = asyncio.run(scenario()).sources["http"]
    assert (http.received, http.stored, http.dropped) == (3, 1, 2)
    assert http.drop_reasons == {"duplicate_resend": 2}


def test_source_counters_reach_metrics(data_dir: Path) -> None:
    import httpx

    from custodes.store.control import open_control
    from custodes.store.users import create_token

    sources = {"tcp": {"type": "syslog", "listen": "tcp:127.0.0.1:0"}}
    with RunningService(data_dir, {"sources": sources}, http=True) as running:
        with socket.create_connection(("127.0.0.1", running.port("tcp"))) as sender:
            sender.sendall(
                b"<13>Jan  2 03:04:05 host app: one\n<13>Jan  2 03:04:05 host app: two\n"
            )
            sender.shutdown(socket.SHUT_WR)
            with sender.makefile("rb") as answer:
                assert answer.read() == b"ok 2\n"
        httpx.post(f"{running.url}/ingest", content=b'{"a": 1}\n', headers=running.headers)
        control = open_control(data_dir)
        analyst, _ = create_token(control, "analyst")
        control.close()
        metrics = httpx.get(
            f"{running.url}/metrics", headers={"Authorization": f"Bearer {analyst}"}
        ).text
    assert 'custodes_events_received_total{source="tcp"} 2.0' in metrics
    assert 'custodes_events_received_total{source="http"} 1.0' in metrics
    assert 'custodes_queue_depth{queue="intake"} 0.0' in metrics
    assert "custodes_ack_latency_seconds_count 3.0" in metrics
