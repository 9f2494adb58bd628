"""Watching the watchers: each check raises once, for oversight only, and near misses stay quiet."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import yaml

from custodes.oversight import Door, EventQuery, RevealRequest, request_reveal
from custodes.oversight.policy import DEFAULT_POLICY, install_policy
from custodes.oversight.watchers import list_watcher_alerts, run_watchers
from custodes.store.control import Control
from tests.oversight.conftest import ANALYST, ANALYST_2, INVESTIGATOR

NOON = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)  # a Wednesday
NIGHT = datetime(2026, 11, 25, 23, 30, tzinfo=UTC)


def policy_with(data_dir: Path) -> None:
    document = yaml.safe_load(DEFAULT_POLICY.read_text())
    document["protected_channels"] = [{"name": "IG hotline", "domains": ["hotline.oig.gov"]}]
    document["protected_disclosures"] = ["tnguyen"]
    document["watchers"]["bulk_export_rows"] = 20
    install_policy(data_dir, yaml.safe_dump(document))


def checks(control: Control) -> list[tuple[str, str]]:
    return sorted((alert["check"], alert["actor"]) for alert in list_watcher_alerts(control))


def test_each_check_raises_for_the_actor_it_caught(
    data_dir: Path, control: Control, door: Door
) -> None:
    policy_with(data_dir)
    smith = door.state()[1].pseudonym("jsmith")
    nguyen = door.state()[1].pseudonym("tnguyen")
    for _ in range(3):  # the same person looked up three times without a case
        door.read(
            ANALYST,
            "security-monitoring",
            EventQuery(where=f"user.name = '{smith}'", limit=1),
            now=NOON,
        )
    door.read(
        ANALYST_2,
        "security-monitoring",
        EventQuery(where=f"user.name = '{smith}'", limit=1),
        now=NOON,
    )
    where = "url.original contains 'hotline.oig.gov'"
    door.read(ANALYST_2, "security-monitoring", EventQuery(where=where, limit=1), now=NOON)
    door.read(INVESTIGATOR, "security-monitoring", EventQuery(limit=1), now=NIGHT)
    door.read(INVESTIGATOR, "security-monitoring", EventQuery(limit=25), now=NOON)
    request = RevealRequest("C-3", nguyen, "basis", "why")
    request_reveal(control, data_dir, door.policy, ANALYST_2, request, now=NOON)
    assert run_watchers(control, data_dir, door.policy) == 5
    assert checks(control) == [
        ("bulk-export", "ivy"),
        ("outside-working-hours", "ivy"),
        ("protected-channel-search", "abe"),
        ("repeated-lookups", "ann"),
        ("reveal-on-discloser", "abe"),
    ]
    assert run_watchers(control, data_dir, door.policy) == 0  # raised once


def test_ordinary_work_raises_nothing(data_dir: Path, control: Control, door: Door) -> None:
    policy_with(data_dir)
    smith = door.state()[1].pseudonym("jsmith")
    for _ in range(2):
        door.read(
            ANALYST,
            "security-monitoring",
            EventQuery(where=f"user.name = '{smith}'", limit=1),
            now=NOON,
        )
    for _ in range(3):  # with a case, repeated lookups are the job
        query = EventQuery(where=f"user.name = '{smith}'", limit=1)
        door.read(ANALYST, "investigation", query, "C-1", now=NOON)
    assert run_watchers(control, data_dir, door.policy) == 0
