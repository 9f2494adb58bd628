"""The API fixtures (seeded data dir, app, client, tokens) serve the web tests too."""

from tests.api.conftest import anyio_backend, app, client, quick_argon2, seeded, tokens

__all__ = ["anyio_backend", "app", "client", "quick_argon2", "seeded", "tokens"]
