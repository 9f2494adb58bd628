"""The demo's lateral-movement scenario, ingested with the SigmaHQ rules that should see it."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from custodes.demo import DemoSettings, generate
from custodes.demo.run import DEMO_RULES
from custodes.demo.truth import (
    SIGMA_COMSVCS_DUMP,
    SIGMA_LSASS_COMSVCS,
    SIGMA_LSASS_MEMDUMP,
    SIGMA_UNCOMMON_SERVICE,
)
from custodes.pipeline import import_files, open_pipeline

SMALL = DemoSettings(people=20, days=3, seed=11, start=date(2026, 11, 2))
SIGMA_IDS = (SIGMA_UNCOMMON_SERVICE, SIGMA_COMSVCS_DUMP, SIGMA_LSASS_MEMDUMP, SIGMA_LSASS_COMSVCS)


def sigma_rule_files(datasets: Path) -> list[Path]:
    """The SigmaHQ rules the scenario's ground truth names, plus the demo's spray correlation."""
    found = []
    for path in sorted((datasets / "sigma" / "rules" / "windows").rglob("*.yml")):
        text = path.read_text(errors="replace")
        if any(f"\nid: {rule_id}" in text for rule_id in SIGMA_IDS):
            found.append(path)
    assert len(found) == len(SIGMA_IDS), found
    return [*found, DEMO_RULES / "password_spray.yml"]


@pytest.fixture(scope="session")
def demo_folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("investigate-demo") / "demo"
    generate(out, SMALL)
    return out


@pytest.fixture(scope="session")
def demo_data(demo_folder: Path, datasets: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    data_dir = tmp_path_factory.mktemp("investigate-data")
    with open_pipeline(data_dir, rules=sigma_rule_files(datasets)) as pipeline:
        import_files(pipeline, [demo_folder / "telemetry"])
    return data_dir
