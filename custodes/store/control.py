"""The control database: alerts, suppressions, correlation state (and, later, users and cases).

SQLAlchemy 2 over SQLite by default (`<data_dir>/control.db`, WAL, busy timeout) or any URL
(PostgreSQL in production). Every table is declared here; its schema is created by an Alembic
revision in `custodes/store/migrations/versions/`, applied on `open_control` (see docs/alerts.md
for the revision convention: 0001 alerts, 0002 users/tokens, 0003+ later tables).
"""

from __future__ import annotations

import fcntl
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import orjson
from sqlalchemy import (
    JSON,
    DateTime,
    Dialect,
    Engine,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Text,
    TypeDecorator,
    create_engine,
    event,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column, sessionmaker

from custodes.errors import ConfigError

if TYPE_CHECKING:
    from alembic.config import Config

MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"
CONTROL_DB_NAME = "control.db"
SQLITE_BUSY_TIMEOUT_MS = 10_000

# Stable constraint names, so later revisions can alter them on PostgreSQL.
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class UTCDateTime(TypeDecorator[datetime]):
    """A datetime stored as naive UTC and always read back timezone-aware (SQLite forgets tz)."""

    impl = DateTime
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError(f"naive datetime {value!r}: pass an aware UTC datetime")
        return value.astimezone(UTC).replace(tzinfo=None)

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        return None if value is None else value.replace(tzinfo=UTC)


class Base(DeclarativeBase):
    """Declarative base of every control-database table."""

    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map = {datetime: UTCDateTime(), dict[str, Any]: JSON, list[str]: JSON}


class AlertRow(Base):
    """One alert: a rule that fired on one host/user, grouping its repeated matches."""

    __tablename__ = "alerts"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    rule_id: Mapped[str] = mapped_column(String(200))
    title: Mapped[str] = mapped_column(Text)
    level: Mapped[str] = mapped_column(String(20))
    kind: Mapped[str] = mapped_column(String(40), default="sigma")
    author: Mapped[str] = mapped_column(Text, default="")
    tags: Mapped[list[str]] = mapped_column(default=list)
    host_name: Mapped[str | None] = mapped_column(String(255))
    user_name: Mapped[str | None] = mapped_column(String(255))
    group_key: Mapped[str] = mapped_column(String(600))
    first_seen_at: Mapped[datetime]
    last_seen_at: Mapped[datetime]
    count: Mapped[int] = mapped_column(Integer, default=1)
    status: Mapped[str] = mapped_column(String(20), default="open")
    description: Mapped[str] = mapped_column(Text, default="")
    details: Mapped[dict[str, Any]] = mapped_column(default=dict)
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]
    status_by: Mapped[str | None] = mapped_column(String(255))  # who acknowledged/closed it
    status_changed_at: Mapped[datetime | None]

    __table_args__ = (
        Index("ix_alerts_grouping", "rule_id", "group_key", "last_seen_at"),
        Index("ix_alerts_last_seen_at", "last_seen_at"),
        Index("ix_alerts_status_level", "status", "level"),
    )


class AlertEventRow(Base):
    """One stored event behind an alert (a child table: a group may hold many events)."""

    __tablename__ = "alert_events"

    alert_id: Mapped[int] = mapped_column(
        ForeignKey("alerts.id", ondelete="CASCADE"), primary_key=True
    )
    event_id: Mapped[str] = mapped_column(String(64), primary_key=True)

    __table_args__ = (Index("ix_alert_events_event_id", "event_id"),)


class SuppressionRow(Base):
    """A decision to stop alerting on matching alerts: who, why, and until when."""

    __tablename__ = "suppressions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    rule_id: Mapped[str | None] = mapped_column(String(200))
    conditions: Mapped[dict[str, Any]] = mapped_column(default=dict)
    justification: Mapped[str] = mapped_column(Text)
    owner: Mapped[str] = mapped_column(String(255))
    created_at: Mapped[datetime]
    expires_at: Mapped[datetime]
    revoked_at: Mapped[datetime | None]
    suppressed_count: Mapped[int] = mapped_column(Integer, default=0)
    last_suppressed_at: Mapped[datetime | None]

    __table_args__ = (Index("ix_suppressions_expires_at", "expires_at"),)


class CorrelationStateRow(Base):
    """What a correlation rule remembers for one group between batches (and restarts)."""

    __tablename__ = "correlation_state"

    rule_id: Mapped[str] = mapped_column(String(200), primary_key=True)
    group_key: Mapped[str] = mapped_column(String(600), primary_key=True)
    state: Mapped[dict[str, Any]] = mapped_column(default=dict)
    updated_at: Mapped[datetime]


class Control:
    """An open control database: an engine, a session factory and the URL it came from."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.url = engine.url.render_as_string(hide_password=True)
        self.sessions = sessionmaker(engine, expire_on_commit=False)

    @contextmanager
    def session(self) -> Iterator[Session]:
        """A session in one transaction: committed on success, rolled back on error."""
        with self.sessions.begin() as session:
            yield session

    def close(self) -> None:
        """Release the engine's connections."""
        self.engine.dispose()

    def __enter__(self) -> Control:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def control_url(url_or_data_dir: str | Path) -> str:
    """A database URL: given as is; for a data directory, the `control_url` setting
    (`CUSTODES_CONTROL_URL`) when set, else `sqlite:///<data_dir>/control.db`."""
    from custodes.config import Settings

    text = str(url_or_data_dir)
    if "://" in text:
        return text
    configured = Settings().control_url
    if configured:
        return configured
    return f"sqlite:///{Path(text).resolve() / CONTROL_DB_NAME}"


def _json_text(value: Any) -> str:
    """JSON columns through orjson: correlation state is written every batch, so speed counts."""
    return orjson.dumps(value).decode()


def _configure_sqlite(engine: Engine) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        cursor = dbapi_connection.cursor()
        cursor.execute(f"PRAGMA busy_timeout = {SQLITE_BUSY_TIMEOUT_MS}")
        cursor.execute("PRAGMA journal_mode = WAL")
        cursor.execute("PRAGMA synchronous = NORMAL")
        cursor.execute("PRAGMA foreign_keys = ON")
        cursor.close()


def alembic_config() -> Config:
    """The Alembic configuration of the control database, resolved from the installed package."""
    from alembic.config import Config  # alembic is only needed to migrate: keep imports fast

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    return config


@contextmanager
def _migration_lock(engine: Engine) -> Iterator[None]:
    """One migrating process at a time (ingest, serve and the CLI may start together)."""
    database = engine.url.database
    if engine.dialect.name == "sqlite" and database and database != ":memory:":
        with open(f"{database}.migrate.lock", "a+b") as handle:
            fcntl.flock(handle, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(handle, fcntl.LOCK_UN)
    else:
        yield


def migrate(engine: Engine, revision: str = "head") -> None:
    """Bring the schema to `revision` (idempotent: a database at head is left alone)."""
    from alembic import command

    config = alembic_config()
    with _migration_lock(engine), engine.begin() as connection:
        if connection.dialect.name == "postgresql":  # held until this transaction ends
            connection.exec_driver_sql("SELECT pg_advisory_xact_lock(7301451)")
        config.attributes["connection"] = connection
        command.upgrade(config, revision)


def open_control(url_or_data_dir: str | Path) -> Control:
    """Open (creating if needed) the control database and migrate it to the newest revision."""
    url = control_url(url_or_data_dir)
    if url.startswith("sqlite:///") and not url.startswith("sqlite:///:memory:"):
        Path(url.removeprefix("sqlite:///")).parent.mkdir(parents=True, exist_ok=True)
    try:
        engine = create_engine(url, json_serializer=_json_text, json_deserializer=orjson.loads)
    except Exception as error:  # an unknown dialect or malformed URL is a settings mistake
        raise ConfigError(f"cannot open control database {url!r}: {error}") from error
    if engine.dialect.name == "sqlite":
        _configure_sqlite(engine)
    migrate(engine)
    return Control(engine)
