"""Alembic revisions of the control database, one file per revision."""
