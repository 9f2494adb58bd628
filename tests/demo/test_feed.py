"""The demo's senders: what they do when the service pushes back, refuses, or acknowledges less."""

from __future__ import annotations

import socket
import threading
from pathlib import Path

import httpx
import orjson
import pytest

from custodes.demo.feed import (
    FeedError,
    chunks,
    post,
    send_bulk,
    send_syslog,
    wait_until_stored,
)


def lines_file(tmp_path: Path, count: int) -> Path:
    path = tmp_path / "events.jsonl"
    path.write_bytes(b"".join(b'{"n": %d}\r\n\n' % n for n in range(count)))
    return path


def test_chunks_drop_line_ends_and_empty_lines(tmp_path: Path) -> None:
    assert [len(chunk) for chunk in chunks(lines_file(tmp_path, 5), size=2)] == [2, 2, 1]
    assert next(chunks(lines_file(tmp_path, 1))) == [b'{"n": 0}']


def test_a_full_service_is_asked_again_after_its_retry_after() -> None:
    answers = iter([httpx.Response(429, headers={"retry-after": "0"}), httpx.Response(200)])
    bodies: list[bytes] = []

    def handler(request: httpx.Request) -> httpx.Response:
        bodies.append(request.content)
        return next(answers)

    with httpx.Client(transport=httpx.MockTransport(handler), base_url="http://x") as client:
        assert post(client, "/ingest", b"line\n", {}).status_code == 200
    assert bodies == [b"line\n", b"line\n"]


def test_a_refused_bulk_item_is_an_error_naming_the_reason(tmp_path: Path) -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        item = {"create": {"status": 400, "error": {"reason": "custodes is append-only"}}}
        return httpx.Response(200, json={"errors": True, "items": [item]})

    with (
        httpx.Client(transport=httpx.MockTransport(handler), base_url="http://x") as client,
        pytest.raises(FeedError, match="append-only"),
    ):
        send_bulk(lines_file(tmp_path, 1), client, lambda count: None)


def test_an_error_status_is_an_error_with_the_answer() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(401, json={"error": "AuthenticationFailed"})

    with (
        httpx.Client(transport=httpx.MockTransport(handler), base_url="http://x") as client,
        pytest.raises(FeedError, match="HTTP 401.*AuthenticationFailed"),
    ):
        post(client, "/_bulk", b"", {})


def fake_syslog_server(answer: bytes) -> tuple[tuple[str, int], list[bytes], threading.Thread]:
    """A TCP server that reads until the half-close, then answers `answer`."""
    server = socket.create_server(("127.0.0.1", 0))
    received: list[bytes] = []

    def serve() -> None:
        connection, _ = server.accept()
        with connection, server:
            while data := connection.recv(65536):
                received.append(data)
            connection.sendall(answer)

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    return server.getsockname(), received, thread


def test_syslog_is_octet_counted_and_the_acknowledged_count_checked(tmp_path: Path) -> None:
    address, received, thread = fake_syslog_server(b"ok 3\n")
    advanced: list[int] = []
    assert send_syslog(lines_file(tmp_path, 3), address, advanced.append) == 3
    thread.join(timeout=10)
    assert b"".join(received) == b'8 {"n": 0}8 {"n": 1}8 {"n": 2}'
    assert sum(advanced) == 3


def test_fewer_acknowledged_messages_than_sent_is_an_error(tmp_path: Path) -> None:
    address, _, thread = fake_syslog_server(b"ok 2\n")
    with pytest.raises(FeedError, match="sent 3 syslog messages, 2 acknowledged"):
        send_syslog(lines_file(tmp_path, 3), address, lambda count: None)
    thread.join(timeout=10)


def test_waiting_for_the_lake_gives_up_with_the_counts() -> None:
    sources = {
        "sources": [{"name": "syslog", "stored": 10, "quarantined": 1}],
        "datasets": [{"dataset": "syslog", "events": 4}],
        "quarantined": 1,
        "queues": {"intake": 0},
    }

    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, content=orjson.dumps(sources))

    with (
        httpx.Client(transport=httpx.MockTransport(handler), base_url="http://x") as client,
        pytest.raises(FeedError, match="5 of 11 records are stored"),
    ):
        wait_until_stored(client, timeout_secs=0.2)
    sources["datasets"] = [{"dataset": "syslog", "events": 10}]
    with httpx.Client(transport=httpx.MockTransport(handler), base_url="http://x") as client:
        assert wait_until_stored(client, timeout_secs=0.2) == 11
