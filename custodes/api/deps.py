"""Typed dependencies: the app's state, who is asking (`Actor`) and which roles a route admits.

Every route names the roles it admits with `require_roles(...)`; the few public paths are listed
in `PUBLIC_PATHS`, and tests/api/test_routes_guarded.py proves nothing else is open.
"""

from __future__ import annotations

import base64
import binascii
import secrets
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Any, Protocol

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer

from custodes.config import Settings
from custodes.errors import PermissionDenied
from custodes.store.control import Control
from custodes.store.users import AuthenticationFailed, Role, User, find_user, verify_token

SESSION_COOKIE = "custodes_session"
CSRF_HEADER = "x-csrf-token"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
#: The only paths anyone may reach without signing in.
PUBLIC_PATHS = frozenset({"/login", "/health", "/static"})


class ServiceStatus(Protocol):
    """What the running service tells the API about itself (custodes.service implements it)."""

    def source_counters(self) -> Mapping[str, Mapping[str, int]]:
        """Per source: received, stored, quarantined, dropped, ... since start."""
        ...

    def queue_depths(self) -> Mapping[str, int]:
        """Records waiting in each queue now."""
        ...

    def ack_latency_histogram(self) -> tuple[Mapping[float, int], float]:
        """Acknowledgement latency: cumulative counts by upper bound (secs, incl. inf), sum."""
        ...

    def job_status(self) -> Mapping[str, Mapping[str, Any]]:
        """Per scheduled job (posture, ueba): runs, failures, last_started_at,
        last_finished_at, last_success_at (ISO 8601 or None), last_error, last_result."""
        ...


@dataclass(frozen=True, slots=True)
class SessionData:
    """What a signed session cookie holds: who signed in, the form token of that session, and
    the stamp of the password it began with."""

    name: str
    csrf: str
    stamp: str


class SessionSigner:
    """Signs and checks session cookies (itsdangerous, HMAC-SHA1 over a timestamped payload)."""

    def __init__(self, secret_key: bytes, *, max_age_secs: int) -> None:
        self.max_age_secs = max_age_secs
        self._serializer = URLSafeTimedSerializer(secret_key, salt="custodes-session")

    def issue(self, user: User, stamp: str) -> tuple[str, SessionData]:
        """A new cookie value for `user`, and the session it stands for."""
        data = SessionData(name=user.name, csrf=secrets.token_urlsafe(24), stamp=stamp)
        return self._serializer.dumps({"u": data.name, "c": data.csrf, "s": stamp}), data

    def read(self, cookie: str) -> SessionData:
        """The session in a cookie; AuthenticationFailed if forged or expired."""
        try:
            payload = self._serializer.loads(cookie, max_age=self.max_age_secs)
        except SignatureExpired:
            raise AuthenticationFailed("session expired: sign in again") from None
        except BadSignature:
            raise AuthenticationFailed("invalid session: sign in again") from None
        return SessionData(
            name=str(payload["u"]), csrf=str(payload["c"]), stamp=str(payload.get("s", ""))
        )


@dataclass
class AppState:
    """Everything a request may need, built once by `create_app` and passed down."""

    settings: Settings
    data_dir: Path
    control: Control
    sessions: SessionSigner
    service: ServiceStatus | None = None
    rule_paths: Sequence[Path] = ()
    is_secure_cookie: bool = False
    extras: dict[str, Any] = field(default_factory=dict)


def get_state(request: Request) -> AppState:
    """The app's state."""
    state: AppState = request.app.state.custodes
    return state


State = Annotated[AppState, Depends(get_state)]


def token_from_header(header: str) -> str | None:
    """The API token in an Authorization header: Bearer, ApiKey, or Basic with it as password."""
    scheme, _, credentials = header.strip().partition(" ")
    scheme, credentials = scheme.lower(), credentials.strip()
    if scheme == "bearer":
        return credentials or None
    if scheme in ("basic", "apikey"):
        try:
            decoded = base64.b64decode(credentials, validate=True).decode()
        except (binascii.Error, UnicodeDecodeError):
            return credentials if scheme == "apikey" else None
        # Basic is "user:token"; Elasticsearch ApiKey is base64("id:key"): the token is the key.
        return decoded.partition(":")[2] or None
    return None


def session_of(request: Request, state: AppState) -> SessionData | None:
    """The signed session of a browser request, if it has one."""
    cookie = request.cookies.get(SESSION_COOKIE)
    return state.sessions.read(cookie) if cookie else None


#: Declares the API token scheme in OpenAPI (Swagger UI's "Authorize"); parsing is ours.
bearer_scheme = HTTPBearer(auto_error=False, description="An API token: ctk_...")


def current_actor(
    request: Request,
    state: State,
    _declared: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer_scheme)] = None,
) -> User:
    """Who is asking: an API token in the Authorization header, or a signed session cookie.

    A cookie-authenticated request that changes something must also carry the session's form
    token (header `X-CSRF-Token`, or the `csrf` form field checked by the page itself).
    """
    header = request.headers.get("authorization")
    if header:
        token = token_from_header(header)
        if token is None:
            raise AuthenticationFailed("unsupported Authorization header: use Bearer <token>")
        return verify_token(state.control, token)
    session = session_of(request, state)
    if session is None:
        raise AuthenticationFailed("sign in or send an API token (Authorization: Bearer ...)")
    user = find_user(state.control, session.name, stamp=session.stamp)
    is_api = request.url.path.startswith("/api/")
    if is_api and request.method not in SAFE_METHODS:
        sent = request.headers.get(CSRF_HEADER, "")
        if not secrets.compare_digest(sent, session.csrf):
            raise PermissionDenied("missing or wrong X-CSRF-Token for a cookie session")
    return user


Actor = Annotated[User, Depends(current_actor)]


class RoleGate:
    """A dependency admitting only actors whose role is in `roles` (403 JSON otherwise)."""

    def __init__(self, roles: Sequence[Role]) -> None:
        if not roles:
            raise ValueError("a route must admit at least one role")
        self.roles = frozenset(roles)

    def __call__(self, actor: Actor) -> User:
        if actor.role not in self.roles:
            admitted = ", ".join(sorted(role.value for role in self.roles))
            raise PermissionDenied(
                f"role {actor.role.value!r} may not do this (admitted: {admitted})"
            )
        return actor

    def __repr__(self) -> str:
        return f"RoleGate({sorted(role.value for role in self.roles)})"


def require_roles(*roles: Role) -> Any:
    """`dependencies=[require_roles(Role.ANALYST, ...)]`: the roles a route admits."""
    return Depends(RoleGate(roles))


# Role sets the routes share, so a policy change is made in one place.
READ_EVENTS = (Role.ANALYST, Role.INVESTIGATOR)
READ_ALERTS = (Role.ANALYST, Role.INVESTIGATOR)
WORK_ALERTS = (Role.ANALYST,)
READ_RULES = (Role.ANALYST, Role.INVESTIGATOR, Role.ADMIN, Role.OVERSIGHT)
READ_STATUS = (Role.ANALYST, Role.ADMIN)
SIGNED_IN = (Role.ANALYST, Role.INVESTIGATOR, Role.OVERSIGHT, Role.ADMIN)
MANAGE_USERS = (Role.ADMIN,)
SEND_EVENTS = (Role.INGEST,)
