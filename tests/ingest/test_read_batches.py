"""Line files read a block at a time give exactly the records a line-by-line read gives."""

from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from custodes.events import RawBatch, RawRecord
from custodes.ingest import FileReport, read_batches, read_file
from custodes.ingest import files as files_module
from custodes.ingest.files import detect_format, modified_at, open_file, update_header


def line_by_line(path: Path, format: str) -> Iterator[RawRecord]:
    """The reference: one record per non-empty line, as the reader did before batches."""
    origin = str(path.resolve())
    received_at: datetime | None = modified_at(path)
    record_format = None if format in ("json", "unsupported") else format
    header: list[str] = []
    context: str | None = None
    with open_file(path) as handle:
        for position, raw in enumerate(handle):
            line = raw.rstrip(b"\r\n")
            if not position:
                line = line.removeprefix(b"\xef\xbb\xbf")
            if not line or line.isspace():
                continue
            if format in ("zeek-tsv", "iis") and line[:1] == b"#":
                header = update_header(header, line.decode(errors="replace"), format)
                context = "\n".join(header)
                continue
            yield RawRecord(line, "file", origin, position, record_format, received_at, context)


LINES = st.sampled_from(
    [
        b'{"a": 1}',
        b'{"b": "x\\ty"}\r',
        b"",
        b"\r",
        b"   ",
        b"\t \x0b",
        b"#separator \\x09",
        b"#fields\tts\tuid",
        b"#Fields: date time",
        b"Jan  1 00:00:00 host prog: text",
        b"\xef\xbb\xbf{}",
        b"caf\xc3\xa9 \xff",
    ]
)


@settings(
    max_examples=80, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    lines=st.lists(LINES, max_size=40),
    bom=st.booleans(),
    final_newline=st.booleans(),
    block=st.sampled_from([1, 3, 16, 1 << 20]),
    format=st.sampled_from(["json", "rfc3164", "zeek-tsv", "iis", "unsupported"]),
)
def test_blocks_give_the_records_of_a_line_by_line_read(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    lines: list[bytes],
    bom: bool,
    final_newline: bool,
    block: int,
    format: str,
) -> None:
    monkeypatch.setattr(files_module, "LINE_BLOCK_BYTES", block)
    path = tmp_path / "x.log"
    content = b"\n".join(lines) + (b"\n" if final_newline else b"")
    path.write_bytes((b"\xef\xbb\xbf" if bom else b"") + content)
    expected = list(line_by_line(path, format))
    batches = list(files_module.read_lines(path, format, modified_at(path)))
    assert all(isinstance(batch, RawBatch) and len(batch) for batch in batches)
    assert [record for batch in batches for record in batch] == expected
    if format == "json" and not files_module.is_json_lines(path):
        return  # read as pretty-printed JSON instead (see test_files)
    if format == "unsupported" and files_module.is_binary(path):
        return  # kept as 64 KiB chunks instead (see test_files)
    assert [record for batch in read_batches(path, format) for record in batch] == expected
    assert list(read_file(path, format)) == expected
    for start in (1, 5, 17):
        report = FileReport(path, format)
        resumed = list(read_file(path, format, start=start, report=report))
        assert resumed == [record for record in expected if record.position >= start]
        assert report.read == len(resumed)


def test_a_large_file_is_read_in_blocks_of_whole_lines(tmp_path: Path) -> None:
    path = tmp_path / "big.ndjson"
    lines = [b'{"n": %d, "pad": "%s"}' % (index, b"x" * (index % 50)) for index in range(60_000)]
    path.write_bytes(b"\n".join(lines) + b"\n")
    assert detect_format(path) == "json"
    batches = list(read_batches(path))
    assert len(batches) > 1
    assert [data for batch in batches for data in batch.datas] == lines
    assert [position for batch in batches for position in batch.positions] == list(range(60_000))
    assert {record.origin for record in batches[-1]} == {str(path.resolve())}
