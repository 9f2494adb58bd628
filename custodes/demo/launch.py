"""Setting up the demo's service: its folder, custodes.yaml, demo users, policy, the process.

Everything lives in the data directory: the store's own layout (wal/, lake/, control.db, ...)
and `demo/` beside it (the generated agency, custodes.yaml, the service's log, credentials.json).
A folder that holds a previous demo is replaced; any other non-empty folder is refused.
"""

from __future__ import annotations

import os
import secrets
import shutil
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

import orjson
import yaml

import custodes
from custodes.errors import ConfigError, CustodesError
from custodes.oversight import AccessEntry, append_entry
from custodes.oversight.policy import digest, policy_from_hints, policy_text
from custodes.oversight.policy import install_policy as install
from custodes.store.control import open_control
from custodes.store.users import Role, add_user, create_token

DEMO_FOLDER = "demo"
MARKER = Path(DEMO_FOLDER) / "manifest.json"
SERVE_LOG = "serve.log"
READY_FILE = "serve.json"
#: The demo's people who sign in: name -> role (the overseer has the oversight role).
DEMO_USERS = {
    "analyst": Role.ANALYST,
    "investigator": Role.INVESTIGATOR,
    "overseer": Role.OVERSIGHT,
    "admin": Role.ADMIN,
}
#: Start the service the way the `custodes` command does (`python -m custodes.cli.main` would
#: import the command modules twice).
CLI_COMMAND = "import sys; from custodes.cli.main import app; sys.argv[0] = 'custodes'; app()"


class DemoError(CustodesError):
    """The demo cannot run here (folder, port, the service did not start)."""


@dataclass(frozen=True)
class DemoUser:
    """A demo user and the password printed for them (demo only: never do this for real)."""

    name: str
    role: str
    password: str


def prepare_data_dir(data_dir: Path) -> Path:
    """An empty data directory (a previous demo's is removed); the demo folder inside it."""
    if data_dir.exists():
        if (data_dir / MARKER).exists():
            shutil.rmtree(data_dir)
        elif not data_dir.is_dir() or any(data_dir.iterdir()):
            raise DemoError(
                f"{data_dir} exists and holds no previous demo: give an empty or new --data-dir"
            )
    folder = data_dir / DEMO_FOLDER
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def shared_sigma_rules() -> Path | None:
    """SigmaHQ's rules in the shared datasets (CUSTODES_DATASETS, or ../shared/datasets)."""
    checkout = Path(custodes.__file__).resolve().parents[1]
    candidates = (
        [Path(os.environ["CUSTODES_DATASETS"])] if "CUSTODES_DATASETS" in os.environ else []
    )
    candidates += [
        checkout.parent / "shared" / "datasets",
        Path.cwd().parent / "shared" / "datasets",
    ]
    for datasets in candidates:
        rules = datasets / "sigma" / "rules"
        if rules.is_dir():
            return rules.resolve()
    return None


def ensure_port_free(port: int) -> None:
    """DemoError naming --port when 127.0.0.1:port is taken."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind(("127.0.0.1", port))
        except OSError as error:
            raise DemoError(
                f"127.0.0.1:{port} is in use ({error.strerror}): choose another with --port"
            ) from None


def write_config(folder: Path, *, port: int, rules: list[Path]) -> Path:
    """custodes.yaml: syslog TCP and HTTP on 127.0.0.1, the rules, a short lake flush interval."""
    config = {
        "http": {"listen": f"127.0.0.1:{port}"},
        "batch": {"flush_interval_secs": 2},
        "sources": {"syslog": {"type": "syslog", "listen": "tcp:127.0.0.1:0"}},
        "rules": [
            {"type": "directory" if path.is_dir() else "file", "path": str(path)} for path in rules
        ],
    }
    path = folder / "custodes.yaml"
    header = "# The demo's service: `custodes serve --data-dir .. --config custodes.yaml`.\n"
    path.write_text(header + yaml.safe_dump(config, sort_keys=False), encoding="utf-8")
    return path


def install_policy(data_dir: Path, hints: dict[str, Any]) -> list[str]:
    """The agency's policy in force, recorded in the access ledger; its protected channels."""
    text = policy_from_hints(hints)
    with open_control(data_dir) as control:
        before = digest(policy_text(data_dir))
        policy = install(data_dir, text)
        entry = AccessEntry(
            actor="custodes demo run",
            role=Role.ADMIN.value,
            action="policy-apply",
            details={"reason": "demo: the agency's policy", "from": before, "to": digest(text)},
        )
        append_entry(control, data_dir, entry)
    return [channel.name for channel in policy.protected_channels]


def create_demo_users(data_dir: Path) -> tuple[list[DemoUser], str, str]:
    """The demo users with fresh passwords, an ingest token and an admin token (for set-up)."""
    users = [
        DemoUser(name, role.value, secrets.token_urlsafe(12)) for name, role in DEMO_USERS.items()
    ]
    with open_control(data_dir) as control:
        for user in users:
            add_user(control, user.name, user.password, user.role)
        ingest, _ = create_token(control, Role.INGEST, name="demo: telemetry senders")
        admin, _ = create_token(control, Role.ADMIN, name="demo: posture set-up")
    credentials = data_dir / DEMO_FOLDER / "credentials.json"
    credentials.touch(mode=0o600)
    credentials.write_bytes(
        orjson.dumps(
            {"note": "demo only", "users": [vars(user) for user in users], "ingest_token": ingest},
            option=orjson.OPT_INDENT_2,
        )
    )
    return users, ingest, admin


class ServiceProcess:
    """`custodes serve` as a child process, its output in the demo folder's serve.log."""

    def __init__(self, data_dir: Path, config: Path, *, environment: dict[str, str]) -> None:
        self.data_dir = data_dir
        self.log_path = config.parent / SERVE_LOG
        self.log: IO[bytes] = self.log_path.open("wb")
        arguments = ["serve", "--data-dir", str(data_dir), "--config", str(config)]
        self.process = subprocess.Popen(
            [sys.executable, "-c", CLI_COMMAND, *arguments],
            stdin=subprocess.DEVNULL,
            stdout=self.log,
            stderr=subprocess.STDOUT,
            env={**os.environ, **environment},
        )

    def wait_ready(self, *, timeout_secs: float = 300.0) -> dict[str, str]:
        """The addresses the service bound (its serve.json), once it listens."""
        ready = self.data_dir / READY_FILE
        deadline = time.monotonic() + timeout_secs
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise DemoError(f"the service stopped while starting: {self.last_words()}")
            if ready.exists():
                document = orjson.loads(ready.read_bytes())
                if document.get("pid") == self.process.pid:
                    return dict(document["listening"])
            time.sleep(0.2)
        raise DemoError(f"the service did not start in {timeout_secs:.0f} s: {self.last_words()}")

    def last_words(self) -> str:
        """The last line of the service's log (its error, when it stopped)."""
        self.log.flush()
        lines = self.log_path.read_text(errors="replace").strip().splitlines()
        return lines[-1] if lines else f"no output (see {self.log_path})"

    def wait(self) -> int:
        """Wait until the service exits (Ctrl-C reaches it too); its exit code."""
        return self.process.wait()

    def stop(self, *, timeout_secs: float = 60.0) -> int:
        """SIGTERM (drain and close), then SIGKILL if it does not stop in time; its exit code."""
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=timeout_secs)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.log.close()
        return self.process.returncode


def run_command(arguments: list[str], *, timeout_secs: float = 600.0) -> str:
    """Run a `custodes` command (for steps the API has no route for); its last output line."""
    finished = subprocess.run(
        [sys.executable, "-c", CLI_COMMAND, *arguments],
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=timeout_secs,
        check=False,
    )
    lines = (finished.stdout.strip() or finished.stderr.strip()).splitlines()
    if finished.returncode != 0:
        said = (finished.stderr.strip() or finished.stdout.strip()).splitlines()
        raise DemoError(f"custodes {' '.join(arguments)}: {said[-1] if said else 'failed'}")
    return lines[-1] if lines else ""


def syslog_address(listening: dict[str, str]) -> tuple[str, int]:
    """(host, port) of the syslog TCP input among the service's bound addresses."""
    listen = listening.get("syslog", "")
    scheme, _, address = listen.partition(":")
    host, _, port = address.rpartition(":")
    if scheme != "tcp" or not port.isdigit():
        raise ConfigError(f"the service has no syslog TCP input (listening: {listening})")
    return host, int(port)
