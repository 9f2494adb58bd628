"""`custodes ingest`: read files and folders into the lake, with a count per format."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.progress import BarColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn
from rich.table import Table

from custodes.cli.alerts import configured_rules, print_detection_totals
from custodes.cli.main import app
from custodes.cli.options import DEFAULT_DATA_DIR, DataDir, fail, output, user_errors
from custodes.file_import import FormatCounts, import_files
from custodes.pipeline import open_pipeline


@app.command()
def ingest(
    paths: Annotated[list[Path], typer.Argument(help="Files or folders (read recursively).")],
    data_dir: DataDir = DEFAULT_DATA_DIR,
    format: Annotated[
        str, typer.Option("--format", "-f", help="auto, evtx, json, zeek-tsv, rfc5424, ...")
    ] = "auto",
    rules: Annotated[
        list[Path] | None,
        typer.Option("--rules", help="Sigma rules to detect with (default: $CUSTODES_RULES)."),
    ] = None,
    timings: Annotated[
        bool, typer.Option("--timings", help="Print the seconds spent in each step.")
    ] = False,
) -> None:
    """Read log files into the lake; a rerun resumes where a crash stopped, without duplicates."""
    missing = [str(path) for path in paths if not path.exists()]
    if missing:
        fail(f"no such file or folder: {', '.join(missing)}")
    console = output()
    with user_errors():
        pipeline = open_pipeline(data_dir, detect=True, rules=configured_rules(rules))
        known = sorted(pipeline.normaliser.by_name)
        if format != "auto" and format not in known:
            pipeline.close()
            fail(f"unknown format {format!r}: use auto or one of {', '.join(known)}")
        progress = Progress(
            SpinnerColumn(),
            TextColumn("{task.description}"),
            BarColumn(),
            TextColumn("{task.completed:,} records"),
            TimeElapsedColumn(),
            console=console,
            transient=True,
            disable=not console.is_terminal,
        )
        try:
            with progress:
                task = progress.add_task("reading", total=None)

                def advance(path: Path, records: int) -> None:
                    progress.update(task, advance=records, description=path.name)

                counts = import_files(pipeline, paths, format=format, on_progress=advance)
        finally:
            pipeline.close()
    console.print(counts_table(counts))
    print_detection_totals(pipeline.on_commit)
    if timings:
        steps = ", ".join(f"{name} {seconds:.2f}" for name, seconds in pipeline.seconds.items())
        console.print(f"seconds per step (lake and ledger in a background thread): {steps}")


def counts_table(counts: dict[str, FormatCounts]) -> Table:
    """The per-format summary of an import."""
    table = Table(title="ingest")
    for name in (
        "format",
        "files",
        "read",
        "stored",
        "quarantined",
        "skipped-corrupt",
        "already-done",
    ):
        table.add_column(name, justify="left" if name == "format" else "right")
    total = FormatCounts()
    for name, kind in sorted(counts.items()):
        table.add_row(name, *numbers(kind))
        for attribute in vars(total):
            setattr(total, attribute, getattr(total, attribute) + getattr(kind, attribute))
    table.add_row("total", *numbers(total), style="bold")
    return table


def numbers(kind: FormatCounts) -> list[str]:
    """One table row's counts, in column order."""
    values = (kind.files, kind.read, kind.stored, kind.quarantined, kind.skipped_corrupt)
    return [f"{value:,}" for value in (*values, kind.skipped_files)]
