"""Ingest over HTTP: `POST /ingest` (NDJSON) and an Elasticsearch-compatible `_bulk` API.

Every route answers only after the records were committed (fsync'ed): a 200 is an
acknowledgement. A full queue answers 429 with Retry-After. Callers need an API token with role
`ingest`, sent as `Authorization: Bearer <token>`, `ApiKey base64(id:token)` (Elasticsearch
style) or basic auth with the token as password. The Elasticsearch routes exist twice: at the
root (`/_bulk`, `/<index>/_bulk`) and under `/es` (`/es/`, `/es/_bulk`, ...), so a shipper whose
`hosts` is `http://custodes:8080/es` also gets the `GET /` answer it checks first.
"""

from __future__ import annotations

import time
from typing import Annotated, Any

import orjson
from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import Response

from custodes.api.deps import SEND_EVENTS, State, require_roles
from custodes.errors import CustodesError
from custodes.ingest.bulk import (
    PRODUCT_HEADERS,
    bulk_response,
    cluster_health,
    cluster_info,
    license_info,
    parse_bulk,
    records_of,
    xpack_info,
)
from custodes.ingest.http import MAX_BODY_BYTES, BodyTooLarge, decode_body, ndjson_records
from custodes.ingest.intake import Intake

router = APIRouter(tags=["ingest"], dependencies=[require_roles(*SEND_EVENTS)])
ELASTICSEARCH_PREFIXES = ("/es", "")  # "/es" first: "/{index}/_bulk" would match it too


class IngestUnavailable(CustodesError):
    """This process does not run the ingest service (start `custodes serve`)."""

    status = 503


def get_intake(state: State) -> Intake:
    """The running service's intake queue."""
    intake: Intake | None = getattr(state.service, "intake", None)
    if intake is None:
        raise IngestUnavailable("ingest is not running in this process (start custodes serve)")
    return intake


IntakeQueue = Annotated[Intake, Depends(get_intake)]


async def read_body(request: Request) -> bytes:
    """The request body, decompressed, refused early when its declared size is too large."""
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > MAX_BODY_BYTES:
        raise BodyTooLarge(f"body larger than {MAX_BODY_BYTES} bytes")
    body = await request.body()
    return decode_body(body, request.headers.get("content-encoding"))


def json_response(content: Any) -> Response:
    """JSON with the header Elasticsearch clients insist on."""
    return Response(orjson.dumps(content), media_type="application/json", headers=PRODUCT_HEADERS)


@router.post("/ingest")
async def ingest_ndjson(
    request: Request,
    intake: IntakeQueue,
    format: Annotated[str | None, Query(description="parser name; auto-detected if absent")] = None,
) -> Response:
    """NDJSON (one record per line, gzip accepted); answered after the records are durable."""
    records = ndjson_records(await read_body(request), source="http", format=format)
    receipt = await intake.offer("http", records)
    return json_response({"received": len(records), "committed": receipt.committed})


async def ingest_bulk(request: Request, intake: Intake, index: str | None) -> Response:
    """Elasticsearch `_bulk`: one item per action, each 201 once committed."""
    started = time.monotonic()
    parsed = parse_bulk(await read_body(request), default_index=index, source="bulk")
    records = records_of(parsed)
    if records:
        await intake.offer("bulk", records)
    took_ms = int((time.monotonic() - started) * 1000)
    return Response(
        bulk_response(parsed, took_ms), media_type="application/json", headers=PRODUCT_HEADERS
    )


def add_elasticsearch_routes(prefix: str) -> None:
    """The Elasticsearch-compatible routes under one prefix."""

    @router.post(f"{prefix}/_bulk", name=f"bulk{prefix}")
    async def bulk(request: Request, intake: IntakeQueue) -> Response:
        """Elasticsearch `_bulk` (index and create actions; NDJSON, gzip accepted)."""
        return await ingest_bulk(request, intake, None)

    @router.post(f"{prefix}/{{index}}/_bulk", name=f"index_bulk{prefix}")
    async def index_bulk(request: Request, intake: IntakeQueue, index: str) -> Response:
        """Elasticsearch `<index>/_bulk`: `index` is the default for actions that name none."""
        return await ingest_bulk(request, intake, index)

    @router.get(f"{prefix}/_license", name=f"license{prefix}")
    def get_license() -> Response:
        """An active basic licence, as Beats and Logstash expect."""
        return json_response(license_info())

    @router.get(f"{prefix}/_xpack", name=f"xpack{prefix}")
    def get_xpack() -> Response:
        """X-Pack info with no features, as Logstash and Beats expect."""
        return json_response(xpack_info())

    @router.get(f"{prefix}/_cluster/health", name=f"health{prefix}")
    def get_cluster_health() -> Response:
        """Always green: Vector's health check."""
        return json_response(cluster_health())


for _prefix in ELASTICSEARCH_PREFIXES:
    add_elasticsearch_routes(_prefix)


@router.get("/es")
@router.get("/es/")
def get_cluster_info() -> Response:
    """What an Elasticsearch 8 node answers at `/`: shippers check the version first."""
    return json_response(cluster_info())


@router.head("/es")
@router.head("/es/")
def head_cluster_info() -> Response:
    """`HEAD /`: the node is there."""
    return Response(headers=PRODUCT_HEADERS)


class ElasticsearchRoot:
    """ASGI middleware: `GET /` from an Elasticsearch client is answered by `/es/`.

    The root is the web UI's overview; a shipper checking the root sends credentials in an
    Authorization header and does not ask for HTML, a browser does the opposite.
    """

    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if (
            scope["type"] == "http"
            and scope["path"] == "/"
            and scope["method"] in ("GET", "HEAD")
            and is_elasticsearch_client(dict(scope["headers"]))
        ):
            scope = {**scope, "path": "/es/", "raw_path": b"/es/"}
        await self.app(scope, receive, send)


def is_elasticsearch_client(headers: dict[bytes, bytes]) -> bool:
    """Credentials in a header and no wish for HTML: an API client, not a browser."""
    return b"authorization" in headers and b"text/html" not in headers.get(b"accept", b"")
