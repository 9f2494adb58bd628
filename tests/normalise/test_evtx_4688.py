"""Security 4688: the new process is NewProcessId, its creator ProcessId is the parent."""

import orjson

from custodes.events import RawRecord
from custodes.normalise import Normaliser
from custodes.plugins import load


def test_4688_new_process_id_is_the_process_and_creator_the_parent() -> None:
    document = {
        "Event": {
            "System": {
                "EventID": 4688,
                "Channel": "Security",
                "Computer": "WS-1",
                "TimeCreated": {"#attributes": {"SystemTime": "2024-05-01T10:00:00.000000Z"}},
            },
            "EventData": {
                "NewProcessId": "0x1a4",
                "NewProcessName": "C:\\Windows\\System32\\cmd.exe",
                "ProcessId": "0x2b0",
            },
        }
    }
    record = RawRecord(orjson.dumps(document), format="evtx")
    batch, failures = Normaliser(load().parsers).normalise([record])
    row = batch.to_pylist()[0]
    assert failures == []
    assert (row["process.pid"], row["process.parent.pid"]) == (0x1A4, 0x2B0)
