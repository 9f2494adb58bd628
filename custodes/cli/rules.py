"""`custodes rules list|test` and `custodes hunt`: Sigma rules from the command line."""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path
from typing import Annotated

import orjson
import typer
from rich.console import Console
from rich.table import Table

from custodes.cli.main import app
from custodes.cli.options import DEFAULT_DATA_DIR, DataDir, fail, user_errors

rules_app = typer.Typer(help="Sigma detection rules: list what loads, test against logs.")
app.add_typer(rules_app, name="rules")
console = Console()

RulePaths = Annotated[
    list[Path] | None,
    typer.Option("--rules", help="Rule files or folders (repeatable); default: $CUSTODES_RULES."),
]
MinLevel = Annotated[
    str | None,
    typer.Option(
        "--min-level",
        help="Lowest rule level that raises alerts (informational: every hit); "
        "default: $CUSTODES_ALERT_MIN_LEVEL or low.",
    ),
]


class OutputFormat(StrEnum):
    """How alerts are printed."""

    table = "table"
    jsonl = "jsonl"


def rule_paths(paths: list[Path] | None) -> list[Path]:
    """The rule paths given, else those in $CUSTODES_RULES (colon-separated)."""
    import os

    if paths:
        return paths
    configured = os.environ.get("CUSTODES_RULES", "")
    found = [Path(p) for p in configured.split(os.pathsep) if p]
    if not found:
        fail("no rules given: pass --rules PATH or set CUSTODES_RULES")
    return found


@rules_app.command("list")
def list_rules(
    rules: RulePaths = None,
    unsupported: Annotated[
        bool, typer.Option("--unsupported", help="List only the rules that do not compile.")
    ] = False,
) -> None:
    """List the rules that compile (id, level, logsource, title) and those that do not, why."""
    from custodes.detect.cache import load_matcher

    with user_errors():
        matcher = load_matcher(rule_paths(rules))
    if not unsupported:
        table = Table("id", "level", "logsource", "title", "author")
        for rule in sorted(matcher.rules, key=lambda r: (r.info.logsource, r.info.title)):
            info = rule.info
            table.add_row(info.id, info.level, info.logsource, info.title, info.author)
        console.print(table)
    for error in matcher.refused:
        console.print(
            f"[yellow]not compiled[/yellow] {error.rule_id or ''} {error.path or ''}: "
            f"{error.reason}",
            highlight=False,
        )
    refused = {(error.path, error.rule_id) for error in matcher.refused}
    console.print(f"{len(matcher.rules)} rules compile, {len(refused)} do not")


@rules_app.command("test")
def test_rules(
    path: Annotated[list[Path], typer.Argument(help="Regression folders (info.yml + .evtx).")],
    rules: RulePaths = None,
) -> None:
    """Run SigmaHQ-style regression tests: the rule each info.yml names must fire on its log."""
    from custodes.detect.cache import load_matcher
    from custodes.detect.regression import regression_folders, run_regression

    with user_errors():
        matcher = load_matcher(rule_paths(rules))
        folders = regression_folders(path)
    if not folders:
        fail("no info.yml found under the given paths")
    passed = total = 0
    for folder in folders:
        for result in run_regression(folder, matcher):
            total += 1
            passed += result.passed
            if not result.passed:
                console.print(
                    f"[red]FAIL[/red] {result.rule_id} {result.title}: {result.problem} ({folder})",
                    highlight=False,
                )
    console.print(f"{passed} of {total} regression tests fire their rule")
    if passed < total:
        raise typer.Exit(1)


@app.command()
def hunt(
    data_dir: DataDir = DEFAULT_DATA_DIR,
    rules: RulePaths = None,
    since: Annotated[str | None, typer.Option(help="From this time: 2024-05-01, 24h, 7d.")] = None,
    until: Annotated[str | None, typer.Option(help="Before this time (same forms).")] = None,
    format: Annotated[OutputFormat, typer.Option("--format", help="Output format.")] = (
        OutputFormat.table
    ),
    store: Annotated[
        bool,
        typer.Option(help="Also store the alerts (grouped, suppressions and correlations apply)."),
    ] = False,
    min_level: MinLevel = None,
) -> None:
    """Run Sigma rules over the events already in the lake and print the alerts."""
    from custodes.detect.cache import load_matcher
    from custodes.detect.engine import hunt_and_store
    from custodes.detect.hunt import hunt as run_hunt
    from custodes.detect.levels import quiet_rules_note

    with user_errors():
        matcher = load_matcher(rule_paths(rules))
        if store:
            alerts, totals = hunt_and_store(
                data_dir,
                rule_paths(rules),
                matcher=matcher,
                since=since,
                until=until,
                min_level=min_level,
            )
            typer.echo(
                f"stored: {totals.created} new alerts, {totals.grouped} grouped into existing, "
                f"{totals.suppressed} suppressed, {totals.duplicates} already stored",
                err=True,
            )
        else:
            alerts = list(
                run_hunt(data_dir, matcher, since=since, until=until, min_level=min_level)
            )
        quiet = quiet_rules_note((rule.info.level for rule in matcher.rules), min_level)
    if format is OutputFormat.jsonl:
        for alert in alerts:
            line = {
                "rule_id": alert.rule_id,
                "title": alert.title,
                "level": alert.level,
                "author": alert.author,
                "tags": list(alert.tags),
                "host": alert.host_name,
                "user": alert.user_name,
                "count": alert.count,
                "first_seen_at": alert.first_seen_at.isoformat(),
                "last_seen_at": alert.last_seen_at.isoformat(),
                "event_ids": list(alert.event_ids),
            }
            typer.echo(orjson.dumps(line).decode())
        return
    table = Table("level", "title", "host", "user", "count", "first seen", "author")
    for alert in alerts:
        table.add_row(
            alert.level,
            alert.title,
            alert.host_name or "",
            alert.user_name or "",
            str(alert.count),
            alert.first_seen_at.isoformat(timespec="seconds"),
            alert.author,
        )
    console.print(table)
    console.print(f"{len(alerts)} alerts from {len(matcher.rules)} rules{quiet}")
