"""Oversight: the access ledger, reveal requests, grants and the watchers' alerts.

Revision ID: 0004
Revises: 0003
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision: str | None = "0003"
branch_labels: str | None = None
depends_on: str | None = None


def upgrade() -> None:
    """Create access_log, reveal_requests, grants and watcher_alerts."""
    op.create_table(
        "access_log",
        sa.Column("seq", sa.Integer(), nullable=False, autoincrement=False),
        sa.Column("at", sa.DateTime(), nullable=False),
        sa.Column("actor", sa.String(255), nullable=False),
        sa.Column("role", sa.String(40), nullable=False),
        sa.Column("action", sa.String(40), nullable=False),
        sa.Column("purpose", sa.String(80), nullable=True),
        sa.Column("case_id", sa.String(120), nullable=True),
        sa.Column("query", sa.JSON(), nullable=False),
        sa.Column("rows", sa.Integer(), nullable=False),
        sa.Column("revealed", sa.JSON(), nullable=False),
        sa.Column("details", sa.JSON(), nullable=False),
        sa.Column("prev_hash", sa.String(64), nullable=False),
        sa.Column("hash", sa.String(64), nullable=False),
        sa.PrimaryKeyConstraint("seq", name="pk_access_log"),
    )
    op.create_index("ix_access_log_actor", "access_log", ["actor"])
    op.create_index("ix_access_log_action", "access_log", ["action"])
    op.create_table(
        "reveal_requests",
        sa.Column("id", sa.Integer(), nullable=False, autoincrement=True),
        sa.Column("requester", sa.String(255), nullable=False),
        sa.Column("case_id", sa.String(120), nullable=False),
        sa.Column("subject", sa.String(40), nullable=False),
        sa.Column("legal_basis", sa.Text(), nullable=False),
        sa.Column("justification", sa.Text(), nullable=False),
        sa.Column("scope", sa.String(255), nullable=False),
        sa.Column("expiry_days", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("decided_by", sa.String(255), nullable=True),
        sa.Column("decided_at", sa.DateTime(), nullable=True),
        sa.Column("decision_reason", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_reveal_requests"),
    )
    op.create_index("ix_reveal_requests_status", "reveal_requests", ["status"])
    op.create_table(
        "grants",
        sa.Column("id", sa.Integer(), nullable=False, autoincrement=True),
        sa.Column("request_id", sa.Integer(), nullable=False),
        sa.Column("holder", sa.String(255), nullable=False),
        sa.Column("case_id", sa.String(120), nullable=False),
        sa.Column("subject", sa.String(40), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("expires_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_grants"),
    )
    op.create_index("ix_grants_holder_case", "grants", ["holder", "case_id"])
    op.create_table(
        "watcher_alerts",
        sa.Column("id", sa.Integer(), nullable=False, autoincrement=True),
        sa.Column("check", sa.String(60), nullable=False),
        sa.Column("key", sa.String(255), nullable=False),
        sa.Column("actor", sa.String(255), nullable=False),
        sa.Column("summary", sa.Text(), nullable=False),
        sa.Column("entries", sa.JSON(), nullable=False),
        sa.Column("raised_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_watcher_alerts"),
    )
    op.create_index("ix_watcher_alerts_check_key", "watcher_alerts", ["check", "key"], unique=True)


def downgrade() -> None:
    """Drop the oversight tables."""
    op.drop_index("ix_watcher_alerts_check_key", table_name="watcher_alerts")
    op.drop_table("watcher_alerts")
    op.drop_index("ix_grants_holder_case", table_name="grants")
    op.drop_table("grants")
    op.drop_index("ix_reveal_requests_status", table_name="reveal_requests")
    op.drop_table("reveal_requests")
    op.drop_index("ix_access_log_action", table_name="access_log")
    op.drop_index("ix_access_log_actor", table_name="access_log")
    op.drop_table("access_log")
