"""Notifications against real local servers: HTTP webhook, SMTP (aiosmtpd), UDP/TCP syslog."""

from __future__ import annotations

import json
import socket
import socketserver
import threading
from collections.abc import Iterator
from datetime import UTC, datetime
from email import message_from_bytes
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, Envelope, Session

from custodes.errors import ConfigError
from custodes.events import Alert
from custodes.notify import (
    Notifier,
    alert_payload,
    build_notifier,
    notify_new_alerts,
    resend_dead_letters,
)
from custodes.plugins.manager import load
from custodes.store.alerts import save_alerts
from custodes.store.control import open_control

T0 = datetime(2026, 11, 26, 9, 30, tzinfo=UTC)


def alert(
    level: str = "high", tags: tuple[str, ...] = ("attack.execution", "attack.t1059.001")
) -> dict[str, Any]:
    return alert_payload(
        Alert(
            rule_id="rule-ps",
            title="Encoded PowerShell",
            level=level,
            event_ids=("e1", "e2"),
            first_seen_at=T0,
            last_seen_at=T0,
            tags=tags,
            host_name="ws01",
            user_name="alice",
            count=2,
        ),
        alert_id=7,
    )


class Webhook:
    """A local HTTP server that answers `statuses` in turn (then 200) and keeps what it got."""

    def __init__(self, statuses: list[int]) -> None:
        self.statuses = statuses
        self.received: list[dict[str, Any]] = []
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["content-length"]))
                status = outer.statuses.pop(0) if outer.statuses else 200
                if status == 200:
                    outer.received.append(json.loads(body))
                self.send_response(status)
                self.send_header("content-length", "0")
                self.end_headers()

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hook"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def webhook() -> Iterator[Webhook]:
    server = Webhook([])
    yield server
    server.close()


class Mailbox:
    """aiosmtpd handler keeping every message."""

    def __init__(self) -> None:
        self.messages: list[tuple[str, list[str], bytes]] = []

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        content = envelope.content if isinstance(envelope.content, bytes) else b""
        self.messages.append((envelope.mail_from or "", list(envelope.rcpt_tos), content))
        return "250 OK"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


@pytest.fixture
def smtp() -> Iterator[tuple[Mailbox, int]]:
    mailbox = Mailbox()
    port = free_port()
    controller = Controller(mailbox, hostname="127.0.0.1", port=port)
    controller.start()
    yield mailbox, port
    controller.stop()


@pytest.fixture
def udp_listener() -> Iterator[socket.socket]:
    listener = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    listener.bind(("127.0.0.1", 0))
    listener.settimeout(5)
    yield listener
    listener.close()


def test_builtin_sinks_register_through_the_plugin_hook() -> None:
    assert {"webhook", "email", "syslog"} <= set(load(entry_points=False).sinks)


def test_alert_reaches_webhook_email_and_syslog(
    tmp_path: Path, webhook: Webhook, smtp: tuple[Mailbox, int], udp_listener: socket.socket
) -> None:
    mailbox, smtp_port = smtp
    udp_port = udp_listener.getsockname()[1]
    notifier = build_notifier(
        {
            "hook": {"type": "webhook", "url": webhook.url},
            "mail": {
                "type": "email",
                "port": smtp_port,
                "from": "custodes@example.org",
                "to": ["soc@example.org"],
            },
            "siem": {"type": "syslog", "address": f"udp:127.0.0.1:{udp_port}"},
        },
        {"routes": [{"min_level": "high", "sinks": ["hook", "mail", "siem"]}]},
        tmp_path,
        factories=load(entry_points=False).sinks,
    )
    deliveries = notifier.deliver(alert())
    assert [(d.sink, d.is_delivered, d.attempts) for d in deliveries] == [
        ("hook", True, 1),
        ("mail", True, 1),
        ("siem", True, 1),
    ]
    assert webhook.received == [alert()]
    sender, recipients, content = mailbox.messages[0]
    message = message_from_bytes(content)
    assert (sender, recipients) == ("custodes@example.org", ["soc@example.org"])
    assert message["Subject"] == "[Custodes] HIGH: Encoded PowerShell on ws01 (alice)"
    assert "attack.t1059.001" in message.get_payload()
    datagram, _ = udp_listener.recvfrom(65536)
    header, _, body = datagram.partition(b" - alert - ")
    assert header.startswith(b"<163>1 ")  # local4 (20) * 8 + err (3)
    assert json.loads(body) == alert()


def test_syslog_over_tcp_is_octet_counted(tmp_path: Path) -> None:
    received: list[bytes] = []

    class Handler(socketserver.StreamRequestHandler):
        def handle(self) -> None:
            received.append(self.rfile.read())

    with socketserver.TCPServer(("127.0.0.1", 0), Handler) as server:
        thread = threading.Thread(target=server.handle_request, daemon=True)
        thread.start()
        port = server.server_address[1]
        notifier = build_notifier(
            {
                "siem": {
                    "type": "syslog",
                    "address": f"tcp:127.0.0.1:{port}",
                    "facility": "security",
                }
            },
            {"routes": [{"sinks": ["siem"]}]},
            tmp_path,
        )
        assert notifier.deliver(alert("critical"))[0].is_delivered
        thread.join(timeout=5)
    length, _, frame = received[0].partition(b" ")
    assert int(length) == len(frame)
    assert frame.startswith(b"<106>1 ")  # security (13) * 8 + crit (2)


def test_routes_choose_sinks_by_level_and_tags(tmp_path: Path, webhook: Webhook) -> None:
    notifier = build_notifier(
        {name: {"type": "webhook", "url": webhook.url} for name in ("pager", "creds", "all")},
        {
            "routes": [
                {"min_level": "high", "sinks": ["pager"]},
                {"tags": ["attack.t1003"], "sinks": ["creds"]},
                {"levels": ["low", "medium"], "sinks": ["all"]},
                {"min_level": "critical", "sinks": ["pager", "all"]},
            ]
        },
        tmp_path,
    )
    assert notifier.sinks_for(alert("high")) == ["pager"]
    assert notifier.sinks_for(alert("critical")) == ["pager", "all"]
    assert notifier.sinks_for(alert("medium", ("attack.t1003.001",))) == ["creds", "all"]
    assert notifier.sinks_for(alert("medium", ("attack.t10030",))) == ["all"]
    assert notifier.sinks_for(alert("informational")) == []


def test_failing_endpoint_is_retried_with_backoff(tmp_path: Path) -> None:
    flaky = Webhook([503, 500])
    slept: list[float] = []
    try:
        notifier = build_notifier(
            {"hook": {"type": "webhook", "url": flaky.url}},
            {"retries": 3, "backoff_secs": 0.5, "routes": [{"sinks": ["hook"]}]},
            tmp_path,
            sleep=slept.append,
        )
        (delivery,) = notifier.deliver(alert())
    finally:
        flaky.close()
    assert (delivery.is_delivered, delivery.attempts) == (True, 3)
    assert slept == [0.5, 1.0]
    assert flaky.received == [alert()]
    assert notifier.dead_letters.read() == []


def test_exhausted_retries_leave_a_dead_letter_that_can_be_resent(tmp_path: Path) -> None:
    down = Webhook([500] * 10)
    slept: list[float] = []
    try:
        notifier = build_notifier(
            {"hook": {"type": "webhook", "url": down.url}},
            {
                "retries": 4,
                "backoff_secs": 1,
                "max_backoff_secs": 3,
                "routes": [{"sinks": ["hook"]}],
            },
            tmp_path,
            sleep=slept.append,
        )
        (delivery,) = notifier.deliver(alert())
        assert (delivery.is_delivered, delivery.attempts, delivery.error) == (
            False,
            5,
            "webhook hook: HTTP 500",
        )
        assert slept == [1, 2, 3, 3]
        (letter,) = notifier.dead_letters.read()
        assert letter["sink"] == "hook" and letter["attempts"] == 5
        assert letter["alert"] == alert()
        assert (tmp_path / "notify" / "dead-letter.jsonl").exists()
        down.statuses.clear()  # the endpoint recovers
        assert resend_dead_letters(notifier) == 1
        assert notifier.dead_letters.read() == []
        assert down.received == [alert()]
    finally:
        down.close()


def test_unreachable_sinks_fail_without_raising(tmp_path: Path) -> None:
    port = free_port()  # nothing listens there
    notifier = build_notifier(
        {
            "hook": {"type": "webhook", "url": f"http://127.0.0.1:{port}/", "timeout_secs": 2},
            "mail": {"type": "email", "port": port, "from": "a@b.c", "to": ["d@e.f"]},
            "siem": {"type": "syslog", "address": f"tcp:127.0.0.1:{port}"},
        },
        {"retries": 1, "backoff_secs": 0, "routes": [{"sinks": ["hook", "mail", "siem"]}]},
        tmp_path,
    )
    deliveries = notifier.deliver(alert())
    assert [d.is_delivered for d in deliveries] == [False, False, False]
    assert all("Connect" in d.error or "refused" in d.error for d in deliveries), deliveries
    assert {letter["sink"] for letter in notifier.dead_letters.read()} == {"hook", "mail", "siem"}


def test_background_delivery_drains_on_close(tmp_path: Path, webhook: Webhook) -> None:
    notifier: Notifier = build_notifier(
        {"hook": {"type": "webhook", "url": webhook.url}},
        {"routes": [{"sinks": ["hook"]}]},
        tmp_path,
    )
    for level in ("high", "critical", "low"):
        notifier.submit(alert(level))
    notifier.close()
    assert [item["level"] for item in webhook.received] == ["high", "critical", "low"]


def test_only_newly_stored_alerts_are_notified(tmp_path: Path, webhook: Webhook) -> None:
    notifier = build_notifier(
        {"hook": {"type": "webhook", "url": webhook.url}},
        {"routes": [{"min_level": "medium", "sinks": ["hook"]}]},
        tmp_path,
    )
    first = Alert("rule-ps", "Encoded PowerShell", "high", ("e1",), T0, T0, host_name="ws01")
    again = Alert("rule-ps", "Encoded PowerShell", "high", ("e2",), T0, T0, host_name="ws01")
    quiet = Alert("rule-x", "Informational", "informational", ("e3",), T0, T0)
    with open_control(tmp_path) as control:
        now = datetime.now(UTC)
        saved = save_alerts(control, [first, quiet], now=now)
        assert notify_new_alerts(notifier, control, saved) == 2
        later = datetime.now(UTC)
        regrouped = save_alerts(control, [again], now=later)
        assert regrouped.grouped == 1
        assert notify_new_alerts(notifier, control, regrouped) == 0
    notifier.close()
    assert [(item["title"], item["event_ids"]) for item in webhook.received] == [
        ("Encoded PowerShell", ["e1"])
    ]


@pytest.mark.parametrize(
    ("sinks", "notifications", "key"),
    [
        ({"x": {"type": "pager"}}, {}, "sinks.x.type"),
        ({"x": {"type": "webhook", "url": "ftp://a"}}, {}, "sinks.x"),
        ({"x": {"type": "webhook", "url": "http://a", "colour": 1}}, {}, "sinks.x"),
        ({}, {"routes": [{"sinks": ["nobody"]}]}, "notifications.routes.0.sinks"),
        ({}, {"routes": [{"sinks": ["x"], "min_level": "urgent"}]}, "notifications"),
        ({}, {"retry": 3}, "notifications"),
    ],
)
def test_config_errors_name_the_key(
    tmp_path: Path, sinks: dict[str, Any], notifications: dict[str, Any], key: str
) -> None:
    with pytest.raises(ConfigError) as raised:
        build_notifier(sinks, notifications, tmp_path)
    assert raised.value.key == key
    assert raised.value.message.startswith(key)


def test_a_rule_firing_on_ingest_notifies_once_per_new_alert(
    tmp_path: Path, webhook: Webhook, monkeypatch: pytest.MonkeyPatch
) -> None:
    from custodes.detect.engine import Detection
    from custodes.events import RawRecord
    from custodes.notify import notify_on_saved
    from custodes.pipeline import open_pipeline

    monkeypatch.setenv("CUSTODES_CACHE_DIR", str(tmp_path / "cache"))
    rule = tmp_path / "rule.yml"
    rule.write_text(
        "title: Encoded PowerShell\nid: 0f6a3b1e-5c2d-4e8f-9a7b-1c2d3e4f5a6b\nlevel: high\n"
        "logsource: {product: windows}\n"
        "detection: {sel: {CommandLine|contains: ' -enc '}, condition: sel}\n"
    )

    def line(n: int) -> RawRecord:
        system = {"EventID": 4688, "Channel": "Security", "Computer": "ws01", "EventRecordID": n}
        data = {"CommandLine": f"powershell -enc AAAA{n}", "SubjectUserName": "alice"}
        document = {"Event": {"System": system, "EventData": data}}
        return RawRecord(data=json.dumps(document).encode(), source="http")

    notifier = build_notifier(
        {"hook": {"type": "webhook", "url": webhook.url}},
        {"routes": [{"min_level": "high", "sinks": ["hook"]}]},
        tmp_path,
    )
    with open_pipeline(tmp_path / "data", rules=[rule], ledger=False) as pipeline:
        [detection] = [d for d in pipeline.on_commit if isinstance(d, Detection)]
        notify_on_saved(notifier, detection)
        pipeline.submit([line(1), line(2)])
        pipeline.submit([line(3)])  # grouped into the open alert: no news
    notifier.close()
    assert [(item["title"], item["count"]) for item in webhook.received] == [
        ("Encoded PowerShell", 2)
    ]


def test_a_posture_run_through_the_api_notifies_its_new_alerts_once(
    tmp_path: Path, webhook: Webhook, monkeypatch: pytest.MonkeyPatch
) -> None:
    import asyncio
    from datetime import timedelta

    import httpx

    from custodes.api import create_app
    from custodes.config import Settings
    from custodes.store.users import create_token
    from tests.ueba.office import logon, write_lake

    monkeypatch.delenv("CUSTODES_CONFIG", raising=False)  # the default posture settings
    data_dir = tmp_path / "data"
    recent = datetime.now(UTC) - timedelta(hours=1)
    write_lake(data_dir, [logon(recent, "Administrator", "SRV-01", "10.0.0.5")])
    notifier = build_notifier(
        {"hook": {"type": "webhook", "url": webhook.url}},
        {"routes": [{"min_level": "low", "sinks": ["hook"]}]},
        data_dir,
    )
    app = create_app(Settings(data_dir=data_dir))
    app.state.custodes.extras["notifier"] = notifier  # as custodes serve sets it
    token, _ = create_token(app.state.custodes.control, "analyst")

    async def run_twice() -> None:  # the second run sees the same finding: no new alert
        transport = httpx.ASGITransport(app)
        async with httpx.AsyncClient(transport=transport, base_url="http://custodes.test") as http:
            for _ in range(2):
                answer = await http.post(
                    "/api/posture/run", headers={"Authorization": f"Bearer {token}"}
                )
                assert answer.status_code == 200, answer.text

    asyncio.run(run_twice())
    app.state.custodes.control.close()
    notifier.close()
    assert [(item["kind"], item["user_name"]) for item in webhook.received] == [
        ("posture", "administrator")
    ]
