"""One pass of the publish worker: recover, claim, render, send, record — item by item.

Two kinds of outbox rows go through it: channel publications (and their edits and deletes)
and reader deliveries. Each row is recorded in its own short transaction right after the
platform answers (DESIGN.md rule 6). A failure is classified once (``bot.publish.classify``)
and stays with its row: one bad row never stops the rest. Channels (and readers) are worked
concurrently, the rows of one channel in order.
"""

from __future__ import annotations

import asyncio
import logging
import random
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.errors import PermanentError, PublishError
from bot.format.model import TelegramRender
from bot.publish import outbox
from bot.publish.classify import classify, is_already_done, is_blocked, scrub
from bot.publish.outbox import DEFAULT_POLICY, DELIVERIES, PUBLICATIONS, Kind, RetryPolicy
from bot.publish.targets import DeliveryJob, DeliveryTarget, Job, Render, Sent, Target
from bot.store.models import Delivery, Publication

log = logging.getLogger(__name__)

RenderPublication = Callable[[Publication], Render]
RenderDelivery = Callable[[Delivery], TelegramRender | Awaitable[TelegramRender]]
TOO_OLD_TO_DELETE = "the platform no longer allows deleting this message (Telegram: after 48 h); remove it by hand"


@dataclass(frozen=True, slots=True)
class ItemError:
    publication_id: int  # the row's id: a publication, or a delivery when kind says so
    channel: str  # the channel, or "reader <telegram user id>" for a delivery
    action: str  # send, edit, delete, notify, record
    message: str
    retrying: bool
    kind: str = PUBLICATIONS.name


@dataclass(frozen=True, slots=True)
class Deliveries:
    """How the worker sends reader notifications: the target and what a notification looks like."""

    target: DeliveryTarget
    render: RenderDelivery
    on_blocked: Callable[[int, datetime], Awaitable[Any]] | None = None  # (subscriber id, now): a 403 from the reader


@dataclass(frozen=True, slots=True)
class WorkerReport:
    sent: int = 0
    delivered: int = 0  # reader notifications sent
    retried: int = 0  # publications and deliveries alike
    dead: int = 0
    edited: int = 0
    deleted: int = 0
    recovered: int = 0
    withdrawn: int = 0
    claimed: int = 0  # sends and changes this pass took from the outbox (a full batch: more may wait)
    errors: tuple[ItemError, ...] = ()


@dataclass
class _Tally:
    counts: dict[str, int] = field(default_factory=dict)
    errors: list[ItemError] = field(default_factory=list)

    def add(self, name: str) -> None:
        self.counts[name] = self.counts.get(name, 0) + 1

    def report(self) -> WorkerReport:
        return WorkerReport(**self.counts, errors=tuple(self.errors))


@dataclass
class _Pass:
    sessions: async_sessionmaker[AsyncSession]
    now: datetime
    targets: Mapping[str, Target]
    render: RenderPublication
    policy: RetryPolicy
    rng: random.Random | None
    tally: _Tally
    worker_id: str
    deliveries: Deliveries | None = None
    started: set[int] = field(default_factory=set)  # handed to a platform: outcome may be unknown

    async def _render(self, target: Target, publication: Publication) -> Render:
        await target.prepare(self.now)  # live instance limits first (cached; refreshed daily)
        return self.render(publication)

    def _error(self, error: ItemError) -> None:
        self.tally.errors.append(error)
        log.log(logging.WARNING if error.retrying else logging.ERROR, "%s %s on %s: %s %s: %s", error.kind,
                error.publication_id, error.channel, error.action, "will retry" if error.retrying else "failed",
                error.message)

    async def _failed(self, kind: Kind, row_id: int, exc: Exception) -> tuple[PublishError, bool]:
        """Record a failed send (retry or dead); the classified error and whether it is retried."""
        error = classify(exc)
        async with self.sessions.begin() as session:
            state = await outbox.fail(session, row_id, error, self.now, policy=self.policy, rng=self.rng,
                                      worker_id=self.worker_id, kind=kind)
        retrying = state == kind.states.RETRY
        if state is not None:  # None: another worker recovered the row meanwhile
            self.tally.add("retried" if retrying else "dead")
        return error, retrying

    async def send(self, publication: Publication) -> None:
        job, target = Job.of(publication), self.targets[publication.channel.name]
        self.started.add(job.publication_id)
        try:
            sent = await target.send(job, await self._render(target, publication), self.now)
        except Exception as exc:
            error, retrying = await self._failed(PUBLICATIONS, job.publication_id, exc)
            self._error(ItemError(job.publication_id, job.channel, "send", str(error), retrying))
            return
        # The platform has answered: record it even if shutdown cancels us meanwhile.
        await asyncio.shield(self._complete(PUBLICATIONS, job.publication_id, sent, remote_url=sent.remote_url,
                                            sent_version=job.content_version))
        self.tally.add("sent")

    async def deliver(self, delivery: Delivery) -> None:
        assert self.deliveries is not None
        job = DeliveryJob.of(delivery)
        self.started.add(job.delivery_id)
        try:
            render = self.deliveries.render(delivery)  # the fan-out's renderer reads the reader's follows: async
            sent = await self.deliveries.target.send(
                job, render if isinstance(render, TelegramRender) else await render, self.now)
        except Exception as exc:
            error, retrying = await self._failed(DELIVERIES, job.delivery_id, exc)
            if self.deliveries.on_blocked is not None and is_blocked(exc):
                await self.deliveries.on_blocked(delivery.subscriber_id, self.now)
            self._error(ItemError(job.delivery_id, f"reader {job.chat_id}", "notify", str(error), retrying,
                                  DELIVERIES.name))
            return
        await asyncio.shield(self._complete(DELIVERIES, job.delivery_id, sent))
        self.tally.add("delivered")

    async def _complete(self, kind: Kind, row_id: int, sent: Sent, **values: Any) -> None:
        async with self.sessions.begin() as session:
            await outbox.complete(session, row_id, remote_id=str(sent.remote_id), now=self.now, kind=kind, **values)

    async def change(self, publication: Publication) -> None:
        job, target = Job.of(publication), self.targets[publication.channel.name]
        self.started.add(job.publication_id)
        delete = outbox.wants_delete(publication)
        try:
            if delete:
                if not await target.delete(job, self.now):
                    raise PermanentError(TOO_OLD_TO_DELETE)
            else:
                await target.edit(job, await self._render(target, publication), self.now)
        except Exception as exc:
            if not is_already_done(exc):
                error = classify(exc)
                async with self.sessions.begin() as session:
                    retrying = await outbox.fail_change(session, job.publication_id, error, self.now,
                                                        delete=delete, policy=self.policy, rng=self.rng,
                                                        worker_id=self.worker_id)
                self._error(ItemError(job.publication_id, job.channel, "delete" if delete else "edit", str(error),
                                      retrying))
                return
        async with self.sessions.begin() as session:
            if delete:
                await outbox.complete_delete(session, job.publication_id, self.now)
            else:
                await outbox.complete_edit(session, job.publication_id, version=job.content_version, now=self.now)
        self.tally.add("deleted" if delete else "edited")

    async def run(self, kind: Kind, rows: Sequence[Any], step: Callable[[Any], Awaitable[None]],
                  lane: Callable[[Any], str]) -> None:
        """Rows of one lane (channel, reader) in order, lanes concurrently."""
        lanes: dict[str, list[Any]] = {}
        for row in rows:
            lanes.setdefault(lane(row), []).append(row)

        async def one_lane(name: str, items: list[Any]) -> None:
            for row in items:
                try:
                    await step(row)
                except Exception as exc:
                    log.exception("%s %s: could not record the outcome", kind.name, row.id)
                    self.tally.errors.append(ItemError(row.id, name, "record", scrub(str(exc)), True, kind.name))

        try:
            await asyncio.gather(*(one_lane(name, items) for name, items in lanes.items()))
        except asyncio.CancelledError:
            # Shutdown: what never reached the platform goes back to the queue now; a send in
            # flight keeps `sending` (its outcome is unknown) until recover_stale.
            unsent = [row.id for row in rows if row.id not in self.started]
            async with self.sessions.begin() as session:
                released = await outbox.release(session, unsent, self.worker_id, kind=kind)
            log.info("worker stopping: released %d unsent %s rows", released, kind.name)
            raise


def _channel(publication: Publication) -> str:
    return publication.channel.name


def _reader(delivery: Delivery) -> str:
    return f"reader {delivery.subscriber_id}"


async def run_once(sessions: async_sessionmaker[AsyncSession], now: datetime, *, worker_id: str,
                   publishers: Mapping[str, Target], render: RenderPublication, limit: int = 50,
                   stale_after: timedelta = timedelta(minutes=10), policy: RetryPolicy = DEFAULT_POLICY,
                   rng: random.Random | None = None, deliveries: Deliveries | None = None) -> WorkerReport:
    """Publish what is due at ``now`` on the channels in ``publishers``, then edits and deletes,
    then (with ``deliveries``) the reader notifications due."""
    tally = _Tally()
    work = _Pass(sessions, now, publishers, render, policy, rng, tally, worker_id, deliveries)
    kinds = [PUBLICATIONS, DELIVERIES] if deliveries is not None else [PUBLICATIONS]
    async with sessions.begin() as session:
        tally.counts["recovered"] = sum([await outbox.recover_stale(session, now, stale_after, kind=kind)
                                         for kind in kinds])
        tally.counts["withdrawn"] = await outbox.withdraw_unsent(session, now)
    async with sessions.begin() as session:
        due = await outbox.claim_due(session, now, worker_id, limit, channel_names=list(publishers))
    await work.run(PUBLICATIONS, due, work.send, _channel)
    async with sessions.begin() as session:
        changes = await outbox.claim_changes(session, now, worker_id, limit, channel_names=list(publishers))
    await work.run(PUBLICATIONS, changes, work.change, _channel)
    notices: list[Delivery] = []
    if deliveries is not None:
        async with sessions.begin() as session:
            notices = await outbox.claim_due(session, now, worker_id, limit, kind=DELIVERIES)
        await work.run(DELIVERIES, notices, work.deliver, _reader)
    tally.counts["claimed"] = len(due) + len(changes) + len(notices)
    return tally.report()
