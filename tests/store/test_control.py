"""The control database: migrations on an empty SQLite, idempotent, schema equal to the models."""

from __future__ import annotations

import importlib
import io
import pkgutil
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from pathlib import Path

import pytest
import sqlalchemy as sa
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

import custodes
from custodes.errors import ConfigError
from custodes.store.control import (
    Base,
    CorrelationStateRow,
    alembic_config,
    control_url,
    open_control,
)


def test_open_control_creates_sqlite_in_data_dir_at_head(data_dir: Path) -> None:
    with open_control(data_dir) as control:
        assert (data_dir / "control.db").is_file()
        with control.engine.connect() as connection:
            version = connection.execute(sa.text("select version_num from alembic_version"))
            assert version.scalar_one() >= "0001"
            tables = set(sa.inspect(connection).get_table_names())
    assert {"alerts", "alert_events", "suppressions", "correlation_state"} <= tables


def test_migrations_are_idempotent_and_keep_data(data_dir: Path) -> None:
    now = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)
    with open_control(data_dir) as control, control.session() as session:
        session.add(CorrelationStateRow(rule_id="r", group_key="g", state={"n": 1}, updated_at=now))
    with open_control(data_dir) as control, control.session() as session:
        row = session.get(CorrelationStateRow, ("r", "g"))
        assert row is not None
        assert row.state == {"n": 1}
        assert row.updated_at == now  # read back timezone-aware


def import_table_modules() -> None:
    """Import every stage module, so each table declared on `Base` anywhere is known."""
    skipped: tuple[str, ...] = ("custodes.cli", "custodes.api", "custodes.web")
    skipped += ("custodes.store.migrations", "custodes.__main__")  # __main__ runs the CLI
    for module in pkgutil.walk_packages(custodes.__path__, "custodes."):
        if not module.name.startswith(skipped):
            importlib.import_module(module.name)


def test_migrated_schema_matches_the_declared_tables(data_dir: Path) -> None:
    import_table_modules()
    with open_control(data_dir) as control, control.engine.connect() as connection:
        context = MigrationContext.configure(connection)
        differences = compare_metadata(context, Base.metadata)
    assert differences == []


def test_sqlite_runs_in_wal_mode_with_busy_timeout(data_dir: Path) -> None:
    with open_control(data_dir) as control, control.engine.connect() as connection:
        assert connection.exec_driver_sql("PRAGMA journal_mode").scalar_one() == "wal"
        assert connection.exec_driver_sql("PRAGMA busy_timeout").scalar_one() > 0


def test_url_is_used_as_given_and_data_dir_becomes_sqlite(tmp_path: Path) -> None:
    assert control_url("postgresql://u@db/custodes") == "postgresql://u@db/custodes"
    assert control_url(tmp_path) == f"sqlite:///{tmp_path.resolve()}/control.db"


def test_unknown_database_dialect_is_a_config_error() -> None:
    with pytest.raises(ConfigError, match="cannot open control database"):
        open_control("nosuchdb://host/x")


def test_processes_starting_together_migrate_once(tmp_path: Path) -> None:
    def open_and_close(data_dir: Path) -> None:
        open_control(data_dir).close()

    for attempt in range(3):
        data_dir = tmp_path / f"data{attempt}"
        with ThreadPoolExecutor(max_workers=4) as pool:
            futures = [pool.submit(open_and_close, data_dir) for _ in range(4)]
            for future in futures:
                future.result()  # re-raises "table already exists" if two migrated at once


def test_every_revision_renders_for_postgresql() -> None:
    config = alembic_config()
    config.output_buffer = io.StringIO()
    config.set_main_option("sqlalchemy.url", "postgresql://custodes@db.invalid/custodes")
    command.upgrade(config, "head", sql=True)  # offline: SQL text, no server needed
    sql = config.output_buffer.getvalue()
    for table in ("alerts", "alert_events", "suppressions", "correlation_state"):
        assert f"CREATE TABLE {table} (" in sql
    assert "id SERIAL NOT NULL" in sql


def test_migration_0006_adds_who_changed_an_alert_and_goes_down_again(data_dir: Path) -> None:
    from custodes.events import Alert
    from custodes.store.alerts import get_alert, save_alerts, set_alert_status
    from custodes.store.control import migrate

    at = datetime(2026, 5, 1, tzinfo=UTC)
    with open_control(data_dir) as control:
        [alert_id] = save_alerts(
            control, [Alert("r", "R", "high", ("e1",), at, at)], now=at
        ).alert_ids
        set_alert_status(control, alert_id, "closed", now=at, actor="ann")
        config = alembic_config()
        with control.engine.begin() as connection:
            config.attributes["connection"] = connection
            command.downgrade(config, "0005")
        with control.engine.connect() as connection:
            columns = {column["name"] for column in sa.inspect(connection).get_columns("alerts")}
        assert "status_by" not in columns and "status" in columns
        migrate(control.engine, "head")
        stored = get_alert(control, alert_id)
        assert (stored.status, stored.status_by) == ("closed", None)  # kept; who is unknown
