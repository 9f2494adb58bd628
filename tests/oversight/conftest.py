"""A small data directory with people in it: identifier columns, free text, source fields."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import orjson
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from custodes.events import RawRecord
from custodes.oversight import Door
from custodes.pipeline import open_pipeline
from custodes.store.control import Control, open_control
from custodes.store.users import Role, User
from tests.api.conftest import anyio_backend, app, client, quick_argon2, seeded, tokens

NOW = datetime.now(UTC).replace(microsecond=0)
ANALYST = User("ann", Role.ANALYST)
ANALYST_2 = User("abe", Role.ANALYST)
INVESTIGATOR = User("ivy", Role.INVESTIGATOR)
OVERSEER = User("olga", Role.OVERSIGHT)
OVERSEER_2 = User("otto", Role.OVERSIGHT)
ADMIN = User("adam", Role.ADMIN)
PEOPLE = ("jsmith", "mgarcia", "tnguyen")


def record(position: int, document: dict[str, object]) -> RawRecord:
    return RawRecord(
        data=orjson.dumps(document),
        source="test",
        origin="people",
        position=position,
        format="json",
    )


def people_events(now: datetime = NOW) -> list[RawRecord]:
    """30 events: each person logs on (as AGENCY\\name), runs a command naming their home folder."""
    records = []
    for i in range(30):
        name = PEOPLE[i % 3]
        records.append(
            record(
                i,
                {
                    "@timestamp": (now - timedelta(minutes=60 - i)).isoformat(),
                    "event": {"dataset": "windows.sysmon", "code": "1"},
                    "host": {"name": f"WS-{i % 3:05d}"},
                    "user": {"name": f"AGENCY\\{name}" if i % 2 else name},
                    "process": {"command_line": f"notepad C:\\Users\\{name}\\notes.txt"},
                    "message": f"{name.upper()} opened a file",
                    "TargetUserName": name,
                },
            )
        )
    return records


def roster_table() -> pa.Table:
    """The HR roster: names, e-mails, accounts, employee ids."""
    return pa.table(
        {
            "employee_id": ["E1", "E2", "E3"],
            "first_name": ["John", "Maria", "Tam"],
            "last_name": ["Smith", "Garcia", "Nguyen"],
            "email": ["john.smith@agency.gov", "maria.garcia@agency.gov", "tam.nguyen@agency.gov"],
            "account": list(PEOPLE),
        }
    )


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    folder = tmp_path / "data"
    with open_pipeline(folder) as pipeline:
        pipeline.submit(people_events())
    (folder / "reference").mkdir()
    pq.write_table(roster_table(), folder / "reference" / "people.parquet")
    return folder


@pytest.fixture
def control(data_dir: Path) -> Iterator[Control]:
    with open_control(data_dir) as opened:
        yield opened


@pytest.fixture
def door(data_dir: Path, control: Control) -> Door:
    return Door(data_dir, control)


__all__ = ["anyio_backend", "app", "client", "quick_argon2", "seeded", "tokens"]
