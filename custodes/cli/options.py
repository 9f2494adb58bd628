"""What every command shares: the data directory option and how user mistakes are reported."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, NoReturn

import typer
from rich.console import Console

from custodes.errors import CustodesError

DataDir = Annotated[
    Path,
    typer.Option(
        "--data-dir",
        envvar="CUSTODES_DATA_DIR",
        help="Where Custodes keeps its data (WAL, lake, quarantine, ledger).",
        file_okay=False,
    ),
]
DEFAULT_DATA_DIR = Path("custodes-data")

errors = Console(stderr=True)
PIPE_WIDTH = 120  # tables printed into a pipe or file: rich would assume 80 columns


def output() -> Console:
    """The console for a command's output; wide enough for its tables when not a terminal."""
    console = Console()
    if not console.is_terminal:
        console.width = PIPE_WIDTH
    return console


def fail(message: str) -> NoReturn:
    """Print one red line and exit with status 2 (a user mistake, not a crash)."""
    errors.print(f"[red]error:[/red] {message}", markup=True, highlight=False, soft_wrap=True)
    raise typer.Exit(2)


@contextmanager
def user_errors() -> Iterator[None]:
    """Turn any CustodesError raised inside into `fail`: one clear line, exit 2."""
    try:
        yield
    except CustodesError as error:
        fail(str(error) or type(error).__name__)
