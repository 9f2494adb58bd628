"""`create_app(settings)`: the FastAPI app serving the REST API, /metrics and the web UI."""

from __future__ import annotations

import os
import secrets
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from pathlib import Path

from fastapi import FastAPI
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import HTMLResponse, JSONResponse
from fastapi.staticfiles import StaticFiles
from swagger_ui_bundle import swagger_ui_path

from custodes.api.deps import SIGNED_IN, AppState, ServiceStatus, SessionSigner, require_roles
from custodes.api.errors import install_error_handler
from custodes.api.routes import (
    alerts,
    cases,
    events,
    health,
    ingest,
    oversight,
    overview,
    posture,
    sources,
    timeline,
    ueba,
    users,
)
from custodes.config import Settings
from custodes.store.control import Control, open_control
from custodes.store.users import Role

SESSION_KEY_FILE = Path("keys") / "session.key"
SESSION_MAX_AGE_SECS = 12 * 3600


def session_key(data_dir: Path) -> bytes:
    """The key that signs session cookies: `<data_dir>/keys/session.key`, made on first use."""
    path = data_dir / SESSION_KEY_FILE
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(descriptor, "wb") as handle:
            handle.write(secrets.token_bytes(32))
    return path.read_bytes()


def create_app(
    settings: Settings,
    *,
    control: Control | None = None,
    service: ServiceStatus | None = None,
    rule_paths: Sequence[Path] = (),
    secret_key: bytes | None = None,
    is_secure_cookie: bool = False,
) -> FastAPI:
    """The app over `settings.data_dir`: REST API (OpenAPI at /docs), /metrics and the web UI.

    `service` is the running service (counters, queues); without one the sources page shows
    what is stored. A control database opened here is closed when the app shuts down.
    """
    data_dir = settings.data_dir
    owns_control = control is None
    control = control or open_control(data_dir)
    state = AppState(
        settings=settings,
        data_dir=data_dir,
        control=control,
        sessions=SessionSigner(
            secret_key or session_key(data_dir), max_age_secs=SESSION_MAX_AGE_SECS
        ),
        service=service,
        rule_paths=tuple(rule_paths),
        is_secure_cookie=is_secure_cookie,
    )

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        yield
        if owns_control:
            state.control.close()

    app = FastAPI(
        title="Custodes",
        summary="Security monitoring that watches the watchers",
        docs_url=None,
        redoc_url=None,
        openapi_url=None,
        lifespan=lifespan,
    )
    app.state.custodes = state
    install_error_handler(app)
    routers = (
        health, events, alerts, overview, sources, users, ingest, posture, oversight, ueba,
        timeline, cases,
    )  # fmt: skip
    for module in routers:
        app.include_router(module.router)
    add_docs(app)
    from custodes.web.routes import install_web  # the pages share this app and its state

    install_web(app)
    app.add_middleware(ingest.ElasticsearchRoot)  # shippers check GET / before sending
    return app


def add_docs(app: FastAPI) -> None:
    """OpenAPI at /openapi.json and Swagger UI at /docs, for signed-in users, assets local."""
    app.mount(
        "/static/vendor/swagger",
        StaticFiles(directory=str(swagger_ui_path)),
        name="swagger",
    )

    @app.get(
        "/openapi.json",
        include_in_schema=False,
        dependencies=[require_roles(*SIGNED_IN, Role.INGEST)],
    )
    def openapi_schema() -> JSONResponse:
        return JSONResponse(app.openapi())

    @app.get("/docs", include_in_schema=False, dependencies=[require_roles(*SIGNED_IN)])
    def swagger_ui() -> HTMLResponse:
        return get_swagger_ui_html(
            openapi_url="/openapi.json",
            title="Custodes API",
            swagger_js_url="/static/vendor/swagger/swagger-ui-bundle.js",
            swagger_css_url="/static/vendor/swagger/swagger-ui.css",
            swagger_favicon_url="/static/vendor/swagger/favicon-32x32.png",
        )
