import gzip
from pathlib import Path

import orjson

from custodes.events import RawRecord
from custodes.ingest import read_file
from custodes.normalise import Normaliser, ZeekJsonParser, ZeekTsvParser, builtin_parsers
from custodes.normalise.zeek_tsv import read_header

FLOATS = ("double", "interval")
#: Zeek writes both an empty set and a set holding one empty string as `(empty)` in TSV; we
#: read it as the empty set, the JSON twin may say [""] (known_services.service).
AMBIGUOUS = ("[]", '[""]')


def same(tsv: str | None, json: str | None, kind: str) -> bool:
    """Equal, with TSV's 6 decimals allowed for floats."""
    if tsv == json:
        return True
    if tsv is None or json is None:
        return False
    if kind in FLOATS:
        return abs(float(tsv) - float(json)) <= 1e-6
    if kind.startswith(("vector[", "set[")) and kind[kind.index("[") + 1 : -1] in FLOATS:
        left, right = orjson.loads(tsv), orjson.loads(json)
        return len(left) == len(right) and all(
            abs(a - b) <= 1e-6 for a, b in zip(left, right, strict=True)
        )
    return False


def test_zeek_tsv_equals_its_json_twin(datasets: Path) -> None:
    root = datasets / "zeek-wrccdc-2018"
    tsv_parser, json_parser = ZeekTsvParser(), ZeekJsonParser()
    pairs = equal = ambiguous = records = 0
    mismatches: list[tuple[str, str, str | None, str | None]] = []
    for tsv_path in sorted((root / "zeek-tsv").glob("*.log.gz")):
        log = tsv_path.name.split(".")[0]
        tsv_records = list(read_file(tsv_path))
        json_lines = gzip.decompress(
            (root / "zeek-json" / f"{log}.json.gz").read_bytes()
        ).splitlines()
        assert len(tsv_records) == len(json_lines), log
        for tsv_record, line in zip(tsv_records, json_lines, strict=True):
            header = read_header(tsv_record.context or "")
            kinds = dict(zip(header.names, header.types, strict=True))
            ours, twin = tsv_parser.parse(tsv_record), json_parser.parse(RawRecord(line))
            records += 1
            twin_fields = {k: v for k, v in twin["fields"].items() if k != "_write_ts"}
            for name in ours["fields"].keys() | twin_fields.keys():
                pairs += 1
                left, right = ours["fields"].get(name), twin_fields.get(name)
                if same(left, right, kinds.get(name, "string")):
                    equal += 1
                elif (left, right) == AMBIGUOUS:
                    ambiguous += 1
                else:
                    mismatches.append((log, name, left, right))
            for column in (
                "@timestamp",
                "source.ip",
                "source.port",
                "destination.ip",
                "destination.port",
                "network.transport",
                "event.dataset",
                "user.name",
                "event.outcome",
            ):
                pairs += 1
                equal += ours.get(column) == twin.get(column)
    print(
        f"zeek TSV vs JSON: {records} records, {equal}/{pairs} field pairs equal, "
        f"{ambiguous} ambiguous (empty) sets"
    )
    assert mismatches == []
    assert equal + ambiguous == pairs
    assert records > 60_000


def test_zeek_tsv_reads_unset_empty_sets_and_escapes() -> None:
    header = "\n".join(
        [
            "#separator \\x09",
            "#set_separator\t,",
            "#empty_field\t(empty)",
            "#unset_field\t-",
            "#path\tdns",
            "#fields\tts\tuid\tid.orig_h\tid.orig_p\tquery\tanswers\tAA\trtt",
            "#types\ttime\tstring\taddr\tport\tstring\tvector[string]\tbool\tinterval",
        ]
    )
    line = b"1521911720.865716\tCq\t10.0.0.1\t53\ta\\x09b\\\\c\t(empty)\tT\t-"
    batch, failures = Normaliser(builtin_parsers()).normalise(
        [RawRecord(line, format="zeek-tsv", context=header)]
    )
    assert failures == []
    row = batch.to_pylist()[0]
    fields = dict(row["fields"])
    assert fields["query"] == "a\tb\\c"
    assert fields["answers"] == "[]"
    assert fields["AA"] == "true"
    assert "rtt" not in fields
    assert fields["ts"] == "2018-03-24T17:15:20.865716Z"
    assert (row["event.dataset"], row["source.ip"], row["source.port"]) == (
        "zeek.dns",
        "10.0.0.1",
        53,
    )
    assert row["destination.domain"] == "a\tb\\c"


def test_zeek_tsv_without_header_or_wrong_width_is_quarantined() -> None:
    header = "#separator \\x09\n#fields\ta\tb\n#types\tstring\tstring"
    batch, failures = Normaliser([ZeekTsvParser()]).normalise(
        [
            RawRecord(b"x\ty\tz", format="zeek-tsv", context=header),
            RawRecord(b"x", format="zeek-tsv"),
        ]
    )
    assert batch.num_rows == 0
    assert "3 values for 2 fields" in failures[0].reason
    assert "header" in failures[1].reason
