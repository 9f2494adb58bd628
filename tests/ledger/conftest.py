"""A real data directory built by the pipeline with the ledger on, copied fresh for each test."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from custodes.events import RawRecord
from custodes.ledger import Ledger
from custodes.normalise import JsonParser, Normaliser
from custodes.pipeline import Pipeline

EVENTS = 1200
BATCH = 300


def sample_record(number: int) -> RawRecord:
    """A JSON event: varied datasets and days, ints, unicode, source fields for the map."""
    day, hour, minute = 1 + number % 3, number % 24, number % 60
    document = {
        "@timestamp": f"2024-05-0{day}T{hour:02d}:{minute:02d}:07.{number:06d}Z",
        "event": {"dataset": ("auth", "proxy")[number % 2], "code": str(4624 + number % 3)},
        "host": {"name": f"ws-{number % 7}"},
        "user": {"name": ("alice", "bob", "zoë", None)[number % 4]},
        "source": {"ip": f"10.0.{number % 5}.{number % 250}", "port": 1024 + number},
        "process": {"pid": number * 7, "command_line": f"cmd.exe /c echo {number} ✓"},
        "message": f"event number {number}",
        "CommandLine": f"powershell -n {number}",
        "TargetUserName": f"user{number % 11}",
    }
    return RawRecord(
        data=json.dumps(document).encode(), source="test", origin="sample.json", position=number
    )


def build_store(data_dir: Path, *, head_every_events: int = 250) -> None:
    """Ingest EVENTS sample events in batches, one WAL flush per batch (many lake files)."""
    ledger = Ledger(data_dir, head_every_events=head_every_events, head_interval_secs=0)
    with Pipeline(data_dir, Normaliser([JsonParser()]), ledger=ledger) as pipeline:
        for start in range(0, EVENTS, BATCH):
            pipeline.submit([sample_record(n) for n in range(start, start + BATCH)])
            pipeline.flush()


@pytest.fixture(scope="session")
def template_store(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("ledger-template") / "data"
    build_store(path)
    return path


@pytest.fixture
def store(template_store: Path, tmp_path: Path) -> Path:
    """A fresh copy of the template data directory."""
    path = tmp_path / "store"
    shutil.copytree(template_store, path)
    return path
