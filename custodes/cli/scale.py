"""`custodes scale hunt|timeline|verify`: jobs on Spark (local mode by default, or a cluster)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import orjson
import typer
from rich.table import Table

from custodes.cli.main import app
from custodes.cli.options import DEFAULT_DATA_DIR, DataDir, output, user_errors
from custodes.cli.oversight import ActorName, CaseId, Purpose
from custodes.cli.rules import MinLevel, RulePaths, rule_paths

scale_app = typer.Typer(help="The same jobs on Apache Spark, for lakes beyond one machine.")
app.add_typer(scale_app, name="scale")

Master = Annotated[
    str,
    typer.Option(
        "--master", help="Spark master URL: local[*], local[2], spark://host:7077, k8s://..."
    ),
]
Lake = Annotated[
    str | None,
    typer.Option(help="The lake when not <data-dir>/lake, e.g. s3a://bucket/custodes/lake."),
]


@scale_app.command("hunt")
def hunt(
    data_dir: DataDir = DEFAULT_DATA_DIR,
    rules: RulePaths = None,
    master: Master = "local[*]",
    lake: Lake = None,
    since: Annotated[str | None, typer.Option(help="From this time: 2024-05-01, 24h, 7d.")] = None,
    until: Annotated[str | None, typer.Option(help="Before this time (same forms).")] = None,
    store: Annotated[
        bool, typer.Option(help="Store the alerts in the control database (grouped, suppressed).")
    ] = False,
    jsonl: Annotated[bool, typer.Option("--jsonl", help="One JSON alert per line.")] = False,
    min_level: MinLevel = None,
) -> None:
    """Run Sigma rules over the lake on Spark; one alert per rule, host and user.

    With --store, Sigma correlation rules among the rules run too (on Spark, per group)."""
    from custodes.detect.cache import load_matcher
    from custodes.detect.engine import load_correlation_rules
    from custodes.scale import running_spark, spark_hunt, spark_hunt_and_store

    with user_errors():
        paths = rule_paths(rules)
        matcher = load_matcher(paths)
        correlations = load_correlation_rules(paths, matcher)[0] if store else []
        with running_spark(master, app_name="custodes-hunt") as spark:
            if store:
                alerts, saved = spark_hunt_and_store(
                    spark,
                    data_dir,
                    matcher,
                    lake=lake,
                    since=since,
                    until=until,
                    correlations=correlations,
                    min_level=min_level,
                )
                typer.echo(
                    f"stored: {saved.created} new alerts, {saved.grouped} grouped into existing, "
                    f"{saved.suppressed} suppressed, {saved.duplicates} already stored",
                    err=True,
                )
            else:
                alerts = spark_hunt(
                    spark, lake or data_dir, matcher, since=since, until=until, min_level=min_level
                )
    if jsonl:
        for alert in alerts:
            line = {
                "rule_id": alert.rule_id,
                "title": alert.title,
                "level": alert.level,
                "host": alert.host_name,
                "user": alert.user_name,
                "count": alert.count,
                "first_seen_at": alert.first_seen_at.isoformat(),
                "last_seen_at": alert.last_seen_at.isoformat(),
                "event_ids": list(alert.event_ids),
            }
            typer.echo(orjson.dumps(line).decode())
        return
    table = Table("level", "title", "host", "user", "count", "first seen")
    for alert in alerts:
        table.add_row(
            alert.level,
            alert.title,
            alert.host_name or "",
            alert.user_name or "",
            str(alert.count),
            alert.first_seen_at.isoformat(timespec="seconds"),
        )
    console = output()
    console.print(table)
    console.print(f"{len(alerts)} alerts from {len(matcher.rules)} rules on {master}")


@scale_app.command("verify")
def verify(
    nodes: Annotated[
        list[Path], typer.Argument(help="Each ingest node's data directory (one shared lake).")
    ],
    json: Annotated[bool, typer.Option("--json", help="Print the JSON report.")] = False,
) -> None:
    """Verify every node's evidence ledger against the shared lake, heads taken together."""
    from custodes.scale import verify_nodes

    with user_errors():
        report = verify_nodes(nodes)
    if json:
        typer.echo(orjson.dumps(report.to_dict(), option=orjson.OPT_INDENT_2).decode())
    else:
        console = output()
        for name, node in report.nodes.items():
            console.print(
                f"{name}: {node.tree_size} events, signed head at {node.signed_size}, "
                f"{node.files_checked} files checked"
            )
        for name, fault in report.faults:
            console.print(f"[red]{fault.kind}[/red] {name}: {fault.file or ''} {fault.detail}")
        state = "[green]intact[/green]" if report.is_intact else "[red]NOT intact[/red]"
        console.print(f"{report.events} events across {len(report.nodes)} nodes: {state}")
    if not report.is_intact:
        raise typer.Exit(1)


@scale_app.command("timeline")
def timeline(
    since: Annotated[str, typer.Option(help="From this time: 2024-05-01T08:00, 24h, 7d.")],
    until: Annotated[str, typer.Option(help="Before this time (same forms).")],
    data_dir: DataDir = DEFAULT_DATA_DIR,
    host: Annotated[str | None, typer.Option(help="A host name as stored.")] = None,
    user: Annotated[str | None, typer.Option(help="An account as stored.")] = None,
    ip: Annotated[str | None, typer.Option(help="An IP address.")] = None,
    master: Master = "local[*]",
    lake: Lake = None,
    json: Annotated[bool, typer.Option("--json", help="Print the timeline as JSON.")] = False,
    actor: ActorName = None,
    purpose: Purpose = None,
    case: CaseId = None,
) -> None:
    """The steps around a host, account or IP (as `custodes timeline`), the lake read by Spark."""
    from custodes.cli.oversight import cli_actor, purpose_for
    from custodes.cli.timeline import chosen_seed
    from custodes.oversight import Door
    from custodes.scale import running_spark
    from custodes.scale.timeline import spark_timeline
    from custodes.store import open_control

    seed = chosen_seed(host=host, user=user, ip=ip)
    with (
        user_errors(),
        open_control(data_dir) as control,
        running_spark(master, app_name="custodes-timeline") as spark,
    ):
        result = spark_timeline(
            spark,
            data_dir,
            control,
            Door(data_dir, control),
            cli_actor(control, actor),
            seed,
            since,
            until,
            lake=lake,
            purpose=purpose_for(purpose, case),
            case_id=case,
        )
    if json:
        typer.echo(orjson.dumps(result.to_dict(), default=str).decode())
        return
    table = Table(title=f"Timeline of {seed.kind} {seed.value}: {result.since} - {result.until}")
    for name in ("#", "from", "to", "step", "events", "rules fired"):
        table.add_column(name)
    for number, step in enumerate(result.steps, start=1):
        table.add_row(
            str(number),
            step.started_at.strftime("%Y-%m-%d %H:%M:%S"),
            step.ended_at.strftime("%H:%M:%S"),
            step.label,
            str(len(step.event_ids)),
            ", ".join(sorted({rule["title"] for rule in step.rules})),
        )
    output().print(table)
