"""Retention: a run purges exactly the expired, unheld partitions and the ledger knows it."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import orjson
import yaml

from custodes.events import RawRecord
from custodes.ledger import Ledger, verify_store
from custodes.oversight.policy import DEFAULT_POLICY, install_policy
from custodes.oversight.retention import months_before, plan, run
from custodes.pipeline import open_pipeline

TODAY = date(2026, 11, 26)
DAYS = {
    "2023-05-01": "purge",  # 42 months old
    "2024-05-20": "purge",  # 30 months and 6 days
    "2024-06-01": "cold",  # just under 30 months
    "2025-06-01": "cold",  # 17 months
    "2026-10-01": "searchable",
}


def seed(data_dir: Path) -> None:
    records = []
    for position, (day, _state) in enumerate(DAYS.items()):
        for dataset in ("windows.security", "proxy"):
            document = {"@timestamp": f"{day}T10:00:00Z", "event": {"dataset": dataset}}
            records.append(RawRecord(orjson.dumps(document), "t", dataset, position, "json"))
    with open_pipeline(data_dir) as pipeline:
        pipeline.submit(records)


def test_months_before_clamps_to_the_month_end() -> None:
    assert months_before(date(2026, 3, 31), 1) == date(2026, 2, 28)
    assert months_before(TODAY, 30) == date(2024, 5, 26)
    assert months_before(date(2026, 1, 15), 13) == date(2024, 12, 15)


def test_a_run_purges_exactly_the_expired_unheld_partitions(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    seed(data_dir)
    document = yaml.safe_load(DEFAULT_POLICY.read_text())
    document["legal_holds"] = [
        {"name": "case-17", "datasets": ["proxy"], "since": "2023-01-01", "until": "2023-12-31"}
    ]
    policy = install_policy(data_dir, yaml.safe_dump(document))
    planned = {
        (item.dataset, item.day.isoformat()): item.state
        for item in plan(data_dir, policy, today=TODAY)
    }
    expected = {
        (dataset, day): ("held" if (dataset, day) == ("proxy", "2023-05-01") else state)
        for day, state in DAYS.items()
        for dataset in ("windows.security", "proxy")
    }
    assert planned == expected
    with Ledger(data_dir) as ledger:
        purged = run(data_dir, policy, ledger, today=TODAY)
    assert sorted((item.dataset, item.day.isoformat()) for item in purged) == [
        ("proxy", "2024-05-20"),
        ("windows.security", "2023-05-01"),
        ("windows.security", "2024-05-20"),
    ]
    left = sorted(
        (folder.parent.name, folder.name) for folder in (data_dir / "lake").glob("dataset=*/date=*")
    )
    assert len(left) == 7 and ("dataset=proxy", "date=2023-05-01") in left
    report = verify_store(data_dir)
    assert report.is_intact, report.faults
    assert report.files_purged == 3
    purges = (data_dir / "ledger" / "purges.jsonl").read_text().splitlines()
    assert len(purges) == 3 and "retention: proxy 2024-05-20" in purges[0] + purges[1] + purges[2]


def test_the_service_schedule_purges_after_one_interval(tmp_path: Path) -> None:
    import asyncio

    from custodes.serve.jobs import retention_job

    data_dir = tmp_path / "data"
    seed(data_dir)

    async def one_run() -> None:
        with Ledger(data_dir) as ledger:
            job = retention_job(data_dir, ledger, every_secs=0.2)
            job.start()
            await asyncio.sleep(0.05)
            assert (data_dir / "lake" / "dataset=proxy" / "date=2023-05-01").exists()
            for _ in range(100):
                if not (data_dir / "lake" / "dataset=proxy" / "date=2023-05-01").exists():
                    break
                await asyncio.sleep(0.05)
            await job.stop()

    asyncio.run(one_run())
    assert not (data_dir / "lake" / "dataset=proxy" / "date=2023-05-01").exists()
    assert (data_dir / "lake" / "dataset=proxy" / "date=2026-10-01").exists()
    assert verify_store(data_dir).is_intact
