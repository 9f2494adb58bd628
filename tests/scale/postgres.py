"""A throwaway PostgreSQL cluster for tests: Debian's binaries, a temp directory, 127.0.0.1.

Run as root (CI and the developers' machines), the server runs as the `postgres` user through
`runuser`; as any other user it runs as that user. Stopped (and its files removed) at the end.
"""

from __future__ import annotations

import glob
import os
import secrets
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

PG_BIN_GLOB = "/usr/lib/postgresql/*/bin"


def pg_bin() -> Path:
    """The newest installed PostgreSQL's bin directory (scripts/setup-system.sh installs it)."""
    found = sorted(glob.glob(PG_BIN_GLOB), key=lambda p: int(Path(p).parent.name))
    if not found:
        raise RuntimeError("PostgreSQL is not installed: run scripts/setup-system.sh as root")
    return Path(found[-1])


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def as_server_user(command: list[str]) -> list[str]:
    """The command run as `postgres` when we are root (initdb refuses to run as root)."""
    if os.geteuid() == 0:
        return ["runuser", "-u", "postgres", "--", *command]
    return command


@contextmanager
def postgres_cluster() -> Iterator[str]:
    """A running cluster with database `custodes`; yields its SQLAlchemy URL (psycopg 3)."""
    bindir = pg_bin()
    root = Path(tempfile.mkdtemp(prefix="custodes-pg-"))
    data, password = root / "data", secrets.token_hex(12)
    (root / "pw").write_text(password)
    if os.geteuid() == 0:
        shutil.chown(root, "postgres", "postgres")
        shutil.chown(root / "pw", "postgres", "postgres")
    port = free_port()
    environment = {**os.environ, "PGPASSWORD": password}

    def run(program: str, *args: str) -> None:
        command = as_server_user([str(bindir / program), *args])
        subprocess.run(command, check=True, capture_output=True, cwd=root, env=environment)

    try:
        run("initdb", "-D", str(data), "-U", "custodes", "-A", "scram-sha-256",
            f"--pwfile={root / 'pw'}", "--no-sync")  # fmt: skip
        options = f"-c listen_addresses=127.0.0.1 -p {port} -k {root} -c fsync=off"
        run("pg_ctl", "-D", str(data), "-l", str(root / "log"), "-o", options, "-w", "start")
        try:
            url = f"postgresql+psycopg://custodes:{password}@127.0.0.1:{port}"
            run("createdb", "-h", "127.0.0.1", "-p", str(port), "-U", "custodes", "custodes")
            yield f"{url}/custodes"
        finally:
            run("pg_ctl", "-D", str(data), "-m", "fast", "-w", "stop")
    finally:
        shutil.rmtree(root, ignore_errors=True)
