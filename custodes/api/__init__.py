"""The REST API and the app that serves it with the web UI: `create_app(settings)`."""

from custodes.api.app import create_app

__all__ = ["create_app"]
