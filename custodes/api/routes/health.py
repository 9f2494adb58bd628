"""`GET /health` (public liveness), `GET /metrics` (Prometheus text format) and
`GET /api/jobs` (the scheduled jobs: runs, failures, last run, last error)."""

from __future__ import annotations

import math
from collections.abc import Iterator, Mapping
from datetime import datetime
from typing import Any

from fastapi import APIRouter
from fastapi.responses import Response
from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.core import (
    CounterMetricFamily,
    GaugeMetricFamily,
    HistogramMetricFamily,
    Metric,
)
from prometheus_client.registry import Collector
from sqlalchemy import func, select

from custodes.api.deps import READ_STATUS, AppState, State, require_roles
from custodes.store.control import AlertRow

router = APIRouter(tags=["health"])
PROMETHEUS_CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"


@router.get("/health")
def health() -> dict[str, str]:
    """Liveness: the process answers. Public, and tells nothing else."""
    return {"status": "ok"}


@router.get("/metrics", dependencies=[require_roles(*READ_STATUS)], response_class=Response)
def metrics(state: State) -> Response:
    """Counters and gauges in the Prometheus text format (scrape with an API token)."""
    registry = CollectorRegistry(auto_describe=False)
    registry.register(ServiceCollector(state))
    return Response(generate_latest(registry), media_type=PROMETHEUS_CONTENT_TYPE)


@router.get("/api/jobs", dependencies=[require_roles(*READ_STATUS)])
def jobs(state: State) -> dict[str, Any]:
    """The service's scheduled jobs (posture, ueba): runs, failures, when each last started,
    finished and succeeded, the last error and the last result. Empty without a service."""
    service = state.service
    return {"jobs": dict(service.job_status()) if service is not None else {}}


JOB_TIMES = {  # status key: metric name, help
    "last_started_at": (
        "custodes_job_last_started_timestamp_seconds",
        "When the job's last run started (Unix time)",
    ),
    "last_success_at": (
        "custodes_job_last_success_timestamp_seconds",
        "When the job's last successful run ended (Unix time)",
    ),
}


def job_metrics(status: Mapping[str, Mapping[str, Any]]) -> Iterator[Metric]:
    """Runs and failures per job (counters), when each last started and last succeeded (Unix
    time; a job that never did has no sample), and whether its last run failed."""
    runs = CounterMetricFamily(
        "custodes_job_runs", "Scheduled runs that ended well", labels=["job"]
    )
    failures = CounterMetricFamily(
        "custodes_job_failures", "Scheduled runs that failed", labels=["job"]
    )
    failed = GaugeMetricFamily(
        "custodes_job_last_run_failed", "1 when the job's last run failed", labels=["job"]
    )
    times = {
        key: GaugeMetricFamily(name, help_text, labels=["job"])
        for key, (name, help_text) in JOB_TIMES.items()
    }
    for job, values in sorted(status.items()):
        runs.add_metric([job], float(values["runs"]))
        failures.add_metric([job], float(values["failures"]))
        finished, succeeded = values["last_finished_at"], values["last_success_at"]
        failed.add_metric([job], float(finished is not None and finished != succeeded))
        for key, family in times.items():
            if values[key] is not None:
                family.add_metric([job], datetime.fromisoformat(values[key]).timestamp())
    yield from (runs, failures, failed, *times.values())


class ServiceCollector(Collector):
    """Reads the service's counters and the alert table at scrape time."""

    def __init__(self, state: AppState) -> None:
        self.state = state

    def collect(self) -> Iterator[Metric]:
        service = self.state.service
        if service is not None:
            counters = service.source_counters()
            names = sorted({name for values in counters.values() for name in values})
            for name in names:
                family = CounterMetricFamily(
                    f"custodes_events_{name}", f"Events {name} per source", labels=["source"]
                )
                for source, values in sorted(counters.items()):
                    family.add_metric([source], float(values.get(name, 0)))
                yield family
            queues = GaugeMetricFamily(
                "custodes_queue_depth", "Records waiting in each queue", labels=["queue"]
            )
            for queue, depth in sorted(service.queue_depths().items()):
                queues.add_metric([queue], float(depth))
            yield queues
            buckets, total_secs = service.ack_latency_histogram()
            if buckets:
                histogram = HistogramMetricFamily(
                    "custodes_ack_latency_seconds", "From receipt to acknowledgement (fsync)"
                )
                histogram.add_metric(
                    [],
                    [
                        ("+Inf" if math.isinf(le) else str(le), float(n))
                        for le, n in sorted(buckets.items())
                    ],
                    sum_value=total_secs,
                )
                yield histogram
            yield from job_metrics(service.job_status())
        notifier = self.state.extras.get("notifier")
        if notifier is not None:
            sent = CounterMetricFamily(
                "custodes_notifications",
                "Alert notifications per sink: delivered, retried (a failed try), dead (given up)",
                labels=["sink", "outcome"],
            )
            for (sink, outcome), count in sorted(notifier.outcomes().items()):
                sent.add_metric([sink, outcome], float(count))
            yield sent
        alerts = GaugeMetricFamily(
            "custodes_alerts", "Alerts in the control database", labels=["level", "status"]
        )
        with self.state.control.session() as session:
            for level, status, count in session.execute(
                select(AlertRow.level, AlertRow.status, func.count()).group_by(
                    AlertRow.level, AlertRow.status
                )
            ):
                alerts.add_metric([level, status], float(count))
        yield alerts
