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
    from custodes.cli import alerts  # noqa: F401
    from custodes.cli import demo  # noqa: F401
    from custodes.cli import ingest  # noqa: F401
    from custodes.cli import ledger  # noqa: F401
    from custodes.cli import quarantine, search  # noqa: F401
    from custodes.cli import serve  # noqa: F401
    from custodes.cli import rules  # noqa: F401
    from custodes.cli import users  # noqa: F401
    from custodes.cli import notify  # noqa: F401
    from custodes.cli import posture  # noqa: F401
    from custodes.cli import oversight  # noqa: F401
    from custodes.cli import ueba  # noqa: F401
    from custodes.cli import case, timeline  # noqa: F401


register_commands()

if __name__ == "__main__":
    app()
