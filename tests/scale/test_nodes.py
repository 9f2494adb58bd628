"""Two `custodes serve` nodes on one lake with the control database on PostgreSQL."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import orjson
import pytest
from sqlalchemy import func, select
from typer.testing import CliRunner

from custodes.cli.main import app
from custodes.ledger import verify_store
from custodes.scale import verify_nodes
from custodes.store import connect, open_control
from custodes.store.control import AlertEventRow, AlertRow
from tests.scale.postgres import postgres_cluster

RULE = """
title: Failed logon
id: 0f0e0d0c-0b0a-4909-8807-060504030201
status: test
level: high
logsource: {product: windows, service: security}
detection:
  selection: {EventID: 4625}
  condition: selection
"""
EVENTS_PER_NODE = 150


@pytest.fixture(scope="module")
def postgres_url() -> Iterator[str]:
    with postgres_cluster() as url:
        yield url


def windows_event(host: str, record: int) -> bytes:
    """A Security event as JSON (4625 for even records, 4624 for odd)."""
    event = {
        "Event": {
            "System": {
                "EventID": 4625 if record % 2 == 0 else 4624,
                "EventRecordID": record,
                "Channel": "Security",
                "Computer": host,
                "Provider": {"#attributes": {"Name": "Microsoft-Windows-Security-Auditing"}},
                "TimeCreated": {
                    "#attributes": {"SystemTime": f"2026-01-02T03:{record % 60:02d}:05Z"}
                },
            },
            "EventData": {"TargetUserName": f"user{record % 7}", "IpAddress": "10.0.0.9"},
        }
    }
    return orjson.dumps(event) + b"\n"


def start_node(
    tmp_path: Path, name: str, lake: Path, url: str
) -> tuple[subprocess.Popen[bytes], Path]:
    node = tmp_path / name
    node.mkdir()
    (node / "lake").symlink_to(lake, target_is_directory=True)
    config = node / "custodes.yaml"
    config.write_text(
        "http: {listen: '127.0.0.1:0'}\n"
        "sources: {tcp: {type: syslog, listen: 'tcp:127.0.0.1:0'}}\n"
        f"rules: [{{type: directory, path: {tmp_path / 'rules'}}}]\n"
        f"control_url: '{url}'\n"
    )
    environment = {
        **os.environ,
        "CUSTODES_CACHE_DIR": str(tmp_path / "cache"),
        "CUSTODES_NODE": name,
    }
    environment.pop("CUSTODES_CONTROL_URL", None)  # the yaml's control_url must be enough
    process = subprocess.Popen(
        [sys.executable, "-c", "from custodes.cli.main import app; app()", "serve"]
        + ["--data-dir", str(node), "--config", str(config)],
        stderr=subprocess.PIPE,
        env=environment,
    )
    return process, node


def wait_ready(process: subprocess.Popen[bytes], node: Path) -> int:
    ready = node / "serve.json"
    deadline = time.monotonic() + 120
    while not ready.exists():
        assert process.poll() is None, process.communicate()[1].decode()[-2000:]
        assert time.monotonic() < deadline
        time.sleep(0.05)
    return int(orjson.loads(ready.read_bytes())["listening"]["tcp"].rsplit(":", 1)[1])


def send(port: int, lines: list[bytes]) -> bytes:
    with socket.create_connection(("127.0.0.1", port)) as sender:
        sender.sendall(b"".join(lines))
        sender.shutdown(socket.SHUT_WR)
        with sender.makefile("rb") as answer:
            return answer.read()


def test_two_nodes_one_lake_shared_postgres(tmp_path: Path, postgres_url: str) -> None:
    (tmp_path / "rules").mkdir()
    (tmp_path / "rules" / "failed.yml").write_text(RULE)
    lake = tmp_path / "shared-lake"
    lake.mkdir()
    nodes = [start_node(tmp_path, name, lake, postgres_url) for name in ("node_a", "node_b")]
    try:
        ports = [wait_ready(process, node) for process, node in nodes]
        for offset, port in enumerate(ports):
            host = f"ws-{offset}"
            records = range(offset * 10_000, offset * 10_000 + EVENTS_PER_NODE)
            answer = send(port, [windows_event(host, record) for record in records])
            assert answer == f"ok {EVENTS_PER_NODE}\n".encode()
    finally:
        for process, _ in nodes:
            process.terminate()
        errors = [process.communicate(timeout=120)[1] for process, _ in nodes]
    assert [p.returncode for p, _ in nodes] == [0, 0], [e.decode()[-2000:] for e in errors]

    node_dirs = [node for _, node in nodes]
    files = sorted(path.name.split("-")[0] for path in lake.rglob("*.parquet"))
    assert set(files) == {"node_a", "node_b"}  # each node's segments, under its own name
    connection = connect(node_dirs[0])
    total, records, ids = connection.execute(
        "SELECT count(*), count(DISTINCT fields['EventRecordID']), count(DISTINCT \"event.id\") "
        "FROM events"
    ).fetchone() or (0, 0, 0)
    assert total == records == ids == 2 * EVENTS_PER_NODE  # every event stored once

    with open_control(postgres_url) as control, control.session() as session:
        hosts = set(session.scalars(select(AlertRow.host_name)))
        alerted = session.scalar(select(func.count(func.distinct(AlertEventRow.event_id))))
    assert hosts == {"ws-0", "ws-1"}  # both nodes' streaming detection wrote to one database
    assert alerted == EVENTS_PER_NODE  # the 4625 half of each node's events

    combined = verify_nodes(node_dirs)
    assert combined.is_intact, combined.to_dict()["faults"]
    assert combined.events == 2 * EVENTS_PER_NODE
    alone = verify_store(node_dirs[0])  # one node's ledger alone does not cover the other's files
    assert not alone.is_intact
    result = CliRunner().invoke(app, ["scale", "verify", *map(str, node_dirs)])
    assert result.exit_code == 0, result.output
    assert "intact" in result.output
    nodes_args = [arg for node in node_dirs for arg in ("--node", str(node))]
    verified = CliRunner().invoke(app, ["verify", *nodes_args, "--json"])
    assert verified.exit_code == 0, verified.output
    assert orjson.loads(verified.stdout)["events"] == 2 * EVENTS_PER_NODE
    one = CliRunner().invoke(app, ["verify", "--data-dir", str(node_dirs[0])])
    assert one.exit_code == 1  # one node alone calls the other's files unknown
