"""The Behaviour page: the day's ranking of unusual accounts (as /api/ueba/ranking)."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Literal

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse

from custodes.api.deps import READ_ALERTS, Actor, State, require_roles
from custodes.api.routes.ueba import ranking_view
from custodes.web.routes import page

router = APIRouter(include_in_schema=False)


@router.get("/ueba", dependencies=[require_roles(*READ_ALERTS)])
def ueba_page(
    request: Request,
    state: State,
    actor: Actor,
    day: date | None = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 50,
    kind: Literal["account", "host"] = "account",
) -> HTMLResponse:
    """The ranking of one day, most unusual first, with the reasons in plain words."""
    data = ranking_view(state, actor, day=day, limit=limit, kind=kind)
    return page(request, "ueba.html", actor, data=data, limit=limit)
