"""Fixtures every test may use: the shared datasets (never skipped) and a fresh data dir."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def datasets_dir() -> Path:
    """The shared datasets: CUSTODES_DATASETS, else ../shared/datasets beside the checkout."""
    path = Path(os.environ.get("CUSTODES_DATASETS", ROOT.parent / "shared" / "datasets"))
    if not path.is_dir():
        pytest.fail(f"shared datasets not found at {path}: set CUSTODES_DATASETS")
    return path


@pytest.fixture(scope="session")
def datasets() -> Path:
    return datasets_dir()


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    path = tmp_path / "data"
    path.mkdir()
    return path
