"""The Elasticsearch-compatible API with a real HTTP client: what shippers check first, `_bulk`
with per-item answers, gzip, ES-style API keys, and random bodies."""

from __future__ import annotations

import base64
import gzip
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path

import httpx
import orjson
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from custodes.errors import CustodesError
from custodes.ingest.bulk import bulk_response, parse_bulk, records_of
from tests.ingest.running import RunningService, stored


def bulk_body(documents: Sequence[Mapping[str, object]], action: str = "index") -> bytes:
    lines = []
    for document in documents:
        lines.append(orjson.dumps({action: {"_index": "logs-app"}}))
        lines.append(orjson.dumps(document))
    return b"\n".join(lines) + b"\n"


def test_parse_bulk_pairs_actions_with_documents_and_refuses_deletes() -> None:
    body = (
        b'{"index": {"_index": "a"}}\n{"m": 1}\n{"delete": {"_id": "x"}}\n'
        b'{"create": {}}\n{"m": 2}\n{"update": {"_id": "y"}}\n{"doc": {}}\n'
    )
    parsed = parse_bulk(body, default_index="fallback")
    items = parsed.items
    assert [(item.action, item.index_name) for item in items] == [
        ("index", "a"),
        ("delete", "fallback"),
        ("create", "fallback"),
        ("update", "fallback"),
    ]
    assert [record.data for record in records_of(parsed)] == [b'{"m": 1}', b'{"m": 2}']
    assert [item.error is None for item in items] == [True, False, True, False]
    answer = orjson.loads(bulk_response(parsed, took_ms=3))
    assert answer["errors"] is True
    assert [next(iter(item.values()))["status"] for item in answer["items"]] == [201, 400, 201, 400]


def test_malformed_action_lines_refuse_the_whole_body() -> None:
    for body in (b"not json\n{}\n", b'{"index": {}}\n', b'{"frobnicate": {}}\n{}\n', b"[1]\n"):
        with pytest.raises(CustodesError) as caught:
            parse_bulk(body)
        assert caught.value.status == 400


def test_shippers_find_an_elasticsearch_8(data_dir: Path) -> None:
    with (
        RunningService(data_dir, {}, http=True) as running,
        httpx.Client(base_url=running.url, headers=running.headers) as client,
    ):
        info = client.get("/es/")
        root = client.get("/")
        browser = client.get("/", headers={"Accept": "text/html"})
        license = client.get("/_license")
        xpack = client.get("/es/_xpack")
        health = client.get("/_cluster/health")
        anonymous = httpx.get(f"{running.url}/es/")
    assert info.status_code == 200
    assert info.headers["X-Elastic-Product"] == "Elasticsearch"
    assert info.json()["version"]["number"].startswith("8.")
    assert info.json()["tagline"] == "You Know, for Search"
    assert root.json() == info.json()  # an API client at the root finds Elasticsearch
    assert "X-Elastic-Product" not in browser.headers  # a browser gets the web UI's answer
    assert license.json()["license"]["status"] == "active"
    assert xpack.json()["license"]["type"] == "basic"
    assert health.json()["status"] == "green"
    assert anonymous.status_code == 401


def test_bulk_stores_every_document_once_and_answers_per_item(data_dir: Path) -> None:
    documents = [
        {"@timestamp": "2026-01-02T03:04:05Z", "user.name": f"u{n}", "source.ip": "10.1.2.3"}
        for n in range(2000)
    ]
    with RunningService(data_dir, {}, http=True) as running:
        api_key = base64.b64encode(f"sender:{running.token}".encode()).decode()
        with httpx.Client(base_url=running.url, timeout=30) as client:
            plain = client.post(
                "/_bulk",
                content=bulk_body(documents[:1000]),
                headers={**running.headers, "Content-Type": "application/x-ndjson"},
            )
            packed = client.post(
                "/logs-app/_bulk",
                content=gzip.compress(bulk_body(documents[1000:], action="create")),
                headers={"Authorization": f"ApiKey {api_key}", "Content-Encoding": "gzip"},
            )
            basic = client.post(
                "/es/_bulk",
                content=b'{"index": {}}\n{"user.name": "via-basic"}\n',
                auth=("fluent-bit", running.token),
            )
    for answer in (plain, packed, basic):
        assert answer.status_code == 200, answer.text
        assert answer.headers["X-Elastic-Product"] == "Elasticsearch"
        assert answer.json()["errors"] is False
    items = plain.json()["items"] + packed.json()["items"]
    assert len(items) == 2000
    assert {next(iter(item.values()))["status"] for item in items} == {201}
    rows = stored(data_dir).execute(
        'SELECT "user.name", "source.ip", "event.id" FROM events ORDER BY "user.name"'
    )
    found = rows.fetchall()
    assert len(found) == 2001
    assert len({user for user, _, _ in found}) == 2001  # each document once
    ids = {next(iter(item.values()))["_id"] for item in items}
    assert ids <= {event_id for _, _, event_id in found}
    assert {ip for user, ip, _ in found if user != "via-basic"} == {"10.1.2.3"}


@pytest.fixture(scope="module")
def fuzz_service(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningService]:
    data_dir = tmp_path_factory.mktemp("fuzz-bulk")
    with RunningService(data_dir, {}, http=True) as running:
        yield running


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    documents=st.lists(st.binary(max_size=300), max_size=10),
    garbage=st.one_of(st.none(), st.binary(min_size=1, max_size=200)),
)
def test_random_documents_are_stored_or_quarantined_and_never_crash(
    fuzz_service: RunningService, documents: list[bytes], garbage: bytes | None
) -> None:
    lines = []
    for document in documents:
        lines += [b'{"index": {}}', document.replace(b"\n", b" ")]
    if garbage is not None:
        lines.append(garbage)
    body = b"\n".join(lines)
    before = fuzz_service.counters()["sources"].get("bulk", {})
    answer = httpx.post(f"{fuzz_service.url}/_bulk", content=body, headers=fuzz_service.headers)
    after = fuzz_service.counters()["sources"].get("bulk", {})
    handled = sum(after.get(key, 0) - before.get(key, 0) for key in ("stored", "quarantined"))
    if answer.status_code == 200:
        assert handled == len(answer.json()["items"])
    else:
        assert answer.status_code == 400
        assert handled == 0
    assert httpx.get(f"{fuzz_service.url}/es/", headers=fuzz_service.headers).status_code == 200
