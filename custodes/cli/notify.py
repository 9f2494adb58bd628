"""`custodes notify test` and `custodes notify resend`: check the notification routes, retry."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from custodes.cli.main import app
from custodes.cli.options import DEFAULT_DATA_DIR, DataDir, fail, user_errors
from custodes.events import Alert
from custodes.notify import Notifier, alert_payload, build_notifier, resend_dead_letters
from custodes.plugins.manager import load
from custodes.serve import load_config

notify_app = typer.Typer(help="Alert notifications: test the routes, resend dead letters.")
app.add_typer(notify_app, name="notify")

ConfigFile = Annotated[Path, typer.Option("--config", "-c", help="custodes.yaml with sinks.")]


def notifier_from(config_path: Path, data_dir: Path) -> Notifier:
    """The notifier `custodes serve` would build from this config."""
    config = load_config(config_path)
    if not config.sinks:
        fail(f"{config_path}: no sinks configured")
    return build_notifier(config.sinks, config.notifications, data_dir, factories=load().sinks)


@notify_app.command("test")
def notify_test(
    config: ConfigFile,
    level: Annotated[str, typer.Option(help="Level of the test alert.")] = "high",
    tag: Annotated[list[str] | None, typer.Option(help="Tags of the test alert.")] = None,
    data_dir: DataDir = DEFAULT_DATA_DIR,
) -> None:
    """Send a test alert through the routes now and say what each sink did."""
    with user_errors():
        notifier = notifier_from(config, data_dir)
        now = datetime.now(UTC)
        payload = alert_payload(
            Alert(
                rule_id="custodes-notify-test",
                title="Custodes notification test",
                level=level,
                event_ids=(),
                first_seen_at=now,
                last_seen_at=now,
                tags=tuple(tag or ()),
                description="A test sent by `custodes notify test`; nothing happened.",
            )
        )
        deliveries = notifier.deliver(payload)
    if not deliveries:
        fail(f"no route takes a {level} alert with tags {tag or []}")
    table = Table("sink", "delivered", "attempts", "error")
    for delivery in deliveries:
        table.add_row(
            delivery.sink,
            "yes" if delivery.is_delivered else "no",
            str(delivery.attempts),
            delivery.error,
        )
    Console().print(table)
    if not all(delivery.is_delivered for delivery in deliveries):
        raise typer.Exit(1)


@notify_app.command("resend")
def notify_resend(config: ConfigFile, data_dir: DataDir = DEFAULT_DATA_DIR) -> None:
    """Try the dead letters again; those that fail again stay in the record."""
    with user_errors():
        notifier = notifier_from(config, data_dir)
        waiting = len(notifier.dead_letters.read())
        sent = resend_dead_letters(notifier)
    Console().print(f"{sent} of {waiting} dead letters sent")
