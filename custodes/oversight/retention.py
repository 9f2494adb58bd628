"""Retention and legal hold: which lake partitions are searchable, cold, or due for purging.

`plan` classifies every partition (`dataset=<name>/date=<day>`) by the policy's retention of its
dataset; `run` deletes the partitions due for purging that no legal hold keeps, recording each
purge in the evidence ledger first (`Ledger.record_purge`) so `custodes verify` accepts it.
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

from custodes.ledger import Ledger
from custodes.oversight.policy import Policy

LAKE_DIR = "lake"


def months_before(day: date, months: int) -> date:
    """The same day `months` calendar months earlier (clamped to the month's end)."""
    total = day.year * 12 + day.month - 1 - months
    year, month = divmod(total, 12)
    month += 1
    for candidate in (day.day, 30, 29, 28):
        try:
            return date(year, month, min(day.day, candidate))
        except ValueError:
            continue
    raise ValueError(f"no day {months} months before {day}")


@dataclass(frozen=True)
class Partition:
    """One lake partition and what retention says of it."""

    dataset: str
    day: date
    files: tuple[str, ...]  # relative to the data directory
    state: str  # searchable | cold | purge | held
    hold: str | None = None

    def to_dict(self) -> dict[str, Any]:
        """Plain data for JSON."""
        return {
            "dataset": self.dataset,
            "date": self.day.isoformat(),
            "files": len(self.files),
            "state": self.state,
            "hold": self.hold,
        }


def partitions(data_dir: Path) -> list[tuple[str, date, Path]]:
    """Every (dataset, day, folder) in the lake."""
    found = []
    for folder in sorted((data_dir / LAKE_DIR).glob("dataset=*/date=*")):
        try:
            day = date.fromisoformat(folder.name.removeprefix("date="))
        except ValueError:
            continue
        found.append((folder.parent.name.removeprefix("dataset="), day, folder))
    return found


def plan(data_dir: Path, policy: Policy, *, today: date) -> list[Partition]:
    """What retention says of each partition today."""
    planned = []
    for dataset, day, folder in partitions(data_dir):
        rule = policy.retention.for_dataset(dataset)
        files = tuple(str(path.relative_to(data_dir)) for path in sorted(folder.glob("*.parquet")))
        hold = next((h.name for h in policy.legal_holds if h.holds(dataset, day)), None)
        if day < months_before(today, rule.cold_until_months):
            state = "held" if hold else "purge"
        elif day < months_before(today, rule.searchable_months):
            state = "cold"
        else:
            state = "searchable"
        planned.append(Partition(dataset, day, files, state, hold))
    return planned


def run(data_dir: Path, policy: Policy, ledger: Ledger, *, today: date) -> list[Partition]:
    """Purge the partitions due (not held), each recorded in the ledger before it is deleted."""
    purged = []
    for partition in plan(data_dir, policy, today=today):
        if partition.state != "purge":
            continue
        recorded = [path for path in partition.files if path in ledger.entries]
        if recorded:
            reason = f"retention: {partition.dataset} {partition.day.isoformat()} past retention"
            ledger.record_purge(recorded, reason)
        folder = data_dir / LAKE_DIR / f"dataset={partition.dataset}" / f"date={partition.day}"
        shutil.rmtree(folder)
        purged.append(partition)
    return purged
