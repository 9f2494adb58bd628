"""`custodes posture import|run|findings|report`: sources of truth, checks, the audit report."""

from __future__ import annotations

from datetime import UTC, datetime
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import orjson
import typer
from rich.console import Console
from rich.table import Table

from custodes.cli.main import app
from custodes.cli.options import DEFAULT_DATA_DIR, DataDir, fail, user_errors
from custodes.posture import ImportRequest, import_reference, load_posture_settings
from custodes.posture.report import build_report, render_html, render_pdf
from custodes.posture.run import refresh_sources, run_posture
from custodes.posture.store import list_findings
from custodes.store.control import open_control

posture_app = typer.Typer(
    help="Posture: departed staff's accounts, privileged access, mobile devices.",
    no_args_is_help=True,
)
app.add_typer(posture_app, name="posture")
console = Console()

FileOption = Annotated[Path | None, typer.Option(exists=False, dir_okay=False)]
ConfigOption = Annotated[
    Path | None,
    typer.Option("--config", envvar="CUSTODES_CONFIG", help="custodes.yaml (its posture: key)."),
]
NowOption = Annotated[
    str | None, typer.Option("--now", help="Evaluate as of this ISO time (default: the clock).")
]


class ReportFormat(StrEnum):
    """How the report is written."""

    html = "html"
    json = "json"
    pdf = "pdf"


def parse_now(text: str | None) -> datetime:
    """The clock, or the --now given."""
    if text is None:
        return datetime.now(UTC)
    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        fail(f"--now must be an ISO time like 2026-11-05T00:00:00Z, not {text!r}")
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


@posture_app.command("import")
def import_command(
    data_dir: DataDir = DEFAULT_DATA_DIR,
    roster: Annotated[Path | None, typer.Option(help="HR roster, CSV or JSON.")] = None,
    accounts: Annotated[Path | None, typer.Option(help="Directory export (JSON).")] = None,
    privileged: Annotated[Path | None, typer.Option(help="Approved privileged access.")] = None,
    devices: Annotated[Path | None, typer.Option(help="MDM inventory (JSON).")] = None,
    travel: Annotated[Path | None, typer.Option(help="Registered travel (JSON).")] = None,
    linux_groups: Annotated[
        Path | None, typer.Option(help="Linux group members per host (JSON).")
    ] = None,
    passwd: Annotated[Path | None, typer.Option(help="/etc/passwd of one host.")] = None,
    group: Annotated[Path | None, typer.Option(help="/etc/group of one host.")] = None,
    host: Annotated[str | None, typer.Option(help="The host of --passwd/--group.")] = None,
) -> None:
    """Import sources of truth; every row is validated and a bad file stores nothing."""
    request = ImportRequest(
        roster, accounts, privileged, devices, travel, linux_groups, passwd, group, host
    )
    if not any(vars(request)[name] for name in vars(request) if name != "host"):
        fail("give at least one file: --roster, --accounts, --privileged, --devices, --travel, ...")
    with user_errors():
        result = import_reference(data_dir, request)
    for name, rows in result.rows.items():
        console.print(f"{name}: {rows:,} row(s)")


@posture_app.command("run")
def run_command(
    data_dir: DataDir = DEFAULT_DATA_DIR, config: ConfigOption = None, now: NowOption = None
) -> None:
    """Run every check now; print the findings per check and what changed."""
    with user_errors():
        settings = load_posture_settings(config)
        refreshed = refresh_sources(data_dir, settings)
        control = open_control(data_dir)
        summary = run_posture(data_dir, control, settings, now=parse_now(now))
    if refreshed is not None:
        console.print("re-imported " + ", ".join(f"{k} ({n:,})" for k, n in refreshed.rows.items()))
    table = Table(title=f"posture run {summary.run_id} at {summary.ran_at:%Y-%m-%d %H:%M}Z")
    table.add_column("check")
    table.add_column("findings", justify="right")
    for check, count in sorted(summary.counts.items()):
        table.add_row(check, str(count))
    console.print(table)
    console.print(f"opened {summary.opened}, resolved {summary.resolved}")


@posture_app.command("findings")
def findings_command(
    data_dir: DataDir = DEFAULT_DATA_DIR,
    check: Annotated[str | None, typer.Option(help="Only this check.")] = None,
    resolved: Annotated[bool, typer.Option("--resolved", help="Include resolved ones.")] = False,
    as_json: Annotated[bool, typer.Option("--json", help="JSON lines.")] = False,
) -> None:
    """List findings (open ones unless --resolved)."""
    with user_errors():
        findings = list_findings(open_control(data_dir), include_resolved=resolved, check=check)
    if as_json:
        for finding in findings:
            typer.echo(orjson.dumps(finding.to_dict()).decode())
        return
    table = Table(title=f"{len(findings)} finding(s)")
    for column in ("id", "check", "subject", "level", "first seen", "resolved"):
        table.add_column(column)
    for finding in findings:
        table.add_row(
            str(finding.id),
            finding.check,
            finding.subject,
            finding.level,
            f"{finding.first_seen_at:%Y-%m-%d %H:%M}",
            f"{finding.resolved_at:%Y-%m-%d %H:%M}" if finding.resolved_at else "",
        )
    console.print(table)


@posture_app.command("report")
def report_command(
    data_dir: DataDir = DEFAULT_DATA_DIR,
    output_format: Annotated[ReportFormat, typer.Option("--format")] = ReportFormat.html,
    out: Annotated[
        Path | None, typer.Option("--out", help="File to write (default: stdout).")
    ] = None,
    now: NowOption = None,
) -> None:
    """The audit report of the open findings: HTML (default), PDF (needs --out) or JSON."""
    if output_format is ReportFormat.pdf and out is None:
        fail("--format pdf needs --out FILE")
    with user_errors():
        report = build_report(open_control(data_dir), now=parse_now(now))
    if output_format is ReportFormat.pdf:
        assert out is not None
        try:
            out.write_bytes(render_pdf(report))
        except OSError as error:
            fail(f"cannot write {out}: {error.strerror}")
        console.print(f"report written to {out}")
        return
    if output_format is ReportFormat.json:
        text = orjson.dumps(report, option=orjson.OPT_INDENT_2).decode()
    else:
        text = render_html(report)
    if out is None:
        typer.echo(text)
        return
    try:
        out.write_text(text, encoding="utf-8")
    except OSError as error:
        fail(f"cannot write {out}: {error.strerror}")
    console.print(f"report written to {out}")
