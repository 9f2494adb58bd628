"""Alembic migrations of the control database (see docs/alerts.md)."""
