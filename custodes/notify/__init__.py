"""Alert notifications: webhook, email, syslog forward; routes by level and tags; dead letters.

The built-in sinks register through the `register_sinks` hook, as an outside package would.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from custodes.events import Alert
from custodes.notify.created import (
    MAX_EVENT_IDS,
    alerts_created,
    created_alert_ids,
    newest_alert_id,
    notify_created,
    notify_new_alerts,
)
from custodes.notify.routing import (
    DeadLetters,
    Delivery,
    Notifier,
    NotifyConfig,
    Route,
    build_notifier,
    resend_dead_letters,
)
from custodes.notify.sinks import (
    BUILTIN_SINKS,
    DeliveryError,
    EmailSink,
    Sink,
    SinkFactory,
    SyslogSink,
    WebhookSink,
)
from custodes.plugins.hookspecs import hookimpl

if TYPE_CHECKING:  # importing detection (pySigma) on every plugin load would be slow
    from custodes.detect.engine import BatchDetection, Detection

__all__ = [
    "BUILTIN_SINKS",
    "DeadLetters",
    "Delivery",
    "DeliveryError",
    "EmailSink",
    "Notifier",
    "NotifyConfig",
    "Route",
    "Sink",
    "SinkFactory",
    "SyslogSink",
    "WebhookSink",
    "alert_payload",
    "alerts_created",
    "build_notifier",
    "created_alert_ids",
    "newest_alert_id",
    "notify_created",
    "notify_new_alerts",
    "notify_on_saved",
    "register_sinks",
    "resend_dead_letters",
]


def alert_payload(alert: Alert, *, alert_id: int | None = None) -> dict[str, Any]:
    """What a notification says about an alert (the first `MAX_EVENT_IDS` event ids)."""
    return {
        "id": alert_id,
        "rule_id": alert.rule_id,
        "title": alert.title,
        "level": alert.level,
        "kind": alert.kind,
        "author": alert.author,
        "tags": list(alert.tags),
        "host_name": alert.host_name,
        "user_name": alert.user_name,
        "count": alert.count,
        "first_seen_at": alert.first_seen_at.isoformat(),
        "last_seen_at": alert.last_seen_at.isoformat(),
        "description": alert.description,
        "event_ids": list(alert.event_ids[:MAX_EVENT_IDS]),
    }


def notify_on_saved(notifier: Notifier, detection: Detection) -> None:
    """Notify the new alerts of every batch `detection` stores, once its transaction committed."""

    def notify(result: BatchDetection) -> None:
        notify_new_alerts(notifier, detection.control, result.saved)

    detection.on_saved.append(notify)


@hookimpl
def register_sinks() -> dict[str, SinkFactory]:
    """The built-in sink types: webhook, email, syslog."""
    return dict(BUILTIN_SINKS)
