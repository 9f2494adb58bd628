"""`custodes ueba build|score|top|evaluate`: behaviour analytics from the command line."""

from __future__ import annotations

import math
from datetime import UTC, date, datetime, timedelta
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import orjson
import typer
from rich.console import Console
from rich.table import Table

from custodes.cli.main import app
from custodes.cli.options import DEFAULT_DATA_DIR, DataDir, fail, user_errors
from custodes.ueba import ALERT_SCORE, evaluate, run, top

ueba_app = typer.Typer(
    help="Behaviour analytics: per-person baselines, anomaly scores, evaluation.",
    no_args_is_help=True,
)
app.add_typer(ueba_app, name="ueba")
console = Console()

ThresholdOption = Annotated[
    float, typer.Option("--threshold", help="Scores at or above this become alerts.")
]
JsonOption = Annotated[bool, typer.Option("--json", help="Print JSON instead of a table.")]


class Dataset(StrEnum):
    """Labelled data sets the harness reads."""

    cert = "cert"
    lanl = "lanl"
    demo = "demo"


def parse_day(text: str) -> date:
    """An ISO day, or `yesterday` / `today` (UTC)."""
    today = datetime.now(UTC).date()
    if text in ("today", "yesterday"):
        return today if text == "today" else today - timedelta(days=1)
    try:
        return date.fromisoformat(text)
    except ValueError:
        fail(f"unreadable day {text!r}: use YYYY-MM-DD, today or yesterday")


@ueba_app.command("build")
def build_command(
    data_dir: DataDir = DEFAULT_DATA_DIR,
    since: Annotated[str | None, typer.Option("--since", help="First day to (re)score.")] = None,
    threshold: ThresholdOption = ALERT_SCORE,
    no_alerts: Annotated[bool, typer.Option("--no-alerts", help="Store scores only.")] = False,
) -> None:
    """Full rebuild: features of every day from the lake, scores from --since on, alerts."""
    with user_errors():
        first = parse_day(since) if since else None
        summary = run(data_dir, first=first, threshold=threshold, raise_alerts=not no_alerts)
    console.print(
        f"scored {summary.rows} entity-days over {summary.days} days; {summary.alerts} alerts"
    )


@ueba_app.command("score")
def score_command(
    data_dir: DataDir = DEFAULT_DATA_DIR,
    day: Annotated[str, typer.Option("--day", help="The day to score.")] = "yesterday",
    threshold: ThresholdOption = ALERT_SCORE,
) -> None:
    """Daily scoring (run it from cron after midnight): one day against all earlier history."""
    with user_errors():
        chosen = parse_day(day)
        summary = run(data_dir, first=chosen, last=chosen, threshold=threshold)
    console.print(f"scored {summary.rows} entities on {chosen}; {summary.alerts} alerts")


@ueba_app.command("top")
def top_command(
    data_dir: DataDir = DEFAULT_DATA_DIR,
    day: Annotated[str, typer.Option("--day", help="The day to rank.")] = "yesterday",
    limit: Annotated[int, typer.Option("--limit", min=1)] = 20,
    hosts: Annotated[bool, typer.Option("--hosts", help="Rank hosts instead of accounts.")] = False,
    as_json: JsonOption = False,
) -> None:
    """The day's most unusual accounts (or hosts), with what made them unusual."""
    with user_errors():
        rows = top(data_dir, parse_day(day), limit=limit, kind="host" if hosts else "account")
    if as_json:
        typer.echo(orjson.dumps(rows, option=orjson.OPT_INDENT_2).decode())
        return
    table = Table("rank", "host" if hosts else "account", "peer group", "score", "why")
    for row in rows:
        table.add_row(
            f"{row['rank']}/{row['entities_on_day']}",
            str(row["entity"]),
            str(row["peer_group"]),
            f"{row['score']:.1f}",
            str(row["explanation"]),
        )
    console.print(table)


def number(value: float) -> str:
    """A measure for the table (n/a for NaN)."""
    return "n/a" if math.isnan(value) else f"{value:.3f}".rstrip("0").rstrip(".")


@ueba_app.command("evaluate")
def evaluate_command(
    dataset: Annotated[Dataset, typer.Option("--dataset")],
    path: Annotated[Path, typer.Option("--path", help="The data set's folder.")],
    data_dir: DataDir = DEFAULT_DATA_DIR,
    as_json: JsonOption = False,
) -> None:
    """Measure our scorers beside a plain Isolation Forest on labelled data."""
    with user_errors():
        result = evaluate(dataset.value, path, data_dir=data_dir)
    if as_json:
        typer.echo(orjson.dumps(result.to_dict(), option=orjson.OPT_INDENT_2).decode())
        return
    table = Table(
        "method",
        "ROC-AUC",
        "PR-AUC",
        "det@1%",
        "det@5%",
        "users caught@5%",
        "median days to alert",
        title=f"{dataset.value}: {next(iter(result.measures.values())).user_days} user-days",
    )
    for method, found in result.measures.items():
        table.add_row(
            method,
            number(found.roc_auc),
            number(found.pr_auc),
            number(found.detection_at_1pct),
            number(found.detection_at_5pct),
            number(found.users_caught_at_5pct),
            number(found.median_days_to_first_alert),
        )
    console.print(table)
    for scenario in result.scenarios:
        console.print(
            f"{scenario['id']}: rank {scenario.get('rank')} of {scenario.get('entities_on_day')},"
            f" {scenario.get('rank_among_ordinary')} among ordinary user-days"
            f" (top {scenario.get('top_percent')}%), reasons {scenario.get('reasons')}"
        )
