"""One SparkSession (one JVM) for every scale test, and the attack samples ingested once."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from custodes.detect import Matcher
from custodes.detect.cache import load_matcher
from custodes.file_import import import_files
from custodes.pipeline import open_pipeline


@pytest.fixture(scope="session")
def spark() -> Iterator[object]:
    from custodes.scale import spark_session

    session = spark_session("local[2]", app_name="custodes-tests")
    yield session
    session.stop()


@pytest.fixture(scope="session")
def attack_lake(datasets: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A data directory holding the EVTX attack samples (and whatever else sits beside them)."""
    data_dir = tmp_path_factory.mktemp("attack") / "data"
    with open_pipeline(data_dir, detect=False) as pipeline:
        import_files(pipeline, [datasets / "evtx-attack-samples"])
    return data_dir


@pytest.fixture(scope="session")
def windows_matcher(datasets: Path) -> Matcher:
    """SigmaHQ's Windows rules, compiled (from the on-disk cache after the first run)."""
    return load_matcher([datasets / "sigma" / "rules" / "windows"])
