"""Fixtures of the UEBA tests (the API's seeded app and client serve the route test)."""

from __future__ import annotations

from tests.api.conftest import anyio_backend, app, client, quick_argon2, seeded, tokens

__all__ = ["anyio_backend", "app", "client", "quick_argon2", "seeded", "tokens"]
