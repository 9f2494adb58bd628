"""The web UI: server-rendered pages (Jinja2) on the API's app, assets served locally."""

from custodes.web.routes import install_web

__all__ = ["install_web"]
