"""The long-running service: sources from `custodes.yaml`, one intake queue, the HTTP app.

```
syslog udp/tcp/tls ─┐
HTTP /ingest, _bulk ─┼─▶ Batcher (bounded) ─▶ worker thread: Pipeline.submit (fsync) ─▶ ack
file tails ─────────┘
```

Beside ingest it runs jobs on a timetable, each in a worker thread: retention (daily), posture
checks and UEBA scoring (`schedule:` in custodes.yaml, `custodes.serve.jobs`).

`Service.run()` starts everything, writes `<data_dir>/serve.json` (the addresses really bound,
for port 0), and runs until `stop()`; then it stops accepting, commits what is queued and returns.
The caller opens and closes the pipeline.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import logging
import os
import socket
from collections.abc import Callable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any, Protocol

import orjson
import uvicorn

from custodes.errors import ConfigError
from custodes.events import RawRecord
from custodes.ingest.syslog import SyslogSource, tls_context
from custodes.ingest.tail import FileTail
from custodes.serve.batcher import Batcher, SubmitResult
from custodes.serve.config import ServiceConfig, SyslogSourceConfig, TailSourceConfig, split_address
from custodes.serve.counters import LATENCY_BUCKETS_SECS, Counters
from custodes.serve.jobs import AlertListener, Job, retention_job, scheduled_jobs

log = logging.getLogger(__name__)

READY_FILE = "serve.json"


class Committer(Protocol):
    """What the service needs of the pipeline (custodes.pipeline.Pipeline)."""

    def submit(
        self, records: list[RawRecord], *, cursor: tuple[str, int] | None = None
    ) -> SubmitResult: ...

    def flush(self) -> None: ...

    def cursor(self, key: str) -> int | None: ...


class QuietServer(uvicorn.Server):
    """uvicorn without its own signal handling: the service decides when to stop."""

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield


class Service:
    """Sources, intake queue and HTTP server in one asyncio process."""

    def __init__(
        self,
        config: ServiceConfig,
        pipeline: Committer,
        data_dir: Path,
        *,
        app_factory: Callable[[Service], Any] | None = None,
        on_job_alerts: Sequence[AlertListener] = (),
    ) -> None:
        self.config = config
        self.pipeline = pipeline
        self.data_dir = data_dir
        self.app_factory = app_factory
        self.on_job_alerts = on_job_alerts  # told of the alerts scheduled runs create (notify)
        self.counters = Counters()
        batch = config.batch
        self.intake = Batcher(
            pipeline.submit,
            self.counters,
            max_events=batch.max_events,
            max_wait_secs=batch.max_wait_secs,
            queue_max_events=batch.queue_max_events,
            flush=pipeline.flush,
            flush_interval_secs=batch.flush_interval_secs,
        )
        self.syslog: list[SyslogSource] = []
        self.tails: list[FileTail] = []
        self.tasks: list[asyncio.Task[None]] = []
        self.http: QuietServer | None = None
        self.listening: dict[str, str] = {}
        self.stopping = asyncio.Event()
        self.started = asyncio.Event()
        self.jobs: dict[str, Job] = {}
        self.retention: Job | None = None

    # --- what the API shows (custodes.api.deps.ServiceStatus) -------------------------------

    def source_counters(self) -> Mapping[str, Mapping[str, int]]:
        """Per source: received, stored, quarantined, dropped, rejected (429), failed."""
        return {
            name: {
                key: value
                for key, value in counters.to_dict().items()
                if isinstance(value, int) and not isinstance(value, bool)
            }
            for name, counters in self.counters.sources.items()
        }

    def queue_depths(self) -> Mapping[str, int]:
        """Records waiting in the intake queue."""
        return {"intake": self.intake.queued_events}

    def ack_latency_histogram(self) -> tuple[Mapping[float, int], float]:
        """Ack latency over all sources: cumulative counts by upper bound (secs), and sum."""
        bounds = (*LATENCY_BUCKETS_SECS, float("inf"))
        counts = [0] * len(bounds)
        total = 0.0
        for counters in self.counters.sources.values():
            histogram = counters.ack_latency
            total += histogram.total_secs
            for index, count in enumerate(histogram.counts):
                counts[index] += count
        cumulative: dict[float, int] = {}
        running = 0
        for bound, count in zip(bounds, counts, strict=True):
            running += count
            cumulative[bound] = running
        return cumulative, total

    def job_status(self) -> Mapping[str, Mapping[str, Any]]:
        """Per scheduled job (posture, ueba): runs, failures, last run and its result."""
        return {name: job.status.to_dict() for name, job in self.jobs.items()}

    # --- running -------------------------------------------------------------------------------

    async def start(self) -> None:
        """Start the batcher, every source, the HTTP server and the scheduled jobs; write the
        ready file."""
        self.jobs = scheduled_jobs(
            self.config.schedule, self.config.posture, self.data_dir, on_alerts=self.on_job_alerts
        )
        ledger = getattr(self.pipeline, "ledger", None)  # the policy's purges are signed in it
        self.retention = retention_job(self.data_dir, ledger) if ledger is not None else None
        self.tasks.append(asyncio.create_task(self.intake.run(), name="custodes-batcher"))
        for name, source in self.config.sources.items():
            if isinstance(source, SyslogSourceConfig):
                await self.start_syslog(name, source)
            elif isinstance(source, TailSourceConfig):
                self.start_tail(name, source)
        if self.app_factory is not None:
            await self.start_http()
        if self.retention is not None:
            self.retention.start()
        for job in self.jobs.values():  # posture checks, UEBA scoring (custodes.serve.jobs)
            job.start()
        self.write_ready_file()
        # Everything alive now lives as long as the process: keep it out of the garbage
        # collector's full passes, whose pauses would otherwise show in the ack latency.
        gc.freeze()
        self.started.set()

    async def start_syslog(self, name: str, config: SyslogSourceConfig) -> None:
        """Bind one syslog listener."""
        host, port = config.address
        context = None
        if config.scheme == "tls":
            assert config.cert_file is not None and config.key_file is not None
            try:
                context = tls_context(
                    str(config.cert_file),
                    str(config.key_file),
                    str(config.ca_file) if config.ca_file else None,
                )
            except (OSError, ValueError) as error:
                raise ConfigError(
                    f"sources.{name}: cannot load TLS certificate or key: {error}",
                    key=f"sources.{name}.cert_file",
                ) from None
        source = SyslogSource(
            name,
            self.intake,
            transport=config.scheme,
            host=host,
            port=port,
            framing=config.framing,
            format=config.format,
            max_message_bytes=config.max_message_bytes,
            ssl_context=context,
        )
        self.counters.source(name, kind=f"syslog-{config.scheme}")
        try:
            self.listening[name] = await source.start()
        except OSError as error:
            raise ConfigError(
                f"sources.{name}: cannot listen on {config.listen}: {error.strerror}",
                key=f"sources.{name}.listen",
            ) from None
        self.syslog.append(source)

    def start_tail(self, name: str, config: TailSourceConfig) -> None:
        """Start following one file."""
        tail = FileTail(
            name,
            config.path,
            self.intake,
            self.pipeline.cursor,
            format=config.format,
            start_at=config.start_at,
            poll_interval_secs=config.poll_interval_secs,
            max_message_bytes=config.max_message_bytes,
        )
        self.counters.source(name, kind="tail")
        self.tails.append(tail)
        self.listening[name] = f"file:{config.path}"
        self.tasks.append(asyncio.create_task(self.guard(tail.run(), name), name=f"tail-{name}"))

    async def guard(self, work: Any, name: str) -> None:
        """Run a source task; log (and count) an unexpected failure instead of dying silently."""
        try:
            await work
        except asyncio.CancelledError:
            raise
        except Exception as error:  # a source failed: say so, keep the rest running
            log.exception("source %s stopped", name)
            self.counters.last_error = f"{name}: {type(error).__name__}: {error}"

    async def start_http(self) -> None:
        """Bind the HTTP port and serve the app (API, web UI, ingest routes)."""
        assert self.app_factory is not None
        host, port = split_address(self.config.http.listen)
        family = socket.AF_INET6 if ":" in host else socket.AF_INET
        sock = socket.socket(family, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((host, port))
        except OSError as error:
            sock.close()
            raise ConfigError(
                f"http.listen: cannot listen on {self.config.http.listen}: {error.strerror}",
                key="http.listen",
            ) from None
        sock.listen(1024)
        sock.setblocking(False)
        bound = sock.getsockname()
        config = uvicorn.Config(
            self.app_factory(self),
            log_level="warning",
            access_log=False,
            lifespan="on",
            timeout_graceful_shutdown=10,
        )
        self.http = QuietServer(config)
        self.tasks.append(asyncio.create_task(self.http.serve(sockets=[sock]), name="http"))
        while not self.http.started:
            await asyncio.sleep(0.01)
            if self.tasks[-1].done():
                self.tasks[-1].result()
                raise ConfigError("the HTTP server stopped while starting", key="http.listen")
        self.listening["http"] = f"http://{bound[0]}:{bound[1]}"

    def write_ready_file(self) -> None:
        """`<data_dir>/serve.json`: pid and the addresses really bound."""
        document = {"pid": os.getpid(), "listening": self.listening}
        path = self.data_dir / READY_FILE
        temporary = path.with_suffix(".tmp")
        temporary.write_bytes(orjson.dumps(document, option=orjson.OPT_INDENT_2))
        temporary.replace(path)
        for name, address in self.listening.items():
            log.warning("custodes serve: %s listening on %s", name, address)

    def stop(self) -> None:
        """Ask `run` to stop (signal handlers call this)."""
        self.stopping.set()

    async def run(self) -> None:
        """Start, serve until `stop()`, then drain: nothing queued is left behind."""
        try:
            await self.start()
            await self.stopping.wait()
        finally:
            await self.shutdown()

    async def shutdown(self) -> None:
        """Stop accepting, commit everything already queued, stop the worker thread."""
        if self.retention is not None:
            await self.retention.stop()
        for job in self.jobs.values():
            await job.stop()
        for source in self.syslog:
            await source.stop()
        if self.http is not None:
            self.http.should_exit = True
        for task in self.tasks[1:]:
            if task.get_name().startswith("tail-"):
                task.cancel()
        await asyncio.gather(*self.tasks[1:], return_exceptions=True)
        await self.intake.close()
        if self.tasks:
            await asyncio.gather(self.tasks[0], return_exceptions=True)
        self.intake.shutdown()
        (self.data_dir / READY_FILE).unlink(missing_ok=True)
