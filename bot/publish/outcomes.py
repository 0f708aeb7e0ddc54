"""Outcomes written together: reader deliveries in small batches, publications by group commit.

Reader deliveries (``DeliveryOutcomes``): one UPDATE per batch, not one transaction per message.

Recording each notification in its own transaction costs more than sending it. A batch is
written when it holds ``size`` outcomes or its oldest outcome is ``delay`` seconds old, and at
the end of every pass. The bound (docs/reliability.md): a kill loses at most the batch not yet
written; those rows are still ``sending``, recovery retries them, and each of those readers
gets that notification once more — never twice from one kill: a reader's lane sends its next
notification only once the outcome of the previous one is written (``settled``), so a batch
holds at most one row per reader. A retried row whose earlier outcome is unknown is recorded
at once (``urgent``).

Publications (``GroupCommit``): each lane waits until its outcome is committed before it sends
the next message — the promise stays "at most the message in flight per channel" — but the
outcomes that arrive while a commit is running share the next one.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncEngine

from bot.publish import outbox
from bot.publish.outbox import DELIVERIES
from bot.publish.ratelimit import Clock, Sleep, loop_time

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class OutcomeBatching:
    size: int = 50
    delay: float = 0.1  # seconds


class DeliveryOutcomes:
    """Buffers sent deliveries and writes them with one executemany UPDATE per batch."""

    def __init__(self, engine: AsyncEngine, now: datetime, batching: OutcomeBatching = OutcomeBatching(), *,
                 clock: Clock = loop_time, sleep: Sleep = asyncio.sleep,
                 writes: contextlib.AbstractAsyncContextManager[Any] | None = None) -> None:
        self._engine, self._now, self.batching = engine, now, batching
        self._writes = writes or contextlib.nullcontext()  # the worker's SQLite write queue
        self._clock, self._sleep = clock, sleep
        self._pending: list[dict[str, Any]] = []
        self._batch: asyncio.Future[None] = asyncio.get_running_loop().create_future()  # done once written
        self._lanes: dict[str, asyncio.Future[None]] = {}  # lane → the batch holding its unwritten outcome
        self._flushing = asyncio.Lock()
        self._oldest = 0.0
        self._timer: asyncio.Task[None] | None = None
        self.recorded = 0
        self.flushes = 0

    @property
    def pending(self) -> int:
        return len(self._pending)

    async def settled(self, lane: str) -> None:
        """Return once ``lane``'s last outcome is written (or its write failed): call before the lane's next send."""
        batch = self._lanes.get(lane)
        if batch is not None:
            await asyncio.shield(batch)

    async def add(self, row_id: int, remote_id: str, *, lane: str, urgent: bool = False) -> None:
        self._pending.append({"row_id": row_id, "sent_remote_id": remote_id})
        self._lanes[lane] = self._batch
        if len(self._pending) == 1:
            self._oldest = self._clock()
            self._timer = asyncio.create_task(self._flush_later())
        if urgent or len(self._pending) >= self.batching.size or self._clock() - self._oldest >= self.batching.delay:
            await self.flush()

    async def flush(self) -> None:
        timer, self._timer = self._timer, None
        if timer is not None and timer is not asyncio.current_task():
            timer.cancel()  # still asleep: a timer that is writing has already cleared itself
        async with self._flushing:  # one write at a time: close() returns once every batch is in
            batch, self._pending = self._pending, []
            written, self._batch = self._batch, asyncio.get_running_loop().create_future()
            try:
                if batch:
                    async with self._writes, self._engine.begin() as connection:
                        await outbox.complete_many(connection, batch, now=self._now, kind=DELIVERIES)
                    self.recorded += len(batch)
                    self.flushes += 1
            finally:  # written, or failed (rows stay `sending`): the lanes waiting on it go on
                written.set_result(None)
                for lane in [lane for lane, held in self._lanes.items() if held is written]:
                    del self._lanes[lane]

    async def close(self) -> None:
        """Write what is left (end of pass, or shutdown: the answers are in, they must not be lost)."""
        await self.flush()

    async def _flush_later(self) -> None:
        with contextlib.suppress(asyncio.CancelledError):
            await self._sleep(self.batching.delay)
            try:
                await self.flush()
            except Exception:  # the rows stay `sending`: recovery retries them (the stated bound)
                log.exception("could not record a batch of delivery outcomes")


Write = Callable[[list[dict[str, Any]]], Awaitable[None]]


class GroupCommit:
    """``await add(values)`` returns once ``values`` is committed; what arrives meanwhile goes in one write."""

    def __init__(self, write: Write) -> None:
        self._write = write
        self._pending: list[tuple[dict[str, Any], asyncio.Future[None]]] = []
        self._writer: asyncio.Task[None] | None = None
        self.writes = 0

    async def add(self, values: dict[str, Any]) -> None:
        done: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._pending.append((values, done))
        if self._writer is None or self._writer.done():
            # A task of its own: a caller cancelled at shutdown must not cancel the others' write.
            self._writer = asyncio.create_task(self._drain())
        await done

    async def _drain(self) -> None:
        while self._pending:
            batch, self._pending = self._pending, []
            try:
                await self._write([values for values, _ in batch])
            except Exception as exc:  # each waiting row records the failure as its own
                for _, done in batch:
                    if not done.done():
                        done.set_exception(exc)
            else:
                self.writes += 1
                for _, done in batch:
                    if not done.done():
                        done.set_result(None)

    async def close(self) -> None:
        """Wait for the write in progress (end of pass: the connection is about to close)."""
        if self._writer is not None:
            await asyncio.shield(self._writer)
