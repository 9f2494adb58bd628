"""`custodes serve`: the long-running service; `custodes check`: validate custodes.yaml."""

from __future__ import annotations

import asyncio
import logging
import os
import signal
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console

from custodes.cli.main import app
from custodes.cli.options import DEFAULT_DATA_DIR, DataDir, user_errors
from custodes.config import Settings
from custodes.serve import Service, ServiceConfig, load_config

ConfigFile = Annotated[
    Path | None,
    typer.Option("--config", "-c", help="custodes.yaml: sources, batching, HTTP listen address."),
]


def build_app(service: Service, settings: Settings) -> Any:
    """The FastAPI app (API, web UI) with the ingest routes, bound to the running service."""
    from custodes.api.app import create_app
    from custodes.api.routes import ingest

    web_app = create_app(settings, service=service)
    if not any(getattr(route, "path", None) == "/_bulk" for route in web_app.routes):
        web_app.include_router(ingest.router)
    return web_app


def with_notifier(web_app: Any, notifier: Any) -> Any:
    """The app, telling oversight of reveal requests through the same notifier as alerts."""
    if notifier is not None:
        web_app.state.custodes.extras["notifier"] = notifier
    return web_app


def start_notifier(pipeline: Any, config: ServiceConfig, data_dir: Path) -> Any:
    """A notifier for the configured sinks, told of each new alert the streaming detection
    stores (`custodes.notify.notify_on_saved`); `run_service` has the scheduled jobs tell it
    of theirs (`custodes.notify.notify_created`)."""
    from custodes.detect.engine import Detection
    from custodes.notify import build_notifier, notify_on_saved
    from custodes.plugins import load

    notifier = build_notifier(config.sinks, config.notifications, data_dir, factories=load().sinks)
    for listener in pipeline.on_commit:
        if isinstance(listener, Detection):
            notify_on_saved(notifier, listener)
    return notifier


def job_listeners(notifier: Any, data_dir: Path) -> list[Any]:
    """What the scheduled jobs tell of the alerts they create: the notifier, if there is one."""
    from custodes.notify import notify_created

    return [notify_created(notifier, data_dir)] if notifier is not None else []


async def run_service(
    config: ServiceConfig, settings: Settings, *, rules: Sequence[Path] = ()
) -> None:
    """Open the pipeline (detecting with `rules`), serve until SIGTERM/SIGINT, drain, close."""
    from custodes.pipeline import open_pipeline

    pipeline = await asyncio.to_thread(
        open_pipeline,
        settings.data_dir,
        rules=rules,
        node=settings.node,
        resend_grace_secs=settings.resend_grace_secs,
    )
    notifier = start_notifier(pipeline, config, settings.data_dir) if config.sinks else None
    try:
        service = Service(
            config,
            pipeline,
            settings.data_dir,
            app_factory=lambda running: with_notifier(build_app(running, settings), notifier),
            on_job_alerts=job_listeners(notifier, settings.data_dir),
        )
        loop = asyncio.get_running_loop()
        for number in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(number, service.stop)
        await service.run()
    finally:
        await asyncio.to_thread(pipeline.close)
        if notifier is not None:
            await asyncio.to_thread(notifier.close)


def event_loop_runner() -> asyncio.Runner:
    """An asyncio runner on uvloop when it is installed (faster sockets), else the default."""
    try:
        import uvloop
    except ImportError:
        return asyncio.Runner()
    return asyncio.Runner(loop_factory=uvloop.new_event_loop)


@app.command()
def serve(data_dir: DataDir = DEFAULT_DATA_DIR, config: ConfigFile = None) -> None:
    """Run the service: syslog, HTTP and Elasticsearch-bulk ingest, the API and the web UI."""
    from custodes.detect.engine import rule_paths_from_config

    logging.basicConfig(level=logging.WARNING, format="%(asctime)s %(levelname)s %(message)s")
    with user_errors():
        service_config = load_config(config)
        if service_config.control_url:  # every open_control in this process uses it
            os.environ["CUSTODES_CONTROL_URL"] = service_config.control_url
        if service_config.alert_min_level:  # read by the detection step (custodes.detect.levels)
            os.environ["CUSTODES_ALERT_MIN_LEVEL"] = service_config.alert_min_level
        settings = Settings(data_dir=data_dir)
        rules = rule_paths_from_config(service_config.rules, base=config.parent if config else None)
        with event_loop_runner() as runner:
            runner.run(run_service(service_config, settings, rules=rules))


@app.command()
def check(config: Annotated[Path, typer.Option("--config", "-c", help="custodes.yaml")]) -> None:
    """Validate custodes.yaml without starting anything; every error names the bad key."""
    from custodes.detect.engine import rule_paths_from_config

    with user_errors():
        service_config = load_config(config)
        from custodes.posture.settings import parse_posture_settings

        parse_posture_settings(service_config.posture or None, path=str(config))
        rule_paths_from_config(service_config.rules, base=config.parent)
        if service_config.sinks or service_config.notifications:
            from custodes.notify import build_notifier
            from custodes.plugins import load

            with tempfile.TemporaryDirectory() as scratch:  # nothing is written anywhere
                build_notifier(
                    service_config.sinks,
                    service_config.notifications,
                    Path(scratch),
                    factories=load().sinks,
                )
    console = Console()
    console.print(f"[green]ok[/green] {config}: {len(service_config.sources)} sources")
    for name, source in service_config.sources.items():
        where = getattr(source, "listen", None) or getattr(source, "path", "")
        console.print(f"  {name}: {source.type} {where}")
    console.print(f"  http: {service_config.http.listen}")
