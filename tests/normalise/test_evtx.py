import re
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import evtx

from custodes.events import RawRecord
from custodes.ingest import discover, read_file
from custodes.normalise import EvtxParser, Normaliser, builtin_parsers
from custodes.normalise.evtx import dataset
from custodes.normalise.fields import parse_iso

XML_PATTERNS = (
    r"<EventID[^>]*>(\d+)</EventID>",
    r'<TimeCreated SystemTime="([^"]+)"',
    r"<EventRecordID>(\d+)</EventRecordID>",
    r"<Computer>([^<]*)</Computer>",
)
DATA = Path(__file__).resolve().parent.parent / "data" / "evtx"


def parse(name: str, *, format: str | None = None) -> dict[str, Any]:
    record = RawRecord((DATA / name).read_bytes().strip(), format=format)
    batch, failures = Normaliser(builtin_parsers()).normalise([record])
    assert failures == []
    row: dict[str, Any] = batch.to_pylist()[0]
    row["fields"] = dict(row["fields"])
    return row


def test_logon_event_maps_target_account_address_and_outcome() -> None:
    row = parse("security-4624.json")  # a JSON line, as forwarders send it: found by content
    assert row["@timestamp"] == datetime(2024, 3, 1, 10, 0, 0, 123456, tzinfo=UTC)
    assert (row["event.code"], row["event.dataset"], row["winlog.channel"]) == (
        "4624",
        "windows.security",
        "Security",
    )
    assert row["winlog.provider_name"] == "Microsoft-Windows-Security-Auditing"
    assert (row["host.name"], row["winlog.record_id"]) == ("ws01.example.org", 5121)
    assert (row["user.name"], row["user.domain"], row["user.id"]) == (
        "alice",
        "EXAMPLE",
        "S-1-5-21-1-2-3-1104",
    )
    assert (row["source.ip"], row["source.port"]) == ("192.0.2.44", 51234)
    assert row["winlog.logon.id"] == "0x8b2f1"
    assert row["event.outcome"] == "success"
    assert row["process.pid"] == 0x2E4
    fields = row["fields"]
    assert fields["LogonType"] == "10"
    assert fields["TargetUserName"] == "alice"
    assert fields["EventID"] == "4624"
    assert fields["Channel"] == "Security"
    assert fields["Provider_Name"] == "Microsoft-Windows-Security-Auditing"
    assert fields["ProcessID"] == "640" and fields["ThreadID"] == "7100"
    assert fields["TimeCreated"] == "2024-03-01T10:00:00.123456Z"
    assert fields["ActivityID"].startswith("A1B2")
    assert "SecurityUserID" not in fields  # Security is null in this record


def test_sysmon_process_creation_fills_process_columns() -> None:
    row = parse("sysmon-1.json", format="evtx")
    assert row["event.dataset"] == "windows.sysmon"
    assert row["process.executable"].endswith("powershell.exe")
    assert row["process.name"] == "powershell.exe"
    assert row["process.command_line"] == "powershell.exe -enc SQBFAFgA"
    assert (row["process.pid"], row["process.parent.pid"]) == (4242, 1000)
    assert row["process.parent.executable"] == "C:\\Windows\\explorer.exe"
    assert row["process.entity_id"] == "{11111111-2222-3333-4444-555555555555}"
    assert (row["user.name"], row["user.domain"]) == ("alice", "EXAMPLE")
    assert row["winlog.logon.id"] == "0x8b2f1"
    assert row["fields"]["CommandLine"] == "powershell.exe -enc SQBFAFgA"
    assert row["fields"]["RuleName"] == ""
    assert row["fields"]["SecurityUserID"] == "S-1-5-18"


def test_qualified_event_id_user_data_and_unnamed_data() -> None:
    row = parse("system-7045-userdata.json")
    fields = row["fields"]
    assert (row["event.code"], fields["Qualifiers"]) == ("7045", "16384")
    assert fields["SubjectUserName"] == "bob"
    assert fields["Nested.Inner"] == "x"
    assert fields["Data"] == '["first","second"]'
    assert fields["EventSourceName"] == "Service Control Manager"
    assert row["event.dataset"] == "windows.system"
    assert row["user.name"] == "bob"


def test_dataset_names_follow_the_channel() -> None:
    assert dataset("Microsoft-Windows-PowerShell/Operational", None) == "windows.powershell"
    assert dataset("Windows PowerShell", None) == "windows.powershell"
    assert dataset("Microsoft-Windows-TaskScheduler/Operational", None) == "windows.taskscheduler"
    assert dataset(None, "Microsoft-Windows-Windows Defender") == "windows.windows_defender"
    assert dataset(None, None) == "windows"


def test_json_without_event_system_is_refused() -> None:
    batch, failures = Normaliser([EvtxParser()]).normalise(
        [RawRecord(b'{"Event": {"EventData": {}}}'), RawRecord(b'{"Event": 1}')]
    )
    assert batch.num_rows == 0
    assert all("Event.System" in failure.reason for failure in failures)


def xml_truth(path: Path) -> list[tuple[str, str, int, str]]:
    """EventID, SystemTime, EventRecordID and Computer of each record, read from evtx's XML."""
    found = []
    for item in evtx.PyEvtxParser(str(path)).records():
        assert isinstance(item, dict)
        xml = item["data"]
        values = [re.search(pattern, xml) for pattern in XML_PATTERNS]
        assert all(values), xml[:500]
        code, time, number, host = (value[1] if value else "" for value in values)
        found.append((code, time, int(number), host))
    return found


def test_every_attack_sample_record_matches_its_xml_rendering(datasets: Path) -> None:
    normaliser = Normaliser(builtin_parsers())
    checked = 0
    for path in discover([datasets / "evtx-attack-samples"]):
        if path.suffix != ".evtx":
            continue
        batch, failures = normaliser.normalise(list(read_file(path)))
        assert failures == []
        ours = zip(
            batch.column("event.code").to_pylist(),
            batch.column("@timestamp").to_pylist(),
            batch.column("winlog.record_id").to_pylist(),
            batch.column("host.name").to_pylist(),
            strict=True,
        )
        for (code, stamp, number, host), (xml_code, xml_time, xml_number, xml_host) in zip(
            ours, xml_truth(path), strict=True
        ):
            assert (code, number, host) == (xml_code, xml_number, xml_host)
            assert stamp == parse_iso(xml_time)
        checked += batch.num_rows
    assert checked == 3389
