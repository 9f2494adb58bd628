"""The alerts a posture or UEBA run created, found after the run, for the notifier.

Streaming detection knows what it created (`SaveResult.created_ids`). Posture and UEBA runs store
their alerts themselves; `alerts_created` finds them afterwards as the rows of the run's kind
above the newest alert id before it began. Ids only grow, so nothing stored earlier is among
them, whatever commits meanwhile; a repeat grouped into an open alert, or an alert a suppression
covered, makes no new row: the same news as `created_ids`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import func, select

from custodes.notify.routing import Notifier
from custodes.store.alerts import SaveResult, get_alert
from custodes.store.control import AlertRow, Control, open_control

MAX_EVENT_IDS = 50


def notify_new_alerts(notifier: Notifier, control: Control, saved: SaveResult) -> int:
    """Queue a notification for each alert `saved` created (not the grouped ones: a repeat of
    an open alert is no news). Returns how many were queued."""
    for alert_id in saved.created_ids:
        payload = get_alert(control, alert_id).to_dict()
        payload["event_ids"] = payload["event_ids"][:MAX_EVENT_IDS]
        notifier.submit(payload)
    return len(saved.created_ids)


def newest_alert_id(control: Control) -> int:
    """The highest alert id so far (0 when there is none)."""
    with control.session() as session:
        return int(session.scalar(select(func.max(AlertRow.id))) or 0)


def created_alert_ids(control: Control, kind: str, after: int) -> list[int]:
    """The alerts of `kind` stored with an id above `after`, oldest first."""
    query = select(AlertRow.id).where(AlertRow.id > after, AlertRow.kind == kind)
    with control.session() as session:
        return list(session.scalars(query.order_by(AlertRow.id)))


@contextmanager
def alerts_created(control: Control, kind: str) -> Iterator[list[int]]:
    """`with alerts_created(control, "posture") as created: run_posture(...)`; after the block
    `created` holds the ids of the alerts of `kind` it stored."""
    before = newest_alert_id(control)
    created: list[int] = []
    yield created
    created.extend(created_alert_ids(control, kind, before))


def notify_created(notifier: Notifier, data_dir: Path) -> Callable[[Sequence[int]], None]:
    """A listener that notifies the alerts whose ids it is told: those a scheduled posture or
    UEBA run created (`custodes.serve.jobs`), by the same rules as `notify_new_alerts`."""

    def notify(created_ids: Sequence[int]) -> None:
        with open_control(data_dir) as control:
            notify_new_alerts(notifier, control, SaveResult(created_ids=list(created_ids)))

    return notify
