"""`custodes case create|list|show|add-alert|note|task|attach|share|handover|decide|export|unit`."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from custodes.cases import (
    CaseApprovals,
    add_alert,
    add_attachment,
    add_item,
    add_note,
    add_unit,
    case_to_dict,
    decide_access,
    export_case,
    get_case,
    list_cases,
    open_case,
    request_access,
)
from custodes.cli.main import app
from custodes.cli.options import DEFAULT_DATA_DIR, DataDir, fail, output, user_errors
from custodes.cli.oversight import ActorName, Purpose
from custodes.cli.oversight import cli_actor as actor_of
from custodes.oversight import Door, load_policy
from custodes.store import open_control

case_app = typer.Typer(help="Cases: open, note, share, hand over, export.", no_args_is_help=True)
app.add_typer(case_app, name="case")
Reason = Annotated[str, typer.Option("--reason", help="Why (recorded).")]


def need(data_dir: Path) -> None:
    """Refuse a missing data directory."""
    if not data_dir.is_dir():
        fail(f"no data directory at {data_dir}: run `custodes ingest` first or pass --data-dir")


@case_app.command("unit")
def unit_command(
    name: str,
    kind: Annotated[
        str, typer.Option(help="security, investigative, oversight or other.")
    ] = "security",
    member: Annotated[list[str] | None, typer.Option(help="A member (repeat).")] = None,
    data_dir: DataDir = DEFAULT_DATA_DIR,
) -> None:
    """Create a unit or add members to it."""
    need(data_dir)
    with user_errors(), open_control(data_dir) as control:
        add_unit(control, name, kind, member or [])
    typer.echo(f"unit {name} ({kind}): {', '.join(member or []) or 'no new members'}")


@case_app.command("create")
def create(
    title: Annotated[str, typer.Option(help="What the case is about.")],
    unit: Annotated[str, typer.Option(help="The unit that holds it.")] = "security",
    type: Annotated[
        str, typer.Option(help="incident, investigation, review, disclosure.")
    ] = "incident",
    severity: Annotated[str, typer.Option(help="low, medium, high, critical.")] = "medium",
    legal_basis: Annotated[str | None, typer.Option(help="Needed for investigations.")] = None,
    alert: Annotated[list[int] | None, typer.Option(help="An alert to add (repeat).")] = None,
    data_dir: DataDir = DEFAULT_DATA_DIR,
    actor: ActorName = None,
) -> None:
    """Open a case."""
    need(data_dir)
    with user_errors(), open_control(data_dir) as control:
        who = actor_of(control, actor)
        case = open_case(
            control,
            who,
            title=title,
            unit=unit,
            type=type,
            severity=severity,
            legal_basis=legal_basis,
        )
        for alert_id in alert or []:
            add_alert(control, who, case.id, alert_id)
    typer.echo(case.id)


@case_app.command("list")
def list_command(
    status: Annotated[str | None, typer.Option(help="open, in-progress, closed.")] = None,
    data_dir: DataDir = DEFAULT_DATA_DIR,
    actor: ActorName = None,
) -> None:
    """The cases you may see."""
    need(data_dir)
    with user_errors(), open_control(data_dir) as control:
        cases = list_cases(control, actor_of(control, actor), status=status)
    table = Table(title="Cases")
    for name in ("id", "title", "type", "severity", "status", "owner", "unit", "opened"):
        table.add_column(name)
    for case in cases:
        table.add_row(
            case.id,
            case.title,
            case.type,
            case.severity,
            case.status,
            case.owner,
            case.unit,
            case.created_at.strftime("%Y-%m-%d %H:%M"),
        )
    output().print(table)


@case_app.command("show")
def show(case_id: str, data_dir: DataDir = DEFAULT_DATA_DIR, actor: ActorName = None) -> None:
    """A case as JSON: fields, items, shares, history."""
    need(data_dir)
    with user_errors(), open_control(data_dir) as control:
        case = get_case(control, actor_of(control, actor), case_id)
        typer.echo(json.dumps(case_to_dict(control, case), indent=2, default=str))


@case_app.command("add-alert")
def add_alert_command(
    case_id: str, alert_id: int, data_dir: DataDir = DEFAULT_DATA_DIR, actor: ActorName = None
) -> None:
    """Add an alert to a case."""
    need(data_dir)
    with user_errors(), open_control(data_dir) as control:
        item = add_alert(control, actor_of(control, actor), case_id, alert_id)
    typer.echo(f"alert {alert_id} added to {case_id} (item {item.id})")


@case_app.command("note")
def note(
    case_id: str, text: str, data_dir: DataDir = DEFAULT_DATA_DIR, actor: ActorName = None
) -> None:
    """Add a note to a case."""
    need(data_dir)
    with user_errors(), open_control(data_dir) as control:
        item = add_note(control, actor_of(control, actor), case_id, text)
    typer.echo(f"note {item.id} added to {case_id}")


@case_app.command("task")
def task(
    case_id: str, text: str, data_dir: DataDir = DEFAULT_DATA_DIR, actor: ActorName = None
) -> None:
    """Add a task to a case."""
    need(data_dir)
    with user_errors(), open_control(data_dir) as control:
        item = add_item(control, actor_of(control, actor), case_id, "task", text=text)
    typer.echo(f"task {item.id} added to {case_id}")


@case_app.command("attach")
def attach(
    case_id: str,
    file: Annotated[Path, typer.Argument(exists=True, dir_okay=False, help="The file to keep.")],
    data_dir: DataDir = DEFAULT_DATA_DIR,
    actor: ActorName = None,
) -> None:
    """Keep a file with a case (stored under its SHA-256, the hash in the history)."""
    need(data_dir)
    with user_errors(), open_control(data_dir) as control:
        item = add_attachment(
            control, data_dir, actor_of(control, actor), case_id, file.name, file.read_bytes()
        )
    typer.echo(f"{file.name} attached to {case_id}: sha256 {item.ref}")


def access_command(
    kind: str,
    case_id: str,
    unit: str,
    reason: str,
    legal_basis: str | None,
    data_dir: Path,
    actor: str | None,
) -> None:
    """Share or hand over, per the policy's approvals."""
    need(data_dir)
    with user_errors(), open_control(data_dir) as control:
        approvals = CaseApprovals.from_policy(load_policy(data_dir))
        row = request_access(
            control,
            data_dir,
            actor_of(control, actor),
            case_id,
            unit,
            kind,
            approvals,
            reason=reason,
            legal_basis=legal_basis,
        )
    waiting = " (waits for approval: custodes case decide)" if row.status == "pending" else ""
    typer.echo(f"{kind} {row.id} of {case_id} to {unit}: {row.status}{waiting}")


@case_app.command("share")
def share(
    case_id: str,
    unit: str,
    reason: Reason = "",
    data_dir: DataDir = DEFAULT_DATA_DIR,
    actor: ActorName = None,
) -> None:
    """Share a case with another unit (recorded in the access ledger)."""
    access_command("share", case_id, unit, reason, None, data_dir, actor)


@case_app.command("handover")
def handover(
    case_id: str,
    unit: str,
    legal_basis: Annotated[
        str | None, typer.Option(help="The legal basis of the hand-over.")
    ] = None,
    reason: Reason = "",
    data_dir: DataDir = DEFAULT_DATA_DIR,
    actor: ActorName = None,
) -> None:
    """Hand a case over to an investigative unit (needs approval where the policy says so)."""
    access_command("handover", case_id, unit, reason, legal_basis, data_dir, actor)


@case_app.command("decide")
def decide_command(
    access_id: int,
    approve: Annotated[bool, typer.Option("--approve/--refuse", help="The decision.")],
    reason: Reason = "",
    data_dir: DataDir = DEFAULT_DATA_DIR,
    actor: ActorName = None,
) -> None:
    """Approve or refuse a pending share or hand-over."""
    need(data_dir)
    with user_errors(), open_control(data_dir) as control:
        approvals = CaseApprovals.from_policy(load_policy(data_dir))
        row = decide_access(
            control,
            data_dir,
            actor_of(control, actor),
            access_id,
            approvals,
            approve=approve,
            reason=reason,
        )
    typer.echo(f"{row.kind} {row.id} of {row.case_id} to {row.unit}: {row.status}")


@case_app.command("export")
def export(
    case_id: str,
    out: Annotated[Path, typer.Option("--out", help="The package to write (.zip).")],
    data_dir: DataDir = DEFAULT_DATA_DIR,
    actor: ActorName = None,
    purpose: Purpose = None,
) -> None:
    """Write the case's evidence package (verify with python -m custodes.ledger.verify_package)."""
    need(data_dir)
    with user_errors(), open_control(data_dir) as control:
        summary = export_case(
            control,
            data_dir,
            Door(data_dir, control),
            actor_of(control, actor),
            case_id,
            out,
            purpose=purpose or "investigation",
        )
    typer.echo(
        f"wrote {summary.path}: {summary.events} events, {summary.documents} case documents,"
        f" signed by key {summary.key_id}"
    )
