"""Every generated line goes through our own parsers, and Windows lines look like real EVTX."""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import Any

import evtx
import orjson

from custodes.events import RawRecord
from custodes.normalise import Normaliser
from custodes.plugins import load
from tests.demo.conftest import read_json


def test_every_line_with_a_registered_parser_normalises_without_quarantine(
    tiny_demo: Path,
) -> None:
    registry = load()
    normaliser = Normaliser(registry.parsers)
    known = set(normaliser.by_name)  # parsers and their flavours (evtx is a JSON flavour)
    checked = set()
    for entry in read_json(tiny_demo / "manifest.json")["files"]:
        if entry["format"] not in known:
            continue  # its parser has not landed yet; the manifest still names the format
        lines = (tiny_demo / entry["path"]).read_bytes().splitlines()
        for fmt in (entry["format"], None):  # named, and found by auto-detection
            records = [RawRecord(line, format=fmt) for line in lines]
            batch, failures = normaliser.normalise(records)
            assert not failures, (entry["path"], fmt, failures[0].reason)
            assert batch.num_rows == len(lines)
        checked.add(entry["format"])
    assert checked >= {"evtx", "json", "rfc5424", "rfc3164", "authlog", "cef"}


def test_windows_fields_reach_the_columns_sigma_needs(tiny_demo: Path) -> None:
    lines = (tiny_demo / "telemetry" / "windows.jsonl").read_bytes().splitlines()
    batch, _ = Normaliser(load().parsers).normalise([RawRecord(line) for line in lines])
    datasets = Counter(batch.column("event.dataset").to_pylist())
    assert set(datasets) == {"windows.security", "windows.sysmon", "windows.system"}
    fields = batch.column("fields").to_pylist()
    dump = [dict(row) for row in fields if "comsvcs" in dict(row).get("CommandLine", "")]
    assert dump and dump[0]["EventID"] in ("1", "4688")
    service = [dict(row) for row in fields if dict(row).get("EventID") == "7045"]
    assert service and service[0]["Provider_Name"] == "Service Control Manager"


def event_code(event: dict[str, Any]) -> int:
    """EventID, also when rendered with its Qualifiers attribute."""
    code = event["System"]["EventID"]
    return code if isinstance(code, int) else int(code["#text"])


def test_windows_records_have_the_shape_of_real_evtx_output(
    tiny_demo: Path, datasets: Path
) -> None:
    sample = (
        datasets
        / "evtx-attack-samples"
        / "Lateral Movement"
        / "LM_4624_mimikatz_sekurlsa_pth_source_machine.evtx"
    )
    real: dict[int, dict[str, Any]] = {}
    for record in evtx.PyEvtxParser(str(sample)).records_json():
        assert record is not None
        event = orjson.loads(str(record["data"]))["Event"]
        real.setdefault(event_code(event), event)
    ours: dict[int, dict[str, Any]] = {}
    for line in (tiny_demo / "telemetry" / "windows.jsonl").read_bytes().splitlines():
        event = orjson.loads(line)["Event"]
        ours.setdefault(event_code(event), event)
    assert real[4624].keys() == ours[4624].keys()
    assert real[4624]["System"].keys() == ours[4624]["System"].keys()
    assert real[4624]["System"]["Execution"].keys() == ours[4624]["System"]["Execution"].keys()
    assert set(real[4624]["EventData"]) <= set(ours[4624]["EventData"])
    assert type(ours[4624]["EventData"]["LogonType"]) is type(real[4624]["EventData"]["LogonType"])
