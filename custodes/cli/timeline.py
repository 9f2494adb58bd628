"""`custodes timeline`: the steps that led to an alert, an event, or around a host, user, IP or
process (through the one door: people pseudonymised unless granted)."""

from __future__ import annotations

import json
from enum import StrEnum
from typing import Annotated

import typer
from rich.table import Table

from custodes.cli.main import app
from custodes.cli.options import DEFAULT_DATA_DIR, DataDir, fail, output, user_errors
from custodes.cli.oversight import ActorName, CaseId, Purpose, cli_actor, purpose_for
from custodes.investigate import Seed, build_timeline
from custodes.oversight import Door
from custodes.store import open_control
from custodes.store.query import parse_time


class TimelineFormat(StrEnum):
    """How the timeline is printed."""

    steps = "steps"
    json = "json"


def chosen_seed(**given: str | None) -> Seed:
    """The one seed option given."""
    chosen = [(kind, value) for kind, value in given.items() if value]
    if len(chosen) != 1:
        fail("give exactly one of --alert, --event, --host, --user, --ip, --process")
    kind, value = chosen[0]
    return Seed(kind, value or "")


@app.command("timeline")
def timeline(
    data_dir: DataDir = DEFAULT_DATA_DIR,
    alert: Annotated[str | None, typer.Option(help="An alert id.")] = None,
    event: Annotated[str | None, typer.Option(help="An event id.")] = None,
    host: Annotated[str | None, typer.Option(help="A host name as stored.")] = None,
    user: Annotated[str | None, typer.Option(help="A user pseudonym (usr-...) or account.")] = None,
    ip: Annotated[str | None, typer.Option(help="An IP address.")] = None,
    process: Annotated[str | None, typer.Option(help="A process GUID.")] = None,
    window: Annotated[
        str, typer.Option(help="How much time around the seed: 30m, 24h, 7d.")
    ] = "24h",
    until: Annotated[
        str | None, typer.Option(help="End of the window for host/user/ip/process seeds.")
    ] = None,
    format: Annotated[TimelineFormat, typer.Option(help="steps or json.")] = TimelineFormat.steps,
    notable: Annotated[
        bool, typer.Option("--notable", help="Only steps where rules fired or attacks show.")
    ] = False,
    actor: ActorName = None,
    purpose: Purpose = None,
    case: CaseId = None,
) -> None:
    """Reconstruct what happened, step by step, from the events linked to a seed."""
    seed = chosen_seed(alert=alert, event=event, host=host, user=user, ip=ip, process=process)
    if not data_dir.is_dir():
        fail(f"no data directory at {data_dir}: run `custodes ingest` first or pass --data-dir")
    with user_errors(), open_control(data_dir) as control:
        end = parse_time(until) if until else None
        result = build_timeline(
            data_dir,
            control,
            Door(data_dir, control),
            cli_actor(control, actor),
            seed,
            window,
            purpose=purpose_for(purpose, case),
            case_id=case,
            until=end,
        )
    if format is TimelineFormat.json:
        typer.echo(json.dumps(result.to_dict(), default=str))
        return
    console = output()
    table = Table(title=f"Timeline of {seed.kind} {seed.value}: {result.since} - {result.until}")
    for name in ("#", "from", "to", "step", "events", "rules fired"):
        table.add_column(name)
    for number, step in enumerate(result.steps, start=1):
        if notable and not step.is_notable:
            continue
        table.add_row(
            str(number),
            step.started_at.strftime("%Y-%m-%d %H:%M:%S"),
            step.ended_at.strftime("%H:%M:%S"),
            step.label,
            str(len(step.event_ids)),
            ", ".join(sorted({rule["title"] for rule in step.rules})),
        )
    console.print(table)
