"""The lake (Parquet), the quarantine and the queries over them; the control database."""

from custodes.store.lake import EventLedger, write_events
from custodes.store.quarantine import QUARANTINE_SCHEMA, read_quarantine
from custodes.store.query import connect, iter_batches, parse_time, search, stats
from custodes.store.where import WhereError, parse_where

__all__ = [
    "QUARANTINE_SCHEMA",
    "EventLedger",
    "WhereError",
    "connect",
    "iter_batches",
    "parse_time",
    "parse_where",
    "read_quarantine",
    "search",
    "stats",
    "write_events",
]
