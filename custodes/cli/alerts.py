"""`custodes alerts list|show|ack|close|suppress|suppressions|revoke`: alerts from the terminal."""

from __future__ import annotations

import os
from collections.abc import Sequence
from datetime import UTC, datetime
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any

import orjson
import typer
from rich.console import Console
from rich.table import Table

from custodes.cli.main import app
from custodes.cli.options import DEFAULT_DATA_DIR, DataDir, fail, user_errors
from custodes.cli.oversight import ActorName, CaseId, Purpose, cli_actor, purpose_for
from custodes.oversight import Door
from custodes.store.alerts import get_alert, list_alerts, set_alert_status
from custodes.store.control import open_control
from custodes.store.query import parse_time
from custodes.store.suppressions import (
    add_suppression,
    list_suppressions,
    parse_expiry,
    revoke_suppression,
    suppress_alert,
)

alerts_app = typer.Typer(
    help="Alerts raised by detection: list, show, acknowledge, suppress.", no_args_is_help=True
)
app.add_typer(alerts_app, name="alerts")
console = Console()
LEVEL_STYLES = {"critical": "bold red", "high": "red", "medium": "yellow", "low": "cyan"}


class OutputFormat(StrEnum):
    """How alerts are printed."""

    table = "table"
    jsonl = "jsonl"


def configured_rules(paths: Sequence[Path] | None) -> list[Path]:
    """Rules to detect with on ingest: those given, else $CUSTODES_RULES (may be none)."""
    if paths:
        return list(paths)
    return [Path(p) for p in os.environ.get("CUSTODES_RULES", "").split(os.pathsep) if p]


def print_detection_totals(listeners: Sequence[object]) -> None:
    """After an ingest: what detection raised, when a detection step was registered."""
    from custodes.detect.engine import Detection

    for listener in listeners:
        if isinstance(listener, Detection):
            totals = listener.totals
            console.print(
                f"detection: {totals.hits:,} rule hits, {totals.created:,} new alerts, "
                f"{totals.grouped:,} grouped into existing, {totals.suppressed:,} suppressed, "
                f"{totals.correlation_matches:,} correlation matches",
                highlight=False,
            )
            for error in listener.refused:
                console.print(f"[yellow]correlation not run[/yellow] {error}", highlight=False)


def now() -> datetime:
    """The wall clock in UTC."""
    return datetime.now(UTC)


def print_alerts(alerts: Sequence[dict[str, Any]], format: OutputFormat) -> None:
    """Alerts (as the one door shows them) as a table or JSON lines."""
    if format is OutputFormat.jsonl:
        for alert in alerts:
            typer.echo(orjson.dumps(alert).decode())
        return
    table = Table("id", "level", "status", "title", "host", "user", "count", "last seen")
    for alert in alerts:
        table.add_row(
            str(alert["id"]),
            f"[{LEVEL_STYLES.get(alert['level'], '')}]{alert['level']}[/]",
            alert["status"],
            alert["title"],
            alert["host_name"] or "",
            alert["user_name"] or "",
            str(alert["count"]),
            alert["last_seen_at"][:19],
        )
    console.print(table)
    console.print(f"{len(alerts)} alerts")


@alerts_app.command("list")
def list_command(
    data_dir: DataDir = DEFAULT_DATA_DIR,
    level: Annotated[
        str | None, typer.Option(help="This level or above: low, medium, high, critical.")
    ] = None,
    status: Annotated[str | None, typer.Option(help="open, acknowledged or closed.")] = None,
    rule: Annotated[str | None, typer.Option(help="Only this rule id.")] = None,
    since: Annotated[str | None, typer.Option(help="Last seen since: 2024-05-01, 24h, 7d.")] = None,
    limit: Annotated[int, typer.Option(help="At most this many, newest first.")] = 1000,
    format: Annotated[OutputFormat, typer.Option("--format", help="Output format.")] = (
        OutputFormat.table
    ),
    actor: ActorName = None,
    purpose: Purpose = None,
    case: CaseId = None,
) -> None:
    """List alerts, most recently seen first (people pseudonymised unless granted)."""
    with user_errors(), open_control(data_dir) as control:
        alerts = list_alerts(
            control,
            min_level=level,
            status=status,
            rule_id=rule,
            since=parse_time(since) if since else None,
            limit=limit,
        )
        shown = Door(data_dir, control).read_alerts(
            cli_actor(control, actor),
            purpose_for(purpose, case),
            [alert.to_dict() for alert in alerts],
            case,
        )
    print_alerts(shown, format)


@alerts_app.command("show")
def show_command(
    alert_id: Annotated[int, typer.Argument(help="The alert id (from `alerts list`).")],
    data_dir: DataDir = DEFAULT_DATA_DIR,
    format: Annotated[OutputFormat, typer.Option("--format", help="Output format.")] = (
        OutputFormat.table
    ),
    actor: ActorName = None,
    purpose: Purpose = None,
    case: CaseId = None,
) -> None:
    """Show one alert with everything it holds, including every event id."""
    with user_errors(), open_control(data_dir) as control:
        alert = get_alert(control, alert_id)
        (shown,) = Door(data_dir, control).read_alerts(
            cli_actor(control, actor), purpose_for(purpose, case), [alert.to_dict()], case
        )
    if format is OutputFormat.jsonl:
        typer.echo(orjson.dumps(shown).decode())
        return
    table = Table("field", "value", show_header=False)
    event_ids = shown.pop("event_ids")
    for name, value in shown.items():
        text = value if isinstance(value, str) else orjson.dumps(value).decode()
        table.add_row(name, text)
    console.print(table)
    console.print(
        f"{len(event_ids)} events (look one up: custodes search --where \"event.id = '<id>'\")"
    )
    for event_id in event_ids:
        typer.echo(event_id)


def change_status(data_dir: Path, alert_id: int, status: str) -> None:
    """Set an alert's status and say so."""
    with user_errors(), open_control(data_dir) as control:
        actor = cli_actor(control, None).name  # the login name, recorded as who did it
        alert = set_alert_status(control, alert_id, status, now=now(), actor=actor)
    console.print(f"alert {alert.id} ({alert.title}) is now {alert.status}", highlight=False)


@alerts_app.command("ack")
def ack_command(
    alert_id: Annotated[int, typer.Argument(help="The alert id.")],
    data_dir: DataDir = DEFAULT_DATA_DIR,
) -> None:
    """Acknowledge an alert: someone is looking at it (new matches still group into it)."""
    change_status(data_dir, alert_id, "acknowledged")


@alerts_app.command("close")
def close_command(
    alert_id: Annotated[int, typer.Argument(help="The alert id.")],
    data_dir: DataDir = DEFAULT_DATA_DIR,
) -> None:
    """Close an alert; a later match of the same rule opens a new one."""
    change_status(data_dir, alert_id, "closed")


@alerts_app.command("suppress")
def suppress_command(
    justification: Annotated[str, typer.Option(help="Why these alerts are not a threat.")],
    owner: Annotated[str, typer.Option(help="Who answers for this suppression.")],
    expires: Annotated[str, typer.Option(help="When it ends: 30d, 12h, 2w or 2026-12-31.")],
    rule: Annotated[str | None, typer.Option(help="Suppress this rule id.")] = None,
    alert: Annotated[int | None, typer.Option(help="Suppress this alert's rule/host/user.")] = None,
    host: Annotated[list[str] | None, typer.Option(help="Only on this host (repeatable).")] = None,
    user: Annotated[list[str] | None, typer.Option(help="Only for this user (repeatable).")] = None,
    data_dir: DataDir = DEFAULT_DATA_DIR,
) -> None:
    """Stop storing matching alerts until the expiry; each one stopped is counted."""
    if (rule is None) == (alert is None):
        fail("give exactly one of --rule ID or --alert ID")
    moment = now()
    with user_errors(), open_control(data_dir) as control:
        expires_at = parse_expiry(expires, now=moment)
        if alert is not None:
            if host or user:
                fail("--host/--user go with --rule; --alert takes the alert's own host and user")
            made = suppress_alert(
                control,
                alert,
                justification=justification,
                owner=owner,
                expires_at=expires_at,
                now=moment,
            )
        else:
            made = add_suppression(
                control,
                rule_id=rule,
                conditions={"host_name": host or [], "user_name": user or []},
                justification=justification,
                owner=owner,
                expires_at=expires_at,
                now=moment,
            )
    console.print(
        f"suppression {made.id}: rule {made.rule_id or 'any'} {made.conditions or ''} "
        f"until {made.expires_at.isoformat(timespec='minutes')}, owner {made.owner}",
        highlight=False,
    )


@alerts_app.command("suppressions")
def suppressions_command(
    data_dir: DataDir = DEFAULT_DATA_DIR,
    all: Annotated[bool, typer.Option("--all", help="Include expired and revoked ones.")] = False,
    format: Annotated[OutputFormat, typer.Option("--format", help="Output format.")] = (
        OutputFormat.table
    ),
) -> None:
    """List suppressions with how many alerts each has stopped."""
    moment = now()
    with user_errors(), open_control(data_dir) as control:
        found = list_suppressions(control, now=moment, include_inactive=all)
    if format is OutputFormat.jsonl:
        for item in found:
            typer.echo(orjson.dumps({**item.to_dict(), "active": item.is_active(moment)}).decode())
        return
    table = Table("id", "rule", "conditions", "owner", "expires", "suppressed", "active", "why")
    for item in found:
        table.add_row(
            str(item.id),
            item.rule_id or "any",
            orjson.dumps(item.conditions).decode() if item.conditions else "",
            item.owner,
            item.expires_at.isoformat(timespec="minutes"),
            str(item.suppressed_count),
            "yes" if item.is_active(moment) else "no",
            item.justification,
        )
    console.print(table)


@alerts_app.command("revoke")
def revoke_command(
    suppression_id: Annotated[int, typer.Argument(help="The suppression id.")],
    data_dir: DataDir = DEFAULT_DATA_DIR,
) -> None:
    """End a suppression now (it stays listed with --all, with its counter)."""
    with user_errors(), open_control(data_dir) as control:
        item = revoke_suppression(control, suppression_id, now=now())
    console.print(f"suppression {item.id} revoked", highlight=False)
