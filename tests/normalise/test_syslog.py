import re
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from custodes.events import RawRecord
from custodes.normalise import (
    AuthlogParser,
    Normaliser,
    Rfc3164Parser,
    Rfc5424Parser,
    builtin_parsers,
)

RECEIVED = datetime(2024, 1, 5, tzinfo=UTC)
#: Wazuh rule id -> the (event.action, event.outcome) our parser must give that line.
WAZUH_CLASSES: dict[str, tuple[str | None, str | None]] = {
    "2502": ("authentication_failure", "failure"),
    "5302": ("su", "failure"),
    "5403": ("sudo", "success"),
    "5405": ("sudo", "failure"),
    "5501": ("session_opened", "success"),
    "5503": ("authentication_failure", "failure"),
    "5739": (None, None),
    "5741": (None, None),
    "5743": (None, None),
    "5745": (None, None),
    "5747": (None, None),
    "5749": (None, None),
    "5752": ("ssh_negotiation_failed", "failure"),
    "5754": (None, None),
    "5756": (None, None),
    "5757": ("ssh_reverse_mapping_failed", None),
    "64251": ("ssh_invalid_user", "failure"),
    "64254": ("ssh_too_many_attempts", "failure"),
    "64256": ("ssh_login", "success"),
    "64258": (None, None),
    "64260": ("ssh_denied_user", "failure"),
    "64264": ("ssh_bad_protocol", "failure"),
}
HEADER = re.compile(r"^(?:\S+ +\d+ [\d:]+|[\d-]+ [\d:.+-]+) +(?P<host>\S+) +(?P<program>[^\[:]+)")


def parse(line: bytes, received_at: datetime | None = RECEIVED) -> dict[str, Any]:
    batch, failures = Normaliser(builtin_parsers()).normalise(
        [RawRecord(line, received_at=received_at)]
    )
    assert failures == [], failures[0].reason if failures else ""
    row: dict[str, Any] = batch.to_pylist()[0]
    row["fields"] = dict(row["fields"])
    return row


def wazuh_cases(datasets: Path) -> list[tuple[str, str]]:
    cases = []
    for name in ("sshd", "pam", "su", "sudo", "macos-sshd"):
        text = (datasets / "wazuh-ruleset-tests" / f"{name}.ini").read_text()
        for section in re.split(r"\n(?=\[)", text):
            rule = re.search(r"^rule = (\d+)", section, re.M)
            for line in re.findall(r"^log \d+ pass = (.*)$", section, re.M):
                assert rule is not None
                cases.append((rule[1], line))
    return cases


def test_wazuh_sshd_pam_su_sudo_lines_are_classified_as_wazuh_does(datasets: Path) -> None:
    cases = wazuh_cases(datasets)
    wrong = []
    for rule, line in cases:
        row = parse(line.encode())
        header = HEADER.match(line)
        assert header is not None
        expected = WAZUH_CLASSES[rule]
        got = (row["event.action"], row["event.outcome"])
        if got != expected or row["host.name"] != header["host"]:
            wrong.append((rule, line, got))
        assert row["process.name"] == header["program"].strip()
    print(f"wazuh auth lines: {len(cases) - len(wrong)}/{len(cases)} classified as expected")
    assert len(cases) == 35
    assert wrong == []


def test_bsd_time_takes_the_year_that_precedes_receipt() -> None:
    december = parse(b"Dec 31 23:59:59 host cron[1]: x")
    january = parse(b"Jan  4 10:00:00 host cron[1]: x")
    assert december["@timestamp"] == datetime(2023, 12, 31, 23, 59, 59, tzinfo=UTC)
    assert january["@timestamp"] == datetime(2024, 1, 4, 10, tzinfo=UTC)


def test_priority_and_iso_time_and_program_with_module() -> None:
    row = parse(
        b"<86>2024-03-01T10:00:00.5+01:00 web sshd(pam_unix)[42]: session closed for user bob"
    )
    assert row["@timestamp"] == datetime(2024, 3, 1, 9, 0, 0, 500000, tzinfo=UTC)
    assert row["event.severity"] == 6
    assert row["fields"]["facility"] == "10"
    assert (row["process.name"], row["process.pid"]) == ("sshd(pam_unix)", 42)
    assert (row["event.action"], row["user.name"]) == ("session_closed", "bob")


@pytest.mark.parametrize(
    ("message", "expected"),
    [
        (
            "sshd[9]: Accepted publickey for alice from 10.0.0.5 port 50022 ssh2",
            {
                "event.action": "ssh_login",
                "event.outcome": "success",
                "user.name": "alice",
                "source.ip": "10.0.0.5",
                "source.port": 50022,
            },
        ),
        (
            "sshd[9]: Failed password for invalid user admin from 2001:db8::1 port 22 ssh2",
            {
                "event.action": "ssh_login",
                "event.outcome": "failure",
                "user.name": "admin",
                "source.ip": "2001:db8::1",
            },
        ),
        (
            "sshd[9]: Invalid user oracle from 203.0.113.9 port 4242",
            {"event.action": "ssh_invalid_user", "user.name": "oracle", "source.ip": "203.0.113.9"},
        ),
        (
            "sudo:    bob : TTY=pts/1 ; PWD=/home/bob ; USER=root ; COMMAND=/usr/bin/id -u",
            {
                "event.action": "sudo",
                "event.outcome": "success",
                "user.name": "bob",
                "user.target.name": "root",
                "process.command_line": "/usr/bin/id -u",
            },
        ),
        (
            "sudo: eve : 3 incorrect password attempts ; TTY=pts/1 ; USER=root ; COMMAND=/bin/sh",
            {"event.action": "sudo", "event.outcome": "failure", "user.name": "eve"},
        ),
        (
            "su[7]: pam_unix(su:session): session opened for user root by alice(uid=1000)",
            {"event.action": "session_opened", "user.name": "alice", "user.target.name": "root"},
        ),
        (
            "su[7]: FAILED su for root by mallory",
            {
                "event.action": "su",
                "event.outcome": "failure",
                "user.name": "mallory",
                "user.target.name": "root",
            },
        ),
        (
            "useradd[3]: new user: name=svc, UID=1001, GID=1001, home=/home/svc, shell=/bin/bash",
            {"event.action": "user_created", "event.category": "iam", "user.target.name": "svc"},
        ),
        (
            "usermod[3]: add 'svc' to group 'sudo'",
            {"event.action": "user_added_to_group", "user.target.name": "svc"},
        ),
        (
            "userdel[3]: delete user 'svc'",
            {"event.action": "user_deleted", "user.target.name": "svc"},
        ),
        ("groupadd[3]: new group: name=ops, GID=1002", {"event.action": "group_created"}),
        (
            "sshd[9]: message repeated 3 times: [ Failed password for root from 198.51.100.7]",
            {"event.action": "ssh_login", "event.outcome": "failure", "user.name": "root"},
        ),
        ("cron[5]: (root) CMD (run-parts /etc/cron.hourly)", {"event.action": None}),
    ],
)
def test_auth_messages_map_to_action_outcome_and_user(
    message: str, expected: dict[str, Any]
) -> None:
    row = parse(f"Jan  2 03:04:05 host {message}".encode())
    assert {key: row[key] for key in expected} == expected
    if expected.get("event.action"):
        assert row["event.dataset"] == "authlog"


def test_rfc5424_structured_data_and_nil_values() -> None:
    line = (
        b"<165>1 2003-10-11T22:14:15.003Z mymachine.example.com evntslog - ID47 "
        b'[exampleSDID@32473 iut="3" eventSource="App\\"x\\]"][other@1 iut="4"] '
        b"\xef\xbb\xbfAn event"
    )
    row = parse(line)
    assert row["@timestamp"] == datetime(2003, 10, 11, 22, 14, 15, 3000, tzinfo=UTC)
    assert row["host.name"] == "mymachine.example.com"
    assert row["process.name"] == "evntslog" and row["process.pid"] is None
    assert row["message"] == "An event"
    assert row["fields"]["eventSource"] == 'App"x]'
    assert (row["fields"]["iut"], row["fields"]["other@1.iut"]) == ("3", "4")
    assert row["fields"]["msgid"] == "ID47"


def test_rfc5424_auth_message_is_classified() -> None:
    row = parse(
        b"<38>1 2024-03-01T10:00:00Z bastion sshd 811 - - "
        b"Accepted password for ann from 10.9.8.7 port 2 ssh2"
    )
    assert (row["event.action"], row["user.name"], row["source.ip"]) == (
        "ssh_login",
        "ann",
        "10.9.8.7",
    )


def test_authlog_is_chosen_by_file_not_by_guess() -> None:
    record = RawRecord(b"Jan  2 03:04:05 host sshd[1]: Connection closed by 1.2.3.4 port 5")
    assert not AuthlogParser().accepts(record)
    assert Rfc3164Parser().accepts(record)
    assert AuthlogParser().parse(record)["event.dataset"] == "authlog"


@pytest.mark.parametrize(
    "line",
    [b"<999>1 2024-01-01T00:00:00Z h a - - - x", b"<13>1 2024-01-01T00:00:00Z h a - - [broken x"],
)
def test_malformed_rfc5424_is_a_parse_failure(line: bytes) -> None:
    batch, failures = Normaliser([Rfc5424Parser()]).normalise([RawRecord(line)])
    assert batch.num_rows == 0 and failures[0].parser == "rfc5424"


def test_line_without_a_program_tag_keeps_host_and_message() -> None:
    row = parse(b"Jun 14 15:16:01 combo last message repeated 2 times")
    assert (row["host.name"], row["process.name"]) == ("combo", None)
    assert row["message"] == "last message repeated 2 times"
