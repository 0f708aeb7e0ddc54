"""Publishing: queue, move, withdraw and retry a post on its channels; pause, resume, list them.

Each function is one transaction over the primitives of :mod:`bot.publish.queue` and
returns what happened per channel, so no adapter has to query a channel again.
"""

from __future__ import annotations

import enum
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass
from datetime import datetime, time
from functools import partial

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.errors import NotFound
from bot.publish import queue
from bot.publish.queue import CatchUpReport, ChannelQueue, Mode
from bot.services.context import Services
from bot.settings import Settings
from bot.store import repository
from bot.store.models import Channel, Post, Publication, PublicationState

Enqueue = Callable[[AsyncSession, Post, datetime], Awaitable[list[Publication]]]


def enqueue_hook(settings: Settings) -> Enqueue:
    """The one rule for queueing a new post, awaited in the caller's transaction.

    Ingest awaits it for each imported entry stored as queued; :mod:`bot.services.posts`
    for a post written by hand as queued. Same function, same rules.
    """
    return partial(queue.enqueue, settings=settings)


class Outcome(enum.StrEnum):
    QUEUED = "queued"
    MOVED = "moved"
    UNSCHEDULED = "unscheduled"
    RETRIED = "retried"
    ALREADY_QUEUED = "already queued"  # pending or retry: waiting to be sent
    ALREADY_DONE = "already done"  # sending, sent, dead or deleted: see ``state``
    NOT_MATCHING = "not matching"  # the channel's tag filter refuses the post


@dataclass(frozen=True, slots=True)
class ChannelOutcome:
    channel: str
    outcome: Outcome
    publication_id: int | None = None
    state: str | None = None  # the publication's state after the call
    due_at: datetime | None = None  # aware UTC
    paused: bool = False  # the channel is paused: nothing goes out until it is resumed
    moved_from: datetime | None = None  # MOVED: the due time it had before the call


@dataclass(frozen=True, slots=True)
class PostOutcomes:
    post_id: int
    title: str
    channels: tuple[ChannelOutcome, ...]

    @property
    def matched(self) -> tuple[ChannelOutcome, ...]:
        """The channels the post is (or was) on: every outcome but "not matching"."""
        return tuple(c for c in self.channels if c.outcome is not Outcome.NOT_MATCHING)


def _outcome(publication: Publication, outcome: Outcome, moved_from: datetime | None = None) -> ChannelOutcome:
    return ChannelOutcome(publication.channel.name, outcome, publication.id, str(publication.state),
                          publication.due_at, publication.channel.paused, moved_from)


def _existing(publication: Publication) -> ChannelOutcome:
    waiting = publication.state in (PublicationState.PENDING, PublicationState.RETRY)
    return _outcome(publication, Outcome.ALREADY_QUEUED if waiting else Outcome.ALREADY_DONE)


def _moved_or_existing(publication: Publication, moved_from: dict[int, datetime]) -> ChannelOutcome:
    if publication.id in moved_from:
        return _outcome(publication, Outcome.MOVED, moved_from[publication.id])
    return _existing(publication)


async def _publications(session: AsyncSession, post_id: int) -> dict[int, Publication]:
    query = select(Publication).where(Publication.post_id == post_id).order_by(Publication.id)
    return {p.id: p for p in (await session.scalars(query)).unique().all()}


def _report(post: Post, settings: Settings, outcomes: Iterable[ChannelOutcome]) -> PostOutcomes:
    """One outcome per configured enabled channel, in configuration order; the rest say "not matching"."""
    by_name = {o.channel: o for o in outcomes}
    ordered = [by_name.pop(c.name) if c.name in by_name else ChannelOutcome(c.name, Outcome.NOT_MATCHING)
               for c in settings.channels if c.enabled or c.name in by_name]
    return PostOutcomes(post.id, post.title, (*ordered, *by_name.values()))


async def enqueue(app: Services, post_id: int, now: datetime, *, mode: Mode = "queue",
                  at: datetime | None = None) -> PostOutcomes:
    """Queue a post on every matching channel (modes of :mod:`bot.publish.queue`); idempotent per channel."""
    async with app.sessions.begin() as session:
        post = await repository.get_post(session, post_id)
        before = await _publications(session, post.id)
        created = await queue.enqueue(session, post, now, settings=app.settings, mode=mode, at=at)
        outcomes = [_existing(p) for p in before.values()] + [_outcome(p, Outcome.QUEUED) for p in created]
        return _report(post, app.settings, outcomes)


async def queue_created(session: AsyncSession, settings: Settings, post: Post, now: datetime, *,
                        at: datetime | None = None) -> tuple[ChannelOutcome, ...]:
    """Queue a post just stored in ``session``: through the enqueue hook, or pinned ``at`` a time."""
    created = await (enqueue_hook(settings)(session, post, now) if at is None
                     else queue.enqueue(session, post, now, settings=settings, mode="at", at=at))
    return _report(post, settings, [_outcome(p, Outcome.QUEUED) for p in created]).channels


async def reschedule(app: Services, post_id: int, now: datetime, *, mode: Mode = "queue",
                     at: datetime | None = None) -> PostOutcomes:
    """Move a post's unsent publications to a new time; sent ones are reported as they are."""
    async with app.sessions.begin() as session:
        post = await repository.get_post(session, post_id)
        moved = {m.publication_id: m.old_due_at
                 for m in await queue.reschedule(session, post, now, settings=app.settings, mode=mode, at=at)}
        publications = await _publications(session, post.id)
        return _report(post, app.settings, [_moved_or_existing(p, moved) for p in publications.values()])


async def publish(app: Services, post_id: int, now: datetime, *, mode: Mode | None = None,
                  at: datetime | None = None) -> PostOutcomes:
    """Queue a post on every matching channel; given a mode, also move where it already waits.

    Without a mode the post goes to the end of each queue it is not on yet and stays where it
    is on the others. With one (``now``, ``next``, ``at``…) its unsent publications move as
    :func:`reschedule` moves them, and channels it is not on yet get it the same way: one
    transaction, one outcome per channel (queued, moved from → to, or already done).
    """
    async with app.sessions.begin() as session:
        post = await repository.get_post(session, post_id)
        moved: dict[int, datetime] = {}
        if mode is not None:
            moved = {m.publication_id: m.old_due_at
                     for m in await queue.reschedule(session, post, now, settings=app.settings, mode=mode, at=at)}
        before = await _publications(session, post.id)
        created = await queue.enqueue(session, post, now, settings=app.settings, mode=mode or "queue", at=at)
        outcomes = [_moved_or_existing(p, moved) for p in before.values()]
        return _report(post, app.settings, [*outcomes, *(_outcome(p, Outcome.QUEUED) for p in created)])


async def unschedule(app: Services, post_id: int) -> PostOutcomes:
    """Withdraw a post's publications that have not gone out; the post can be queued again later."""
    async with app.sessions.begin() as session:
        post = await repository.get_post(session, post_id)
        before = await _publications(session, post.id)
        withdrawn = {pid for pid, _ in await queue.unschedule(session, post)}
        outcomes = [ChannelOutcome(p.channel.name, Outcome.UNSCHEDULED, p.id, None, p.due_at, p.channel.paused)
                    if pid in withdrawn else _existing(p) for pid, p in before.items()]
        return _report(post, app.settings, outcomes)


async def retry_dead(app: Services, post_id: int, now: datetime) -> PostOutcomes:
    """Send a post's dead publications again (never one that already went out)."""
    async with app.sessions.begin() as session:
        post = await repository.get_post(session, post_id)
        revived = set(await queue.retry_dead(session, post, now))
        publications = await _publications(session, post.id)
        return _report(post, app.settings, [_outcome(p, Outcome.RETRIED) if p.id in revived else _existing(p)
                                            for p in publications.values()])


async def retry_all_dead(app: Services, now: datetime) -> list[PostOutcomes]:
    """:func:`retry_dead` for every post not deleted that has a dead send, one transaction per post.

    A post that disappears between the look-up and its retry is skipped, the rest go on.
    """
    async with app.sessions() as session:
        query = (select(Publication.post_id).join(Post, Post.id == Publication.post_id)
                 .where(Publication.state == PublicationState.DEAD, Publication.remote_id.is_(None),
                        Post.deleted_at.is_(None))
                 .distinct().order_by(Publication.post_id))
        post_ids = list((await session.scalars(query)).all())
    results = []
    for post_id in post_ids:
        try:
            results.append(await retry_dead(app, post_id, now))
        except NotFound:
            continue
    return results


# --- channels and the queue ---------------------------------------------------------------------

@dataclass(frozen=True, slots=True)
class ChannelInfo:
    name: str
    platform: str
    target: str | None  # Telegram chat or Mastodon instance URL
    state: str  # active, paused or disabled
    slots: tuple[time, ...]
    tags: tuple[str, ...]  # empty: every post
    queued: int


async def queue_listing(app: Services, now: datetime, *, channel: str | None = None,
                        limit: int | None = None) -> list[ChannelQueue]:
    """Per configured channel (or just ``channel``), the first ``limit`` (None: all) waiting to be sent, in due order."""
    async with app.sessions() as session:
        listing = await queue.queue_listing(session, now, app.settings, limit=limit)
    if channel is None:
        return listing
    chosen = [c for c in listing if c.name == channel]
    if not chosen:
        known = ", ".join(c.name for c in app.settings.channels) or "none configured"
        raise NotFound(f"unknown channel {channel!r}; configured channels: {known}")
    return chosen


async def list_channels(app: Services, now: datetime) -> list[ChannelInfo]:
    """Configured channels with their target, state, slots, tag filter and queue length."""
    configs = {c.name: c for c in app.settings.channels}
    return [
        ChannelInfo(c.name, c.platform, configs[c.name].chat or configs[c.name].instance_url,
                    "disabled" if not c.enabled else "paused" if c.paused else "active",
                    c.slots, tuple(configs[c.name].tags), c.total)
        for c in await queue_listing(app, now, limit=0)
    ]


@dataclass(frozen=True, slots=True)
class ChannelPaused:
    name: str
    was_paused: bool


async def pause(app: Services, name: str) -> ChannelPaused:
    """Pause a channel: nothing is sent to it until it is resumed; its queue is kept."""
    async with app.sessions.begin() as session:
        was_paused = bool(await session.scalar(select(Channel.paused).where(Channel.name == name)))
        channel = await queue.pause(session, name)
        return ChannelPaused(channel.name, was_paused)


async def resume(app: Services, name: str, now: datetime) -> CatchUpReport:
    """Resume a channel; what it missed while paused is caught up (late within the grace, else re-slotted)."""
    async with app.sessions.begin() as session:
        return await queue.resume(session, name, now, app.settings)
