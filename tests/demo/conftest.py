"""A tiny demo data set, generated once per test session."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

import orjson
import pytest

from custodes.demo import DemoSettings, generate

TINY = DemoSettings(people=20, days=3, seed=11, start=date(2026, 11, 2))


@pytest.fixture(scope="session")
def tiny_demo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("demo") / "tiny"
    generate(out, TINY)
    return out


def read_json(path: Path) -> Any:
    return orjson.loads(path.read_bytes())
