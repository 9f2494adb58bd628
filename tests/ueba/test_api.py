"""`/api/ueba/ranking` and the Behaviour page: the same ranking, people pseudonymised."""

from __future__ import annotations

import httpx
import pytest

from custodes.store.users import Role
from custodes.ueba import run
from tests.api.seed import Seeded


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


@pytest.mark.anyio
async def test_ranking_is_pseudonymised_and_matches_the_page(
    client: httpx.AsyncClient, tokens: dict[Role, str], seeded: Seeded
) -> None:
    empty = await client.get("/api/ueba/ranking", headers=bearer(tokens[Role.ANALYST]))
    assert empty.json() == {"day": None, "kind": "account", "rows": []}
    run(seeded.data_dir, raise_alerts=False)

    answer = await client.get("/api/ueba/ranking", headers=bearer(tokens[Role.ANALYST]))
    ranking = answer.json()
    assert ranking["day"] and ranking["rows"]
    names = [row["entity"] for row in ranking["rows"]]
    assert "alice" not in names  # the seeded account, masked by the one door
    assert all(row["rank"] >= 1 and "reasons" in row for row in ranking["rows"])

    page = await client.get("/ueba", headers=bearer(tokens[Role.ANALYST]))
    assert page.status_code == 200
    assert names[0] in page.text and "alice" not in page.text
    machines = await client.get("/api/ueba/ranking?kind=host", headers=bearer(tokens[Role.ANALYST]))
    hosts = machines.json()["rows"]
    assert hosts and all(row["kind"] == "host" for row in hosts)
    assert not any(row["entity"].startswith("host:ws") for row in hosts)  # masked as well
    refused = await client.get("/api/ueba/ranking", headers=bearer(tokens[Role.OVERSIGHT]))
    assert refused.status_code == 403
