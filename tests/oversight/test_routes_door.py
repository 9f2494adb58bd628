"""Every API and web route that returns event data goes through the door.

Each GET route of the app (found by inspecting `app.routes`) is called by an analyst, by API
token and by signed-in browser. A response that names the seeded person in any form, in clear or
as a pseudonym, returns event data: it must show the pseudonym only, and must have appended an
access-ledger entry. A new route that reads the lake around the door shows "alice" and fails.
"""

from __future__ import annotations

import re

import httpx
import pytest
from fastapi import FastAPI
from fastapi.routing import APIRoute, iter_route_contexts

from custodes.api.access import door
from custodes.oversight import list_entries
from custodes.store.users import Role
from tests.api.seed import PASSWORD, Seeded

pytestmark = pytest.mark.anyio
# Routes known to return events or alerts with people: the test must find at least these.
KNOWN_EVENT_ROUTES = {
    "/api/events",
    "/api/alerts",
    "/api/alerts/{alert_id}",
    "/search",
    "/alerts",
    "/alerts/{alert_id}",
}


def get_routes(app: FastAPI) -> list[str]:
    paths = []
    for context in iter_route_contexts(app.routes):
        route = context.original_route
        if isinstance(route, APIRoute) and "GET" in (route.methods or ()):
            assert route.path is not None
            paths.append(route.path)
    return sorted(set(paths))


def concrete(path: str, seeded: Seeded) -> str:
    return re.sub(r"\{[^}]+\}", str(seeded.alert_ids["high"]), path)


async def test_every_route_returning_event_data_masks_and_records(
    app: FastAPI, client: httpx.AsyncClient, tokens: dict[Role, str], seeded: Seeded
) -> None:
    state = app.state.custodes
    alias = door(state).state()[1].pseudonym("alice")
    signed_in = await client.post(
        "/login", data={"name": seeded.users[Role.ANALYST], "password": PASSWORD}
    )
    assert signed_in.status_code == 303
    returning_people = set()
    for path in get_routes(app):
        for headers in ({"Authorization": f"Bearer {tokens[Role.ANALYST]}"}, {}):
            before = len(list_entries(state.control, limit=100_000))
            response = await client.get(
                concrete(path, seeded), params={"since": "24h"}, headers=headers
            )
            if response.status_code != 200:
                continue
            body = response.text
            if "alice" in body or alias in body:
                returning_people.add(path)
                assert "alice" not in body, f"{path} shows a name in clear"
                after = len(list_entries(state.control, limit=100_000))
                assert after > before, f"{path} returned event data without an access entry"
    assert returning_people >= KNOWN_EVENT_ROUTES, KNOWN_EVENT_ROUTES - returning_people
