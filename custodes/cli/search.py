"""`custodes search` and `custodes stats`: read the lake from the command line."""

from __future__ import annotations

import csv
import sys
from datetime import datetime
from enum import StrEnum
from typing import Annotated, Any

import orjson
import pyarrow as pa
import typer
from rich.table import Table

from custodes.cli.main import app
from custodes.cli.options import DEFAULT_DATA_DIR, DataDir, fail, output, user_errors
from custodes.cli.oversight import ActorName, CaseId, Purpose, cli_actor, purpose_for
from custodes.oversight import Door, EventQuery
from custodes.store import open_control
from custodes.store import stats as lake_stats

TABLE_COLUMNS = ["@timestamp", "event.dataset", "event.code", "host.name", "user.name", "message"]
CELL_CHARS = 120


class OutputFormat(StrEnum):
    """How search results are printed."""

    table = "table"
    jsonl = "jsonl"
    csv = "csv"


@app.command()
def search(
    data_dir: DataDir = DEFAULT_DATA_DIR,
    since: Annotated[
        str | None, typer.Option(help="From this time: 2024-05-01, 2024-05-01T12:00Z, 24h, 7d.")
    ] = None,
    until: Annotated[str | None, typer.Option(help="Before this time (same forms).")] = None,
    where: Annotated[
        str | None,
        typer.Option(help="Filter, e.g. \"user.name = 'alice' and EventID in (4624, 4625)\"."),
    ] = None,
    limit: Annotated[int, typer.Option(min=0, help="At most this many events.")] = 100,
    format: Annotated[OutputFormat, typer.Option("--format", help="Output format.")] = (
        OutputFormat.table
    ),
    fields: Annotated[
        str | None,
        typer.Option(
            help="Comma-separated columns or source fields to show, e.g. host.name,Image."
        ),
    ] = None,
    actor: ActorName = None,
    purpose: Purpose = None,
    case: CaseId = None,
) -> None:
    """Find events in the lake, newest first (through the one door: people pseudonymised)."""
    if not data_dir.is_dir():
        fail(f"no data directory at {data_dir}: run `custodes ingest` first or pass --data-dir")
    columns = [name.strip() for name in fields.split(",") if name.strip()] if fields else None
    if columns == []:
        fail("--fields names no field")
    if columns is None and format is OutputFormat.table:
        columns = TABLE_COLUMNS
    with user_errors(), open_control(data_dir) as control:
        query = EventQuery(since=since, until=until, where=where, limit=limit, columns=columns)
        table = (
            Door(data_dir, control)
            .read(cli_actor(control, actor), purpose_for(purpose, case), query, case)
            .table
        )
    if format is OutputFormat.jsonl:
        write_jsonl(table)
    elif format is OutputFormat.csv:
        write_csv(table)
    else:
        print_table(table)


def plain(value: Any) -> Any:
    """A cell as JSON-friendly data: times in ISO 8601, maps as objects."""
    if isinstance(value, datetime):
        return value.isoformat().replace("+00:00", "Z")
    if isinstance(value, list) and value and isinstance(value[0], tuple):
        return dict(value)
    return value


def rows(table: pa.Table) -> list[dict[str, Any]]:
    """Rows without empty cells, values made plain."""
    return [
        {name: plain(value) for name, value in row.items() if value is not None and value != []}
        for row in table.to_pylist()
    ]


def write_jsonl(table: pa.Table) -> None:
    """One JSON object per event."""
    out = sys.stdout.buffer
    for row in rows(table):
        out.write(orjson.dumps(row) + b"\n")
    out.flush()


def write_csv(table: pa.Table) -> None:
    """A header line and one line per event (maps as JSON)."""
    writer = csv.writer(sys.stdout)
    writer.writerow(table.column_names)
    for row in table.to_pylist():
        writer.writerow(["" if value is None else csv_cell(plain(value)) for value in row.values()])


def csv_cell(value: Any) -> Any:
    """A CSV cell: nested values as JSON text."""
    return orjson.dumps(value).decode() if isinstance(value, dict | list) else value


def print_table(table: pa.Table) -> None:
    """A rich table, long cells shortened."""
    console = output()
    if table.num_rows == 0:
        console.print("no events found")
        return
    view = Table(show_lines=False)
    for name in table.column_names:
        view.add_column(name, overflow="fold")
    for row in table.to_pylist():
        cells = []
        for value in row.values():
            text = "" if value is None else str(plain(value))
            cells.append(text if len(text) <= CELL_CHARS else text[: CELL_CHARS - 1] + "…")
        view.add_row(*cells)
    console.print(view)
    console.print(f"{table.num_rows:,} events")


@app.command()
def stats(data_dir: DataDir = DEFAULT_DATA_DIR) -> None:
    """Events per dataset and day, and quarantined records per parser and reason."""
    if not data_dir.is_dir():
        fail(f"no data directory at {data_dir}: run `custodes ingest` first or pass --data-dir")
    with user_errors():
        result = lake_stats(data_dir)
    console = output()
    days = Table(title=f"events: {result['events']:,}")
    for name in ("dataset", "date", "events"):
        days.add_column(name, justify="right" if name == "events" else "left")
    for dataset, day, count in result["per_day"]:
        days.add_row(dataset, str(day), f"{count:,}")
    console.print(days)
    failures = Table(title=f"quarantined: {result['quarantined']:,}")
    for name in ("parser", "reason", "records"):
        failures.add_column(name, justify="right" if name == "records" else "left")
    for parser, reason, count in result["quarantine"]:
        failures.add_row(parser, reason, f"{count:,}")
    console.print(failures)
