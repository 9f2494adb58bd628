"""The long-running service: config, counters, the batching intake queue, sources and HTTP."""

from custodes.serve.batcher import Batcher
from custodes.serve.config import ServiceConfig, load_config, parse_config
from custodes.serve.counters import Counters, LatencyHistogram, SourceCounters
from custodes.serve.service import Service

__all__ = [
    "Batcher",
    "Counters",
    "LatencyHistogram",
    "Service",
    "ServiceConfig",
    "SourceCounters",
    "load_config",
    "parse_config",
]
