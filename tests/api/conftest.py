"""An app over a seeded data directory, a client, and one API token per role."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator, Mapping
from pathlib import Path
from typing import Any

import httpx
import pytest
from argon2 import PasswordHasher
from fastapi import FastAPI

from custodes.api import create_app
from custodes.config import Settings
from custodes.store import users
from custodes.store.users import Role, create_token
from tests.api.seed import Seeded, seed


class StatusDouble:
    """What a running service reports (the real one lives in custodes.serve)."""

    def source_counters(self) -> Mapping[str, Mapping[str, int]]:
        return {
            "syslog-udp": {"received": 120, "stored": 118, "quarantined": 2, "dropped": 0},
            "http": {"received": 40, "stored": 40, "quarantined": 0, "dropped": 0},
        }

    def queue_depths(self) -> Mapping[str, int]:
        return {"intake": 7}

    def ack_latency_histogram(self) -> tuple[Mapping[float, int], float]:
        return {0.01: 30, 0.1: 39, float("inf"): 40}, 0.8

    def job_status(self) -> Mapping[str, Mapping[str, Any]]:
        ended = {"runs": 3, "failures": 1, "last_error": "", "last_result": {"days": 1}}
        return {
            "ueba": {
                **ended,
                "last_started_at": "2026-11-26T01:30:00+00:00",
                "last_finished_at": "2026-11-26T01:31:40+00:00",
                "last_success_at": "2026-11-26T01:31:40+00:00",
            },
            "posture": {
                "runs": 0,
                "failures": 2,
                "last_started_at": "2026-11-26T02:00:00+00:00",
                "last_finished_at": "2026-11-26T02:00:01+00:00",
                "last_success_at": None,
                "last_error": "FileNotFoundError: accounts.json",
                "last_result": {},
            },
        }


@pytest.fixture
def seeded(tmp_path: Path) -> Seeded:
    return seed(tmp_path)


@pytest.fixture
def app(seeded: Seeded) -> Iterator[FastAPI]:
    application = create_app(
        Settings(data_dir=seeded.data_dir), service=StatusDouble(), rule_paths=[seeded.rules_dir]
    )
    yield application
    application.state.custodes.control.close()


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture
async def client(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app)
    async with httpx.AsyncClient(transport=transport, base_url="http://custodes.test") as http:
        yield http


@pytest.fixture
def tokens(app: FastAPI) -> dict[Role, str]:
    control = app.state.custodes.control
    return {role: create_token(control, role, name=f"{role.value}-test")[0] for role in Role}


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


@pytest.fixture(autouse=True)
def quick_argon2(monkeypatch: pytest.MonkeyPatch) -> None:
    """Argon2id with small costs: tests hash many passwords; production keeps the defaults."""
    monkeypatch.setattr(
        users, "_hasher", PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)
    )
