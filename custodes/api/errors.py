"""One handler turns any `CustodesError` into JSON with its status (pages get a page instead)."""

from __future__ import annotations

from urllib.parse import quote

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, RedirectResponse, Response

from custodes.errors import CustodesError, Overloaded

# Attributes some errors carry as context (NotFound.kind, ConfigError.key, ...), copied to JSON.
_CONTEXT_ATTRIBUTES = ("kind", "id", "key", "path", "rule_id", "reason")


def error_body(error: CustodesError) -> dict[str, object]:
    """The JSON body of an error: its type, its message and its context attributes."""
    body: dict[str, object] = {"error": type(error).__name__, "message": error.message}
    for name in _CONTEXT_ATTRIBUTES:
        value = getattr(error, name, None)
        if value is not None:
            body[name] = str(value)
    return body


def wants_page(request: Request) -> bool:
    """Whether the request came from a browser page rather than an API client."""
    path = request.url.path
    if path.startswith("/api/") or path in ("/metrics", "/openapi.json"):
        return False
    return "text/html" in request.headers.get("accept", "")


async def handle_custodes_error(request: Request, exc: Exception) -> Response:
    """Answer any CustodesError: JSON for API clients, sign-in redirect or error page for pages."""
    assert isinstance(exc, CustodesError)
    if wants_page(request):
        if exc.status == 401:
            target = quote(
                request.url.path + (f"?{request.url.query}" if request.url.query else "")
            )
            return RedirectResponse(f"/login?next={target}", status_code=303)
        renderer = getattr(request.app.state, "render_error", None)
        if renderer is not None:
            page: Response = renderer(request, exc)
            return page
    headers = {}
    if isinstance(exc, Overloaded):
        headers["Retry-After"] = str(max(1, round(exc.retry_after_secs)))
    if exc.status == 401:
        headers["WWW-Authenticate"] = 'Bearer realm="custodes"'
    return JSONResponse(error_body(exc), status_code=exc.status, headers=headers)


def install_error_handler(app: FastAPI) -> None:
    """Register the one CustodesError handler on `app`."""
    app.add_exception_handler(CustodesError, handle_custodes_error)
