"""`custodes ingest --rules` and `custodes alerts ...` as a user runs them."""

from __future__ import annotations

import getpass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import orjson
import pytest
from typer.testing import CliRunner

from custodes.cli.main import app
from custodes.store import connect
from tests.detect.correlation_helpers import BRUTE_FORCE_ID, BRUTE_FORCE_RULES, FAILED_ID, T0

runner = CliRunner()

NOISY_RULE = """
title: Explicit credentials used
id: 7a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b4648
status: test
author: Custodes tests
logsource: {product: windows, service: security}
detection: {selection: {EventID: 4648}, condition: selection}
level: medium
"""


def windows_line(code: int, ip: str, at: datetime, seq: int, user: str = "admin") -> bytes:
    system = {
        "EventID": code,
        "Channel": "Security",
        "Computer": "dc01",
        "TimeCreated": {"#attributes": {"SystemTime": at.isoformat()}},
        "EventRecordID": seq,
    }
    data = {"TargetUserName": user, "IpAddress": ip}
    return orjson.dumps({"Event": {"System": system, "EventData": data}})


def write_log(path: Path, lines: list[bytes]) -> Path:
    path.write_bytes(b"\n".join(lines) + b"\n")
    return path


@pytest.fixture
def rules(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("CUSTODES_CACHE_DIR", str(tmp_path / "rule-cache"))
    folder = tmp_path / "rules"
    folder.mkdir()
    (folder / "brute.yml").write_text(BRUTE_FORCE_RULES)
    (folder / "noisy.yml").write_text(NOISY_RULE)
    return folder


def invoke(*args: str) -> str:
    result = runner.invoke(app, list(args))
    assert result.exit_code == 0, result.output
    return result.output


def alerts_jsonl(data_dir: Path, *options: str) -> list[dict[str, Any]]:
    output = invoke("alerts", "list", "--data-dir", str(data_dir), "--format", "jsonl", *options)
    return [orjson.loads(line) for line in output.splitlines()]


def test_ingest_with_rules_stores_alerts_that_alerts_commands_show(
    tmp_path: Path, data_dir: Path, rules: Path
) -> None:
    lines = [windows_line(4625, "203.0.113.7", T0 + timedelta(seconds=i), i) for i in range(20)]
    lines.append(windows_line(4624, "203.0.113.7", T0 + timedelta(seconds=25), 20))
    lines += [windows_line(4648, "10.0.0.1", T0 + timedelta(seconds=i), 30 + i) for i in range(3)]
    log = write_log(tmp_path / "security.jsonl", lines)

    output = invoke("ingest", "--data-dir", str(data_dir), "--rules", str(rules), str(log))
    assert "2 new alerts" in output

    found = alerts_jsonl(data_dir)
    assert sorted((a["rule_id"], a["count"]) for a in found) == sorted(
        [(BRUTE_FORCE_ID, 21), ("7a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b4648", 3)]
    )
    [high] = alerts_jsonl(data_dir, "--level", "high")
    assert high["kind"] == "correlation"
    assert alerts_jsonl(data_dir, "--rule", FAILED_ID) == []  # silenced by the correlation

    shown = invoke("alerts", "show", str(high["id"]), "--data-dir", str(data_dir))
    assert "Brute force succeeded" in shown
    assert "21 events" in shown
    invoke("alerts", "ack", str(high["id"]), "--data-dir", str(data_dir))
    [acked] = alerts_jsonl(data_dir, "--status", "acknowledged")
    assert (acked["id"], acked["status_by"]) == (high["id"], getpass.getuser())


def test_suppress_from_the_cli_counts_what_it_stops(
    tmp_path: Path, data_dir: Path, rules: Path
) -> None:
    first = write_log(tmp_path / "a.jsonl", [windows_line(4648, "10.0.0.1", T0, 1)])
    invoke("ingest", "--data-dir", str(data_dir), "--rules", str(rules), str(first))
    [alert] = alerts_jsonl(data_dir)
    invoke(
        "alerts", "suppress", "--alert", str(alert["id"]), "--data-dir", str(data_dir),
        "--justification", "jump host logs on with explicit credentials", "--owner", "alice",
        "--expires", "30d",
    )  # fmt: skip
    again = write_log(tmp_path / "b.jsonl", [windows_line(4648, "10.0.0.1", T0, 2)])
    output = invoke("ingest", "--data-dir", str(data_dir), "--rules", str(rules), str(again))
    assert "1 suppressed" in output
    assert [a["count"] for a in alerts_jsonl(data_dir)] == [1]
    listed = invoke("alerts", "suppressions", "--data-dir", str(data_dir), "--format", "jsonl")
    [suppression] = [orjson.loads(line) for line in listed.splitlines()]
    assert (suppression["suppressed_count"], suppression["owner"]) == (1, "alice")


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        (["--rule", "r", "--justification", "", "--owner", "bob", "--expires", "1d"], "justif"),
        (["--rule", "r", "--justification", "why", "--owner", "", "--expires", "1d"], "owner"),
        (["--rule", "r", "--justification", "why", "--owner", "bob", "--expires", "soon"], "soon"),
        (["--justification", "why", "--owner", "bob", "--expires", "1d"], "exactly one"),
        (["--alert", "9", "--justification", "why", "--owner", "bob", "--expires", "1d"], "9"),
    ],
)
def test_suppress_refuses_incomplete_requests(
    data_dir: Path, arguments: list[str], message: str
) -> None:
    result = runner.invoke(app, ["alerts", "suppress", "--data-dir", str(data_dir), *arguments])
    assert result.exit_code == 2
    assert message in result.output
    assert "Traceback" not in result.output


def test_suppress_without_justification_option_is_a_usage_error(data_dir: Path) -> None:
    result = runner.invoke(
        app, ["alerts", "suppress", "--rule", "r", "--owner", "bob", "--expires", "1d"]
    )
    assert result.exit_code == 2


def test_unknown_level_is_a_clear_error(data_dir: Path) -> None:
    result = runner.invoke(app, ["alerts", "list", "--data-dir", str(data_dir), "--level", "x"])
    assert result.exit_code == 2
    assert "unknown level" in result.output


def test_hunt_store_keeps_the_lake_alerts_once(tmp_path: Path, data_dir: Path, rules: Path) -> None:
    lines = [windows_line(4625, "203.0.113.9", T0 + timedelta(seconds=i), i) for i in range(20)]
    lines.append(windows_line(4624, "203.0.113.9", T0 + timedelta(seconds=25), 20))
    log = write_log(tmp_path / "security.jsonl", lines)
    invoke("ingest", "--data-dir", str(data_dir), str(log))  # no rules: nothing detected yet
    assert alerts_jsonl(data_dir) == []

    hunt = ["hunt", "--data-dir", str(data_dir), "--rules", str(rules), "--store"]
    assert "1 new alerts" in invoke(*hunt)
    assert "1 already stored" in invoke(*hunt)
    [alert] = alerts_jsonl(data_dir)
    assert (alert["rule_id"], alert["count"]) == (BRUTE_FORCE_ID, 21)


SSH_BRUTE_FORCE = """
title: SSH password failure
name: ssh_password_failure
status: test
author: Custodes tests
logsource: {product: linux, service: sshd}
detection:
  selection: {event.action: ssh_login, event.outcome: failure}
  condition: selection
---
title: SSH brute force from one source
id: 5e8d2f71-93c4-4b0a-a8f6-2c1d7e9b0a55
status: test
author: Custodes tests
level: high
correlation:
  type: event_count
  rules: ssh_password_failure
  group-by: [source.ip]
  timespan: 5m
  condition: {gte: 10}
"""


def test_ssh_brute_force_in_a_real_auth_log_matches_a_sql_oracle(
    tmp_path: Path, data_dir: Path, datasets: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CUSTODES_CACHE_DIR", str(tmp_path / "rule-cache"))
    rules = tmp_path / "ssh.yml"
    rules.write_text(SSH_BRUTE_FORCE)
    log = datasets / "loghub" / "OpenSSH" / "OpenSSH_2k.dev.log"  # a lab server under attack
    invoke("ingest", "--data-dir", str(data_dir), str(log))
    invoke("hunt", "--data-dir", str(data_dir), "--rules", str(rules), "--store")

    with connect(data_dir) as lake:  # sources with >= 10 failures within some 5 minutes
        expected = {
            ip
            for (ip,) in lake.execute(
                """
                select distinct ip from (
                    select "source.ip" as ip, count(*) over (
                        partition by "source.ip" order by "@timestamp"
                        range between interval 5 minutes preceding and current row) as n
                    from events
                    where "event.action" = 'ssh_login' and "event.outcome" = 'failure'
                ) where n >= 10
                """
            ).fetchall()
        }
    assert len(expected) >= 3  # the sample holds several attacking sources
    found = alerts_jsonl(data_dir, "--rule", "5e8d2f71-93c4-4b0a-a8f6-2c1d7e9b0a55")
    sources = [a["details"]["group_by"]["source.ip"] for a in found]
    assert sorted(sources) == sorted(expected)  # one alert per source, its bursts grouped
    assert all(a["count"] >= 10 and a["author"] == "Custodes tests" for a in found)


def test_quarantine_replay_with_rules_raises_alerts(
    tmp_path: Path, data_dir: Path, rules: Path
) -> None:
    from custodes.events import RawRecord
    from custodes.pipeline import open_pipeline
    from custodes.plugins import Registry

    lines = [windows_line(4648, "10.0.0.1", T0 + timedelta(seconds=i), i) for i in range(3)]
    records = [RawRecord(data=line, origin="a.jsonl", position=i) for i, line in enumerate(lines)]
    with open_pipeline(data_dir, registry=Registry(), ledger=False) as unparsed:  # no parsers
        assert unparsed.submit(records).quarantined == 3

    output = invoke("quarantine", "replay", "--data-dir", str(data_dir), "--rules", str(rules))
    assert "3 stored, 0 still quarantined" in output
    assert "1 new alerts" in output
    [alert] = alerts_jsonl(data_dir)
    assert (alert["rule_id"], alert["count"]) == ("7a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b4648", 3)
