"""Syslog over UDP (RFC 5426), TCP (RFC 6587: LF or octet-counted framing) and TLS (RFC 5425).

The source knows transports, not formats: each message becomes one `RawRecord` and the
normaliser decides whether it is RFC 5424, RFC 3164, CEF or JSON.

Acknowledgement: syslog over TCP has no acknowledgement in the protocol, so a connection reads
further data only after what it already read was committed (fsync'ed); while the intake queue is
full it does not read at all, and the sender's TCP window fills up (backpressure, not loss).
When the sender closes its side (half-close), the server commits what remains, answers
`ok <messages>` and closes: a sender that reads that line knows the connection's messages are
durable (a crash closes the connection without it). UDP cannot acknowledge and cannot
push back: when the queue is full, datagrams are dropped and counted.
"""

from __future__ import annotations

import asyncio
import logging
import ssl
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Literal, cast

from custodes.events import RawRecord
from custodes.ingest.intake import Intake

log = logging.getLogger(__name__)

Transport = Literal["udp", "tcp", "tls"]
Framing = Literal["auto", "lf"]

#: An octet count longer than this many digits is not a count (RFC 6587 MSG-LEN).
MAX_COUNT_DIGITS = 10


class SyslogFramer:
    """Splits a TCP byte stream into messages: octet-counted (`LEN SP MSG`) or LF-terminated.

    With `framing="auto"` each frame that starts with a non-zero digit followed by digits and a
    space is octet-counted; anything else runs to the next LF (so a sender that loses count
    resynchronises at the next line). `framing="lf"` never counts (for lines that start with
    numbers). A frame longer than
    `max_message_bytes` is cut there, so a sender without newlines cannot exhaust memory.

    >>> framer = SyslogFramer()
    >>> framer.feed(b"11 <13>1 hello<13>second line\\n<13>par")
    [b'<13>1 hello', b'<13>second line']
    >>> framer.finish()
    [b'<13>par']
    """

    def __init__(self, framing: Framing = "auto", max_message_bytes: int = 1 << 20) -> None:
        self.framing = framing
        self.max_message_bytes = max_message_bytes
        self.buffer = bytearray()

    def feed(self, data: bytes) -> list[bytes]:
        """Add bytes; return every message now complete."""
        buffer = self.buffer
        buffer += data
        messages: list[bytes] = []
        position = 0
        size = len(buffer)
        octets = self.framing != "lf"
        limit = self.max_message_bytes
        while position < size:
            if octets and 0x31 <= buffer[position] <= 0x39:  # a digit 1-9 may start a count
                space = buffer.find(b" ", position, position + MAX_COUNT_DIGITS + 1)
                if space != -1 and buffer[position:space].isdigit():
                    length = int(buffer[position:space])
                    if length <= limit:
                        end = space + 1 + length
                        if end > size:
                            break  # wait for the rest of the frame
                        messages.append(bytes(buffer[space + 1 : end]).rstrip(b"\r\n"))
                        position = end
                        continue
                elif (
                    space == -1
                    and size - position <= MAX_COUNT_DIGITS
                    and buffer[position:size].isdigit()
                ):
                    break  # the count itself is not complete yet
            # not a count (or LF framing): the message runs to the next LF
            newline = buffer.find(b"\n", position)
            if newline == -1:
                if size - position >= limit:
                    messages.append(bytes(buffer[position : position + limit]))
                    position += limit
                    continue
                break
            line = bytes(buffer[position:newline])
            if line.endswith(b"\r"):
                line = line[:-1]
            if line:
                messages.append(line)
            position = newline + 1
        del buffer[:position]
        return messages

    def finish(self) -> list[bytes]:
        """At end of stream: what is left, as a last message (a sender may omit the final LF)."""
        rest = bytes(self.buffer).rstrip(b"\r\n")
        self.buffer.clear()
        return [rest] if rest else []


def to_records(messages: list[bytes], source: str, format: str | None) -> list[RawRecord]:
    """Messages as raw records of a network source (identified by their content)."""
    now = datetime.now(UTC)
    return [
        RawRecord(message, source=source, format=format, received_at=now) for message in messages
    ]


class SyslogStream(asyncio.Protocol):
    """One TCP or TLS connection: frame, queue, and read on only after the commit."""

    def __init__(self, source: SyslogSource) -> None:
        self.source = source
        self.framer = SyslogFramer(source.framing, source.max_message_bytes)
        self.backlog: list[bytes] = []
        self.transport: asyncio.Transport | None = None
        self.task: asyncio.Task[None] | None = None
        self.has_eof = False
        self.is_lost = False
        self.committed = 0

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = cast(asyncio.Transport, transport)  # uvloop's is not a subclass
        self.source.connections.add(self)

    def data_received(self, data: bytes) -> None:
        self.backlog.extend(self.framer.feed(data))
        self.start_draining()

    def eof_received(self) -> bool:
        self.has_eof = True
        self.backlog.extend(self.framer.finish())
        self.start_draining()
        if self.task is None:
            self.close_acknowledged()
        return True  # keep the transport open until the rest is committed

    def close_acknowledged(self) -> None:
        """The sender closed its side and all is committed: say `ok <messages>`, then close.

        A sender that half-closes and reads this line knows every message of the connection
        is durable; a crash closes the connection without it.
        """
        transport = self.transport
        if transport is not None and not transport.is_closing():
            if self.source.transport != "tls":  # asyncio's TLS has already answered the close
                transport.write(b"ok %d\n" % self.committed)
            transport.close()

    def connection_lost(self, exc: Exception | None) -> None:
        self.is_lost = True
        self.source.connections.discard(self)

    def start_draining(self) -> None:
        """Stop reading and commit the backlog (once; a running drain picks up new messages)."""
        if self.backlog and self.task is None and self.transport is not None:
            if not self.has_eof:
                self.transport.pause_reading()
            self.task = asyncio.get_running_loop().create_task(self.drain())

    async def drain(self) -> None:
        """Commit the backlog chunk by chunk, then read on (or close after the sender's EOF)."""
        transport = self.transport
        assert transport is not None
        try:
            while self.backlog:
                messages, self.backlog = self.backlog, []
                records = to_records(messages, self.source.name, self.source.format)
                committed = await self.source.intake.put(self.source.name, records)
                await committed
                self.committed += len(records)
        except Exception:  # not committed: close so the sender knows it was not acknowledged
            log.exception("syslog %s: commit failed, closing the connection", self.source.name)
            transport.abort()
            return
        finally:
            self.task = None
        if self.has_eof:
            self.close_acknowledged()
        elif self.source.is_stopping:
            transport.close()  # read nothing more: what was read is committed
        elif not self.is_lost and not transport.is_closing():
            transport.resume_reading()


class SyslogDatagrams(asyncio.DatagramProtocol):
    """UDP: one message per datagram; dropped and counted when the queue is full."""

    def __init__(self, source: SyslogSource) -> None:
        self.source = source

    def datagram_received(self, data: bytes, addr: tuple[str | object, int]) -> None:
        message = data.rstrip(b"\r\n\x00")
        if not message:
            return
        source = self.source
        intake = source.intake
        if not intake.has_room(1):
            intake.drop(source.name, 1, "queue full")
            return
        records = to_records([message], source.name, source.format)
        intake.offer(source.name, records).add_done_callback(consume_outcome)


def consume_outcome(future: asyncio.Future[Any]) -> None:
    """Nobody waits for a UDP commit; a failure is already counted by the batcher."""
    if not future.cancelled():
        future.exception()


@dataclass
class SyslogSource:
    """A syslog listener; `start` binds it and returns the address it really listens on."""

    name: str
    intake: Intake
    transport: Transport = "udp"
    host: str = "127.0.0.1"
    port: int = 514
    framing: Framing = "auto"
    format: str | None = None
    max_message_bytes: int = 1 << 20
    ssl_context: ssl.SSLContext | None = None

    def __post_init__(self) -> None:
        self.connections: set[SyslogStream] = set()
        self.is_stopping = False
        self.server: asyncio.Server | None = None
        self.datagrams: asyncio.DatagramTransport | None = None

    async def start(self) -> str:
        """Bind and serve; the address actually bound (port 0 asks the kernel for one)."""
        loop = asyncio.get_running_loop()
        if self.transport == "udp":
            transport, _ = await loop.create_datagram_endpoint(
                lambda: SyslogDatagrams(self), local_addr=(self.host, self.port)
            )
            self.datagrams = transport
            address = transport.get_extra_info("sockname")
            log.warning(
                "syslog %s: UDP cannot acknowledge; datagrams are dropped (and counted) "
                "when the queue is full",
                self.name,
            )
        else:
            if self.transport == "tls" and self.ssl_context is None:
                raise ValueError("TLS syslog needs an SSL context")
            factory: Callable[[], asyncio.Protocol] = lambda: SyslogStream(self)  # noqa: E731
            self.server = await loop.create_server(
                factory,
                self.host,
                self.port,
                ssl=self.ssl_context if self.transport == "tls" else None,
                reuse_address=True,
            )
            address = self.server.sockets[0].getsockname()
        self.port = int(address[1])
        return f"{self.transport}:{address[0]}:{self.port}"

    async def stop(self) -> None:
        """Stop accepting; let open connections finish committing what they read, then close."""
        self.is_stopping = True
        if self.datagrams is not None:
            self.datagrams.close()
        if self.server is not None:
            self.server.close()
            for stream in list(self.connections):
                if stream.transport is not None and stream.task is None:
                    stream.transport.close()
            await asyncio.sleep(0)


def tls_context(cert_file: str, key_file: str, ca_file: str | None = None) -> ssl.SSLContext:
    """A server TLS context (RFC 5425); with `ca_file`, clients must present a certificate."""
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    context.load_cert_chain(cert_file, key_file)
    if ca_file:
        context.load_verify_locations(ca_file)
        context.verify_mode = ssl.CERT_REQUIRED
    return context
