"""`custodes demo generate|check`: the synthetic agency and the score against its ground truth."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Annotated

import orjson
import typer
from rich.console import Console
from rich.table import Table

from custodes.cli.main import app
from custodes.cli.options import DEFAULT_DATA_DIR, DataDir, fail, user_errors
from custodes.demo import (
    CheckReport,
    DemoSettings,
    RunSettings,
    check,
    generate,
    load_truth,
    running_demo,
    summary_lines,
)

demo = typer.Typer(
    help="The demo agency: generate its data, check detections against it.", no_args_is_help=True
)
app.add_typer(demo, name="demo")

STATUS_STYLE = {
    "detected": "green",
    "withheld": "green",
    "quiet": "green",
    "missed": "red",
    "stored": "red",
    "flagged": "red",
    "pending": "yellow",
}


@demo.command("generate")
def generate_command(
    out: Annotated[Path, typer.Option("--out", help="Folder to write (created).", file_okay=False)],
    people: Annotated[int, typer.Option(help="Current staff (at least 20).")] = 200,
    days: Annotated[int, typer.Option(help="Days of telemetry.")] = 14,
    seed: Annotated[int, typer.Option(help="Same seed and start, same bytes.")] = 7,
    start: Annotated[
        str | None, typer.Option(help="First day, YYYY-MM-DD (default: DAYS days ago).")
    ] = None,
) -> None:
    """Write a synthetic agency's reference data, telemetry and ground truth."""
    try:
        first = date.fromisoformat(start) if start else None
    except ValueError:
        fail(f"--start must be a date like 2026-11-02, not {start!r}")
    with user_errors():
        manifest = generate(out, DemoSettings(people=people, days=days, seed=seed, start=first))
    console = Console()
    table = Table(title=f"demo data in {out}")
    for column in ("file", "format", "send", "events"):
        table.add_column(column, justify="right" if column == "events" else "left")
    for entry in manifest["files"]:
        table.add_row(entry["path"], entry["format"], entry["send"], f"{entry['events']:,}")
    console.print(table)
    rate = manifest["events"] / max(manifest["seconds"], 1e-9)
    console.print(
        f"{manifest['events']:,} events in {manifest['seconds']:.1f} s ({rate:,.0f} events/s);"
        f" ground truth: {out / 'ground_truth.json'}"
    )


@demo.command("check")
def check_command(
    truth: Annotated[Path, typer.Option("--truth", help="ground_truth.json of the demo.")],
    data_dir: DataDir = DEFAULT_DATA_DIR,
    format: Annotated[str, typer.Option("--format", help="table or json.")] = "table",
) -> None:
    """Compare the alerts raised with the planted scenarios; print one row per scenario."""
    if format not in ("table", "json"):
        fail(f"--format must be table or json, not {format!r}")
    with user_errors():
        report = check(data_dir, load_truth(truth))
    if format == "json":
        typer.echo(orjson.dumps(report.to_dict(), option=orjson.OPT_INDENT_2).decode())
        return
    print_report(report, Console(width=None if Console().is_terminal else 160))


def print_report(report: CheckReport, console: Console) -> None:
    """The check table: one row per planted scenario, then the alert counts."""
    table = Table(title="planted scenarios")
    for column in ("scenario", "kind", "result", "by", "pending"):
        table.add_column(column)
    for verdict in report.verdicts:
        style = STATUS_STYLE.get(verdict.status, "")
        table.add_row(
            verdict.id,
            verdict.kind,
            f"[{style}]{verdict.status}[/{style}]" if style else verdict.status,
            ", ".join(verdict.by),
            ", ".join(verdict.pending),
        )
    console.print(table)
    console.print(
        f"alerts and posture findings: {report.alerts}; false positives (linked to no case): "
        f"{report.false_positives}, plus {report.informational} from informational rules"
    )
    for rule, count in report.false_positive_rules.most_common(10):
        console.print(f"  {count:>5}  {rule}")


@demo.command("run")
def run_command(
    data_dir: Annotated[
        Path,
        typer.Option("--data-dir", help="The demo's data directory (replaced).", file_okay=False),
    ] = Path("demo-data"),
    people: Annotated[int, typer.Option(help="Current staff (at least 20).")] = 200,
    days: Annotated[int, typer.Option(help="Days of telemetry, ending yesterday.")] = 14,
    seed: Annotated[int, typer.Option(help="Seed of the generator.")] = 7,
    port: Annotated[int, typer.Option(help="HTTP port on 127.0.0.1 (API, web UI, ingest).")] = 8080,
    rules: Annotated[
        list[Path] | None,
        typer.Option(
            "--rules", exists=True, help="Sigma rule folder or file (default: SigmaHQ's, if found)."
        ),
    ] = None,
    keep_running: Annotated[
        bool, typer.Option("--keep-running/--exit", help="Serve until Ctrl-C, or stop at once.")
    ] = True,
) -> None:
    """The whole job: generate, serve, send the logs over syslog and HTTP, check; serve on."""
    console = Console(width=None if Console().is_terminal else 160)
    settings = RunSettings(data_dir, people, days, seed, port, tuple(rules) if rules else None)
    with user_errors(), running_demo(settings, console) as running:
        print_report(running.report, console)
        for line in summary_lines(running):
            console.print(line, highlight=False)
        if keep_running:
            console.print("Press Ctrl-C to stop.")
            running.wait()
            console.print(
                f"stopped; serve it again: custodes serve --data-dir {running.data_dir}"
                f" --config {running.folder / 'custodes.yaml'}",
                highlight=False,
            )
