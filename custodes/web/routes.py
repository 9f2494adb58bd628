"""The web UI: server-rendered pages over the same view functions the API returns as JSON."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Annotated, Any

import plotly
from fastapi import APIRouter, FastAPI, Form, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates

from custodes.api import views
from custodes.api.deps import (
    READ_ALERTS,
    READ_EVENTS,
    READ_RULES,
    READ_STATUS,
    SESSION_COOKIE,
    SIGNED_IN,
    WORK_ALERTS,
    Actor,
    AppState,
    State,
    require_roles,
    session_of,
)
from custodes.errors import CustodesError, PermissionDenied
from custodes.store.users import Role, User, authenticate, user_stamp
from custodes.web.throttle import SignInThrottle

HERE = Path(__file__).resolve().parent
PLOTLY_DIR = Path(plotly.__file__).resolve().parent / "package_data"
templates = Jinja2Templates(directory=str(HERE / "templates"))
router = APIRouter(include_in_schema=False)

#: Navigation: (path, label, roles that see it).
NAV: tuple[tuple[str, str, tuple[Role, ...]], ...] = (
    ("/", "Overview", SIGNED_IN),
    ("/alerts", "Alerts", READ_ALERTS),
    ("/search", "Search", READ_EVENTS),
    ("/sources", "Sources", READ_STATUS),
    ("/rules", "Rules", READ_RULES),
    ("/posture", "Posture", SIGNED_IN),
    ("/ueba", "Behaviour", READ_ALERTS),
    ("/cases", "Cases", (Role.ANALYST, Role.INVESTIGATOR, Role.OVERSIGHT)),
    ("/reveals", "Reveals", READ_EVENTS),
    ("/oversight", "Oversight", (Role.OVERSIGHT,)),
)


def short_time(value: str | None) -> str:
    """`2026-11-26T10:01:02.123+00:00` -> `2026-11-26 10:01:02` (UTC, as stored)."""
    if not value:
        return ""
    return datetime.fromisoformat(value).strftime("%Y-%m-%d %H:%M:%S")


templates.env.filters["short_time"] = short_time


def page(request: Request, template: str, user: User | None, **context: Any) -> HTMLResponse:
    """Render a page with the frame's context: the user, their navigation, the form token."""
    state: AppState = request.app.state.custodes
    session = session_of(request, state) if user is not None else None
    nav = [(path, label) for path, label, roles in NAV if user is not None and user.role in roles]
    return templates.TemplateResponse(
        request,
        template,
        {
            "user": user,
            "nav": nav,
            "csrf": session.csrf if session else "",
            "path": request.url.path,
            **context,
        },
    )


def check_form_token(request: Request, state: AppState, token: str) -> None:
    """A page form must carry its session's token (no cross-site form posts)."""
    session = session_of(request, state)
    if session is None or not token or token != session.csrf:
        raise PermissionDenied("form expired or not from this site: reload the page")


def safe_next(target: str | None) -> str:
    """Where to go after signing in: a local path only (never another site)."""
    if target and target.startswith("/") and not target.startswith("//"):
        return target
    return "/"


@router.get("/login")
def login_form(request: Request, next: str = "/") -> HTMLResponse:
    """The sign-in page."""
    return page(request, "login.html", None, next=safe_next(next), error=None, user_name="")


@router.post("/login")
def login(
    request: Request,
    state: State,
    name: Annotated[str, Form()],
    password: Annotated[str, Form()],
    next: Annotated[str, Form()] = "/",
) -> Response:
    """Check the password; on success set the signed session cookie and go on."""
    throttle: SignInThrottle = request.app.state.sign_in_throttle
    address = request.client.host if request.client else ""
    wait_secs = throttle.wait_secs(address, name)
    if wait_secs > 0:
        message = f"too many failed sign-ins: try again in {int(wait_secs) + 1} s"
        return refused(request, next, name, message, status=429)
    try:
        user = authenticate(state.control, name, password)
    except CustodesError as error:
        throttle.fail(address, name)
        return refused(request, next, name, error.message, status=401)
    throttle.succeed(address, name)
    cookie, _session = state.sessions.issue(user, user_stamp(state.control, user.name))
    response = RedirectResponse(safe_next(next), status_code=303)
    response.set_cookie(
        SESSION_COOKIE,
        cookie,
        max_age=state.sessions.max_age_secs,
        httponly=True,
        samesite="strict",
        secure=state.is_secure_cookie,
    )
    return response


def refused(request: Request, next: str, name: str, message: str, *, status: int) -> Response:
    """The sign-in page again, with the reason and the name kept."""
    response = page(
        request, "login.html", None, next=safe_next(next), error=message, user_name=name
    )
    response.status_code = status
    return response


@router.post("/logout", dependencies=[require_roles(*SIGNED_IN)])
def logout(request: Request, state: State, csrf: Annotated[str, Form()] = "") -> Response:
    """Forget the session cookie."""
    check_form_token(request, state, csrf)
    response = RedirectResponse("/login", status_code=303)
    response.delete_cookie(SESSION_COOKIE)
    return response


@router.get("/", dependencies=[require_roles(*SIGNED_IN)])
def overview_page(request: Request, state: State, actor: Actor, hours: int = 6) -> HTMLResponse:
    """Events per minute per dataset, alerts per hour per level."""
    data = views.overview(state, hours=max(1, min(hours, 24 * 31)))
    return page(request, "overview.html", actor, data=data, hours=hours)


@router.get("/alerts", dependencies=[require_roles(*READ_ALERTS)])
def alerts_page(
    request: Request,
    state: State,
    actor: Actor,
    min_level: str = "",
    status: str = "",
    rule_id: str = "",
    hours: Annotated[int | None, Query(ge=1)] = None,
    purpose: str = "",
    case: str = "",
) -> HTMLResponse:
    """Alerts with filters."""
    data = views.alert_list(
        state,
        actor,
        min_level=min_level,
        status=status,
        rule_id=rule_id,
        hours=hours,
        purpose=purpose or None,
        case_id=case or None,
    )
    return page(request, "alerts.html", actor, data=data, levels=views.LEVELS)


@router.get("/alerts/{alert_id}", dependencies=[require_roles(*READ_ALERTS)])
def alert_page(
    request: Request, state: State, actor: Actor, alert_id: int, purpose: str = "", case: str = ""
) -> HTMLResponse:
    """One alert: rule, ATT&CK tags, matched events, and what an analyst can do with it."""
    data = views.alert_detail(state, actor, alert_id, purpose=purpose or None, case_id=case or None)
    can_work = actor.role in WORK_ALERTS
    return page(request, "alert.html", actor, data=data, can_work=can_work)


@router.post("/alerts/{alert_id}/ack", dependencies=[require_roles(*WORK_ALERTS)])
def acknowledge(
    request: Request, state: State, actor: Actor, alert_id: int, csrf: Annotated[str, Form()] = ""
) -> Response:
    """Acknowledge from the alert page."""
    check_form_token(request, state, csrf)
    views.acknowledge(state, actor, alert_id)
    return RedirectResponse(f"/alerts/{alert_id}", status_code=303)


@router.post("/alerts/{alert_id}/suppress", dependencies=[require_roles(*WORK_ALERTS)])
def suppress(
    request: Request,
    state: State,
    actor: Actor,
    alert_id: int,
    justification: Annotated[str, Form()],
    expires: Annotated[str, Form()] = "30d",
    csrf: Annotated[str, Form()] = "",
) -> Response:
    """Suppress from the alert page."""
    check_form_token(request, state, csrf)
    views.suppress(state, actor, alert_id, justification=justification, expires=expires)
    return RedirectResponse(f"/alerts/{alert_id}", status_code=303)


@router.get("/search", dependencies=[require_roles(*READ_EVENTS)])
def search_page(
    request: Request,
    state: State,
    actor: Actor,
    since: str = "24h",
    until: str = "",
    where: str = "",
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    purpose: str = "",
    case: str = "",
) -> HTMLResponse:
    """Search events; a malformed filter is shown on the page, not as an error page."""
    form = {"since": since, "until": until, "where": where, "limit": limit, "case": case}
    data, error = None, None
    if "since" in request.query_params:
        try:
            data = views.event_search(
                state,
                actor,
                since=since,
                until=until,
                where=where,
                limit=limit,
                purpose=purpose or None,
                case_id=case or None,
            )
        except CustodesError as failure:
            error = failure.message
    return page(request, "search.html", actor, form=form, data=data, error=error)


@router.get("/posture", dependencies=[require_roles(*SIGNED_IN)])
def posture_page(request: Request, state: State, actor: Actor) -> HTMLResponse:
    """Posture findings per class, their trend over runs, the open items (as /api/posture)."""
    from custodes.api.routes.posture import posture_view
    from custodes.posture.report import chart_data

    data = posture_view(state, actor)
    return page(request, "posture.html", actor, data=data, chart=chart_data(data), page_items=100)


@router.get("/sources", dependencies=[require_roles(*READ_STATUS)])
def sources_page(request: Request, state: State, actor: Actor) -> HTMLResponse:
    """Sources and their counters, datasets stored, quarantine."""
    return page(request, "sources.html", actor, data=views.sources(state))


@router.get("/rules", dependencies=[require_roles(*READ_RULES)])
def rules_page(request: Request, state: State, actor: Actor) -> HTMLResponse:
    """Detection rules loaded and the files that failed."""
    return page(request, "rules.html", actor, data=views.rules(state))


def render_error(request: Request, error: CustodesError) -> HTMLResponse:
    """An error as a page in the frame (the API gets JSON from the same handler)."""
    response = page(request, "error.html", None, error=error)
    response.status_code = error.status
    return response


def install_web(app: FastAPI) -> None:
    """Add the pages, the static assets (ours and the vendored chart library) to `app`."""
    app.state.render_error = render_error
    app.state.sign_in_throttle = SignInThrottle()
    app.mount("/static/vendor/plotly", StaticFiles(directory=str(PLOTLY_DIR)), name="plotly")
    app.mount("/static", StaticFiles(directory=str(HERE / "static")), name="static")
    app.include_router(router)
    from custodes.web.oversight import router as oversight_router  # it imports this module

    app.include_router(oversight_router)
    from custodes.web.ueba import router as ueba_router  # it imports this module

    app.include_router(ueba_router)
    from custodes.web.investigate import router as investigate_router  # it imports this module

    app.include_router(investigate_router)
