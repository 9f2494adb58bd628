"""Retro-hunt: run a matcher over the events stored in the lake."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

from custodes.detect.alerts import hits_to_alerts
from custodes.detect.matcher import Matcher
from custodes.events import Alert
from custodes.store import iter_batches


def hunt(
    data_dir: Path,
    matcher: Matcher,
    *,
    since: datetime | str | None = None,
    until: datetime | str | None = None,
) -> Iterator[Alert]:
    """Alerts for every rule match among the lake's events in the time range, batch by batch."""
    for batch in iter_batches(data_dir, since=since, until=until):
        hits = matcher.match(batch)
        if hits:
            yield from hits_to_alerts(batch, hits)
