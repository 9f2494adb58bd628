"""The lake (Parquet), the quarantine and the queries over them; the control database."""

from custodes.store.alerts import (
    StoredAlert,
    get_alert,
    list_alerts,
    save_alerts,
    set_alert_status,
)
from custodes.store.control import Control, open_control
from custodes.store.lake import EventLedger, write_events
from custodes.store.quarantine import QUARANTINE_SCHEMA, read_quarantine
from custodes.store.query import connect, iter_batches, parse_time, search, stats
from custodes.store.suppressions import (
    Suppression,
    SuppressionError,
    add_suppression,
    list_suppressions,
    parse_expiry,
    revoke_suppression,
    suppress_alert,
)
from custodes.store.where import WhereError, parse_where

__all__ = [
    "QUARANTINE_SCHEMA",
    "Control",
    "EventLedger",
    "StoredAlert",
    "Suppression",
    "SuppressionError",
    "WhereError",
    "add_suppression",
    "connect",
    "get_alert",
    "iter_batches",
    "list_alerts",
    "list_suppressions",
    "open_control",
    "parse_expiry",
    "parse_time",
    "parse_where",
    "read_quarantine",
    "revoke_suppression",
    "save_alerts",
    "search",
    "set_alert_status",
    "stats",
    "suppress_alert",
    "write_events",
]
