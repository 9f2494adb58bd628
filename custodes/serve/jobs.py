"""Jobs the service runs itself on a timetable: retention, posture checks and UEBA scoring.

Each job is an asyncio task that sleeps until its next run and then does the work in a worker
thread (the event loop and ingest carry on). A failed run is logged and counted and the next
one comes at its usual time; the service never stops for it. `stop()` cancels the timetable and
waits a bounded time for a run in progress (whose writes are atomic either way).

A run tells its job's `on_alerts` listeners the ids of the alerts it created (`created_ids` in
its result, found by `custodes.notify.alerts_created`: not the repeats grouped into an open
alert nor the ones a suppression covered), as streaming detection tells of
`SaveResult.created_ids`; the service's notifier listens (`custodes serve` with `sinks:`).
"""

from __future__ import annotations

import asyncio
import logging
import os
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

from custodes.serve.config import ScheduleConfig

if TYPE_CHECKING:
    from custodes.ledger import Ledger
    from custodes.posture.settings import PostureSettings

log = logging.getLogger("custodes.jobs")

Work = Callable[[datetime], Mapping[str, Any]]
Timetable = Callable[[datetime], float]  # now -> seconds until the next run
AlertListener = Callable[[Sequence[int]], None]  # the ids of the alerts a run created
#: Retention runs once a day, the first time a day after the start.
RETENTION_EVERY_SECS = 24 * 3600.0


@dataclass
class JobStatus:
    """What a job has done since the service started (plain data for the API and tests)."""

    runs: int = 0
    failures: int = 0
    last_started_at: datetime | None = None
    last_finished_at: datetime | None = None
    last_success_at: datetime | None = None
    last_error: str = ""
    last_result: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready (times in ISO 8601)."""
        return {
            "runs": self.runs,
            "failures": self.failures,
            "last_started_at": iso(self.last_started_at),
            "last_finished_at": iso(self.last_finished_at),
            "last_success_at": iso(self.last_success_at),
            "last_error": self.last_error,
            "last_result": dict(self.last_result),
        }


def iso(moment: datetime | None) -> str | None:
    """A time in ISO 8601, or None."""
    return moment.isoformat() if moment is not None else None


def every(secs: float) -> Timetable:
    """Every `secs`, the first run one interval after the start."""
    return lambda now: secs


def daily_at(moment: time) -> Timetable:
    """Each day at `moment` (UTC)."""

    def delay(now: datetime) -> float:
        upcoming = datetime.combine(now.astimezone(UTC).date(), moment, tzinfo=UTC)
        if upcoming <= now:
            upcoming += timedelta(days=1)
        return (upcoming - now).total_seconds()

    return delay


class Job:
    """One piece of work on a timetable, run in its own worker thread."""

    def __init__(self, name: str, work: Work, timetable: Timetable) -> None:
        self.name = name
        self.work = work
        self.timetable = timetable
        self.status = JobStatus()
        self.on_alerts: list[AlertListener] = []
        self.executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix=f"custodes-{name}")
        self.running: asyncio.Future[Mapping[str, Any]] | None = None
        self.task: asyncio.Task[None] | None = None

    def start(self) -> None:
        """Start the timetable (from the event loop)."""
        self.task = asyncio.create_task(self.schedule(), name=f"custodes-{self.name}")

    async def schedule(self) -> None:
        """Sleep until the next run, run, repeat; until cancelled."""
        while True:
            await asyncio.sleep(self.timetable(datetime.now(UTC)))
            await self.run_once()

    async def run_once(self) -> None:
        """One run in the worker thread; its outcome is recorded when it ends (`record`)."""
        self.status.last_started_at = datetime.now(UTC)
        loop = asyncio.get_running_loop()
        self.running = loop.run_in_executor(
            self.executor, self.work_and_tell, self.status.last_started_at
        )
        self.running.add_done_callback(self.record)
        await asyncio.wait([self.running])  # never raises (nor cancels the run): `record` looks

    def work_and_tell(self, now: datetime) -> Mapping[str, Any]:
        """Do the work, then tell the listeners of the alerts it created (in the worker thread,
        so a slow listener never holds up the event loop)."""
        result = dict(self.work(now))
        if "created_ids" not in result:
            return result
        created = list(result.pop("created_ids"))
        result["alerts_created"] = len(created)
        if created:
            for listener in self.on_alerts:
                listener(created)
        return result

    def record(self, done: asyncio.Future[Mapping[str, Any]]) -> None:
        """Count a finished run; a failure is logged and counted, never raised."""
        self.status.last_finished_at = datetime.now(UTC)
        error = None if done.cancelled() else done.exception()
        if done.cancelled() or error is not None:
            log.error("scheduled %s run failed", self.name, exc_info=error)
            self.status.failures += 1
            self.status.last_error = f"{type(error).__name__}: {error}" if error else "cancelled"
            return
        self.status.runs += 1
        self.status.last_success_at = self.status.last_finished_at
        self.status.last_result = dict(done.result())
        log.info("scheduled %s run: %s", self.name, self.status.last_result)

    async def stop(self, *, wait_secs: float = 30.0) -> None:
        """Cancel the timetable; give a run in progress `wait_secs` to finish."""
        if self.task is not None:
            self.task.cancel()
            await asyncio.gather(self.task, return_exceptions=True)
        running = self.running
        if running is not None and not running.done():
            _done, pending = await asyncio.wait([running], timeout=wait_secs)
            if pending:
                log.warning("scheduled %s run still going at stop; it ends on its own", self.name)
        self.executor.shutdown(wait=False, cancel_futures=True)


def posture_settings(posture: Mapping[str, Any]) -> PostureSettings:
    """The `posture:` section of custodes.yaml; without one, that of the file CUSTODES_CONFIG
    names (as `custodes posture run` and `POST /api/posture/run` read); else the defaults."""
    from custodes.posture.settings import load_posture_settings, parse_posture_settings

    named = os.environ.get("CUSTODES_CONFIG")
    if not posture and named:
        return load_posture_settings(Path(named))
    return parse_posture_settings(dict(posture) or None)


def posture_work(data_dir: Path, posture: Mapping[str, Any]) -> Work:
    """Re-import the posture sources named in the settings, then run every check."""
    settings = posture_settings(posture)  # a mistake stops the start

    def work(now: datetime) -> Mapping[str, Any]:
        from custodes.notify import alerts_created
        from custodes.posture.run import refresh_sources, run_posture
        from custodes.store.control import open_control

        refreshed = refresh_sources(data_dir, settings)
        with open_control(data_dir) as control, alerts_created(control, "posture") as created:
            summary = run_posture(data_dir, control, settings, now=now)
        return {
            "run_id": summary.run_id,
            "findings": sum(summary.counts.values()),
            "opened": summary.opened,
            "resolved": summary.resolved,
            "refreshed": dict(refreshed.rows) if refreshed is not None else {},
            "created_ids": created,
        }

    return work


def days_to_score(data_dir: Path, today: date) -> tuple[date | None, date] | None:
    """The days a scheduled UEBA run scores: after the newest scored day up to yesterday (all
    days before today on the first run); None when they are all scored."""
    from custodes.ueba import read_scores

    yesterday = today - timedelta(days=1)
    scored = read_scores(data_dir)["day"].to_pylist()
    if not scored:
        return None, yesterday
    first = max(scored) + timedelta(days=1)
    return (first, yesterday) if first <= yesterday else None


def ueba_work(data_dir: Path, threshold: float) -> Work:
    """Score the days not scored yet (complete days only), store the scores, raise alerts."""

    def work(now: datetime) -> Mapping[str, Any]:
        from custodes.notify import alerts_created
        from custodes.store.control import open_control
        from custodes.ueba import run

        chosen = days_to_score(data_dir, now.astimezone(UTC).date())
        if chosen is None:
            return {"days": 0, "rows": 0, "alerts": 0, "created_ids": []}
        first, last = chosen
        with open_control(data_dir) as control, alerts_created(control, "ueba") as created:
            summary = run(data_dir, first=first, last=last, threshold=threshold, now=now)
        return {
            "days": summary.days,
            "rows": summary.rows,
            "alerts": summary.alerts,
            "created_ids": created,
        }

    return work


def retention_job(data_dir: Path, ledger: Ledger, every_secs: float = RETENTION_EVERY_SECS) -> Job:
    """Purge the partitions past the policy's retention (legal holds kept), each purge signed
    in the service's ledger first (custodes.oversight.retention); daily by default."""

    def work(now: datetime) -> Mapping[str, Any]:
        from custodes.oversight import retention
        from custodes.oversight.policy import load_policy

        today = now.astimezone(UTC).date()
        purged = retention.run(data_dir, load_policy(data_dir), ledger, today=today)
        if purged:
            log.warning("retention purged %d partition(s)", len(purged))
        return {"purged": len(purged)}

    return Job("retention", work, every(every_secs))


def scheduled_jobs(
    schedule: ScheduleConfig,
    posture: Mapping[str, Any],
    data_dir: Path,
    *,
    on_alerts: Sequence[AlertListener] = (),
) -> dict[str, Job]:
    """The jobs `custodes.yaml` turns on, by name (`posture`, `ueba`), not yet started; each
    tells `on_alerts` of the alerts its runs create."""
    jobs = {}
    if schedule.posture_every_secs > 0:
        jobs["posture"] = Job(
            "posture", posture_work(data_dir, posture), every(schedule.posture_every_secs)
        )
    if schedule.ueba_every_secs is not None:
        timetable: Timetable | None = every(schedule.ueba_every_secs)
    else:
        timetable = daily_at(schedule.ueba_at) if schedule.ueba_at is not None else None
    if timetable is not None:
        jobs["ueba"] = Job("ueba", ueba_work(data_dir, schedule.ueba_threshold), timetable)
    for job in jobs.values():
        job.on_alerts.extend(on_alerts)
    return jobs
