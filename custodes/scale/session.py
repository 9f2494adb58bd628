"""The Spark session the scale jobs run in: local mode by default, any master URL otherwise."""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

from custodes.errors import ConfigError

if TYPE_CHECKING:
    from pyspark.sql import SparkSession

DEFAULT_MASTER = "local[*]"

#: Settings every job relies on: UTC timestamps, Arrow batches sized like the embedded hunt's,
#: few shuffle partitions (the grouped alerts are small), no web UI in local mode.
SESSION_CONFIG = {
    "spark.sql.session.timeZone": "UTC",
    "spark.sql.execution.arrow.maxRecordsPerBatch": str(64 * 1024),
    "spark.sql.shuffle.partitions": "8",
    "spark.sql.adaptive.enabled": "true",
    "spark.ui.showConsoleProgress": "false",
    "spark.python.worker.reuse": "true",
}


def spark_session(
    master: str = DEFAULT_MASTER,
    *,
    app_name: str = "custodes",
    config: dict[str, str] | None = None,
) -> SparkSession:
    """A SparkSession on `master` (`local[*]`, `local[2]`, `spark://host:7077`, `k8s://...`)."""
    try:
        from pyspark.sql import SparkSession
    except ImportError as error:  # pragma: no cover - pyspark is a dependency
        raise ConfigError(f"pyspark is not installed: {error}") from None
    if master.startswith("local"):  # workers run this interpreter (on a cluster: its image's)
        os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
        os.environ.setdefault("PYSPARK_DRIVER_PYTHON", sys.executable)
        os.environ.setdefault("SPARK_LOCAL_IP", "127.0.0.1")
    builder = SparkSession.builder.master(master).appName(app_name)
    settings = dict(SESSION_CONFIG)
    if master.startswith("local"):
        settings["spark.ui.enabled"] = "false"
        settings.setdefault("spark.driver.host", "127.0.0.1")
        settings.setdefault("spark.driver.bindAddress", "127.0.0.1")
    settings.update(config or {})
    for key, value in settings.items():
        builder = builder.config(key, value)
    try:
        session = builder.getOrCreate()
    except Exception as error:  # no Java, an unreachable master: a settings problem
        raise ConfigError(f"cannot start Spark on {master!r}: {error}") from error
    session.sparkContext.setLogLevel("ERROR")
    return session


@contextmanager
def running_spark(master: str = DEFAULT_MASTER, *, app_name: str = "custodes") -> Iterator[Any]:
    """A SparkSession for one job, stopped afterwards unless it was already running here."""
    from pyspark.sql import SparkSession

    already = SparkSession.getActiveSession()
    session = spark_session(master, app_name=app_name)
    try:
        yield session
    finally:
        if already is None:
            session.stop()
