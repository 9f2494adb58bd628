"""Hostile input: every parser returns a row or raises ParseError, and nothing is lost."""

from datetime import UTC, datetime

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from custodes.errors import ParseError
from custodes.events import RawRecord
from custodes.normalise import Normaliser, build_batch, builtin_parsers
from custodes.normalise.batch import event_ids

PARSERS = builtin_parsers()
#: Every parser, the JSON flavours too (they are reached through JsonParser).
ALL_PARSERS = [
    *PARSERS,
    *(flavour for parser in PARSERS for flavour in getattr(parser, "flavours", ())),
]
CONTEXTS = st.sampled_from(
    [
        None,
        "#separator \\x09\n#set_separator\t,\n#empty_field\t(empty)\n#unset_field\t-\n"
        "#path\tconn\n#fields\tts\tuid\tid.orig_h\tid.orig_p\tservice\n"
        "#types\ttime\tstring\taddr\tport\tset[string]",
        "#Fields: date time c-ip cs-method cs-uri-stem sc-status cs(User-Agent)",
        "#separator \\x09\n#fields\ta\n#types\tcount",
    ]
)
#: Prefixes that steer random bytes into each parser's deeper paths.
PREFIXES = st.sampled_from(
    [
        b"",
        b"{",
        b'{"Event": {"System": {"EventID": ',
        b"<13>1 ",
        b"<13>Jan  1 00:00:00 ",
        b"Feb 29 10:00:00 host sshd[1]: ",
        b"type=SYSCALL msg=audit(1.1:2): ",
        b"CEF:0|",
        b'1.2.3.4 - - [01/Jan/2024:00:00:00 +0000] "',
        b"01/02 03:04:05 [X] ",
        b"2016-09-28 04:30:30, Info ",
        b"03-17 16:13:38.811  1 2 D ",
        b"x <Event>Linux-Sysmon",
        b'{"_path": "conn", "ts": ',
        b'{"hostIdentifier": "h", "columns": ',
        b'{"mach_time": 1, "event_type": 1, "event": ',
        b'{"eventid": "1", "items": ',
    ]
)
RECORDS = st.builds(
    lambda prefix, body, context, received: RawRecord(
        prefix + body, context=context, received_at=received
    ),
    PREFIXES,
    st.binary(max_size=300),
    CONTEXTS,
    st.sampled_from([None, datetime(2024, 1, 1, tzinfo=UTC)]),
)
FUZZ = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@pytest.mark.parametrize("parser", ALL_PARSERS, ids=lambda parser: parser.name)
@FUZZ
@given(record=RECORDS)
def test_a_parser_returns_a_row_or_raises_parse_error(parser: object, record: RawRecord) -> None:
    accepts = parser.accepts(record)  # type: ignore[attr-defined]
    assert isinstance(accepts, bool)
    try:
        row = parser.parse(record)  # type: ignore[attr-defined]
    except ParseError:
        return
    build_batch([row], [record])  # the row fits the schema (types, ranges)


@FUZZ
@given(records=st.lists(RECORDS, max_size=20))
def test_normaliser_never_loses_a_record(records: list[RawRecord]) -> None:
    batch, failures = Normaliser(PARSERS).normalise(records)
    assert batch.num_rows + len(failures) == len(records)
    stored = set(batch.column("event.id").to_pylist())
    failed = {failure.record.id for failure in failures}
    assert stored | failed == {record.id for record in records}


@settings(max_examples=200, deadline=None)
@given(
    st.lists(
        st.tuples(
            st.binary(max_size=300),
            st.sampled_from(["", "/var/log/a", "C:\\é"]),
            st.integers(-(2**63), 2**63 - 1),
        ),
        max_size=30,
    )
)
def test_batch_event_ids_are_each_records_own(items: list[tuple[bytes, str, int]]) -> None:
    records = [RawRecord(data, "file", origin, position) for data, origin, position in items]
    assert event_ids(records).to_pylist() == [record.id for record in records]
