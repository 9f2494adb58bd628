"""Syslog sources with real senders: util-linux `logger` (UDP, TCP) and rsyslog (octet-counted TCP),
plus a TLS client, the framer on any chunking, and random bytes at every listener."""

from __future__ import annotations

import datetime
import random
import shutil
import socket
import ssl
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from custodes.ingest.syslog import SyslogFramer
from tests.ingest.running import RunningService, stored

SYSLOG_SOURCES = {
    "udp": {"type": "syslog", "listen": "udp:127.0.0.1:0"},
    "tcp": {"type": "syslog", "listen": "tcp:127.0.0.1:0"},
}


def octet_counted(messages: list[bytes]) -> bytes:
    return b"".join(str(len(message)).encode() + b" " + message for message in messages)


def test_framer_reads_octet_counted_and_lf_frames() -> None:
    framer = SyslogFramer()
    stream = octet_counted([b"<13>1 - h a - - - one", b"<13>1 - h a - - - two\nwith LF"])
    stream += b"<13>Nov  1 00:00:00 h a: three\r\n\n<13>four\n"
    assert framer.feed(stream) == [
        b"<13>1 - h a - - - one",
        b"<13>1 - h a - - - two\nwith LF",
        b"<13>Nov  1 00:00:00 h a: three",
        b"<13>four",
    ]
    assert framer.finish() == []


def test_framer_cuts_a_message_without_end_at_the_limit() -> None:
    framer = SyslogFramer(max_message_bytes=10)
    assert framer.feed(b"x" * 25) == [b"x" * 10, b"x" * 10]
    assert framer.finish() == [b"x" * 5]


@given(
    messages=st.lists(
        st.binary(min_size=1, max_size=300).filter(lambda m: not m.endswith((b"\r", b"\n"))),
        min_size=1,
        max_size=20,
    ),
    cuts=st.lists(st.integers(min_value=0, max_value=10_000), max_size=10),
)
def test_framer_gives_the_same_messages_however_the_stream_is_cut(
    messages: list[bytes], cuts: list[int]
) -> None:
    stream = octet_counted(messages)
    framer = SyslogFramer()
    found: list[bytes] = []
    start = 0
    for cut in sorted({cut % (len(stream) + 1) for cut in cuts}):
        found += framer.feed(stream[start:cut])
        start = cut
    found += framer.feed(stream[start:])
    found += framer.finish()
    assert found == messages


def wait_until(condition: object, timeout_secs: float = 30.0) -> None:
    deadline = time.monotonic() + timeout_secs
    while time.monotonic() < deadline:
        if callable(condition) and condition():
            return
        time.sleep(0.05)
    raise AssertionError("timed out waiting")


def committed(running: RunningService, source: str) -> int:
    counters = running.counters()["sources"].get(source, {})
    return int(counters.get("stored", 0)) + int(counters.get("quarantined", 0))


def stored_messages(data_dir: Path, marker: str) -> list[tuple[str, str | None, str | None]]:
    rows = (
        stored(data_dir)
        .execute(
            'SELECT "event.original", "host.name", message FROM events'
            ' WHERE "event.original" LIKE ? ORDER BY "event.original"',
            [f"%{marker}%"],
        )
        .fetchall()
    )
    return [(str(original), host, message) for original, host, message in rows]


def test_logger_over_udp_and_tcp_is_stored_once_with_fields(data_dir: Path) -> None:
    sent = {"udp": [], "tcp": [], "tcp-octets": []}  # type: dict[str, list[str]]
    with RunningService(data_dir, {"sources": SYSLOG_SOURCES}) as running:
        for kind, flags in (
            ("udp", ["--udp", "--rfc5424", "--port", str(running.port("udp"))]),
            ("tcp", ["--tcp", "--rfc5424", "--port", str(running.port("tcp"))]),
            ("tcp-octets", ["--tcp", "--octet-count", "--port", str(running.port("tcp"))]),
        ):
            for number in range(5):
                text = f"custodes-test {kind} message {number}"
                command = ["logger", "--server", "127.0.0.1", *flags, "-t", "sshd", text]
                subprocess.run(command, check=True, timeout=30)
                sent[kind].append(text)
                if kind == "udp":
                    time.sleep(0.01)  # UDP has no backpressure: do not outrun the socket buffer
        wait_until(lambda: committed(running, "tcp") == 10)
        wait_until(lambda: committed(running, "udp") == 5)
    for kind, texts in sent.items():
        rows = stored_messages(data_dir, f"custodes-test {kind} ")
        assert len(rows) == len(texts), kind  # each stored exactly once
        for (original, host, message), text in zip(rows, sorted(texts), strict=True):
            assert original.endswith(text)
            assert message == text
            assert host == socket.gethostname()


RSYSLOG_CONFIG = """
global(workDirectory="{work}")
module(load="imfile" PollingInterval="1")
input(type="imfile" File="{input}" Tag="webapp" ruleset="forward" freshStartTail="off")
ruleset(name="forward") {{
  action(type="omfwd" target="127.0.0.1" port="{port}" protocol="tcp"
         TCP_Framing="octet-counted" template="RSYSLOG_SyslogProtocol23Format"
         action.resumeRetryCount="-1")
}}
"""


def test_rsyslog_forwards_a_file_with_octet_counted_tcp(data_dir: Path, tmp_path: Path) -> None:
    rsyslogd = shutil.which("rsyslogd") or "/usr/sbin/rsyslogd"
    work = tmp_path / "rsyslog"
    work.mkdir()
    source = tmp_path / "app.log"
    lines = [
        f"user alice{number} logged in from 10.0.0.{number % 250} id={number}"
        for number in range(200)
    ]
    source.write_text("".join(line + "\n" for line in lines))
    with RunningService(data_dir, {"sources": SYSLOG_SOURCES}) as running:
        config = work / "rsyslog.conf"
        config.write_text(RSYSLOG_CONFIG.format(work=work, input=source, port=running.port("tcp")))
        process = subprocess.Popen(
            [rsyslogd, "-n", "-f", str(config), "-i", str(work / "rsyslogd.pid")],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        try:
            wait_until(lambda: committed(running, "tcp") >= len(lines), 60)
        finally:
            process.terminate()
            process.wait(30)
    rows = stored_messages(data_dir, " id=")
    assert sorted(message or "" for _, _, message in rows) == sorted(lines)
    assert all(original.startswith("<") and "webapp" in original for original, _, _ in rows)


def self_signed(tmp_path: Path) -> tuple[Path, Path]:
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")])
    now = datetime.datetime.now(datetime.UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(days=1))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName([x509.DNSName("localhost")]), critical=False)
        .sign(key, hashes.SHA256())
    )
    cert_file, key_file = tmp_path / "server.pem", tmp_path / "server.key"
    cert_file.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return cert_file, key_file


def test_tls_syslog_with_octet_counting_is_stored_once(data_dir: Path, tmp_path: Path) -> None:
    cert_file, key_file = self_signed(tmp_path)
    sources = {
        "secure": {
            "type": "syslog",
            "listen": "tls:127.0.0.1:0",
            "cert_file": str(cert_file),
            "key_file": str(key_file),
        }
    }
    messages = [
        f"<38>1 2026-01-02T03:04:05Z web01 sshd 42 - - Accepted password for bob{n}".encode()
        for n in range(50)
    ]
    with RunningService(data_dir, {"sources": sources}) as running:
        context = ssl.create_default_context(cafile=str(cert_file))
        with (
            socket.create_connection(("127.0.0.1", running.port("secure"))) as raw,
            context.wrap_socket(raw, server_hostname="localhost") as tls,
        ):
            tls.sendall(octet_counted(messages))
            # close_notify: our side is done (asyncio's TLS closes at once, unlike plain TCP,
            # where the server closes only after the commit)
            tls.unwrap()
        wait_until(lambda: committed(running, "secure") == len(messages))
    rows = stored_messages(data_dir, "Accepted password for bob")
    assert sorted(original for original, _, _ in rows) == sorted(m.decode() for m in messages)
    assert {host for _, host, _ in rows} == {"web01"}


def test_random_bytes_at_syslog_listeners_are_stored_or_quarantined(data_dir: Path) -> None:
    generator = random.Random(5)
    chunks = [generator.randbytes(generator.randrange(1, 400)) for _ in range(150)]
    with RunningService(data_dir, {"sources": SYSLOG_SOURCES}) as running:
        with socket.create_connection(("127.0.0.1", running.port("tcp"))) as tcp:
            for chunk in chunks:
                tcp.sendall(chunk)
            tcp.shutdown(socket.SHUT_WR)
            with tcp.makefile("rb") as answer:  # answered after the commit: still alive
                assert answer.read().startswith(b"ok ")
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as udp:
            for chunk in chunks[:50]:
                udp.sendto(chunk, ("127.0.0.1", running.port("udp")))
                time.sleep(0.002)
        expected_udp = sum(1 for chunk in chunks[:50] if chunk.rstrip(b"\r\n\x00"))
        wait_until(lambda: running.counters()["sources"]["udp"]["received"] == expected_udp)
        wait_until(lambda: committed(running, "udp") == expected_udp)
        counters = running.counters()["sources"]
    assert counters["tcp"]["received"] > 0
    connection = stored(data_dir)
    for name in ("tcp", "udp"):
        assert (
            counters[name]["stored"] + counters[name]["quarantined"] == counters[name]["received"]
        )
        row = connection.execute(
            "SELECT count(*) FROM quarantine WHERE source = ? AND reason <> ''", [name]
        ).fetchone()
        assert row is not None and row[0] == counters[name]["quarantined"]
    row = connection.execute("SELECT count(*) FROM events").fetchone()
    assert row is not None and row[0] == counters["tcp"]["stored"] + counters["udp"]["stored"]


@pytest.fixture(scope="module")
def fuzz_service(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningService]:
    data_dir = tmp_path_factory.mktemp("fuzz-syslog")
    with RunningService(data_dir, {"sources": SYSLOG_SOURCES}) as running:
        yield running


def source_counters(running: RunningService, name: str) -> dict[str, int]:
    counters = running.counters()["sources"].get(name, {})
    return {key: int(counters.get(key, 0)) for key in ("received", "stored", "quarantined")}


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(chunks=st.lists(st.binary(min_size=1, max_size=500), min_size=1, max_size=8))
def test_any_bytes_over_tcp_are_committed_then_acknowledged(
    fuzz_service: RunningService, chunks: list[bytes]
) -> None:
    before = source_counters(fuzz_service, "tcp")
    with socket.create_connection(("127.0.0.1", fuzz_service.port("tcp"))) as tcp:
        for chunk in chunks:
            tcp.sendall(chunk)
        tcp.shutdown(socket.SHUT_WR)
        with tcp.makefile("rb") as answer:
            reply = answer.read()
    after = source_counters(fuzz_service, "tcp")
    received = after["received"] - before["received"]
    assert reply == f"ok {received}\n".encode()
    assert (after["stored"] + after["quarantined"]) - (
        before["stored"] + before["quarantined"]
    ) == received
    assert received >= 1 or not b"".join(chunks).strip(b"\r\n")


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(datagram=st.binary(min_size=1, max_size=2000).filter(lambda data: data.rstrip(b"\r\n\x00")))
def test_any_datagram_is_stored_or_quarantined(
    fuzz_service: RunningService, datagram: bytes
) -> None:
    before = source_counters(fuzz_service, "udp")
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as udp:
        udp.sendto(datagram, ("127.0.0.1", fuzz_service.port("udp")))

    def handled() -> int:
        after = source_counters(fuzz_service, "udp")
        return (after["stored"] + after["quarantined"]) - (before["stored"] + before["quarantined"])

    wait_until(lambda: handled() == 1)
