"""`custodes policy|reveal|retention|report|access-log|watchers`: oversight from the command line.

The CLI acts as `--actor` (default: the login name); a name not among the users is an analyst.
"""

from __future__ import annotations

import getpass
import json
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from custodes.cli.main import app
from custodes.cli.options import DEFAULT_DATA_DIR, DataDir, fail, user_errors
from custodes.errors import CustodesError
from custodes.oversight import (
    AccessEntry,
    RevealRequest,
    append_entry,
    decide,
    entry_to_dict,
    list_entries,
    list_requests,
    load_policy,
    request_reveal,
)
from custodes.oversight.grants import request_to_dict
from custodes.oversight.policy import digest, install_policy, policy_from_hints, policy_text
from custodes.store.control import Control, open_control
from custodes.store.users import Role, User, find_user

ActorName = Annotated[
    str | None,
    typer.Option("--actor", envvar="CUSTODES_ACTOR", help="Who is acting (a Custodes user)."),
]
console = Console()

policy_app = typer.Typer(help="The policy: show, check, apply (recorded).", no_args_is_help=True)
reveal_app = typer.Typer(help="Identity reveals: request, approve, refuse.", no_args_is_help=True)
retention_app = typer.Typer(help="Retention: plan and run purges.", no_args_is_help=True)
report_app = typer.Typer(help="Reports for oversight.", no_args_is_help=True)
app.add_typer(policy_app, name="policy")
app.add_typer(reveal_app, name="reveal")
app.add_typer(retention_app, name="retention")
app.add_typer(report_app, name="report")


Purpose = Annotated[
    str | None,
    typer.Option("--purpose", help="Declared purpose (policy); default security-monitoring."),
]
CaseId = Annotated[
    str | None, typer.Option("--case", help="Case id, to see people your grants reveal.")
]


def purpose_for(purpose: str | None, case_id: str | None) -> str:
    """The declared purpose, else `investigation` with a case and monitoring without."""
    return purpose or ("investigation" if case_id else "security-monitoring")


def cli_actor(control: Control, name: str | None) -> User:
    """The acting user: a known user with their role, else an analyst of that name."""
    name = name or getpass.getuser()
    try:
        return find_user(control, name)
    except CustodesError:
        return User(name=name, role=Role.ANALYST, kind="cli")


@policy_app.command("show")
def policy_show(data_dir: DataDir = DEFAULT_DATA_DIR) -> None:
    """Print the policy in force."""
    typer.echo(policy_text(data_dir), nl=False)


@policy_app.command("check")
def policy_check(path: Path) -> None:
    """Validate a policy file (errors name the key)."""
    from custodes.oversight import parse_policy

    with user_errors():
        parse_policy(read_text(path), source=str(path))
    console.print(f"[green]valid[/green] {path}", highlight=False)


@policy_app.command("apply")
def policy_apply(
    path: Path,
    reason: Annotated[str, typer.Option("--reason", help="Why the policy changes (recorded).")],
    data_dir: DataDir = DEFAULT_DATA_DIR,
    actor: ActorName = None,
) -> None:
    """Install a policy; the change is an access-ledger entry with who and why."""
    if not reason.strip():
        fail("--reason must say why")
    with user_errors(), open_control(data_dir) as control:
        text = read_text(path)
        who = cli_actor(control, actor)
        if who.role is not Role.ADMIN and who.kind != "cli":
            fail(f"only an admin may change the policy ({who.name} is {who.role.value})")
        before = digest(policy_text(data_dir))
        install_policy(data_dir, text)
        append_entry(
            control,
            data_dir,
            AccessEntry(
                actor=who.name,
                role=who.role.value,
                action="policy-apply",
                details={"reason": reason, "from": before, "to": digest(text), "file": str(path)},
            ),
        )
    console.print(f"[green]policy applied[/green] ({digest(text)[:12]})", highlight=False)


@policy_app.command("from-hints")
def policy_hints(
    hints: Path,
    out: Annotated[Path, typer.Option("--out", help="The policy.yaml to write.")],
) -> None:
    """Write a policy from the demo's policy-hints.json (protected channels, working hours)."""
    with user_errors():
        try:
            document = json.loads(read_text(hints))
        except ValueError as error:
            fail(f"{hints} is not JSON: {error}")
        out.write_text(policy_from_hints(document))
    console.print(f"[green]wrote[/green] {out}", highlight=False)


def read_text(path: Path) -> str:
    """A file's text, or a one-line error."""
    try:
        return path.read_text()
    except OSError as error:
        fail(f"cannot read {path}: {error.strerror}")


@reveal_app.command("request")
def reveal_request(
    case: Annotated[str, typer.Option("--case", help="The case the reveal is for.")],
    subject: Annotated[str, typer.Option("--subject", help="The pseudonym, e.g. usr-3f9a1c2b.")],
    legal_basis: Annotated[str, typer.Option("--legal-basis", help="The legal basis.")],
    justification: Annotated[str, typer.Option("--justification", help="Why it is needed.")],
    scope: Annotated[str, typer.Option(help="What the grant covers.")] = "case",
    days: Annotated[int, typer.Option(help="Grant length once approved.")] = 7,
    data_dir: DataDir = DEFAULT_DATA_DIR,
    actor: ActorName = None,
) -> None:
    """Ask to see who is behind a pseudonym, for a case (another person must approve)."""
    with user_errors(), open_control(data_dir) as control:
        who = cli_actor(control, actor)
        row = request_reveal(
            control,
            data_dir,
            load_policy(data_dir),
            who,
            RevealRequest(case, subject, legal_basis, justification, scope, days),
        )
    console.print(f"reveal request {row.id} filed; it waits for oversight", highlight=False)


def decide_command(
    request_id: int, approve: bool, reason: str, data_dir: Path, actor: str | None
) -> None:
    """Approve or refuse, as the acting user."""
    with user_errors(), open_control(data_dir) as control:
        who = cli_actor(control, actor)
        row = decide(
            control,
            data_dir,
            load_policy(data_dir),
            who,
            request_id,
            approve=approve,
            reason=reason,
        )
    console.print(f"reveal request {row.id} {row.status} by {who.name}", highlight=False)


@reveal_app.command("approve")
def reveal_approve(
    request_id: int,
    reason: Annotated[str, typer.Option(help="Recorded with the decision.")] = "",
    data_dir: DataDir = DEFAULT_DATA_DIR,
    actor: ActorName = None,
) -> None:
    """Approve a pending request (oversight; never its requester): a time-limited grant."""
    decide_command(request_id, True, reason, data_dir, actor)


@reveal_app.command("refuse")
def reveal_refuse(
    request_id: int,
    reason: Annotated[str, typer.Option(help="Recorded with the decision.")] = "",
    data_dir: DataDir = DEFAULT_DATA_DIR,
    actor: ActorName = None,
) -> None:
    """Refuse a pending request (oversight; never its requester)."""
    decide_command(request_id, False, reason, data_dir, actor)


@reveal_app.command("list")
def reveal_list(
    status: Annotated[str | None, typer.Option(help="pending, approved or refused.")] = None,
    data_dir: DataDir = DEFAULT_DATA_DIR,
) -> None:
    """Reveal requests, newest first, as JSON lines."""
    with user_errors(), open_control(data_dir) as control:
        for row in list_requests(control, status=status):
            typer.echo(json.dumps(request_to_dict(row)))


@app.command("access-log")
def access_log(
    data_dir: DataDir = DEFAULT_DATA_DIR,
    actor: Annotated[str | None, typer.Option("--by", help="Only this actor.")] = None,
    action: Annotated[str | None, typer.Option(help="Only this action.")] = None,
    limit: Annotated[int, typer.Option(min=1)] = 100,
) -> None:
    """The access ledger, newest first, as JSON lines."""
    with user_errors(), open_control(data_dir) as control:
        for row in list_entries(control, actor=actor, action=action, limit=limit):
            typer.echo(json.dumps(entry_to_dict(row)))


@app.command("watchers")
def watchers(data_dir: DataDir = DEFAULT_DATA_DIR) -> None:
    """Run the checks over the access ledger; print the watchers' alerts."""
    from custodes.oversight.watchers import list_watcher_alerts, run_watchers

    with user_errors(), open_control(data_dir) as control:
        raised = run_watchers(control, data_dir, load_policy(data_dir))
        for alert in list_watcher_alerts(control):
            typer.echo(json.dumps(alert))
    console.print(f"{raised} new watcher alert(s)", highlight=False)


@retention_app.command("plan")
def retention_plan(
    data_dir: DataDir = DEFAULT_DATA_DIR,
    today: Annotated[str | None, typer.Option(help="Plan as of this day (YYYY-MM-DD).")] = None,
) -> None:
    """What retention says of each lake partition; what `run` would purge."""
    from custodes.oversight.retention import plan

    with user_errors():
        planned = plan(data_dir, load_policy(data_dir), today=as_day(today))
    table = Table(title="retention plan")
    for column in ("dataset", "date", "files", "state", "hold"):
        table.add_column(column)
    for item in planned:
        table.add_row(
            item.dataset, str(item.day), str(len(item.files)), item.state, item.hold or ""
        )
    console.print(table)
    due = [item for item in planned if item.state == "purge"]
    console.print(f"{len(due)} partition(s) would be purged", highlight=False)


@retention_app.command("run")
def retention_run(
    data_dir: DataDir = DEFAULT_DATA_DIR,
    today: Annotated[str | None, typer.Option(help="Run as of this day (YYYY-MM-DD).")] = None,
    actor: ActorName = None,
) -> None:
    """Purge partitions past retention (legal holds kept), each recorded in the ledger."""
    from custodes.ledger import Ledger
    from custodes.oversight.retention import run

    with user_errors(), open_control(data_dir) as control, Ledger(data_dir) as ledger:
        purged = run(data_dir, load_policy(data_dir), ledger, today=as_day(today))
        who = cli_actor(control, actor)
        for item in purged:
            append_entry(
                control,
                data_dir,
                AccessEntry(
                    actor=who.name,
                    role=who.role.value,
                    action="retention-purge",
                    details={"dataset": item.dataset, "date": item.day.isoformat()},
                    rows=len(item.files),
                ),
            )
    console.print(f"{len(purged)} partition(s) purged", highlight=False)


def as_day(text: str | None) -> date:
    """A day given on the command line, or today (UTC)."""
    if text is None:
        return datetime.now(UTC).date()
    try:
        return date.fromisoformat(text)
    except ValueError:
        fail(f"expected a day like 2026-11-26, not {text!r}")


@report_app.command("transparency")
def transparency_command(
    period: Annotated[str, typer.Option(help="YYYY, YYYY-MM or DAY..DAY.")],
    format: Annotated[str, typer.Option("--format", help="json or html.")] = "json",
    out: Annotated[Path | None, typer.Option(help="Write here instead of printing.")] = None,
    data_dir: DataDir = DEFAULT_DATA_DIR,
) -> None:
    """Counts for the public: collected, alerts, reveals, exports, withheld, purged."""
    from custodes.oversight.reports import parse_period, render_html, transparency

    if format not in ("json", "html"):
        fail(f"--format must be json or html, not {format!r}")
    with user_errors(), open_control(data_dir) as control:
        first, last = parse_period(period)
        report = transparency(data_dir, control, load_policy(data_dir), first, last)
    text = json.dumps(report, indent=2) if format == "json" else render_html(report)
    if out is None:
        typer.echo(text)
    else:
        out.write_text(text)
