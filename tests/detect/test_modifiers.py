"""Each Sigma modifier and value form, with matching and non-matching events."""

from __future__ import annotations

import base64

import pyarrow as pa
import pytest

from custodes.detect.evaluate import regex_test
from tests.detect.helpers import event_batch, matched_rows, matcher_for, sysmon


def rows_for(detection: str, *events: dict[str, str]) -> list[int]:
    return matched_rows(matcher_for(detection), event_batch(*events))


def test_plain_value_is_a_case_insensitive_equality() -> None:
    detection = """
        sel: {Image: 'C:\\Windows\\System32\\cmd.exe'}
        condition: sel
    """
    assert rows_for(
        detection,
        sysmon(Image="c:\\windows\\system32\\CMD.EXE"),
        sysmon(Image="C:\\Windows\\System32\\cmd.exe.bak"),
    ) == [0]


@pytest.mark.parametrize(
    ("modifier", "matching", "other"),
    [
        ("contains", "powershell -EncodedCommand abc", "powershell -e"),
        ("startswith", "EncodedCommand here", "an EncodedCommand"),
        ("endswith", "run -encodedcommand", "EncodedCommand here"),
    ],
)
def test_substring_modifiers(modifier: str, matching: str, other: str) -> None:
    detection = f"""
        sel: {{CommandLine|{modifier}: 'encodedcommand'}}
        condition: sel
    """
    assert rows_for(detection, sysmon(CommandLine=matching), sysmon(CommandLine=other)) == [0]


def test_contains_all_needs_every_value() -> None:
    detection = """
        sel:
          CommandLine|contains|all: [' -nop ', ' -w hidden ']
        condition: sel
    """
    assert rows_for(
        detection,
        sysmon(CommandLine="ps -NOP -W HIDDEN x"),
        sysmon(CommandLine="ps -nop x"),
    ) == [0]


def test_list_of_values_is_any_of() -> None:
    detection = """
        sel:
          Image|endswith: ['\\cmd.exe', '\\powershell.exe']
        condition: sel
    """
    assert rows_for(
        detection,
        sysmon(Image="C:\\x\\powershell.exe"),
        sysmon(Image="C:\\x\\cmd.exe"),
        sysmon(Image="C:\\x\\pwsh.exe"),
    ) == [0, 1]


def test_wildcards_in_the_middle_and_single_character() -> None:
    detection = """
        sel: {CommandLine: 'net*user?admin'}
        condition: sel
    """
    assert rows_for(
        detection,
        sysmon(CommandLine="NET.exe user admin"),
        sysmon(CommandLine="net user  admin"),
        sysmon(CommandLine="xnet user admin"),
    ) == [0]


def test_escaped_wildcard_is_literal() -> None:
    detection = """
        sel: {CommandLine|contains: 'a\\*b'}
        condition: sel
    """
    assert rows_for(detection, sysmon(CommandLine="x a*b y"), sysmon(CommandLine="x aXb y")) == [0]


def test_regex_is_case_sensitive_unless_i_flag() -> None:
    sensitive = "sel: {CommandLine|re: 'Invoke-[A-Z]+'}\ncondition: sel"
    insensitive = "sel: {CommandLine|re|i: 'invoke-[a-z]+'}\ncondition: sel"
    events = (sysmon(CommandLine="Invoke-MIMI"), sysmon(CommandLine="invoke-mimi"))
    assert rows_for(sensitive, *events) == [0]
    assert rows_for(insensitive, *events) == [0, 1]


def test_regex_with_python_only_syntax_falls_back_to_re() -> None:
    # pySigma's policy refuses such patterns in rules; the matcher still copes if one gets through.
    found = regex_test("foo(?=bar)", pa.array(["foobar", "foobaz", None]))
    assert found.to_pylist() == [True, False, False]


def test_regex_with_a_large_counted_repeat() -> None:
    detection = "sel: {CommandLine|re: '^.{300,}$'}\ncondition: sel"
    assert rows_for(detection, sysmon(CommandLine="x" * 300), sysmon(CommandLine="x" * 299)) == [0]


def test_regex_multiline_and_dotall_flags() -> None:
    multiline = "sel: {CommandLine|re|m: '^second$'}\ncondition: sel"
    dotall = "sel: {CommandLine|re|s: 'a.b'}\ncondition: sel"
    assert rows_for(
        multiline, sysmon(CommandLine="first\nsecond"), sysmon(CommandLine="x second")
    ) == [0]
    assert rows_for(dotall, sysmon(CommandLine="a\nb"), sysmon(CommandLine="ab")) == [0]


def test_base64_and_base64offset() -> None:
    plain = "sel: {CommandLine|base64: 'http://'}\ncondition: sel"
    offset = "sel: {CommandLine|base64offset|contains: 'http://'}\ncondition: sel"
    encoded = base64.b64encode(b"http://").decode()
    shifted = base64.b64encode(b"xhttp://evil").decode()
    assert rows_for(plain, sysmon(CommandLine=encoded), sysmon(CommandLine=shifted)) == [0]
    assert rows_for(offset, sysmon(CommandLine=f"-e {shifted}"), sysmon(CommandLine="-e abc")) == [
        0
    ]


def test_wide_then_base64() -> None:
    # pySigma 2 spells UTF-16LE `wide` (there is no separate `utf16le` modifier).
    detection = "sel: {CommandLine|wide|base64offset|contains: 'iex'}\ncondition: sel"
    encoded = base64.b64encode("x iex y".encode("utf-16-le")).decode()
    assert rows_for(detection, sysmon(CommandLine=encoded), sysmon(CommandLine="aWV4")) == [0]


def test_utf16be_and_utf16() -> None:
    big = "sel: {CommandLine|utf16be|base64offset|contains: 'iex'}\ncondition: sel"
    bom = "sel: {CommandLine|utf16|base64offset|contains: 'iex'}\ncondition: sel"
    assert rows_for(
        big, sysmon(CommandLine=base64.b64encode("iex".encode("utf-16-be")).decode())
    ) == [0]
    assert rows_for(bom, sysmon(CommandLine=base64.b64encode("iex".encode("utf-16")).decode())) == [
        0
    ]


def test_windash_matches_every_dash_form() -> None:
    detection = "sel: {CommandLine|windash|contains: ' -exec '}\ncondition: sel"
    assert rows_for(
        detection,
        sysmon(CommandLine="x /exec y"),
        sysmon(CommandLine="x \u2013exec y"),
        sysmon(CommandLine="x -exec y"),
        sysmon(CommandLine="x exec y"),
    ) == [0, 1, 2]


def test_cidr() -> None:
    detection = """
        sel: {DestinationIp|cidr: ['10.0.0.0/8', 'fe80::/10']}
        condition: sel
    """
    events = [sysmon(DestinationIp=ip) for ip in ("10.1.2.3", "fe80::1", "192.168.1.1", "nonsense")]
    assert rows_for(detection, *events) == [0, 1]


@pytest.mark.parametrize(
    ("modifier", "expected"), [("lt", [0]), ("lte", [0, 1]), ("gt", [2]), ("gte", [1, 2])]
)
def test_numeric_comparisons(modifier: str, expected: list[int]) -> None:
    detection = f"sel: {{LogonType|{modifier}: 5}}\ncondition: sel"
    events = [sysmon(LogonType=value) for value in ("3", "5", "10", "x")]
    assert rows_for(detection, *events) == expected


def test_exists_true_and_false() -> None:
    present = "sel: {ParentImage|exists: true}\ncondition: sel"
    absent = "sel: {ParentImage|exists: false}\ncondition: sel"
    events = (sysmon(ParentImage="C:\\a.exe"), sysmon(Image="C:\\b.exe"))
    assert rows_for(present, *events) == [0]
    assert rows_for(absent, *events) == [1]


def test_null_matches_absent_or_empty() -> None:
    detection = "sel: {OriginalFileName: null}\ncondition: sel"
    events = (sysmon(OriginalFileName="cmd.exe"), sysmon(OriginalFileName=""), sysmon(Image="x"))
    assert rows_for(detection, *events) == [1, 2]


def test_fieldref_compares_two_fields_of_one_event() -> None:
    detection = "sel: {ParentImage|fieldref: Image}\ncondition: sel"
    events = (
        sysmon(Image="C:\\a.exe", ParentImage="c:\\A.exe"),
        sysmon(Image="a", ParentImage="b"),
    )
    assert rows_for(detection, *events) == [0]


def test_cased_modifier_is_case_sensitive() -> None:
    detection = "sel: {CommandLine|cased|contains: 'MiMi'}\ncondition: sel"
    assert rows_for(detection, sysmon(CommandLine="x MiMi"), sysmon(CommandLine="x mimi")) == [0]


def test_numbers_and_booleans_compare_as_text() -> None:
    detection = "sel: {EventID: 1, Signed: false}\ncondition: sel"
    events = (sysmon(EventID="1", Signed="false"), sysmon(EventID="1", Signed="true"))
    assert rows_for(detection, *events) == [0]


def test_expand_placeholder_is_refused_with_a_reason() -> None:
    from custodes.detect import compile_rules, load_rules_from_yaml

    rule = """
title: Needs a placeholder
id: 00000000-0000-4000-8000-000000000009
logsource: {product: windows, category: process_creation}
detection:
  sel: {Image|expand: '%admin_tools%'}
  condition: sel
"""
    matcher = compile_rules(load_rules_from_yaml(rule))
    assert matcher.rules == []
    assert "%admin_tools%" in matcher.refused[0].reason
