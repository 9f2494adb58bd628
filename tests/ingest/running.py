"""A real service in a background thread for tests: real sockets on 127.0.0.1 port 0."""

from __future__ import annotations

import asyncio
import threading
from pathlib import Path
from types import TracebackType
from typing import Any

import duckdb

from custodes.config import Settings
from custodes.pipeline import Pipeline, open_pipeline
from custodes.serve import Service, parse_config
from custodes.store import connect
from custodes.store.control import open_control
from custodes.store.users import create_token


def build_test_app(service: Service, data_dir: Path) -> Any:
    """The real app (API + web + ingest routes) over the test's data directory."""
    from custodes.api.app import create_app
    from custodes.api.routes import ingest

    app = create_app(Settings(data_dir=data_dir), service=service)  # with ElasticsearchRoot
    if not any(getattr(route, "path", None) == "/_bulk" for route in app.routes):
        app.include_router(ingest.router)
    return app


class RunningService:
    """`with RunningService(data_dir, config) as running:` sources bound, HTTP if configured."""

    def __init__(self, data_dir: Path, config: dict[str, Any], *, http: bool = False) -> None:
        self.data_dir = data_dir
        self.config = parse_config({"http": {"listen": "127.0.0.1:0"}, **config})
        self.http = http
        self.token = ""
        self.pipeline: Pipeline | None = None
        self.service: Service | None = None
        self.loop: asyncio.AbstractEventLoop | None = None
        self.thread: threading.Thread | None = None
        self.ready = threading.Event()
        self.error: BaseException | None = None

    def __enter__(self) -> RunningService:
        if self.http:
            control = open_control(self.data_dir)
            self.token, _ = create_token(control, "ingest", name="test-sender")
            control.close()
        self.pipeline = open_pipeline(self.data_dir)
        self.service = Service(
            self.config,
            self.pipeline,
            self.data_dir,
            app_factory=(lambda service: build_test_app(service, self.data_dir))
            if self.http
            else None,
        )
        self.thread = threading.Thread(target=self.serve, daemon=True)
        self.thread.start()
        if not self.ready.wait(30) or self.error is not None:
            raise RuntimeError(f"service did not start: {self.error!r}")
        return self

    def serve(self) -> None:
        loop = asyncio.new_event_loop()
        self.loop = loop
        assert self.service is not None
        service = self.service

        async def main() -> None:
            task = asyncio.create_task(service.run())
            started = asyncio.create_task(service.started.wait())
            await asyncio.wait({task, started}, return_when=asyncio.FIRST_COMPLETED)
            self.ready.set()
            started.cancel()
            await task

        try:
            loop.run_until_complete(main())
        except BaseException as error:
            self.error = error
            self.ready.set()
        finally:
            loop.close()

    def port(self, name: str) -> int:
        """The port a source (or `http`) really listens on."""
        assert self.service is not None
        return int(self.service.listening[name].rsplit(":", 1)[1])

    @property
    def url(self) -> str:
        assert self.service is not None
        return self.service.listening["http"]

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}

    def counters(self) -> dict[str, Any]:
        assert self.service is not None
        return self.service.counters.to_dict()

    def stop(self) -> None:
        """Stop the service (drain), close the pipeline (flush into the lake)."""
        if self.loop is not None and self.service is not None and self.thread is not None:
            if self.thread.is_alive():
                self.loop.call_soon_threadsafe(self.service.stop)
            self.thread.join(60)
        if self.pipeline is not None:
            self.pipeline.close()
            self.pipeline = None
        if self.error is not None:
            raise self.error

    def __exit__(
        self,
        kind: type[BaseException] | None,
        value: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()


def stored(data_dir: Path) -> duckdb.DuckDBPyConnection:
    """A query connection over what the service stored (call after `stop`)."""
    return connect(data_dir)
