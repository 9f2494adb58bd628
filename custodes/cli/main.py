"""The `custodes` command: one typer app; each command group lives in its own module."""

from __future__ import annotations

import typer

app = typer.Typer(
    name="custodes",
    help="Custodes: security monitoring that watches the watchers.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)


def register_commands() -> None:
    """Import every command module; each adds its commands to `app`."""
    from custodes.cli import (  # noqa: F401 (each module adds its commands to `app`)
        alerts,
        case,
        demo,
        ingest,
        ledger,
        notify,
        oversight,
        posture,
        quarantine,
        rules,
        scale,
        search,
        serve,
        timeline,
        ueba,
        users,
    )


if __name__ == "__main__":
    # `python -m custodes.cli.main`: command modules import `custodes.cli.main`, so run that
    # module rather than registering commands on this second copy of it.
    from custodes.cli.main import app as main_app

    main_app()
else:
    register_commands()
