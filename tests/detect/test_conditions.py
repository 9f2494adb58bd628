"""The condition grammar, keywords, logsource pruning and alerts (author carried, DRL 1.1)."""

from __future__ import annotations

from custodes.detect import compile_rules, hits_to_alerts, load_rules_from_yaml
from tests.detect.helpers import event_batch, matched_rows, matcher_for, sysmon

SELECTIONS = """
    sel_a: {CommandLine|contains: 'alpha'}
    sel_b: {CommandLine|contains: 'beta'}
    filter: {User: 'SYSTEM'}
"""
EVENTS = (
    sysmon(CommandLine="alpha", User="alice"),
    sysmon(CommandLine="beta", User="alice"),
    sysmon(CommandLine="alpha beta", User="alice"),
    sysmon(CommandLine="alpha beta", User="system"),
    sysmon(CommandLine="gamma", User="alice"),
)


def rows(condition: str) -> list[int]:
    matcher = matcher_for(SELECTIONS + f"    condition: {condition}\n")
    return matched_rows(matcher, event_batch(*EVENTS))


def test_one_of_pattern() -> None:
    assert rows("1 of sel_*") == [0, 1, 2, 3]


def test_all_of_pattern() -> None:
    assert rows("all of sel_*") == [2, 3]


def test_all_of_them_and_one_of_them() -> None:
    assert rows("all of them") == [3]  # SYSTEM matches case-insensitively
    assert rows("1 of them") == [0, 1, 2, 3]


def test_not_and_parentheses() -> None:
    assert rows("(sel_a or sel_b) and not filter") == [0, 1, 2]
    assert rows("sel_a and not (sel_b or filter)") == [0]
    assert rows("not sel_a") == [1, 4]


def test_keywords_search_the_message() -> None:
    matcher = matcher_for(
        "keywords: ['Failed password', 'invalid*user']\ncondition: keywords",
        logsource="{product: linux, service: sshd}",
    )
    batch = event_batch(
        {"event.dataset": "linux.auth", "message": "sshd: failed PASSWORD for root"},
        {"event.dataset": "linux.auth", "message": "sshd: Invalid  user bob"},
        {"event.dataset": "linux.auth", "message": "sshd: Accepted password"},
    )
    assert matched_rows(matcher, batch) == [0, 1]


def test_logsource_limits_rules_to_their_events() -> None:
    matcher = matcher_for("sel: {CommandLine|contains: 'whoami'}\ncondition: sel")
    batch = event_batch(
        sysmon(CommandLine="whoami"),
        {"winlog.channel": "Security", "event.code": "4688", "CommandLine": "whoami /all"},
        {"winlog.channel": "Security", "event.code": "4624", "CommandLine": "whoami"},
        {
            "winlog.channel": "Microsoft-Windows-Sysmon/Operational",
            "event.code": "3",
            "CommandLine": "whoami",
        },
    )
    assert matched_rows(matcher, batch) == [0, 1]


def test_security_4688_reads_image_from_new_process_name() -> None:
    matcher = matcher_for("sel: {Image|endswith: '\\whoami.exe'}\ncondition: sel")
    batch = event_batch(
        {"winlog.channel": "Security", "event.code": "4688", "NewProcessName": "C:\\w\\whoami.exe"}
    )
    assert matched_rows(matcher, batch) == [0]


def test_alerts_carry_the_rule_author_and_group_by_host_and_user() -> None:
    rule = """
title: Whoami
id: 00000000-0000-4000-8000-000000000002
author: Jane Analyst
level: medium
tags: [attack.discovery, attack.t1033]
logsource: {product: windows, category: process_creation}
detection:
  sel: {Image|endswith: '\\whoami.exe'}
  condition: sel
"""
    matcher = compile_rules(load_rules_from_yaml(rule))
    batch = event_batch(
        {**sysmon(Image="C:\\whoami.exe"), "host.name": "a", "user.name": "u1"},
        {**sysmon(Image="C:\\whoami.exe"), "host.name": "a", "user.name": "u1"},
        {**sysmon(Image="C:\\whoami.exe"), "host.name": "b", "user.name": "u1"},
        {**sysmon(Image="C:\\notepad.exe"), "host.name": "a", "user.name": "u1"},
    )
    alerts = hits_to_alerts(batch, matcher.match(batch))
    assert sorted((a.host_name, a.count) for a in alerts) == [("a", 2), ("b", 1)]
    assert {a.author for a in alerts} == {"Jane Analyst"}
    assert alerts[0].tags == ("attack.discovery", "attack.t1033")
    ids = batch.column("event.id").to_pylist()
    assert set(next(a for a in alerts if a.host_name == "a").event_ids) == {ids[0], ids[1]}


def test_broken_rule_is_reported_and_others_still_load() -> None:
    text = """
title: Good
id: 00000000-0000-4000-8000-000000000003
logsource: {product: windows, category: process_creation}
detection:
  sel: {Image: x}
  condition: sel
---
title: Bad
id: 00000000-0000-4000-8000-000000000004
logsource: {product: windows, category: process_creation}
detection:
  sel: {Image: x}
  condition: sel and missing
"""
    rule_set = load_rules_from_yaml(text)
    matcher = compile_rules(rule_set)
    assert [r.info.title for r in matcher.rules] == ["Good"]
    assert len(matcher.refused) == 1


def test_keywords_search_every_field_value_when_there_is_no_message() -> None:
    matcher = matcher_for(
        "keywords: ['sekurlsa::logonpasswords']\ncondition: keywords",
        logsource="{product: windows}",
    )
    windows = {"event.module": "windows", "winlog.channel": "Security", "event.code": "4688"}
    batch = event_batch(
        {**windows, "CommandLine": "m.exe SEKURLSA::LogonPasswords"},
        {**windows, "CommandLine": "whoami"},
        {"event.dataset": "syslog", "message": "sekurlsa::logonpasswords"},  # not Windows
    )
    assert matched_rows(matcher, batch) == [0]


def test_matcher_names_the_columns_it_reads() -> None:
    matcher = matcher_for("sel: {CommandLine|contains: 'x'}\ncondition: sel")
    columns = matcher.columns()
    assert {"fields", "winlog.channel", "event.code", "process.command_line", "event.id"} <= set(
        columns
    )
    assert "event.original" not in columns


def test_costly_tests_are_answered_when_a_rule_still_needs_them() -> None:
    # The regex and cidr tests run only for rules their cheap tests leave alive, also under `not`.
    matcher = matcher_for(
        """
        sel: {Image|endswith: '\\x.exe'}
        filter_re: {CommandLine|re: 'ab[0-9]'}
        filter_net: {DestinationIp|cidr: '10.0.0.0/8'}
        condition: sel and not 1 of filter_*
        """
    )
    batch = event_batch(
        sysmon(Image="C:\\x.exe", CommandLine="ab1"),
        sysmon(Image="C:\\x.exe", CommandLine="ab"),
        sysmon(Image="C:\\y.exe", CommandLine="ab"),
        sysmon(Image="C:\\x.exe", CommandLine="ab", DestinationIp="10.1.1.1"),
    )
    assert matched_rows(matcher, batch) == [1]


def test_webserver_rules_meet_events_carrying_w3c_fields() -> None:
    matcher = matcher_for(
        "sel: {cs-uri-query|contains: '../../'}\ncondition: sel", logsource="{category: webserver}"
    )
    batch = event_batch(
        {"event.dataset": "web.access", "cs-uri-stem": "/a", "cs-uri-query": "f=../../etc/passwd"},
        {"event.dataset": "json", "other": "x", "cs-uri-query-like": "../../"},
        {"event.category": "web", "cs-uri-query": "p=../../x"},
    )
    assert matched_rows(matcher, batch) == [0, 2]
