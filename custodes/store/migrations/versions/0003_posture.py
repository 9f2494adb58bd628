"""Posture: findings with their life cycle, and one row per run (counts for the trend).

Revision ID: 0003
Revises: 0002
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision: str | None = "0002"
branch_labels: str | None = None
depends_on: str | None = None


def upgrade() -> None:
    """Create posture_runs and posture_findings."""
    op.create_table(
        "posture_runs",
        sa.Column("id", sa.Integer(), nullable=False, autoincrement=True),
        sa.Column("ran_at", sa.DateTime(), nullable=False),
        sa.Column("counts", sa.JSON(), nullable=False),
        sa.Column("opened", sa.Integer(), nullable=False),
        sa.Column("resolved", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_posture_runs"),
    )
    op.create_table(
        "posture_findings",
        sa.Column("id", sa.Integer(), nullable=False, autoincrement=True),
        sa.Column("check", sa.String(80), nullable=False),
        sa.Column("subject", sa.String(600), nullable=False),
        sa.Column("level", sa.String(20), nullable=False),
        sa.Column("account", sa.String(255), nullable=True),
        sa.Column("employee_id", sa.String(100), nullable=True),
        sa.Column("host", sa.String(255), nullable=True),
        sa.Column("device_id", sa.String(255), nullable=True),
        sa.Column("details", sa.JSON(), nullable=False),
        sa.Column("event_ids", sa.JSON(), nullable=False),
        sa.Column("activity_first_at", sa.DateTime(), nullable=True),
        sa.Column("activity_last_at", sa.DateTime(), nullable=True),
        sa.Column("first_seen_at", sa.DateTime(), nullable=False),
        sa.Column("last_seen_at", sa.DateTime(), nullable=False),
        sa.Column("resolved_at", sa.DateTime(), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_posture_findings"),
    )
    op.create_index("ix_posture_findings_check_subject", "posture_findings", ["check", "subject"])
    op.create_index("ix_posture_findings_resolved_at", "posture_findings", ["resolved_at"])


def downgrade() -> None:
    """Drop the posture tables."""
    op.drop_index("ix_posture_findings_resolved_at", table_name="posture_findings")
    op.drop_index("ix_posture_findings_check_subject", table_name="posture_findings")
    op.drop_table("posture_findings")
    op.drop_table("posture_runs")
