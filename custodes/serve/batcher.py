"""The bounded queue in front of the pipeline: group records into batches, commit, then ack.

Every source hands chunks of records to one `Batcher`. A single worker thread commits batches
one after the other (`Pipeline.submit`, fsync'ed before it returns); while one batch is being
committed the next one fills up (group commit), so batches grow with the load and latency stays
low when the load is light. Each chunk's future resolves only after its batch was committed:
that is the moment a sender may hear "ok". When the queue is full, `offer` refuses (HTTP 429)
and `put` waits (TCP stops reading).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections import deque
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Protocol

from custodes.errors import Overloaded
from custodes.events import RawRecord
from custodes.ingest.intake import Receipt
from custodes.serve.counters import Counters
from custodes.store.resend import DUPLICATE_RESEND

log = logging.getLogger(__name__)

Cursor = tuple[str, int]


class SubmitResult(Protocol):
    """What `Pipeline.submit` returns."""

    @property
    def stored(self) -> int: ...

    @property
    def quarantined(self) -> int: ...


Submit = Callable[..., SubmitResult]


@dataclass(slots=True)
class Pending:
    """One chunk waiting for its batch to be committed."""

    source: str
    records: Sequence[RawRecord]
    cursor: Cursor | None
    enqueued_at: float
    done: asyncio.Future[Receipt]


class Batcher:
    """Groups chunks from every source into batches and commits them in a worker thread."""

    def __init__(
        self,
        submit: Submit,
        counters: Counters,
        *,
        max_events: int = 5000,
        max_wait_secs: float = 0.02,
        queue_max_events: int = 200_000,
        flush: Callable[[], None] | None = None,
        flush_interval_secs: float = 30.0,
    ) -> None:
        self.submit = submit
        self.counters = counters
        self.max_events = max_events
        self.max_wait_secs = max_wait_secs
        self.queue_max_events = queue_max_events
        self.flush = flush
        self.flush_interval_secs = flush_interval_secs
        self.queue: deque[Pending] = deque()
        self.queued_events = 0
        self.is_closing = False
        self.arrived = asyncio.Event()
        self.room = asyncio.Event()
        self.room.set()
        self.executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="custodes-commit")
        self.flusher = ThreadPoolExecutor(max_workers=1, thread_name_prefix="custodes-flush")
        self.flushing: asyncio.Future[None] | None = None
        counters.queue_max_events = queue_max_events

    def has_room(self, count: int) -> bool:
        """Whether `count` more records fit (a chunk bigger than the queue fits an empty one)."""
        if self.is_closing:
            return False
        return self.queued_events == 0 or self.queued_events + count <= self.queue_max_events

    def offer(
        self, source: str, records: Sequence[RawRecord], *, cursor: Cursor | None = None
    ) -> asyncio.Future[Receipt]:
        """Queue a chunk now, or raise `Overloaded` when the queue is full."""
        if not self.has_room(len(records)):
            self.counters.source(source).rejected += len(records)
            raise Overloaded(
                f"queue full ({self.queued_events} events waiting)",
                retry_after_secs=1.0,
            )
        return self.enqueue(source, records, cursor)

    async def put(
        self, source: str, records: Sequence[RawRecord], *, cursor: Cursor | None = None
    ) -> asyncio.Future[Receipt]:
        """Queue a chunk once there is room for it."""
        while not self.has_room(len(records)):
            if self.is_closing:
                raise Overloaded("service is stopping")
            self.room.clear()
            await self.room.wait()
        return self.enqueue(source, records, cursor)

    def drop(self, source: str, count: int, reason: str) -> None:
        """Count records a source had to let go (UDP while the queue is full)."""
        counters = self.counters.source(source)
        counters.dropped += count
        counters.drop_reasons[reason] = counters.drop_reasons.get(reason, 0) + count

    def enqueue(
        self, source: str, records: Sequence[RawRecord], cursor: Cursor | None
    ) -> asyncio.Future[Receipt]:
        """Append a chunk to the queue and wake the batch loop."""
        done: asyncio.Future[Receipt] = asyncio.get_running_loop().create_future()
        self.counters.source(source).received += len(records)
        if not records and cursor is None:
            done.set_result(Receipt(0))
            return done
        self.queue.append(Pending(source, records, cursor, time.monotonic(), done))
        self.queued_events += len(records)
        self.counters.queue_depth = self.queued_events
        self.arrived.set()
        return done

    def take(self) -> list[Pending]:
        """Whole chunks from the head of the queue, up to `max_events` (at least one)."""
        taken: list[Pending] = []
        count = 0
        while self.queue and (not taken or count + len(self.queue[0].records) <= self.max_events):
            chunk = self.queue.popleft()
            taken.append(chunk)
            count += len(chunk.records)
        self.queued_events -= count
        self.counters.queue_depth = self.queued_events
        self.room.set()
        return taken

    async def run(self) -> None:
        """Commit batches until `close` was called and the queue is empty."""
        loop = asyncio.get_running_loop()
        last_flush = time.monotonic()
        while True:
            if not self.queue:
                if self.is_closing:
                    return
                self.arrived.clear()
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self.arrived.wait(), timeout=1.0)
            if self.queue and self.queued_events < self.max_events and not self.is_closing:
                await asyncio.sleep(self.max_wait_secs)  # let a small batch fill up a little
            if self.queue:
                await self.commit(self.take())
            if self.flush and time.monotonic() - last_flush >= self.flush_interval_secs:
                last_flush = time.monotonic()
                if self.flushing is None or self.flushing.done():
                    # its own thread: moving the WAL into the lake must not hold up commits
                    self.flushing = loop.run_in_executor(self.flusher, self.flush)
                    self.flushing.add_done_callback(self.flushed)

    def flushed(self, done: asyncio.Future[None]) -> None:
        """Note a failed flush (retried on the next interval)."""
        error = None if done.cancelled() else done.exception()
        if error is not None:
            log.error("flush failed: %s", error)
            self.counters.last_error = f"flush: {error}"

    async def commit(self, chunks: list[Pending]) -> None:
        """Submit one batch (one pipeline call per source) and resolve its chunks' futures."""
        loop = asyncio.get_running_loop()
        groups: dict[tuple[str, str | None], list[Pending]] = {}
        for chunk in chunks:
            key = (chunk.source, chunk.cursor[0] if chunk.cursor else None)
            groups.setdefault(key, []).append(chunk)
        for (source, _), group in groups.items():
            records = [record for chunk in group for record in chunk.records]
            cursor = group[-1].cursor
            counters = self.counters.source(source)
            try:
                result = await loop.run_in_executor(
                    self.executor, self.submit_group, records, cursor
                )
            except Exception as error:  # the pipeline failed: nobody is told "ok"
                log.exception("commit failed")
                self.counters.batch_errors += 1
                self.counters.last_error = f"{type(error).__name__}: {error}"
                counters.failed += len(records)
                for chunk in group:
                    if not chunk.done.done():
                        chunk.done.set_exception(error)
                continue
            self.counters.batches += 1
            counters.stored += result.stored
            counters.quarantined += result.quarantined
            duplicates = getattr(result, "duplicates", 0)  # resent after a crash: counted
            if duplicates:
                self.drop(source, duplicates, DUPLICATE_RESEND)
            now = time.monotonic()
            for chunk in group:
                counters.ack_latency.observe(now - chunk.enqueued_at, len(chunk.records))
                if not chunk.done.done():
                    chunk.done.set_result(Receipt(len(chunk.records)))

    def submit_group(self, records: list[RawRecord], cursor: Cursor | None) -> SubmitResult:
        """Worker thread: one durable pipeline call."""
        if cursor is None:
            return self.submit(records)
        return self.submit(records, cursor=cursor)

    async def close(self) -> None:
        """Refuse new chunks, commit what is queued, stop the worker thread."""
        self.is_closing = True
        self.arrived.set()
        self.room.set()

    def shutdown(self) -> None:
        """Stop the worker threads (after `run` returned)."""
        self.executor.shutdown(wait=True)
        self.flusher.shutdown(wait=True)
