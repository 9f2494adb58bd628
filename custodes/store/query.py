"""Reading the lake: DuckDB in-process over the Parquet files, as many readers as you like.

There is no DuckDB database file: each connection is in memory with a view `events` over
`lake/**/*.parquet`, so readers never lock out the writer or each other.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa

from custodes.errors import QueryError
from custodes.events import CORE_NAMES, EVENT_SCHEMA
from custodes.normalise.fields import parse_iso
from custodes.store.lake import LAKE_DIR
from custodes.store.quarantine import QUARANTINE_SCHEMA, quarantine_files
from custodes.store.where import parse_where

RELATIVE_TIME = re.compile(r"^\s*(\d+)\s*([smhdw])\s*$")
UNITS = {"s": "seconds", "m": "minutes", "h": "hours", "d": "days", "w": "weeks"}
BATCH_ROWS = 64 * 1024


def sql_text(value: str) -> str:
    """A string literal for SQL text we build ourselves (paths), quotes doubled."""
    return "'" + value.replace("'", "''") + "'"


def sql_name(name: str) -> str:
    """A quoted SQL identifier."""
    return '"' + name.replace('"', '""') + '"'


def connect(data_dir: Path) -> duckdb.DuckDBPyConnection:
    """An in-memory DuckDB connection with views `events` (the lake) and `quarantine`.

    Besides the event columns, `events` has the partition columns `dataset` and `date`.
    """
    connection = duckdb.connect()
    connection.execute("SET TimeZone = 'UTC'")
    connection.execute("SET enable_progress_bar = false")  # it would print to stderr
    lake = data_dir / LAKE_DIR
    if any(lake.glob("dataset=*/date=*/*.parquet")):
        connection.execute(
            "CREATE VIEW events AS SELECT * FROM read_parquet("
            f"{sql_text(str(lake) + '/*/*/*.parquet')}, hive_partitioning = true,"
            " union_by_name = true, hive_types = {'dataset': VARCHAR, 'date': DATE})"
        )
    else:
        connection.register("empty_events", EVENT_SCHEMA.empty_table())
        connection.execute(
            "CREATE VIEW events AS SELECT *, NULL::VARCHAR AS dataset, NULL::DATE AS date"
            " FROM empty_events"
        )
    files = quarantine_files(data_dir)
    if files:
        listing = ", ".join(sql_text(str(path)) for path in files)
        connection.execute(
            "CREATE VIEW quarantine AS SELECT * FROM"
            f" read_parquet([{listing}], union_by_name = true)"
        )
    else:
        connection.register("empty_quarantine", QUARANTINE_SCHEMA.empty_table())
        connection.execute("CREATE VIEW quarantine AS SELECT * FROM empty_quarantine")
    return connection


def parse_time(text: str, *, now: datetime | None = None) -> datetime:
    """An ISO date or time (UTC unless it says otherwise), or a span back from now: 24h, 7d."""
    relative = RELATIVE_TIME.match(text)
    if relative:
        now = now or datetime.now(UTC)
        return now - timedelta(**{UNITS[relative.group(2)]: int(relative.group(1))})
    try:
        return parse_iso(text)
    except ValueError:
        raise QueryError(
            f"unreadable time {text!r}: use an ISO date or time (2024-05-01, "
            "2024-05-01T12:00:00Z) or a span such as 30m, 24h, 7d"
        ) from None


def as_time(value: datetime | str | None) -> datetime | None:
    """A time filter given as a datetime or as text (see `parse_time`)."""
    if value is None or isinstance(value, datetime):
        return value
    return parse_time(value)


def select_list(columns: Sequence[str] | None, params: list[Any]) -> str:
    """The SELECT list: all event columns, or the named ones (source fields by lookup)."""
    names = list(columns) if columns else EVENT_SCHEMA.names
    parts = []
    for name in names:
        if name in CORE_NAMES or name == "fields":
            parts.append(sql_name(name))
        else:
            params.append(name)
            parts.append(f"fields[?] AS {sql_name(name)}")
    return ", ".join(parts)


def build_query(
    *,
    since: datetime | str | None,
    until: datetime | str | None,
    where: str | None,
    columns: Sequence[str] | None,
) -> tuple[str, list[Any]]:
    """SQL over `events` with parameters; time bounds also prune day partitions."""
    params: list[Any] = []
    selected = select_list(columns, params)
    conditions = []
    start, end = as_time(since), as_time(until)
    if start is not None:
        conditions.append('"@timestamp" >= ? AND "date" >= ?')
        params += [start, start.astimezone(UTC).date()]
    if end is not None:
        conditions.append('"@timestamp" < ? AND "date" <= ?')
        params += [end, end.astimezone(UTC).date()]
    if where:
        sql, where_params = parse_where(where)
        conditions.append(sql)
        params += where_params
    sql = f"SELECT {selected} FROM events"
    if conditions:
        sql += " WHERE " + " AND ".join(conditions)
    return sql, params


def search(
    data_dir: Path,
    *,
    since: datetime | str | None = None,
    until: datetime | str | None = None,
    where: str | None = None,
    limit: int | None = 100,
    columns: Sequence[str] | None = None,
    newest_first: bool = True,
) -> pa.Table:
    """Events in [since, until) matching `where`, newest first, at most `limit` rows."""
    sql, params = build_query(since=since, until=until, where=where, columns=columns)
    if columns and "@timestamp" not in columns:
        sql = sql.replace("SELECT ", 'SELECT "@timestamp" AS "__time", ', 1)
        sql += f' ORDER BY "__time" {"DESC" if newest_first else "ASC"}'
    else:
        sql += f' ORDER BY "@timestamp" {"DESC" if newest_first else "ASC"}'
    if limit is not None:
        if limit < 0:
            raise QueryError("limit must be zero or more")
        sql += " LIMIT ?"
        params.append(limit)
    connection = connect(data_dir)
    try:
        table = run(connection, sql, params).read_all()
    finally:
        connection.close()
    if "__time" in table.column_names:
        table = table.drop_columns(["__time"])
    return table


def iter_batches(
    data_dir: Path,
    *,
    since: datetime | str | None = None,
    until: datetime | str | None = None,
    columns: Sequence[str] | None = None,
    filter: str | None = None,
    ordered: bool = False,
) -> Iterator[pa.RecordBatch]:
    """Stream matching events as Arrow batches (`filter` is a `parse_where` expression)."""
    sql, params = build_query(since=since, until=until, where=filter, columns=columns)
    if ordered:
        sql += ' ORDER BY "@timestamp"'
    connection = connect(data_dir)
    try:
        yield from run(connection, sql, params)
    finally:
        connection.close()


def run(connection: duckdb.DuckDBPyConnection, sql: str, params: list[Any]) -> pa.RecordBatchReader:
    """Execute with parameters; DuckDB's complaints about values become QueryError."""
    try:
        return connection.sql(sql, params=params).to_arrow_reader(BATCH_ROWS)
    except (
        duckdb.ConversionException,
        duckdb.InvalidInputException,
        duckdb.BinderException,
    ) as error:
        raise QueryError(f"query failed: {error}") from None


def stats(data_dir: Path) -> dict[str, Any]:
    """Events per dataset and day, and quarantined records per parser and reason."""
    connection = connect(data_dir)
    try:
        days = connection.execute(
            "SELECT dataset, date, count(*) FROM events GROUP BY ALL ORDER BY dataset, date"
        ).fetchall()
        failures = connection.execute(
            "SELECT parser, reason, count(*) FROM quarantine GROUP BY ALL ORDER BY 3 DESC, 1, 2"
        ).fetchall()
    finally:
        connection.close()
    per_day: list[tuple[str, date, int]] = [(row[0], row[1], row[2]) for row in days]
    return {
        "events": sum(row[2] for row in per_day),
        "per_day": per_day,
        "quarantined": sum(row[2] for row in failures),
        "quarantine": [(row[0], row[1], row[2]) for row in failures],
    }
