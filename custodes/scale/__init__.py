"""The same jobs on Spark (retro-hunt with the compiled Sigma matcher) and several ingest nodes on
one lake (their ledgers verified together)."""

from __future__ import annotations

from custodes.scale.correlate import correlation_frame, spark_correlate
from custodes.scale.hunt import hunt_frame, merge_alerts, spark_hunt, spark_hunt_and_store
from custodes.scale.lake import as_event_batch, event_name, lake_location, read_lake
from custodes.scale.nodes import NodesReport, shared_lake, verify_nodes
from custodes.scale.session import DEFAULT_MASTER, running_spark, spark_session

__all__ = [
    "DEFAULT_MASTER",
    "NodesReport",
    "as_event_batch",
    "correlation_frame",
    "event_name",
    "hunt_frame",
    "lake_location",
    "merge_alerts",
    "read_lake",
    "running_spark",
    "spark_correlate",
    "spark_hunt",
    "spark_hunt_and_store",
    "shared_lake",
    "spark_session",
    "verify_nodes",
]
