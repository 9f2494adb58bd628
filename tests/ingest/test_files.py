import gzip
from pathlib import Path

import evtx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from custodes.events import RawRecord
from custodes.ingest import FileReport, detect_format, discover, read_file
from custodes.normalise import Normaliser, builtin_parsers

SAMPLE_LINES = [
    b'{"a": 1}',
    b'{"Event": {"System": {"EventID": 1}}}',
    b"<13>1 2024-01-01T00:00:00Z h a - - - x",
    b"Jan  1 00:00:00 host sshd[1]: Accepted password for a from 1.2.3.4 port 2 ssh2",
    b"type=USER_LOGIN msg=audit(1.5:2): pid=1 uid=0",
    b"CEF:0|a|b|c|d|e|5|src=1.2.3.4",
    b'1.2.3.4 - - [11/Jul/2018:08:41:28 +0300] "GET / HTTP/1.1" 200 1',
    b"#separator \\x09",
    b"[\n",
]
DAMAGED = {  # errors when the evtx iterator is resumed after each one (dataset README)
    "sysmon.evtx": 8,
    "2-vss_0-Microsoft-Windows-RemoteDesktopServices-RdpCoreTS%4Operational.evtx": 4,
    "2-vss_0-Microsoft-Windows-TerminalServices-RemoteConnectionManager%4Operational.evtx": 2,
    "sample_with_a_bad_chunk_magic.evtx": 2,
    "sample-with-zero-data-size-event.evtx": 1,
}


def evtx_resumed(path: Path) -> tuple[list[str], int]:
    """What the evtx package yields for a file when resumed after every error: records, errors."""
    records: list[str] = []
    errors = 0
    iterator = evtx.PyEvtxParser(str(path)).records_json()
    while True:
        try:
            item = next(iterator)
        except StopIteration:
            return records, errors
        except RuntimeError:
            errors += 1
            continue
        assert isinstance(item, dict)
        records.append(item["data"])


def test_every_attack_sample_event_is_read_and_normalised(datasets: Path) -> None:
    normaliser = Normaliser(builtin_parsers())
    files = [
        path for path in discover([datasets / "evtx-attack-samples"]) if path.suffix == ".evtx"
    ]
    expected = stored = failed = 0
    for path in files:
        truth, errors = evtx_resumed(path)
        report = FileReport(path, "auto")
        records = list(read_file(path, report=report))
        batch, failures = normaliser.normalise(records)
        assert [record.data.decode() for record in records] == truth
        assert report.skipped_corrupt == errors
        expected += len(truth)
        stored += batch.num_rows
        failed += len(failures)
    assert len(files) == 139
    assert (expected, stored, failed) == (3389, 3389, 0)


def test_attack_sample_artefacts_are_parsed_or_quarantined_with_a_reason(datasets: Path) -> None:
    normaliser = Normaliser(builtin_parsers())
    root = datasets / "evtx-attack-samples"
    artefacts = {
        "Command and Control/Tunna_rdp_tunnel_IIS.log": "iis",
        "Command and Control/web_attack_and_isp_webshell_localhost_access_log.txt": "access-log",
        "Other/netlogon_log_CVE-2020-1472_ZeroLogon.txt": "netlogon",
        "Credential Access/etw_ad_netlogon_provider_zerologon_mimikatz.etl": "unsupported",
    }
    for name, format in artefacts.items():
        path = root / name
        assert detect_format(path) == format
        records = list(read_file(path))
        batch, failures = normaliser.normalise(records)
        assert batch.num_rows + len(failures) == len(records) > 0
        if format == "unsupported":
            assert batch.num_rows == 0
            assert all("ETW trace" in failure.reason for failure in failures)
            assert b"".join(record.data for record in records) == path.read_bytes()
        else:
            assert failures == [], failures[:1]
            lines = [line for line in path.read_bytes().splitlines() if line.strip()]
            assert batch.num_rows == len([line for line in lines if not line.startswith(b"#")])


@pytest.mark.parametrize("name", sorted(DAMAGED))
def test_damaged_evtx_yields_every_record_evtx_can(datasets: Path, name: str) -> None:
    path = datasets / "evtx-parser-samples" / name
    truth, errors = evtx_resumed(path)
    report = FileReport(path, "evtx")
    records = list(read_file(path, report=report))
    assert errors == DAMAGED[name]
    assert report.skipped_corrupt == errors
    assert len(report.errors) == errors
    assert [record.data.decode() for record in records] == truth
    assert [record.position for record in records] == list(range(len(truth)))


def test_all_parser_samples_read_in_full(datasets: Path) -> None:
    total = 0
    for path in discover([datasets / "evtx-parser-samples"]):
        if path.suffix == ".evtx":
            records = list(read_file(path))
            assert len(records) == len(evtx_resumed(path)[0])
            total += len(records)
    assert total == 18_397


def test_start_resumes_after_the_records_already_read(datasets: Path) -> None:
    path = datasets / "evtx-parser-samples" / "sysmon.evtx"
    everything = list(read_file(path))
    rest = list(read_file(path, start=100))
    assert rest == everything[100:]
    assert [record.id for record in rest] == [record.id for record in everything[100:]]


def test_lines_keep_their_place_and_skip_blank_lines(tmp_path: Path) -> None:
    path = tmp_path / "auth.log"
    path.write_bytes(
        b"\xef\xbb\xbfJan  1 10:00:00 h sshd[1]: Accepted password for a from 1.2.3.4 port 2\r\n"
        b"\n"
        b"Jan  1 10:00:01 h sshd[1]: Failed password for b from 1.2.3.4 port 2 ssh2\n"
    )
    assert detect_format(path) == "authlog"
    records = list(read_file(path))
    assert [record.position for record in records] == [0, 2]
    assert records[0].data.startswith(b"Jan")
    assert not records[0].data.endswith(b"\r")
    assert [record.position for record in read_file(path, start=1)] == [2]
    assert records[0].origin == str(path.resolve())


def test_zeek_tsv_records_carry_their_header(tmp_path: Path) -> None:
    path = tmp_path / "ssh.log.gz"
    header = (
        "#separator \\x09\n#set_separator\t,\n#empty_field\t(empty)\n#unset_field\t-\n"
        "#path\tssh\n#fields\tts\tuid\n#types\ttime\tstring\n"
    )
    path.write_bytes(gzip.compress((header + "1521911799.739898\tCabc\n#close\tx\n").encode()))
    assert detect_format(path) == "zeek-tsv"
    (record,) = read_file(path)
    assert record.format == "zeek-tsv"
    assert record.context is not None and "#fields\tts\tuid" in record.context


@pytest.mark.parametrize(
    ("first_line", "format"),
    [
        (b'{"a": 1}', "json"),
        (b"<34>1 2003-10-11T22:14:15.003Z host su - ID47 - hello", "rfc5424"),
        (b"<13>Oct 11 22:14:15 host su: hello", "rfc3164"),
        (b"2026-11-24T00:17:00.000000+00:00 web01 CRON[37]: pam_unix(cron:session): x", "rfc3164"),
        (b"CEF:0|V|P|1|100|name|5|src=1.2.3.4", "cef"),
        (b"type=USER_LOGIN msg=audit(1446022123.797:97): pid=1187 uid=0", "auditd"),
        (b'1.2.3.4 - - [11/Jul/2018:08:41:28 +0300] "GET / HTTP/1.1" 200 11', "access-log"),
        (b"#Software: Microsoft IIS\n#Fields: date time c-ip", "iis"),
        (b"03-17 16:13:38.811  1702  2395 D WindowManager: x", "logcat"),
        (b"2016-09-28 04:30:30, Info                  CBS    Loaded", "cbs"),
        (b"hello, this is not a log format", "unsupported"),
    ],
)
def test_detect_format_reads_the_first_line(tmp_path: Path, first_line: bytes, format: str) -> None:
    path = tmp_path / "sample.log"
    path.write_bytes(first_line + b"\n")
    assert detect_format(path) == format


def test_unknown_binary_file_is_quarantined_with_its_bytes(tmp_path: Path) -> None:
    path = tmp_path / "blob.bin"
    content = bytes(range(256)) * 600
    path.write_bytes(content)
    report = FileReport(path, "auto")
    records = list(read_file(path, report=report))
    batch, failures = Normaliser(builtin_parsers()).normalise(records)
    assert report.format == "unsupported"
    assert batch.num_rows == 0
    assert len(failures) == len(records) == 3
    assert b"".join(failure.record.data for failure in failures) == content
    assert "binary content" in failures[0].reason


def test_unknown_text_lines_are_quarantined_one_by_one(tmp_path: Path) -> None:
    path = tmp_path / "notes.txt"
    path.write_text("first note\nsecond note\n")
    batch, failures = Normaliser(builtin_parsers()).normalise(list(read_file(path)))
    assert batch.num_rows == 0
    assert [failure.reason for failure in failures] == ["no parser accepts this record"] * 2


def test_a_file_named_evtx_that_is_not_is_quarantined(tmp_path: Path) -> None:
    path = tmp_path / "fake.evtx"
    path.write_bytes(b"\x00\x01not an event log" * 10)
    report = FileReport(path, "evtx")
    records = list(read_file(path, "evtx", report=report))
    batch, failures = Normaliser(builtin_parsers()).normalise(records)
    assert batch.num_rows == 0 and len(failures) == 1
    assert "not readable as EVTX" in failures[0].reason
    assert report.errors


def test_discover_walks_folders_sorted(tmp_path: Path) -> None:
    (tmp_path / "b").mkdir()
    (tmp_path / "b" / "2.log").write_text("x")
    (tmp_path / "a.log").write_text("x")
    assert discover([tmp_path, tmp_path / "a.log"]) == [
        tmp_path / "a.log",
        tmp_path / "b" / "2.log",
    ]


def test_records_from_one_line_are_raw_records(tmp_path: Path) -> None:
    path = tmp_path / "x.jsonl"
    path.write_text('{"a": 1}\n')
    (record,) = read_file(path)
    assert isinstance(record, RawRecord)
    assert record.format is None  # JSON lines: each record picks its JSON flavour


def test_pretty_printed_json_files_give_one_record_per_object(datasets: Path) -> None:
    normaliser = Normaliser(builtin_parsers())
    root = datasets / "sigma" / "regression_data"
    files = [path for path in discover([root]) if path.suffix == ".json"]
    events = 0
    for path in files:
        batch, failures = normaliser.normalise(list(read_file(path)))
        assert failures == []
        events += batch.num_rows
    assert (len(files), events) == (201, 237)  # the dataset README's counts


def test_json_arrays_and_concatenated_objects(tmp_path: Path) -> None:
    path = tmp_path / "events.json"
    path.write_text('[\n {"a": 1},\n {"b": 2}\n]\n{\n "c": 3\n}\n{"d":\n 4}\nnot json')
    records = list(read_file(path))
    assert [record.position for record in records] == [0, 1, 2, 3, 4]
    assert [record.data for record in records[:2]] == [b'{"a":1}', b'{"b":2}']
    assert records[2].data == b'{\n "c": 3\n}'
    batch, failures = Normaliser(builtin_parsers()).normalise(records)
    assert batch.num_rows == 4
    assert [failure.record.data for failure in failures] == [b"not json"]


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    content=st.one_of(
        st.binary(max_size=2000),
        st.lists(
            st.sampled_from(SAMPLE_LINES + [b"", b"#Fields: a b", b"\x00\x01"]), max_size=30
        ).map(b"\n".join),
    ),
    name=st.sampled_from(["x.log", "auth.log", "x.json", "x.evtx", "x.gz", "x"]),
)
def test_any_file_is_read_without_losing_or_raising(
    tmp_path: Path, content: bytes, name: str
) -> None:
    path = tmp_path / name
    path.write_bytes(content)
    report = FileReport(path, "auto")
    records = list(read_file(path, report=report))
    batch, failures = Normaliser(builtin_parsers()).normalise(records)
    assert batch.num_rows + len(failures) == len(records)
    assert isinstance(detect_format(path), str)
    assert len({record.position for record in records}) == len(records)


def test_a_truncated_gzip_keeps_what_was_read_and_reports_the_damage(tmp_path: Path) -> None:
    path = tmp_path / "auth.log.gz"
    lines = b"".join(
        b"Jan  1 00:00:%02d h sshd[1]: Connection closed by 1.2.3.4\n" % n for n in range(60)
    )
    path.write_bytes(gzip.compress(lines * 50)[:-200])
    report = FileReport(path, "auto")
    records = list(read_file(path, report=report))
    assert 0 < len(records) < 3000
    assert report.skipped_corrupt == 1
    assert "damaged" in report.errors[0]
