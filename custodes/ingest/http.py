"""HTTP ingest: `POST /ingest` bodies (NDJSON, optionally gzip) turned into raw records.

The route (custodes/api/routes/ingest.py) only moves bytes; everything about the body lives here
so it can be tested without a server.
"""

from __future__ import annotations

import zlib
from datetime import UTC, datetime

from custodes.errors import CustodesError
from custodes.events import RawRecord

#: Largest body accepted after decompression (a gzip bomb stops here).
MAX_BODY_BYTES = 64 << 20


class BadBody(CustodesError):
    """The request body cannot be read (bad gzip, too large); nothing of it was accepted."""

    status = 400


class BodyTooLarge(BadBody):
    """The body (or what it decompresses to) is larger than allowed."""

    status = 413


def decode_body(body: bytes, encoding: str | None, *, max_bytes: int = MAX_BODY_BYTES) -> bytes:
    """The body as sent before compression: gzip and deflate are undone, with a size limit."""
    encoding = (encoding or "identity").strip().lower()
    if len(body) > max_bytes:
        raise BodyTooLarge(f"body larger than {max_bytes} bytes")
    if encoding in ("identity", ""):
        return body
    if encoding not in ("gzip", "x-gzip", "deflate"):
        raise BadBody(f"unsupported Content-Encoding {encoding!r} (use gzip or none)")
    wbits = 47 if encoding != "deflate" else 15  # 47: gzip or zlib header, detected
    inflater = zlib.decompressobj(wbits)
    try:
        plain = inflater.decompress(body, max_bytes + 1)
        if inflater.unconsumed_tail or len(plain) > max_bytes:
            raise BodyTooLarge(f"body decompresses to more than {max_bytes} bytes")
        plain += inflater.flush()
    except zlib.error as error:
        raise BadBody(f"body is not valid {encoding}: {error}") from None
    if not inflater.eof:
        raise BadBody(f"body is not valid {encoding}: truncated")
    return plain


def split_lines(body: bytes) -> list[bytes]:
    """Non-empty lines of a body (LF or CRLF), each exactly as sent without its line end."""
    lines = body.split(b"\n")
    return [
        line[:-1] if line.endswith(b"\r") else line for line in lines if line not in (b"", b"\r")
    ]


def ndjson_records(
    body: bytes, *, source: str = "http", format: str | None = None
) -> list[RawRecord]:
    """One raw record per non-empty line of an NDJSON (or any line-based) body."""
    now = datetime.now(UTC)
    return [
        RawRecord(line, source=source, format=format, received_at=now) for line in split_lines(body)
    ]
