"""An Elasticsearch `_bulk`-compatible endpoint, so Beats, Fluent Bit, Vector and Logstash can
send to Custodes unchanged.

A bulk body is NDJSON: an action line (`{"index": {...}}` or `{"create": {...}}`) followed by
the document. Each document becomes one raw record (exactly as sent); the answer has one item
per action, as Elasticsearch gives it. Custodes is append-only: `delete` and `update` actions
are answered with a per-item error and nothing else happens.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, NamedTuple

import orjson

from custodes.events import RawRecord
from custodes.ingest.http import BadBody, split_lines

#: The Elasticsearch version we answer as; shippers check the major version (8).
VERSION = "8.11.0"
#: Official Elasticsearch clients refuse a server without this header.
PRODUCT_HEADERS = {"X-Elastic-Product": "Elasticsearch"}
WRITE_ACTIONS = frozenset({"index", "create"})
REFUSED_ACTIONS = frozenset({"delete", "update"})


class BulkItem(NamedTuple):
    """One action of a bulk request: where it went, and its record or why it was refused."""

    action: str
    index_name: str
    record: RawRecord | None
    error: str | None = None


@dataclass
class BulkRequest:
    """A parsed bulk body: per item its (action, index) and its record (None when refused)."""

    kinds: list[tuple[str, str]]
    records: list[RawRecord | None]

    @property
    def items(self) -> list[BulkItem]:
        """The items one by one (for reading; the hot path uses the two lists)."""
        return [
            BulkItem(action, index, record, None if record else refusal(action))
            for (action, index), record in zip(self.kinds, self.records, strict=True)
        ]


def refusal(action: str) -> str:
    """Why an action is refused."""
    return f"custodes is append-only: {action} is not supported"


def parse_bulk(
    body: bytes, *, default_index: str | None = None, source: str = "bulk"
) -> BulkRequest:
    """The actions of a bulk body; a malformed action line makes the whole body a `BadBody`."""
    lines = split_lines(body)
    now = datetime.now(UTC)
    kinds: list[tuple[str, str]] = []
    records: list[RawRecord | None] = []
    actions: dict[bytes, tuple[str, str]] = {}  # shippers repeat the same action line
    position = 0
    count = len(lines)
    while position < count:
        line = lines[position]
        known = actions.get(line)
        if known is None:
            known = actions[line] = read_action(line, position, default_index)
        kinds.append(known)
        action = known[0]
        if action in WRITE_ACTIONS:
            if position + 1 >= count:
                raise BadBody(f"bulk line {position + 1}: {action} action without a document")
            records.append(RawRecord(lines[position + 1], source=source, received_at=now))
            position += 2
        else:
            records.append(None)
            position += 1 if action == "delete" else 2
    return BulkRequest(kinds, records)


def read_action(line: bytes, position: int, default_index: str | None) -> tuple[str, str]:
    """(action, index) of one action line; BadBody if it is not one."""
    try:
        action_line = orjson.loads(line)
    except orjson.JSONDecodeError:
        raise BadBody(f"bulk line {position + 1}: action line is not JSON") from None
    if not isinstance(action_line, dict) or len(action_line) != 1:
        raise BadBody(f'bulk line {position + 1}: expected one action, e.g. {{"index": {{}}}}')
    ((action, meta),) = action_line.items()
    if action not in WRITE_ACTIONS and action not in REFUSED_ACTIONS:
        raise BadBody(f"bulk line {position + 1}: unknown action {action!r}")
    if not isinstance(meta, dict):
        meta = {}
    return action, str(meta.get("_index") or default_index or "")


def records_of(request: BulkRequest) -> list[RawRecord]:
    """The records to commit, in request order."""
    return [record for record in request.records if record is not None]


def bulk_response(request: BulkRequest, took_ms: int) -> bytes:
    """The answer Elasticsearch gives: per-item status (201 created, 400 refused)."""
    answers: list[bytes] = []
    created: dict[tuple[str, str], bytes] = {}
    has_errors = False
    for kind, record in zip(request.kinds, request.records, strict=True):
        if record is not None:
            prefix = created.get(kind)
            if prefix is None:
                prefix = created[kind] = b'{"%s":{"_index":%s,"_id":"' % (
                    kind[0].encode(),
                    orjson.dumps(kind[1]),
                )
            answers.append(prefix + record.id.encode() + CREATED_SUFFIX)
        else:
            has_errors = True
            error = {"type": "illegal_argument_exception", "reason": refusal(kind[0])}
            answers.append(
                orjson.dumps({kind[0]: {"_index": kind[1], "status": 400, "error": error}})
            )
    head = b'{"took":%d,"errors":%s,"items":[' % (took_ms, b"true" if has_errors else b"false")
    return head + b",".join(answers) + b"]}"


CREATED_SUFFIX = (
    b'","_version":1,"result":"created","_shards":{"total":1,"successful":1,"failed":0},'
    b'"_seq_no":0,"_primary_term":1,"status":201}}'
)


def cluster_info() -> dict[str, Any]:
    """`GET /`: what an Elasticsearch 8 node says about itself."""
    return {
        "name": "custodes",
        "cluster_name": "custodes",
        "cluster_uuid": "Y3VzdG9kZXMtY2x1c3Rlcg",
        "version": {
            "number": VERSION,
            "build_flavor": "default",
            "build_type": "custodes",
            "build_hash": "custodes",
            "build_date": "2023-11-04T10:04:57.184859352Z",
            "build_snapshot": False,
            "lucene_version": "9.8.0",
            "minimum_wire_compatibility_version": "7.17.0",
            "minimum_index_compatibility_version": "7.0.0",
        },
        "tagline": "You Know, for Search",
    }


def license_info() -> dict[str, Any]:
    """`GET /_license`: an active basic licence (what Beats and Logstash check)."""
    return {
        "license": {
            "status": "active",
            "uid": "00000000-0000-0000-0000-000000000000",
            "type": "basic",
            "issue_date": "2023-01-01T00:00:00.000Z",
            "issue_date_in_millis": 1672531200000,
            "max_nodes": 1000,
            "max_resource_units": None,
            "issued_to": "custodes",
            "issuer": "elasticsearch",
            "start_date_in_millis": -1,
        }
    }


def xpack_info() -> dict[str, Any]:
    """`GET /_xpack`: build and licence, no features (what Logstash and Beats check)."""
    return {
        "build": {"hash": "custodes", "date": "2023-11-04T10:04:57.184859352Z"},
        "license": {
            "uid": "00000000-0000-0000-0000-000000000000",
            "type": "basic",
            "mode": "basic",
            "status": "active",
        },
        "features": {},
        "tagline": "You know, for X",
    }


def cluster_health() -> dict[str, Any]:
    """`GET /_cluster/health`: green (Vector's health check)."""
    return {
        "cluster_name": "custodes",
        "status": "green",
        "timed_out": False,
        "number_of_nodes": 1,
        "number_of_data_nodes": 1,
        "active_primary_shards": 0,
        "active_shards": 0,
        "relocating_shards": 0,
        "initializing_shards": 0,
        "unassigned_shards": 0,
    }
