"""Custodes: security operations that watch the watchers."""

__version__ = "0.1.0"
