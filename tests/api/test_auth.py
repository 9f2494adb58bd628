"""Authentication and roles: passwords, tokens (expired, revoked, hashed), sessions, 403 JSON."""

from __future__ import annotations

import base64
import hashlib
import sqlite3
from datetime import UTC, datetime, timedelta

import httpx
import pytest
from fastapi import FastAPI

from custodes.api.deps import SESSION_COOKIE, SessionSigner
from custodes.store.users import (
    AuthenticationFailed,
    Role,
    User,
    authenticate,
    create_token,
    disable_user,
    set_password,
    verify_token,
)
from tests.api.conftest import bearer
from tests.api.seed import PASSWORD, Seeded

pytestmark = pytest.mark.anyio


async def sign_in(client: httpx.AsyncClient, name: str, password: str = PASSWORD) -> httpx.Response:
    return await client.post("/login", data={"name": name, "password": password, "next": "/"})


async def test_wrong_password_is_refused_and_no_session_is_set(
    client: httpx.AsyncClient, seeded: Seeded
) -> None:
    response = await sign_in(client, seeded.users[Role.ANALYST], "not the password")
    assert response.status_code == 401
    assert "wrong user name or password" in response.text
    assert SESSION_COOKIE not in response.cookies
    unknown = await sign_in(client, "nobody", PASSWORD)
    assert unknown.status_code == 401


async def test_sign_in_sets_a_session_that_opens_pages(
    client: httpx.AsyncClient, seeded: Seeded
) -> None:
    response = await sign_in(client, seeded.users[Role.ANALYST])
    assert response.status_code == 303
    assert response.headers["location"] == "/"
    assert "httponly" in response.headers["set-cookie"].lower()
    assert "samesite=strict" in response.headers["set-cookie"].lower()
    page = await client.get("/alerts", headers={"Accept": "text/html"})
    assert page.status_code == 200
    assert "Encoded PowerShell command line" in page.text
    me = await client.get("/api/me")
    assert me.json() == {"name": seeded.users[Role.ANALYST], "role": "analyst", "kind": "user"}


async def test_forged_session_cookie_is_refused(client: httpx.AsyncClient, seeded: Seeded) -> None:
    await sign_in(client, seeded.users[Role.ANALYST])
    cookie = client.cookies[SESSION_COOKIE]
    payload, _, signature = cookie.partition(".")
    forged = base64.urlsafe_b64encode(b'{"u":"admin1","c":"x"}').decode().rstrip("=")
    client.cookies.set(SESSION_COOKIE, forged + "." + signature, domain="custodes.test")
    response = await client.get("/api/me")
    assert response.status_code == 401
    assert response.json()["error"] == "AuthenticationFailed"


async def test_only_local_targets_after_sign_in(client: httpx.AsyncClient, seeded: Seeded) -> None:
    data = {"name": seeded.users[Role.ANALYST], "password": PASSWORD}
    outside = await client.post("/login", data={**data, "next": "//evil.example/x"})
    assert outside.headers["location"] == "/"
    inside = await client.post("/login", data={**data, "next": "/alerts?status=open"})
    assert inside.headers["location"] == "/alerts?status=open"


async def test_disabled_user_loses_the_session(
    app: FastAPI, client: httpx.AsyncClient, seeded: Seeded
) -> None:
    await sign_in(client, seeded.users[Role.ANALYST])
    assert (await client.get("/api/me")).status_code == 200
    disable_user(app.state.custodes.control, seeded.users[Role.ANALYST])
    assert (await client.get("/api/me")).status_code == 401
    with pytest.raises(AuthenticationFailed):
        authenticate(app.state.custodes.control, seeded.users[Role.ANALYST], PASSWORD)


async def test_password_change_ends_older_sessions(
    app: FastAPI, client: httpx.AsyncClient, seeded: Seeded
) -> None:
    await sign_in(client, seeded.users[Role.ANALYST])
    assert (await client.get("/api/me")).status_code == 200
    set_password(app.state.custodes.control, seeded.users[Role.ANALYST], "a new passphrase")
    stale = await client.get("/api/me")
    assert stale.status_code == 401
    assert stale.json()["message"] == "password changed: sign in again"
    assert (
        await sign_in(client, seeded.users[Role.ANALYST], "a new passphrase")
    ).status_code == 303
    assert (await client.get("/api/me")).status_code == 200


async def test_role_refusal_is_403_json(client: httpx.AsyncClient, tokens: dict[Role, str]) -> None:
    refused = await client.get("/api/events", headers=bearer(tokens[Role.OVERSIGHT]))
    assert refused.status_code == 403
    body = refused.json()
    assert body["error"] == "PermissionDenied"
    assert "'oversight' may not" in body["message"]
    ingest = await client.get("/api/alerts", headers=bearer(tokens[Role.INGEST]))
    assert ingest.status_code == 403
    investigator = await client.post("/api/alerts/1/ack", headers=bearer(tokens[Role.INVESTIGATOR]))
    assert investigator.status_code == 403
    admin_users = await client.get("/api/users", headers=bearer(tokens[Role.ANALYST]))
    assert admin_users.status_code == 403


async def test_expired_token_is_refused(app: FastAPI, client: httpx.AsyncClient) -> None:
    control = app.state.custodes.control
    past = datetime.now(UTC) - timedelta(seconds=1)
    secret, _info = create_token(control, Role.ANALYST, expires_at=past)
    response = await client.get("/api/me", headers=bearer(secret))
    assert response.status_code == 401
    assert response.json()["message"] == "API token expired"
    future = datetime.now(UTC) + timedelta(hours=1)
    fresh, _info = create_token(control, Role.ANALYST, expires_at=future)
    assert (await client.get("/api/me", headers=bearer(fresh))).status_code == 200


async def test_revoked_token_is_refused(client: httpx.AsyncClient, tokens: dict[Role, str]) -> None:
    admin = bearer(tokens[Role.ADMIN])
    created = await client.post(
        "/api/tokens", headers=admin, json={"role": "ingest", "name": "fluent"}
    )
    assert created.status_code == 201
    secret, token_id = created.json()["token"], created.json()["id"]
    assert (await client.get("/api/me", headers=bearer(secret))).status_code == 200
    assert (await client.delete(f"/api/tokens/{token_id}", headers=admin)).status_code == 204
    revoked = await client.get("/api/me", headers=bearer(secret))
    assert revoked.status_code == 401
    assert revoked.json()["message"] == "API token revoked"
    listed = (await client.get("/api/tokens", headers=admin)).json()["tokens"]
    assert {"name": "fluent", "role": "ingest"}.items() <= listed[0].items()
    assert listed[0]["revoked_at"] is not None


async def test_unknown_and_malformed_tokens_are_refused(client: httpx.AsyncClient) -> None:
    assert (await client.get("/api/me", headers=bearer("ctk_guess"))).status_code == 401
    odd = await client.get("/api/me", headers={"Authorization": "Digest abc"})
    assert odd.status_code == 401
    assert odd.headers["www-authenticate"].startswith("Bearer")


async def test_shipper_header_forms_carry_the_token(
    client: httpx.AsyncClient, tokens: dict[Role, str]
) -> None:
    secret = tokens[Role.INGEST]
    basic = base64.b64encode(f"beats:{secret}".encode()).decode()
    api_key = base64.b64encode(f"id1:{secret}".encode()).decode()
    for header in (f"Basic {basic}", f"ApiKey {api_key}", f"ApiKey {secret}"):
        response = await client.get("/api/me", headers={"Authorization": header})
        assert response.json()["role"] == "ingest", header


async def test_tokens_and_passwords_are_not_stored_in_clear(
    app: FastAPI, seeded: Seeded, tokens: dict[Role, str]
) -> None:
    control = app.state.custodes.control
    database = (seeded.data_dir / "control.db").read_bytes()
    wal = seeded.data_dir / "control.db-wal"
    stored = database + (wal.read_bytes() if wal.exists() else b"")
    for secret in tokens.values():
        assert secret.encode() not in stored
        assert secret.removeprefix("ctk_").encode() not in stored
    assert PASSWORD.encode() not in stored
    with sqlite3.connect(seeded.data_dir / "control.db") as connection:
        hashes = {row[0] for row in connection.execute("SELECT token_hash FROM api_tokens")}
        passwords = [row[0] for row in connection.execute("SELECT password_hash FROM users")]
    assert hashes == {hashlib.sha256(secret.encode()).hexdigest() for secret in tokens.values()}
    assert passwords and all(value.startswith("$argon2id$") for value in passwords)
    assert verify_token(control, tokens[Role.ADMIN]).role is Role.ADMIN


async def test_cookie_session_needs_the_form_token_to_change_things(
    client: httpx.AsyncClient, seeded: Seeded
) -> None:
    await sign_in(client, seeded.users[Role.ANALYST])
    alert_id = seeded.alert_ids["high"]
    without = await client.post(f"/api/alerts/{alert_id}/ack")
    assert without.status_code == 403
    page = await client.get(f"/alerts/{alert_id}", headers={"Accept": "text/html"})
    token = page.text.split('name="csrf" value="')[1].split('"')[0]
    with_token = await client.post(f"/api/alerts/{alert_id}/ack", headers={"X-CSRF-Token": token})
    assert with_token.status_code == 200
    assert with_token.json()["status"] == "acknowledged"
    forged_form = await client.post(f"/alerts/{alert_id}/suppress", data={"justification": "x"})
    assert forged_form.status_code == 403


def test_session_cookies_expire_and_are_bound_to_their_key() -> None:
    user = User(name="ann", role=Role.ANALYST)
    cookie, session = SessionSigner(b"k" * 32, max_age_secs=3600).issue(user, "stamp")
    assert SessionSigner(b"k" * 32, max_age_secs=3600).read(cookie) == session
    with pytest.raises(AuthenticationFailed, match="session expired"):
        SessionSigner(b"k" * 32, max_age_secs=-1).read(cookie)
    with pytest.raises(AuthenticationFailed, match="invalid session"):
        SessionSigner(b"x" * 32, max_age_secs=3600).read(cookie)
