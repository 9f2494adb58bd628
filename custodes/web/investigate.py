"""The Timeline, Graph and Process tree pages, and the case pages (list, one case, forms)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from custodes.api.deps import READ_EVENTS, Actor, State, require_roles
from custodes.api.routes import cases as case_data
from custodes.api.routes.timeline import Seeded, SeedQuery, process_trees, timeline_of
from custodes.cases import (
    CASE_TYPES,
    SEVERITIES,
    add_note,
    decide_access,
    list_cases,
    list_units,
    request_access,
)
from custodes.investigate import build_graph, build_sessions
from custodes.web.graph_svg import graph_svg
from custodes.web.routes import check_form_token, page

router = APIRouter(include_in_schema=False)


def seed_text(query: SeedQuery) -> str:
    """The page's query string for the same seed."""
    parts = [
        f"{kind}={value}"
        for kind in ("alert", "event", "host", "user", "ip", "process", "window", "case")
        if (value := getattr(query, kind))
    ]
    return "&".join(parts)


@router.get("/timeline", dependencies=[require_roles(*READ_EVENTS)])
def timeline_page(request: Request, state: State, actor: Actor, query: Seeded) -> HTMLResponse:
    """Steps with their events (expandable) and a zoomable time axis."""
    timeline = timeline_of(state, actor, query)
    data = timeline.to_dict()
    events = {row["event.id"]: row for row in data["events"]}
    for step in data["steps"]:
        step["events"] = [events[i] for i in step["event_ids"] if i in events]
    chart = {
        "steps": [
            {
                "number": step["number"],
                "label": step["label"],
                "activity": step["activity"],
                "times": [event["@timestamp"] for event in step["events"]],
            }
            for step in data["steps"]
        ],
        "since": data["since"],
        "until": data["until"],
    }
    return page(
        request,
        "timeline.html",
        actor,
        data=data,
        chart=chart,
        seed=seed_text(query),
        query=query,
        sessions=[s.to_dict() for s in build_sessions(timeline.events)],
    )


@router.get("/graph", dependencies=[require_roles(*READ_EVENTS)])
def graph_page(request: Request, state: State, actor: Actor, query: Seeded) -> HTMLResponse:
    """The entity graph of a seed's timeline, drawn as SVG on the server."""
    graph = build_graph(timeline_of(state, actor, query).events)
    return page(
        request, "graph.html", actor, graph=graph, svg=graph_svg(graph), seed=seed_text(query)
    )


@router.get("/process-tree", dependencies=[require_roles(*READ_EVENTS)])
def process_tree_page(request: Request, state: State, actor: Actor, query: Seeded) -> HTMLResponse:
    """The process trees of a seed's timeline, as nested lists."""
    trees = process_trees(timeline_of(state, actor, query))
    return page(request, "process_tree.html", actor, trees=trees, seed=seed_text(query))


@router.get("/cases", dependencies=[require_roles(*case_data.READ_CASES)])
def cases_page(
    request: Request, state: State, actor: Actor, alert: int | None = None
) -> HTMLResponse:
    """The cases you may see, and a form to open one (from an alert when given)."""
    cases = list_cases(state.control, actor)
    return page(
        request,
        "cases.html",
        actor,
        cases=cases,
        alert=alert,
        types=CASE_TYPES,
        severities=SEVERITIES,
        can_work=actor.role in case_data.WORK_CASES,
    )


@router.post("/cases", dependencies=[require_roles(*case_data.WORK_CASES)])
def open_case_form(
    request: Request,
    state: State,
    actor: Actor,
    title: Annotated[str, Form()],
    unit: Annotated[str, Form()] = "security",
    type: Annotated[str, Form()] = "incident",
    severity: Annotated[str, Form()] = "medium",
    legal_basis: Annotated[str, Form()] = "",
    alert: Annotated[str, Form()] = "",
    csrf: Annotated[str, Form()] = "",
) -> Response:
    """Open a case from the form (with the alert it came from, and that alert's timeline)."""
    check_form_token(request, state, csrf)
    body = case_data.CaseBody(
        title=title,
        unit=unit,
        type=type,
        severity=severity,
        legal_basis=legal_basis or None,
        alert_ids=[int(alert)] if alert.isdigit() else [],
    )
    case = case_data.new_case(state, actor, body)
    if alert.isdigit():
        case_data.keep_timeline(state, actor, case["id"], SeedQuery(alert=alert))
    return RedirectResponse(f"/cases/{case['id']}", status_code=303)


@router.get("/cases/{case_id}", dependencies=[require_roles(*case_data.READ_CASES)])
def case_page(request: Request, state: State, actor: Actor, case_id: str) -> HTMLResponse:
    """One case: its fields, items, shares and hand-overs, history; note and export."""
    case = case_data.case_view(state, actor, case_id)
    units = [unit.name for unit, _members in list_units(state.control) if unit.name != case["unit"]]
    return page(
        request,
        "case.html",
        actor,
        case=case,
        units=units,
        can_work=actor.role in case_data.WORK_CASES,
        can_decide=actor.role in case_data.DECIDE,
    )


@router.post("/cases/{case_id}/access", dependencies=[require_roles(*case_data.WORK_CASES)])
def access_form(
    request: Request,
    state: State,
    actor: Actor,
    case_id: str,
    unit: Annotated[str, Form()],
    kind: Annotated[str, Form()] = "share",
    reason: Annotated[str, Form()] = "",
    legal_basis: Annotated[str, Form()] = "",
    csrf: Annotated[str, Form()] = "",
) -> Response:
    """Share or hand over from the case page."""
    check_form_token(request, state, csrf)
    request_access(
        state.control,
        state.data_dir,
        actor,
        case_id,
        unit,
        kind,
        case_data.approvals(state),
        reason=reason,
        legal_basis=legal_basis or None,
    )
    return RedirectResponse(f"/cases/{case_id}", status_code=303)


@router.post(
    "/cases/{case_id}/access/{access_id}/{decision}",
    dependencies=[require_roles(*case_data.DECIDE)],
)
def decide_form(
    request: Request,
    state: State,
    actor: Actor,
    case_id: str,
    access_id: int,
    decision: str,
    reason: Annotated[str, Form()] = "",
    csrf: Annotated[str, Form()] = "",
) -> Response:
    """Approve or refuse a pending share or hand-over (the policy names who may)."""
    check_form_token(request, state, csrf)
    decide_access(
        state.control,
        state.data_dir,
        actor,
        access_id,
        case_data.approvals(state),
        approve=decision == "approve",
        reason=reason,
    )
    return RedirectResponse(f"/cases/{case_id}", status_code=303)


@router.post("/cases/{case_id}/notes", dependencies=[require_roles(*case_data.WORK_CASES)])
def note_form(
    request: Request,
    state: State,
    actor: Actor,
    case_id: str,
    text: Annotated[str, Form()],
    csrf: Annotated[str, Form()] = "",
) -> Response:
    """Add a note from the case page."""
    check_form_token(request, state, csrf)
    add_note(state.control, actor, case_id, text)
    return RedirectResponse(f"/cases/{case_id}", status_code=303)
