"""What network and file sources hand their records to: the service's bounded intake queue."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

from custodes.events import RawRecord


@dataclass(frozen=True, slots=True)
class Receipt:
    """A chunk was committed (fsync'ed; stored or quarantined): the sender may hear ok."""

    committed: int


class Intake(Protocol):
    """A bounded queue in front of the pipeline; a chunk's future resolves after fsync."""

    def has_room(self, count: int) -> bool:
        """Whether `count` more records fit in the queue now."""
        ...

    def offer(self, source: str, records: Sequence[RawRecord]) -> asyncio.Future[Receipt]:
        """Queue a chunk now or raise `Overloaded` (HTTP answers 429)."""
        ...

    async def put(
        self,
        source: str,
        records: Sequence[RawRecord],
        *,
        cursor: tuple[str, int] | None = None,
    ) -> asyncio.Future[Receipt]:
        """Queue a chunk, waiting for room first (TCP stops reading meanwhile).

        `cursor` (key, position) is committed with the chunk, so a file source resumes after it.
        """
        ...

    def drop(self, source: str, count: int, reason: str) -> None:
        """Count records that could not be queued (UDP when the queue is full)."""
        ...
