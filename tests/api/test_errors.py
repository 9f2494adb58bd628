"""One handler turns every CustodesError into JSON with its status (or a page for browsers)."""

from __future__ import annotations

import httpx
import pytest
from fastapi import FastAPI

from custodes.api.deps import SIGNED_IN, require_roles
from custodes.errors import ConfigError, CustodesError, Overloaded
from custodes.store.users import Role
from tests.api.conftest import bearer

pytestmark = pytest.mark.anyio


@pytest.fixture
def failing_app(app: FastAPI) -> FastAPI:
    @app.get("/api/test/overloaded", dependencies=[require_roles(*SIGNED_IN)])
    def overloaded() -> None:
        raise Overloaded("intake full", retry_after_secs=2.4)

    @app.get("/api/test/config", dependencies=[require_roles(*SIGNED_IN)])
    def config() -> None:
        raise ConfigError("sinks.x.url: bad", key="sinks.x.url")

    @app.get("/test/page", dependencies=[require_roles(*SIGNED_IN)])
    def page() -> None:
        raise CustodesError("something broke")

    return app


async def test_overloaded_is_429_with_retry_after(
    failing_app: FastAPI, client: httpx.AsyncClient, tokens: dict[Role, str]
) -> None:
    response = await client.get("/api/test/overloaded", headers=bearer(tokens[Role.ANALYST]))
    assert response.status_code == 429
    assert response.headers["retry-after"] == "2"
    assert response.json() == {"error": "Overloaded", "message": "intake full"}


async def test_context_attributes_travel_in_the_json(
    failing_app: FastAPI, client: httpx.AsyncClient, tokens: dict[Role, str]
) -> None:
    response = await client.get("/api/test/config", headers=bearer(tokens[Role.ADMIN]))
    assert response.status_code == 400
    assert response.json() == {
        "error": "ConfigError",
        "message": "sinks.x.url: bad",
        "key": "sinks.x.url",
    }


async def test_a_browser_gets_the_error_in_a_page(
    failing_app: FastAPI, client: httpx.AsyncClient, tokens: dict[Role, str]
) -> None:
    headers = {**bearer(tokens[Role.ANALYST]), "Accept": "text/html"}
    response = await client.get("/test/page", headers=headers)
    assert response.status_code == 500
    assert response.headers["content-type"].startswith("text/html")
    assert "something broke" in response.text
