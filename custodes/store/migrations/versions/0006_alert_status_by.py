"""Alerts: who last changed an alert's status (acknowledged, closed, reopened) and when.

Revision ID: 0006
Revises: 0005
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision: str | None = "0005"
branch_labels: str | None = None
depends_on: str | None = None


def upgrade() -> None:
    """Add alerts.status_by and alerts.status_changed_at (NULL for alerts nobody touched)."""
    with op.batch_alter_table("alerts") as batch:
        batch.add_column(sa.Column("status_by", sa.String(255), nullable=True))
        batch.add_column(sa.Column("status_changed_at", sa.DateTime(), nullable=True))


def downgrade() -> None:
    """Drop the two columns."""
    with op.batch_alter_table("alerts") as batch:
        batch.drop_column("status_changed_at")
        batch.drop_column("status_by")
