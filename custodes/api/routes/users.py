"""Who am I, users and API tokens (admin only, except `GET /api/me`)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, status
from pydantic import AwareDatetime, BaseModel, Field

from custodes.api.deps import MANAGE_USERS, SIGNED_IN, Actor, State, require_roles
from custodes.store import users
from custodes.store.users import Role

router = APIRouter(tags=["users"])


class NewUser(BaseModel):
    """A user to create."""

    name: str = Field(min_length=1, max_length=255)
    password: str = Field(min_length=8)
    role: Role


class NewToken(BaseModel):
    """An API token to create; the secret is returned once."""

    role: Role
    name: str = ""
    expires_at: AwareDatetime | None = None


@router.get("/api/me", dependencies=[require_roles(*SIGNED_IN, Role.INGEST)])
def who_am_i(actor: Actor) -> dict[str, str]:
    """The actor this request authenticated as."""
    return actor.to_dict()


@router.get("/api/users", dependencies=[require_roles(*MANAGE_USERS)])
def list_users(state: State) -> dict[str, Any]:
    """Every user (never their password hashes)."""
    return {"users": users.list_users(state.control)}


@router.post(
    "/api/users",
    status_code=status.HTTP_201_CREATED,
    dependencies=[require_roles(*MANAGE_USERS)],
)
def add_user(state: State, body: NewUser) -> dict[str, str]:
    """Create a user."""
    return users.add_user(state.control, body.name, body.password, body.role).to_dict()


@router.get("/api/tokens", dependencies=[require_roles(*MANAGE_USERS)])
def list_tokens(state: State) -> dict[str, Any]:
    """Every API token (never the secret or its hash)."""
    return {"tokens": [info.to_dict() for info in users.list_tokens(state.control)]}


@router.post(
    "/api/tokens",
    status_code=status.HTTP_201_CREATED,
    dependencies=[require_roles(*MANAGE_USERS)],
)
def create_token(state: State, body: NewToken) -> dict[str, Any]:
    """Create an API token; `token` is shown this once."""
    secret, info = users.create_token(
        state.control, body.role, name=body.name, expires_at=body.expires_at
    )
    return {"token": secret, **info.to_dict()}


@router.delete(
    "/api/tokens/{token_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    dependencies=[require_roles(*MANAGE_USERS)],
)
def revoke_token(state: State, token_id: int) -> None:
    """Revoke a token at once."""
    users.revoke_token(state.control, token_id)
