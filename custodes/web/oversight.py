"""The Oversight page (requests to decide, access ledger, watchers, report) and the Reveals page."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from custodes.api.deps import Actor, State, require_roles
from custodes.api.routes import oversight as data
from custodes.web.routes import check_form_token, page, templates

router = APIRouter(include_in_schema=False)


@router.get("/oversight", dependencies=[require_roles(*data.OVERSIGHT)])
def oversight_page(
    request: Request,
    state: State,
    actor: Actor,
    by: str = "",
    action: str = "",
    case: str = "",
    limit: Annotated[int, Query(ge=1, le=5000)] = 200,
) -> HTMLResponse:
    """Requests to decide, grants, the access ledger with filters, the watchers' alerts."""
    view = data.oversight_view(
        state, actor=by or None, action=action or None, case_id=case or None, limit=limit
    )
    period = datetime.now(UTC).strftime("%Y-%m")
    return page(request, "oversight.html", actor, data=view, period=period)


@router.post(
    "/oversight/requests/{request_id}/{decision}", dependencies=[require_roles(*data.OVERSIGHT)]
)
def decide_page(
    request: Request,
    state: State,
    actor: Actor,
    request_id: int,
    decision: str,
    reason: Annotated[str, Form()] = "",
    csrf: Annotated[str, Form()] = "",
) -> Response:
    """Approve or refuse from the Oversight page."""
    check_form_token(request, state, csrf)
    if decision not in ("approve", "refuse"):
        return RedirectResponse("/oversight", status_code=303)
    data.decide_request(state, actor, request_id, approve=decision == "approve", reason=reason)
    return RedirectResponse("/oversight", status_code=303)


@router.get("/oversight/report", dependencies=[require_roles(*data.OVERSIGHT)])
def report_page(request: Request, state: State, actor: Actor, period: str) -> HTMLResponse:
    """The transparency report as a page."""
    return page(request, "transparency.html", actor, report=data.report(state, period))


@router.get("/reveals", dependencies=[require_roles(*data.REQUEST_REVEALS)])
def reveals_page(request: Request, state: State, actor: Actor, subject: str = "") -> HTMLResponse:
    """Ask for a reveal; see your requests and grants."""
    return page(
        request, "reveals.html", actor, data=data.my_requests(state, actor), subject=subject
    )


@router.post("/reveals", dependencies=[require_roles(*data.REQUEST_REVEALS)])
def reveal_form(
    request: Request,
    state: State,
    actor: Actor,
    case_id: Annotated[str, Form()],
    subject: Annotated[str, Form()],
    legal_basis: Annotated[str, Form()],
    justification: Annotated[str, Form()],
    expiry_days: Annotated[int, Form()] = 7,
    csrf: Annotated[str, Form()] = "",
) -> Response:
    """File a reveal request from the form."""
    check_form_token(request, state, csrf)
    body = data.RevealBody(
        case_id=case_id,
        subject=subject.strip(),
        legal_basis=legal_basis,
        justification=justification,
        expiry_days=expiry_days,
    )
    data.file_request(state, actor, body)
    return RedirectResponse("/reveals", status_code=303)


__all__ = ["router", "templates"]
