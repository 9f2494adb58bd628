"""Fixtures of the posture tests (the API's seeded app and client serve the API test)."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.api.conftest import anyio_backend, app, client, quick_argon2, seeded, tokens
from tests.posture.scene import Scene

__all__ = ["anyio_backend", "app", "client", "quick_argon2", "seeded", "tokens"]


@pytest.fixture
def scene(tmp_path: Path) -> Scene:
    return Scene(tmp_path)
