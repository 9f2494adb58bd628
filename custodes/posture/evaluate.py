"""Run every check in DuckDB over the lake and the reference snapshots: `evaluate`."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import duckdb
import orjson

from custodes.posture.checks import CHECK_SQL
from custodes.posture.finding import Finding
from custodes.posture.reference import register_reference
from custodes.posture.settings import PostureSettings
from custodes.posture.telemetry import prepare_telemetry
from custodes.store import connect

MAX_EVIDENCE_EVENTS = 1000


def open_posture_connection(data_dir: Path) -> duckdb.DuckDBPyConnection:
    """A DuckDB connection with the lake (`events`) and every snapshot (`ref_*`)."""
    connection = connect(data_dir)
    register_reference(connection, data_dir)
    return connection


def evaluate(
    data_dir: Path,
    settings: PostureSettings,
    now: datetime,
    *,
    connection: duckdb.DuckDBPyConnection | None = None,
) -> list[Finding]:
    """Every finding that holds at `now` (pure: the clock is passed in)."""
    if now.tzinfo is None:
        now = now.replace(tzinfo=UTC)
    connection = connection or open_posture_connection(data_dir)
    prepare_telemetry(connection, settings, now)
    parameters = {"now": now, "today": now.astimezone(UTC).date()}
    found: list[Finding] = []
    for name, sql in CHECK_SQL.items():
        text = sql(settings)
        used = {key: value for key, value in parameters.items() if f"${key}" in text}
        cursor = connection.execute(text, used)
        names = [column[0] for column in cursor.description or ()]
        for values in cursor.fetchall():
            row = dict(zip(names, values, strict=True))
            found.append(
                Finding(
                    check=name,
                    subject=str(row["subject"]),
                    account=row["account"],
                    employee_id=row["employee_id"],
                    host=row["host"],
                    device_id=row["device_id"],
                    details=orjson.loads(row["details"]) if row["details"] else {},
                    first_at=row["first_at"],
                    last_at=row["last_at"],
                    event_ids=tuple(row["event_ids"] or ())[:MAX_EVIDENCE_EVENTS],
                )
            )
    return sorted(found, key=lambda finding: (finding.check, finding.subject))
