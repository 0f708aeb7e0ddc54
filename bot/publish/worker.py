"""One pass of the publish worker: recover, claim, render, send, record — item by item.

Two kinds of outbox rows go through it: channel publications (and their edits and deletes)
and reader deliveries. Channels (and readers) are worked concurrently, the rows of one lane
(a channel, a reader) in order, so a kill can cut off at most one send per lane. Claiming is
continuous (``_Flow``): whenever the sends in flight drop below a low-water mark, more rows
are claimed, so a slow send never holds back the others and enough sends stay in flight to
reach the rate limit over a real network (issue 12).

Outcomes (DESIGN.md rule 6, bound in docs/reliability.md): a publication is marked ``sent``
with its remote id by one Core UPDATE right after the platform answers. Reader deliveries
are recorded in small batches (``DeliveryOutcomes``: every 50 outcomes or 100 ms): a kill
repeats at most the batch not yet recorded, each of its readers once. ``_Pass.record_sent``
is the one place a successful send is recorded, ``_Pass._failed`` the one for a failed one.
A failure is classified once (``bot.publish.classify``) and stays with its row.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import time
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, AsyncSession, async_sessionmaker

from bot.errors import PermanentError, PublishError
from bot.format.model import TelegramRender
from bot.publish import outbox
from bot.publish.classify import classify, is_already_done, is_blocked, scrub
from bot.publish.flow import Flow
from bot.publish.outbox import DEFAULT_POLICY, DELIVERIES, PUBLICATIONS, Kind, RetryPolicy
from bot.publish.outcomes import DeliveryOutcomes, GroupCommit, OutcomeBatching
from bot.publish.targets import DeliveryJob, DeliveryTarget, Job, Render, Sent, Target
from bot.store.models import Delivery, Publication

if TYPE_CHECKING:
    from bot.metrics import Metrics

log = logging.getLogger(__name__)

RenderPublication = Callable[[Publication], Render]
RenderDelivery = Callable[[Delivery], TelegramRender | Awaitable[TelegramRender]]
READERS = "readers"  # the channel label of reader notifications in the metrics
TOO_OLD_TO_DELETE = "the platform no longer allows deleting this message (Telegram: after 48 h); remove it by hand"
# Sends in flight per pass: rate × round-trip time (1000/s × 0.1 s); claims resume below half.
IN_FLIGHT = 100


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


@dataclass(frozen=True, slots=True)
class _Send:
    """One send as the metrics see it: where it went and when it began (``time.monotonic``)."""

    platform: str
    channel: str
    began: float
    subscriber_id: int | None = None  # a reader notification's reader: told on_blocked after a 403


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
    outcomes: DeliveryOutcomes | None = None  # batched delivery outcomes (None: one by one)
    metrics: Metrics | None = None
    started: set[int] = field(default_factory=set)  # handed to a platform: outcome may be unknown
    # SQLite has one writer: its writes queue here, in order, rather than in SQLite's busy handler
    # (a claim's read-then-write transaction fails at once when another write slips in between).
    writes: contextlib.AbstractAsyncContextManager[Any] = field(default_factory=contextlib.nullcontext)
    # One connection kept for the pass's publication outcomes (GroupCommit: one write at a time)
    held: AsyncConnection | None = None
    sent: GroupCommit = field(init=False)

    def __post_init__(self) -> None:
        self.sent = GroupCommit(self._write_sent)

    async def _write_sent(self, outcomes: list[dict[str, Any]]) -> None:
        assert self.held is not None, "run_once opens the pass's connection"
        async with self.writes, self.held.begin():
            await outbox.complete_publications(self.held, outcomes, now=self.now)

    @property
    def engine(self) -> AsyncEngine:
        bind: AsyncEngine = self.sessions.kw["bind"]
        return bind

    async def _render(self, target: Target, publication: Publication) -> Render:
        await target.prepare(self.now)  # live instance limits first (cached; refreshed daily)
        return self.render(publication)

    def _error(self, error: ItemError) -> None:
        self.tally.errors.append(error)
        log.log(logging.WARNING if error.retrying else logging.ERROR, "%s %s on %s: %s %s: %s", error.kind,
                error.publication_id, error.channel, error.action, "will retry" if error.retrying else "failed",
                error.message)

    async def _failed(self, kind: Kind, row_id: int, exc: Exception, send: _Send) -> tuple[PublishError, bool]:
        """The one place a failed send is recorded (retry or dead, metrics, a reader's block);
        the classified error and whether it is retried."""
        error = classify(exc)
        async with self.writes, self.sessions.begin() as session:
            state = await outbox.fail(session, row_id, error, self.now, policy=self.policy, rng=self.rng,
                                      worker_id=self.worker_id, kind=kind)
        retrying = state == kind.states.RETRY
        if state is not None:  # None: another worker recovered the row meanwhile
            self.tally.add("retried" if retrying else "dead")
        self._measure(kind, send, exc, retrying)
        on_blocked = self.deliveries.on_blocked if self.deliveries is not None else None
        if on_blocked is not None and send.subscriber_id is not None and is_blocked(exc):
            await on_blocked(send.subscriber_id, self.now)
        return error, retrying

    def _measure(self, kind: Kind, send: _Send, failure: Exception | None = None, retrying: bool = False) -> None:
        if self.metrics is not None:
            self.metrics.send_finished(send.platform, send.channel, time.monotonic() - send.began, failure=failure,
                                       retrying=retrying, kind=kind.name)

    async def send(self, publication: Publication) -> None:
        job, target = Job.of(publication), self.targets[publication.channel.name]
        self.started.add(job.publication_id)
        timed = _Send(str(publication.channel.platform), job.channel, time.monotonic())
        try:
            sent = await target.send(job, await self._render(target, publication), self.now)
        except Exception as exc:
            error, retrying = await self._failed(PUBLICATIONS, job.publication_id, exc, timed)
            self._error(ItemError(job.publication_id, job.channel, "send", str(error), retrying))
            return
        # The platform has answered: record it even if shutdown cancels us meanwhile.
        await asyncio.shield(self.record_sent(PUBLICATIONS, job.publication_id, sent, timed, remote_url=sent.remote_url,
                                              sent_version=job.content_version))

    async def deliver(self, delivery: Delivery) -> None:
        assert self.deliveries is not None
        job = DeliveryJob.of(delivery)
        self.started.add(job.delivery_id)
        lane = _reader(delivery)
        if self.outcomes is not None:  # this reader's previous outcome written first: ≤ 1 repeat per kill
            await self.outcomes.settled(lane)
        timed = _Send("telegram", READERS, time.monotonic(), delivery.subscriber_id)
        try:
            render = self.deliveries.render(delivery)  # the fan-out's renderer reads the reader's follows: async
            sent = await self.deliveries.target.send(
                job, render if isinstance(render, TelegramRender) else await render, self.now)
        except Exception as exc:
            error, retrying = await self._failed(DELIVERIES, job.delivery_id, exc, timed)
            self._error(ItemError(job.delivery_id, f"reader {job.chat_id}", "notify", str(error), retrying,
                                  DELIVERIES.name))
            return
        await asyncio.shield(self.record_sent(DELIVERIES, job.delivery_id, sent, timed, urgent=job.tried_before,
                                              lane=lane))

    async def record_sent(self, kind: Kind, row_id: int, sent: Sent, timed: _Send, *, urgent: bool = False,
                          lane: str = "", **values: Any) -> None:
        """The one place a successful send is recorded: a publication committed before its channel
        goes on (outcomes arriving together share a commit), a delivery in the current batch
        unless ``urgent`` (``lane``: its reader's, see ``DeliveryOutcomes.settled``); then counted and timed."""
        if kind is PUBLICATIONS:
            await self.sent.add({"row_id": row_id, "sent_remote_id": str(sent.remote_id),
                                 "sent_remote_url": values.get("remote_url"), "version": values["sent_version"]})
        elif self.outcomes is not None:
            await self.outcomes.add(row_id, str(sent.remote_id), lane=lane, urgent=urgent)
        else:
            async with self.writes, self.engine.begin() as connection:  # lanes at once: not the held connection
                await outbox.complete(connection, row_id, remote_id=str(sent.remote_id), now=self.now, kind=kind)
        self.tally.add("delivered" if kind is DELIVERIES else "sent")
        self._measure(kind, timed)

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
                async with self.writes, self.sessions.begin() as session:
                    retrying = await outbox.fail_change(session, job.publication_id, error, self.now,
                                                        delete=delete, policy=self.policy, rng=self.rng,
                                                        worker_id=self.worker_id)
                self._error(ItemError(job.publication_id, job.channel, "delete" if delete else "edit", str(error),
                                      retrying))
                return
        async with self.writes, self.sessions.begin() as session:
            if delete:
                await outbox.complete_delete(session, job.publication_id, self.now)
            else:
                await outbox.complete_edit(session, job.publication_id, version=job.content_version, now=self.now)
        self.tally.add("deleted" if delete else "edited")

    def _safe(self, kind: Kind, step: Callable[[Any], Awaitable[None]],
              lane: Callable[[Any], str]) -> Callable[[Any], Awaitable[None]]:
        async def safe_step(row: Any) -> None:
            try:
                await step(row)
            except Exception as exc:
                log.exception("%s %s: could not record the outcome", kind.name, row.id)
                self.tally.errors.append(ItemError(row.id, lane(row), "record", scrub(str(exc)), True, kind.name))

        return safe_step

    async def run(self, kind: Kind, rows: Sequence[Any], step: Callable[[Any], Awaitable[None]],
                  lane: Callable[[Any], str]) -> None:
        """Already claimed rows: lanes (channel, reader) concurrently, the rows of one lane in order."""
        taken = list(rows)

        async def claim_once(limit: int) -> Sequence[Any]:
            batch, taken[:] = taken[:limit], taken[limit:]
            return batch

        await self.flow(kind, claim_once, step, lane, cap=max(1, len(taken)))

    async def flow(self, kind: Kind, claim: Callable[[int], Awaitable[Sequence[Any]]],
                   step: Callable[[Any], Awaitable[None]], lane: Callable[[Any], str], *, cap: int) -> int:
        """Claim continuously, up to ``cap`` rows in flight; the number of rows claimed."""
        flow = Flow(claim, self._safe(kind, step, lane), lane, cap=cap)
        try:
            return await flow.run()
        except asyncio.CancelledError:
            # Shutdown: what never reached the platform goes back to the queue now; a send in
            # flight keeps `sending` (its outcome is unknown) until recover_stale.
            unsent = [row.id for row in flow.left if row.id not in self.started]
            async with self.writes, self.sessions.begin() as session:
                released = await outbox.release(session, unsent, self.worker_id, kind=kind)
            log.info("worker stopping: released %d unsent %s rows", released, kind.name)
            raise


def _channel(publication: Publication) -> str:
    return publication.channel.name


def _reader(delivery: Delivery) -> str:
    return f"reader {delivery.subscriber_id}"


async def run_once(sessions: async_sessionmaker[AsyncSession], now: datetime, *, worker_id: str,
                   publishers: Mapping[str, Target], render: RenderPublication, limit: int = IN_FLIGHT,
                   stale_after: timedelta = timedelta(minutes=10), policy: RetryPolicy = DEFAULT_POLICY,
                   rng: random.Random | None = None, deliveries: Deliveries | None = None,
                   batching: OutcomeBatching | None = OutcomeBatching(), metrics: Metrics | None = None) -> WorkerReport:
    """Publish what is due at ``now`` on the channels in ``publishers``, then edits and deletes,
    then (with ``deliveries``) the reader notifications due.

    ``limit``: sends in flight (claims continue while rows are due); edits and deletes are
    claimed once, ``limit`` at most. ``batching``: how delivery outcomes are grouped (None: one
    transaction each). ``metrics``: each send and delivery timed and counted.
    """
    tally = _Tally()
    engine: AsyncEngine = sessions.kw["bind"]
    writes: contextlib.AbstractAsyncContextManager[Any] = \
        asyncio.Lock() if engine.dialect.name == "sqlite" else contextlib.nullcontext()
    outcomes = DeliveryOutcomes(engine, now, batching, writes=writes) if batching and deliveries else None
    async with contextlib.AsyncExitStack() as stack:
        # One connection held for the group commits of the pass (they run one at a time): no pool
        # checkout, and on PostgreSQL no reset round trip, per commit.
        held = await stack.enter_async_context(engine.connect())
        work = _Pass(sessions, now, publishers, render, policy, rng, tally, worker_id, deliveries, outcomes,
                     metrics, writes=writes, held=held)
        try:
            return await _run_pass(work, sessions, now, worker_id, stale_after, limit)
        finally:
            await work.sent.close()


async def _run_pass(work: _Pass, sessions: async_sessionmaker[AsyncSession], now: datetime, worker_id: str,
                    stale_after: timedelta, limit: int) -> WorkerReport:
    tally, deliveries, outcomes, writes = work.tally, work.deliveries, work.outcomes, work.writes
    kinds = [PUBLICATIONS, DELIVERIES] if deliveries is not None else [PUBLICATIONS]
    async with sessions.begin() as session:
        tally.counts["recovered"] = sum([await outbox.recover_stale(session, now, stale_after, kind=kind)
                                         for kind in kinds])
        tally.counts["withdrawn"] = await outbox.withdraw_unsent(session, now)
    channels = list(work.targets)

    async def claim_sends(n: int) -> Sequence[Any]:
        async with writes, sessions.begin() as session:
            return await outbox.claim_due(session, now, worker_id, n, channel_names=channels)

    claimed = await work.flow(PUBLICATIONS, claim_sends, work.send, _channel, cap=limit)
    async with writes, sessions.begin() as session:
        changes = await outbox.claim_changes(session, now, worker_id, limit, channel_names=channels)
    await work.run(PUBLICATIONS, changes, work.change, _channel)
    claimed += len(changes)
    if deliveries is not None:
        async def claim_notices(n: int) -> Sequence[Any]:
            async with writes, sessions.begin() as session:
                return await outbox.claim_due(session, now, worker_id, n, kind=DELIVERIES)

        try:
            claimed += await work.flow(DELIVERIES, claim_notices, work.deliver, _reader, cap=limit)
        finally:
            if outcomes is not None:  # answers already in: written even on shutdown
                await asyncio.shield(outcomes.close())
    tally.counts["claimed"] = claimed
    return tally.report()
