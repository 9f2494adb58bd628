"""Alerts, their events, suppressions and correlation state.

Revision ID: 0001
Revises:
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision: str | None = None
branch_labels: str | None = None
depends_on: str | None = None


def upgrade() -> None:
    """Create the detection tables."""
    op.create_table(
        "alerts",
        sa.Column("id", sa.Integer(), nullable=False, autoincrement=True),
        sa.Column("rule_id", sa.String(200), nullable=False),
        sa.Column("title", sa.Text(), nullable=False),
        sa.Column("level", sa.String(20), nullable=False),
        sa.Column("kind", sa.String(40), nullable=False),
        sa.Column("author", sa.Text(), nullable=False),
        sa.Column("tags", sa.JSON(), nullable=False),
        sa.Column("host_name", sa.String(255), nullable=True),
        sa.Column("user_name", sa.String(255), nullable=True),
        sa.Column("group_key", sa.String(600), nullable=False),
        sa.Column("first_seen_at", sa.DateTime(), nullable=False),
        sa.Column("last_seen_at", sa.DateTime(), nullable=False),
        sa.Column("count", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("details", sa.JSON(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_alerts"),
    )
    op.create_index("ix_alerts_grouping", "alerts", ["rule_id", "group_key", "last_seen_at"])
    op.create_index("ix_alerts_last_seen_at", "alerts", ["last_seen_at"])
    op.create_index("ix_alerts_status_level", "alerts", ["status", "level"])
    op.create_table(
        "alert_events",
        sa.Column("alert_id", sa.Integer(), nullable=False),
        sa.Column("event_id", sa.String(64), nullable=False),
        sa.ForeignKeyConstraint(
            ["alert_id"],
            ["alerts.id"],
            name="fk_alert_events_alert_id_alerts",
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("alert_id", "event_id", name="pk_alert_events"),
    )
    op.create_index("ix_alert_events_event_id", "alert_events", ["event_id"])
    op.create_table(
        "suppressions",
        sa.Column("id", sa.Integer(), nullable=False, autoincrement=True),
        sa.Column("rule_id", sa.String(200), nullable=True),
        sa.Column("conditions", sa.JSON(), nullable=False),
        sa.Column("justification", sa.Text(), nullable=False),
        sa.Column("owner", sa.String(255), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("expires_at", sa.DateTime(), nullable=False),
        sa.Column("revoked_at", sa.DateTime(), nullable=True),
        sa.Column("suppressed_count", sa.Integer(), nullable=False),
        sa.Column("last_suppressed_at", sa.DateTime(), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_suppressions"),
    )
    op.create_index("ix_suppressions_expires_at", "suppressions", ["expires_at"])
    op.create_table(
        "correlation_state",
        sa.Column("rule_id", sa.String(200), nullable=False),
        sa.Column("group_key", sa.String(600), nullable=False),
        sa.Column("state", sa.JSON(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("rule_id", "group_key", name="pk_correlation_state"),
    )


def downgrade() -> None:
    """Drop the detection tables."""
    op.drop_table("correlation_state")
    op.drop_index("ix_suppressions_expires_at", table_name="suppressions")
    op.drop_table("suppressions")
    op.drop_index("ix_alert_events_event_id", table_name="alert_events")
    op.drop_table("alert_events")
    op.drop_index("ix_alerts_status_level", table_name="alerts")
    op.drop_index("ix_alerts_last_seen_at", table_name="alerts")
    op.drop_index("ix_alerts_grouping", table_name="alerts")
    op.drop_table("alerts")
