"""`custodes demo run`: the whole job on a fresh machine, through the service's own inputs.

generate the agency -> custodes.yaml, policy, demo users -> `custodes serve` (a child process)
-> send every telemetry file over syslog TCP or HTTP -> wait until stored -> import the posture
reference data and run the checks over the API -> score behaviour (`custodes ueba build`, no
route for it yet) -> `demo check` against the ground truth.
`running_demo` yields while the service runs, and stops it when the block ends.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Any

import httpx
import orjson
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

from custodes.demo.check import CheckReport, check, load_truth
from custodes.demo.feed import Inputs, send_file, telemetry_files, wait_until_stored
from custodes.demo.generate import DemoSettings, generate
from custodes.demo.launch import (
    DemoError,
    DemoUser,
    ServiceProcess,
    create_demo_users,
    ensure_port_free,
    install_policy,
    prepare_data_dir,
    run_command,
    shared_sigma_rules,
    syslog_address,
    write_config,
)
from custodes.oversight import protected_counts

#: The demo's own Sigma rules, for machines without SigmaHQ's.
DEMO_RULES = Path(__file__).resolve().parent / "rules"
#: Reference files of the demo -> the posture import route's source names.
POSTURE_SOURCES = {
    "roster": "roster.csv",
    "accounts": "accounts.json",
    "privileged": "privileged.json",
    "devices": "devices.json",
    "travel": "travel.json",
    "linux_groups": "linux-groups.json",
}


@dataclass(frozen=True)
class RunSettings:
    """What `custodes demo run` was asked for."""

    data_dir: Path = Path("demo-data")
    people: int = 200
    days: int = 14
    seed: int = 7
    port: int = 8080
    #: Rule folders or files; None: SigmaHQ's from the shared datasets when present.
    rules: tuple[Path, ...] | None = None


@dataclass
class RunningDemo:
    """The running demo: where to look, who may sign in, what was found."""

    url: str
    data_dir: Path
    folder: Path
    users: list[DemoUser]
    listening: dict[str, str]
    rules: list[Path]
    events_sent: int
    events_stored: int
    report: CheckReport
    posture: dict[str, Any] = field(default_factory=dict)
    protected_channels: list[str] = field(default_factory=list)
    service: ServiceProcess | None = None

    def wait(self) -> int:
        """Serve until Ctrl-C (or until the service stops); the service's exit code."""
        assert self.service is not None
        try:
            return self.service.wait()
        except KeyboardInterrupt:
            return self.service.stop()


@contextmanager
def running_demo(settings: RunSettings, console: Console) -> Iterator[RunningDemo]:
    """Run the whole demo; the service keeps running inside the block and stops after it."""
    ensure_port_free(settings.port)
    data_dir = settings.data_dir.resolve()
    folder = prepare_data_dir(data_dir)
    with console.status("generating the agency"):
        manifest = generate(
            folder, DemoSettings(people=settings.people, days=settings.days, seed=settings.seed)
        )
    console.print(
        f"[green]✓[/green] generated {settings.people} people over {settings.days} days:"
        f" {manifest['events']:,} events in {manifest['seconds']:.1f} s ({folder})"
    )
    rules = list(settings.rules) if settings.rules is not None else default_rules(console)
    config = write_config(folder, port=settings.port, rules=rules)
    hints = orjson.loads((folder / "reference" / "policy-hints.json").read_bytes())
    channels = install_policy(data_dir, hints)
    users, ingest_token, admin_token = create_demo_users(data_dir)
    environment = {"CUSTODES_CONFIG": str(folder / "reference" / "posture.yaml")}
    service = ServiceProcess(data_dir, config, environment=environment)
    try:
        with console.status(f"starting custodes serve ({len(rules)} rule folder(s) to load)"):
            listening = service.wait_ready()
        url = listening["http"]
        console.print(f"[green]✓[/green] custodes serve listening: {', '.join(listening.values())}")
        inputs = Inputs(url, syslog_address(listening), ingest_token)
        sent = send_telemetry(folder, manifest, inputs, console)
        with http_client(url, admin_token) as admin:
            with console.status("waiting until every event is in the lake"):
                stored = wait_until_stored(admin)
            withheld = sum(sum(day.values()) for day in protected_counts(data_dir).values())
            console.print(
                f"[green]✓[/green] {sent:,} events acknowledged: {stored:,} in the lake,"
                f" {withheld:,} withheld (protected channels: counted, never stored)"
            )
            with console.status("importing the posture reference data and running the checks"):
                posture = run_posture(admin, folder / "reference")
        console.print(
            f"[green]✓[/green] posture: {sum(posture['counts'].values())} finding(s) over"
            f" {len(posture['counts'])} checks"
        )
        with console.status("scoring behaviour over the lake (custodes ueba build)"):
            ueba = run_command(["ueba", "build", "--data-dir", str(data_dir)])
        console.print(f"[green]✓[/green] behaviour analytics: {ueba}")
        with console.status("comparing what was raised with the ground truth"):
            report = check(data_dir, load_truth(folder / "ground_truth.json"))
        report_json = orjson.dumps(report.to_dict(), option=orjson.OPT_INDENT_2)
        (folder / "check.json").write_bytes(report_json)
        yield RunningDemo(
            url=url,
            data_dir=data_dir,
            folder=folder,
            users=users,
            listening=listening,
            rules=rules,
            events_sent=sent,
            events_stored=stored,
            report=report,
            posture=posture,
            protected_channels=channels,
            service=service,
        )
    finally:
        service.stop()


def default_rules(console: Console) -> list[Path]:
    """SigmaHQ's rules from the shared datasets, else the demo's own few (said so)."""
    sigma = shared_sigma_rules()
    if sigma is None:
        console.print(
            "[yellow]![/yellow] SigmaHQ's rules not found (set CUSTODES_DATASETS or give --rules):"
            f" running the demo's own {len(list(DEMO_RULES.glob('*.yml')))} rule files"
        )
        return [DEMO_RULES]
    return [sigma]


def http_client(url: str, token: str) -> httpx.Client:
    """An HTTP client for the service with a bearer token."""
    return httpx.Client(
        base_url=url, headers={"authorization": f"Bearer {token}"}, timeout=httpx.Timeout(120.0)
    )


def send_telemetry(folder: Path, manifest: dict[str, Any], inputs: Inputs, console: Console) -> int:
    """Every telemetry file through the service's inputs, with a progress bar; events sent."""
    files = telemetry_files(folder, manifest)
    columns = (
        TextColumn("{task.description:<40}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeRemainingColumn(),
    )
    sent = 0
    with (
        Progress(*columns, console=console) as progress,
        http_client(inputs.http, inputs.token) as client,
    ):
        for file in files:
            task = progress.add_task(f"{file.path.name} over {file.route}", total=file.events)
            sent += send_file(file, inputs, client, partial(progress.advance, task))
    return sent


def run_posture(admin: httpx.Client, reference: Path) -> dict[str, Any]:
    """Import the sources of truth and run the posture checks, through the service's API."""
    for source, name in POSTURE_SOURCES.items():
        response = admin.post(
            f"/api/posture/import/{source}", content=(reference / name).read_bytes()
        )
        if response.status_code != 200:
            raise DemoError(
                f"posture import of {name}: HTTP {response.status_code}: {response.text[:200]}"
            )
    response = admin.post("/api/posture/run")
    if response.status_code != 200:
        raise DemoError(f"posture run: HTTP {response.status_code}: {response.text[:200]}")
    result: dict[str, Any] = response.json()
    return result


def summary_lines(demo: RunningDemo) -> list[str]:
    """What the demo prints last: where to go, how to send more, who may sign in."""
    host, port = syslog_address(demo.listening)
    lines = [
        f"Custodes is running at [bold]{demo.url}/?hours=168[/bold] (overview of the last 7 days)",
        f"data: {demo.data_dir}; service log: {demo.folder / 'serve.log'}",
        f"send more: logger --tcp --octet-count --server {host} --port {port} 'a message';"
        f" POST {demo.url}/ingest or /_bulk with the ingest token in demo/credentials.json",
        f"rules: {', '.join(str(path) for path in demo.rules) or 'none'}",
    ]
    if demo.protected_channels:
        lines.append(
            f"protected channels (counted, never stored): {', '.join(demo.protected_channels)}"
        )
    lines.append(
        "[bold yellow]Demo users: DEMO ONLY, passwords printed (also in demo/credentials.json)"
        "[/bold yellow]"
    )
    for user in demo.users:
        lines.append(f"  {user.name:<13} role {user.role:<13} password {user.password}")
    return lines
