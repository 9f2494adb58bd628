"""No route is open by accident: each names its roles, or is on the short public list."""

from __future__ import annotations

import re

import httpx
import pytest
from fastapi import FastAPI
from fastapi.dependencies.models import Dependant
from fastapi.routing import APIRoute, RouteContext, iter_route_contexts
from starlette.routing import Mount

from custodes.api.deps import PUBLIC_PATHS, RoleGate

pytestmark = pytest.mark.anyio

# Changing this set is a decision: say in review why a path may be reached without signing in.
EXPECTED_PUBLIC = {"/login", "/health", "/static"}


def role_gates(dependant: Dependant) -> list[RoleGate]:
    found = [dependant.call] if isinstance(dependant.call, RoleGate) else []
    for child in dependant.dependencies:
        found += role_gates(child)
    return found


def test_public_list_is_the_agreed_one() -> None:
    assert PUBLIC_PATHS == EXPECTED_PUBLIC


def api_routes(app: FastAPI) -> list[RouteContext]:
    """Every route of the app as served (included routers flattened), mounts checked apart."""
    found = []
    for context in iter_route_contexts(app.routes):
        route = context.original_route
        if isinstance(route, Mount):
            assert route.path.startswith("/static"), f"mount {route.path} outside /static"
            continue
        assert isinstance(route, APIRoute), f"{route!r} is not an APIRoute: cannot check its roles"
        found.append(context)
    return found


def test_every_route_declares_roles_or_is_public(app: FastAPI) -> None:
    open_routes = []
    guarded = 0
    for route in api_routes(app):
        if role_gates(route.dependant):
            guarded += 1
        elif route.path not in PUBLIC_PATHS:
            open_routes.append(f"{sorted(route.methods or ())} {route.path}")
    assert open_routes == []
    assert guarded >= 25  # the API, the pages, the docs and the ingest routes


def test_no_route_is_declared_twice(app: FastAPI) -> None:
    seen = [(route.path, method) for route in api_routes(app) for method in route.methods or ()]
    assert len(seen) == len(set(seen))


def concrete(path: str) -> str:
    return re.sub(r"\{[^}]+\}", "1", path)


async def test_every_guarded_route_refuses_an_anonymous_request(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    answered = {}
    for route in api_routes(app):
        if route.path in PUBLIC_PATHS:
            continue
        assert route.path is not None
        for method in route.methods or ():
            response = await client.request(method, concrete(route.path), follow_redirects=False)
            answered[f"{method} {route.path}"] = response.status_code
    assert answered and set(answered.values()) == {401}, answered


async def test_pages_send_an_anonymous_browser_to_sign_in(client: httpx.AsyncClient) -> None:
    for path in ("/", "/alerts", "/alerts/1", "/search", "/sources", "/rules", "/docs"):
        response = await client.get(path, headers={"Accept": "text/html"}, follow_redirects=False)
        assert response.status_code == 303, path
        assert response.headers["location"].startswith("/login?next=")


async def test_public_paths_answer_without_signing_in(client: httpx.AsyncClient) -> None:
    assert (await client.get("/health")).json() == {"status": "ok"}
    assert (await client.get("/login")).status_code == 200
    assert (await client.get("/static/css/custodes.css")).status_code == 200
    assert (await client.get("/static/vendor/plotly/plotly.min.js")).status_code == 200
