"""`custodes quarantine list|replay`: look at records no parser could read, and retry them."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from custodes.cli.alerts import configured_rules, print_detection_totals
from custodes.cli.main import app
from custodes.cli.options import DEFAULT_DATA_DIR, DataDir, fail, output, user_errors
from custodes.normalise.batch import decode_original
from custodes.pipeline import open_pipeline, replay_quarantine
from custodes.store import read_quarantine

quarantine_app = typer.Typer(
    help="Records no parser could read: list them, replay them after a fix.",
    no_args_is_help=True,
)
app.add_typer(quarantine_app, name="quarantine")
PREVIEW_CHARS = 80


@quarantine_app.command("list")
def list_quarantine(
    data_dir: DataDir = DEFAULT_DATA_DIR,
    limit: Annotated[int, typer.Option(min=0, help="Show at most this many, newest first.")] = 20,
) -> None:
    """Quarantined records with the parser tried and the reason."""
    if not data_dir.is_dir():
        fail(f"no data directory at {data_dir}")
    with user_errors():
        table = read_quarantine(data_dir)
    console = output()
    view = Table(title=f"quarantined: {table.num_rows:,}")
    for name in ("quarantined at", "origin", "parser", "reason", "record"):
        view.add_column(name, overflow="fold")
    shown = table.slice(max(table.num_rows - limit, 0)).to_pylist()
    for row in reversed(shown):
        text = decode_original(row["data"])
        where = f"{row['origin'] or row['source']}:{row['position']}"
        view.add_row(
            row["quarantined_at"].isoformat(timespec="seconds"),
            where,
            row["parser"],
            row["reason"],
            text if len(text) <= PREVIEW_CHARS else text[: PREVIEW_CHARS - 1] + "…",
        )
    console.print(view)


@quarantine_app.command("replay")
def replay(
    data_dir: DataDir = DEFAULT_DATA_DIR,
    rules: Annotated[
        list[Path] | None,
        typer.Option("--rules", help="Sigma rules to detect with (default: $CUSTODES_RULES)."),
    ] = None,
) -> None:
    """Re-run the current parsers: successes go to the lake (and through the rules), the rest
    stay with a new reason."""
    if not data_dir.is_dir():
        fail(f"no data directory at {data_dir}")
    with user_errors():
        pipeline = open_pipeline(data_dir, detect=True, rules=configured_rules(rules))
        try:
            result = replay_quarantine(pipeline)
        finally:
            pipeline.close()
    output().print(f"replayed: {result.stored:,} stored, {result.quarantined:,} still quarantined")
    print_detection_totals(pipeline.on_commit)
