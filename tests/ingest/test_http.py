"""`POST /ingest` with a real HTTP client against the running service: NDJSON, gzip, auth,
429 when the queue is full, and random bodies that never crash the server."""

from __future__ import annotations

import contextlib
import gzip
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import orjson
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from custodes.ingest.http import BadBody, BodyTooLarge, decode_body, ndjson_records
from custodes.store.control import open_control
from custodes.store.users import create_token
from tests.ingest.running import RunningService, stored


def test_ndjson_lines_become_records_exactly_as_sent() -> None:
    records = ndjson_records(b'{"a": 1}\r\n\n{"b": 2}\nplain text', format="json")
    assert [record.data for record in records] == [b'{"a": 1}', b'{"b": 2}', b"plain text"]
    assert {record.source for record in records} == {"http"}


def test_gzip_bodies_are_undone_and_bombs_refused() -> None:
    assert decode_body(gzip.compress(b"x\n" * 10), "gzip") == b"x\n" * 10
    with pytest.raises(BodyTooLarge):
        decode_body(gzip.compress(b"0" * 10_000), "gzip", max_bytes=1000)
    with pytest.raises(BadBody):
        decode_body(b"not gzip at all", "gzip")
    with pytest.raises(BadBody):
        decode_body(b"x", "br")


def test_ingest_stores_each_line_once_with_fields(data_dir: Path) -> None:
    lines = [
        orjson.dumps(
            {"@timestamp": "2026-01-02T03:04:05Z", "user.name": f"user{n}", "host.name": "web01"}
        )
        for n in range(300)
    ]
    with (
        RunningService(data_dir, {}, http=True) as running,
        httpx.Client(base_url=running.url, headers=running.headers) as client,
    ):
        plain = client.post("/ingest", content=b"\n".join(lines[:100]))
        packed = client.post(
            "/ingest",
            content=gzip.compress(b"\n".join(lines[100:]) + b"\n"),
            headers={"Content-Encoding": "gzip"},
        )
        broken = client.post(
            "/ingest", content=b"\x00garbage", headers={"Content-Encoding": "gzip"}
        )
        anonymous = httpx.post(f"{running.url}/ingest", content=lines[0])
    assert plain.status_code == 200 and plain.json() == {"received": 100, "committed": 100}
    assert packed.status_code == 200 and packed.json()["committed"] == 200
    assert broken.status_code == 400
    assert anonymous.status_code == 401
    rows = stored(data_dir).execute(
        'SELECT "user.name", "host.name", count(*) FROM events GROUP BY ALL ORDER BY 1'
    )
    found = rows.fetchall()
    assert len(found) == 300
    assert {host for _, host, _ in found} == {"web01"}
    assert {count for _, _, count in found} == {1}


def test_a_token_without_the_ingest_role_is_refused(data_dir: Path) -> None:
    with RunningService(data_dir, {}, http=True) as running:
        control = open_control(data_dir)
        analyst, _ = create_token(control, "analyst")
        control.close()
        answer = httpx.post(
            f"{running.url}/ingest",
            content=b'{"a": 1}',
            headers={"Authorization": f"Bearer {analyst}"},
        )
    assert answer.status_code == 403


@contextlib.contextmanager
def released(gate: threading.Event) -> Iterator[None]:
    """Set `gate` on the way out, however the block ends."""
    try:
        yield
    finally:
        gate.set()


def wait_for(condition: Callable[[], bool], timeout_secs: float = 30.0) -> None:
    """Poll `condition` (a counter reaching a value) until true; fail, not hang, on timeout."""
    deadline = time.monotonic() + timeout_secs
    while not condition():
        assert time.monotonic() < deadline, "timed out waiting"
        time.sleep(0.01)


def test_a_full_queue_answers_429_with_retry_after(data_dir: Path) -> None:
    config = {"batch": {"queue_max_events": 10, "max_wait_secs": 0}}
    with RunningService(data_dir, config, http=True) as running:
        assert running.service is not None
        gate = threading.Event()
        running.service.intake.executor.submit(gate.wait, 60)  # the commit worker is busy
        # Whatever fails below, the worker is released: a blocked worker would hang the drain
        # on exit instead of failing the test.
        with (
            httpx.Client(base_url=running.url, headers=running.headers, timeout=30) as client,
            released(gate),
        ):
            answers: list[httpx.Response] = []

            def send() -> None:
                answers.append(client.post("/ingest", content=b'{"n": 1}\n' * 10))

            def counters() -> dict[str, int]:
                snapshot = running.counters()
                return {
                    "depth": snapshot["queue"]["depth"],
                    "received": snapshot["sources"].get("http", {}).get("received", 0),
                }

            senders = [threading.Thread(target=send) for _ in range(2)]
            senders[0].start()  # taken by the batcher, waits for the busy worker
            wait_for(lambda: counters() == {"depth": 0, "received": 10})
            senders[1].start()  # fills the queue
            wait_for(lambda: counters()["depth"] == 10)
            refused = client.post("/ingest", content=b'{"n": 2}\n')
            gate.set()
            for sender in senders:
                sender.join(30)
    assert refused.status_code == 429
    assert refused.headers["Retry-After"] == "1"
    assert [answer.status_code for answer in answers] == [200, 200]
    assert running.counters()["sources"]["http"]["rejected"] == 1


@pytest.fixture(scope="module")
def fuzz_service(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningService]:
    data_dir = tmp_path_factory.mktemp("fuzz-http")
    with RunningService(data_dir, {}, http=True) as running:
        yield running


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(body=st.binary(max_size=2000), gzipped=st.booleans())
def test_random_bodies_are_stored_or_quarantined_and_never_crash(
    fuzz_service: RunningService, body: bytes, gzipped: bool
) -> None:
    before = fuzz_service.counters()["sources"].get("http", {})
    content = gzip.compress(body) if gzipped else body
    answer = httpx.post(
        f"{fuzz_service.url}/ingest",
        content=content,
        headers={**fuzz_service.headers, **({"Content-Encoding": "gzip"} if gzipped else {})},
    )
    assert answer.status_code == 200
    after = fuzz_service.counters()["sources"]["http"]
    lines = len(ndjson_records(body))
    assert after["received"] - before.get("received", 0) == lines
    handled = (after["stored"] + after["quarantined"]) - (
        before.get("stored", 0) + before.get("quarantined", 0)
    )
    assert handled == lines
