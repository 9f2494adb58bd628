"""`custodes verify`, `custodes export-evidence` and `custodes ledger ...`: the evidence ledger."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

from custodes.cli.main import app
from custodes.cli.options import DEFAULT_DATA_DIR, DataDir, fail, user_errors
from custodes.cli.oversight import ActorName, CaseId, Purpose, cli_actor, purpose_for
from custodes.ledger import Ledger, export_evidence, verify_store
from custodes.oversight import Door, EventQuery, verify_access_log
from custodes.oversight.access import fetch
from custodes.store import open_control, parse_time

ledger_app = typer.Typer(help="Manage the evidence ledger's signing keys.", no_args_is_help=True)
app.add_typer(ledger_app, name="ledger")
console = Console(stderr=True)


@app.command()
def verify(
    data_dir: DataDir = DEFAULT_DATA_DIR,
    since: Annotated[
        str | None,
        typer.Option(help="Only lake files holding events from this day on (2024-05-01, 7d)."),
    ] = None,
    incremental: Annotated[
        bool,
        typer.Option("--incremental", help="Re-read only files added since the last clean verify."),
    ] = False,
    as_json: Annotated[
        bool, typer.Option("--json", help="Print the JSON report even when intact.")
    ] = False,
    nodes: Annotated[
        list[Path] | None,
        typer.Option("--node", help="Each ingest node's data directory (one shared lake)."),
    ] = None,
) -> None:
    """Check every stored event against the signed ledger; exit 1 with a JSON report if not."""
    if nodes:  # several ingest nodes on one lake: their ledgers taken together (docs/scale.md)
        from custodes.cli.scale import verify as verify_nodes

        verify_nodes(nodes, json=as_json)
        return
    with user_errors():
        start = parse_time(since) if since is not None else None
        columns = (
            TextColumn("verifying"),
            BarColumn(),
            MofNCompleteColumn(),
            TextColumn("events"),
            TimeRemainingColumn(),
        )
        with Progress(*columns, console=console, transient=True) as progress:
            task = progress.add_task("verify", total=None)

            def advance(done: int, total: int) -> None:
                progress.update(task, completed=done, total=total)

            report = verify_store(data_dir, since=start, incremental=incremental, progress=advance)
        access_faults = verify_access(data_dir)
    if access_faults:
        typer.echo(json.dumps({"access_ledger_faults": access_faults}, indent=2))
        console.print(f"[red]{len(access_faults)} access-ledger fault(s)[/red]", highlight=False)
        raise typer.Exit(1)
    if as_json or not report.is_intact:
        typer.echo(json.dumps(report.to_dict(), indent=2))
    if not report.is_intact:
        console.print(f"[red]{len(report.faults)} fault(s) found[/red]", highlight=False)
        raise typer.Exit(1)
    console.print(
        f"[green]intact:[/green] {report.events_checked} events in {report.files_checked} "
        f"files checked ({report.files_skipped} skipped, {report.files_purged} purged), "
        f"{report.heads} signed heads, tree size {report.tree_size}",
        highlight=False,
    )


def verify_access(data_dir: Path) -> list[str]:
    """Faults in the access ledger (none when there is no control database yet)."""
    if not (data_dir / "control.db").exists():
        return []
    with open_control(data_dir) as control:
        return verify_access_log(control, data_dir)


@app.command("export-evidence")
def export_evidence_command(
    out: Annotated[Path, typer.Option("--out", help="The package to write (.zip).")],
    data_dir: DataDir = DEFAULT_DATA_DIR,
    event_id: Annotated[
        list[str] | None, typer.Option("--event-id", help="An event id (repeatable).")
    ] = None,
    where: Annotated[
        str | None, typer.Option(help="Events matching this filter (as `custodes search`).")
    ] = None,
    limit: Annotated[int, typer.Option(min=1, help="At most this many events for --where.")] = (
        10_000
    ),
    actor: ActorName = None,
    purpose: Purpose = None,
    case: CaseId = None,
) -> None:
    """Write the events, their inclusion proofs, the signed head and its public key to a zip.

    The package holds events as stored, so the one door allows it only for a case whose every
    person the actor holds a reveal grant for; the export is recorded in the access ledger.
    """
    if not event_id and where is None:
        fail("give --event-id or --where")
    with user_errors(), open_control(data_dir) as control:
        query = EventQuery(event_ids=tuple(event_id or ()), where=where, limit=limit, kind="export")
        table = fetch(data_dir, query)
        Door(data_dir, control).authorise_export(
            cli_actor(control, actor),
            purpose_for(purpose, case),
            case,
            table,
            query=query.to_dict(),
        )
        summary = export_evidence(data_dir, out, event_ids=event_id or [], where=where, limit=limit)
    console.print(
        f"[green]wrote[/green] {summary.path}: {summary.events} events proved in tree "
        f"{summary.tree_size}, key {summary.key_id}. Check it with: "
        f"python -m custodes.ledger.verify_package {summary.path}",
        highlight=False,
    )


@ledger_app.command("rotate-key")
def rotate_key(data_dir: DataDir = DEFAULT_DATA_DIR) -> None:
    """Retire the signing key for a new one (old heads stay verifiable by their public key)."""
    with user_errors(), Ledger(data_dir) as ledger:
        key_id = ledger.rotate_key()
    console.print(f"[green]signing key is now[/green] {key_id}", highlight=False)


@ledger_app.command("public-keys")
def public_keys(data_dir: DataDir = DEFAULT_DATA_DIR) -> None:
    """Print every public key that signed heads here, by key id (publish them)."""
    from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

    from custodes.ledger import KeyRing

    ring = KeyRing.for_data_dir(data_dir)
    current = ring.current_id()
    for key_id, key in ring.public_keys().items():
        marker = " (current)" if key_id == current else ""
        typer.echo(f"# key id {key_id}{marker}")
        typer.echo(key.public_bytes(Encoding.PEM, PublicFormat.SubjectPublicKeyInfo).decode())
