"""One pass of the publish worker: recover, claim, render, send, record — item by item.

Each publication is recorded in its own short transaction right after the platform answers
(DESIGN.md rule 6). A failure is classified once (``bot.publish.classify``) and stays with its
publication: one bad publication never stops the rest. Channels are worked concurrently, the
publications of one channel in order.
"""

from __future__ import annotations

import asyncio
import logging
import random
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.errors import PermanentError
from bot.publish import outbox
from bot.publish.classify import classify, is_already_done, scrub
from bot.publish.outbox import DEFAULT_POLICY, RetryPolicy
from bot.publish.targets import Job, Target
from bot.store.models import Publication, PublicationState

if TYPE_CHECKING:
    from bot.metrics import Metrics

log = logging.getLogger(__name__)

Render = Callable[[Publication], Any]
TOO_OLD_TO_DELETE = "the platform no longer allows deleting this message (Telegram: after 48 h); remove it by hand"


@dataclass(frozen=True, slots=True)
class ItemError:
    publication_id: int
    channel: str
    action: str  # send, edit, delete
    message: str
    retrying: bool


@dataclass(frozen=True, slots=True)
class WorkerReport:
    sent: int = 0
    retried: int = 0
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
    render: Render
    policy: RetryPolicy
    rng: random.Random | None
    tally: _Tally
    worker_id: str
    metrics: Metrics | None = None
    started: set[int] = field(default_factory=set)  # handed to a platform: outcome may be unknown

    async def _render(self, target: Target, publication: Publication) -> Any:
        await target.prepare(self.now)  # live instance limits first (cached; refreshed daily)
        return self.render(publication)

    def _error(self, job: Job, action: str, message: str, retrying: bool) -> None:
        self.tally.errors.append(ItemError(job.publication_id, job.channel, action, message, retrying))
        log.log(logging.WARNING if retrying else logging.ERROR, "publication %s on %s: %s %s: %s",
                job.publication_id, job.channel, action, "will retry" if retrying else "failed", message)

    async def send(self, publication: Publication) -> None:
        job, target = Job.of(publication), self.targets[publication.channel.name]
        self.started.add(job.publication_id)
        began = time.monotonic()
        try:
            sent = await target.send(job, await self._render(target, publication), self.now)
        except Exception as exc:
            error = classify(exc)
            async with self.sessions.begin() as session:
                state = await outbox.fail(session, job.publication_id, error, self.now, policy=self.policy,
                                          rng=self.rng, worker_id=self.worker_id)
            retrying = state == PublicationState.RETRY
            self._measure(publication, began, exc, retrying)
            if state is not None:  # None: another worker recovered the row meanwhile
                self.tally.add("retried" if retrying else "dead")
            self._error(job, "send", str(error), retrying)
            return
        # The platform has answered: record it even if shutdown cancels us meanwhile.
        await asyncio.shield(self._complete(job, sent))
        self.tally.add("sent")
        self._measure(publication, began)

    def _measure(self, publication: Publication, began: float, failure: Exception | None = None,
                 retrying: bool = False) -> None:
        if self.metrics is not None:
            self.metrics.send_finished(str(publication.channel.platform), publication.channel.name,
                                       time.monotonic() - began, failure=failure, retrying=retrying)

    async def _complete(self, job: Job, sent: Any) -> None:
        async with self.sessions.begin() as session:
            await outbox.complete(session, job.publication_id, remote_id=str(sent.remote_id),
                                  remote_url=sent.remote_url, sent_version=job.content_version, now=self.now)

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
                self._error(job, "delete" if delete else "edit", str(error), retrying)
                return
        async with self.sessions.begin() as session:
            if delete:
                await outbox.complete_delete(session, job.publication_id, self.now)
            else:
                await outbox.complete_edit(session, job.publication_id, version=job.content_version, now=self.now)
        self.tally.add("deleted" if delete else "edited")

    async def run(self, publications: list[Publication], step: Callable[[Publication], Any]) -> None:
        by_channel: dict[str, list[Publication]] = {}
        for publication in publications:
            by_channel.setdefault(publication.channel.name, []).append(publication)

        async def one_channel(items: list[Publication]) -> None:
            for publication in items:
                try:
                    await step(publication)
                except Exception as exc:
                    log.exception("publication %s: could not record the outcome", publication.id)
                    self.tally.errors.append(ItemError(publication.id, publication.channel.name, "record",
                                                       scrub(str(exc)), True))

        try:
            await asyncio.gather(*(one_channel(items) for items in by_channel.values()))
        except asyncio.CancelledError:
            # Shutdown: what never reached the platform goes back to the queue now; a send in
            # flight keeps `sending` (its outcome is unknown) until recover_stale.
            unsent = [p.id for p in publications if p.id not in self.started]
            async with self.sessions.begin() as session:
                released = await outbox.release(session, unsent, self.worker_id)
            log.info("worker stopping: released %d unsent publications", released)
            raise


async def run_once(sessions: async_sessionmaker[AsyncSession], now: datetime, *, worker_id: str,
                   publishers: Mapping[str, Target], render: Render, limit: int = 50,
                   stale_after: timedelta = timedelta(minutes=10), policy: RetryPolicy = DEFAULT_POLICY,
                   rng: random.Random | None = None, metrics: Metrics | None = None) -> WorkerReport:
    """Publish what is due at ``now`` on the channels in ``publishers``, then edits and deletes."""
    tally = _Tally()
    work = _Pass(sessions, now, publishers, render, policy, rng, tally, worker_id, metrics)
    async with sessions.begin() as session:
        tally.counts["recovered"] = await outbox.recover_stale(session, now, stale_after)
        tally.counts["withdrawn"] = await outbox.withdraw_unsent(session, now)
    async with sessions.begin() as session:
        due = await outbox.claim_due(session, now, worker_id, limit, channel_names=list(publishers))
    await work.run(due, work.send)
    async with sessions.begin() as session:
        changes = await outbox.claim_changes(session, now, worker_id, limit, channel_names=list(publishers))
    await work.run(changes, work.change)
    tally.counts["claimed"] = len(due) + len(changes)
    return tally.report()
