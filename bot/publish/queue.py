"""The publication queue: which channels get a post, and when (Buffer-like semantics).

``enqueue`` creates, in the caller's transaction, one pending publication per matching
channel, its due time computed by :mod:`bot.schedule.slots`. Sending is the outbox
worker's job: a publication is claimable when ``state in (pending, retry)``,
``next_attempt_at <= now`` and its channel is not paused. This module only creates rows
and moves due times (share next, catch-up, resume); it never claims or sends.

Modes (https://support.buffer.com/article/526-scheduling-posts):

* ``queue`` — add to queue: the next free slot after the last queued post;
* ``next`` — share next: the first slot; queued posts move back one slot each where needed;
* ``now`` — share now: due immediately;
* ``at`` — an exact time, which nothing else moves (a "pinned" publication).

A channel without slots publishes each post as soon as it is queued, whatever the mode
(``at`` excepted). Concurrent enqueues on PostgreSQL serialize on the channel row
(``FOR UPDATE``) so two processes never hand out one slot twice.
"""

from __future__ import annotations

import logging
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from typing import Literal
from zoneinfo import ZoneInfo

from sqlalchemy import ColumnElement, delete, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import lazyload

from bot.errors import NotFound, UsageError
from bot.publish import outbox
from bot.schedule import slots as slotmath
from bot.settings import ChannelSettings, Settings
from bot.store.models import Channel, Post, PostStatus, Publication, PublicationState
from bot.store.tags import tag_key

log = logging.getLogger(__name__)

Mode = Literal["queue", "next", "now", "at"]
MODES: tuple[str, ...] = ("queue", "next", "now", "at")
LISTED_STATES = (PublicationState.PENDING, PublicationState.RETRY, PublicationState.SENDING)


def new_idempotency_key(post_id: int, channel_id: int) -> str:
    """Stored once on the row and reused on every retry (Mastodon's Idempotency-Key).

    The nonce keeps a key unique if a post is deleted and its id reused by another
    database (ids are not globally unique).
    """
    return f"relais-{post_id}-{channel_id}-{secrets.token_hex(8)}"


# --- which channels ----------------------------------------------------------------------

def wants_post(config: ChannelSettings, tag_keys: set[str]) -> bool:
    """A channel's tag filter: empty = every post; else at least one tag in common."""
    return not config.tags or bool({tag_key(t) for t in config.tags} & tag_keys)


async def _channel_rows(
    session: AsyncSession, names: Sequence[str], *, lock: bool = False
) -> dict[str, Channel]:
    if not names:
        return {}
    query = select(Channel).where(Channel.name.in_(list(names))).order_by(Channel.id)
    if lock:
        query = query.with_for_update()
    return {row.name: row for row in (await session.scalars(query)).all()}


async def matching_channels(
    session: AsyncSession, post: Post, settings: Settings, *, lock: bool = False
) -> list[tuple[ChannelSettings, Channel]]:
    """Configured, enabled channels (in config order) whose tag filter the post passes."""
    await post.awaitable_attrs.post_tags
    keys = {tag.key for tag in post.tags}
    wanted = [c for c in settings.channels if c.enabled and wants_post(c, keys)]
    rows = await _channel_rows(session, [c.name for c in wanted], lock=lock)
    result = []
    for config in wanted:
        row = rows.get(config.name)
        if row is None:
            log.warning("channel %s is configured but not synced to the database; skipped", config.name)
        elif row.enabled:
            result.append((config, row))
    return result


async def publication_of(session: AsyncSession, post_id: int, channel_id: int) -> Publication | None:
    query = select(Publication).where(Publication.post_id == post_id, Publication.channel_id == channel_id)
    return await session.scalar(query)


# --- the channel's current queue --------------------------------------------------------------

async def _queue_items(
    session: AsyncSession, channel_id: int, walls: Sequence[time], tz: ZoneInfo
) -> list[slotmath.QueueItem]:
    """The channel's pending publications in due order, as light tuples (queues can be long)."""
    query = (
        select(Publication.id, Publication.due_at, Post.status)
        .join(Post, Post.id == Publication.post_id)
        .where(Publication.channel_id == channel_id, Publication.state == PublicationState.PENDING,
               Publication.due_at.is_not(None))
        .order_by(Publication.due_at, Publication.id)
    )
    return [
        # pinned: scheduled at an exact time, or shared now (a time that is no slot)
        slotmath.QueueItem(pid, due, pinned=status == PostStatus.SCHEDULED or not slotmath.is_slot(walls, tz, due))
        for pid, due, status in (await session.execute(query)).all()
    ]


async def _apply_moves(session: AsyncSession, moves: dict[int, datetime], why: str) -> list[Publication]:
    if not moves:
        return []
    # no joined post/channel: share next on a long queue moves every row
    query = select(Publication).where(Publication.id.in_(list(moves))).options(
        lazyload(Publication.post), lazyload(Publication.channel))
    rows = (await session.scalars(query)).unique().all()
    for publication in rows:
        log.info("publication %s (post %s, channel %s) moved from %s to %s: %s",
                 publication.id, publication.post_id, publication.channel_id,
                 publication.due_at.isoformat() if publication.due_at else None,
                 moves[publication.id].isoformat(), why)
        publication.due_at = moves[publication.id]
        publication.next_attempt_at = moves[publication.id]
    return sorted(rows, key=lambda p: (moves[p.id], p.id))


NEW = -1  # key of the publication being added, in the pure functions' terms


def _due_for(
    mode: str, walls: Sequence[time], tz: ZoneInfo, now: datetime, at: datetime | None,
    queue: list[slotmath.QueueItem],
) -> tuple[datetime, dict[int, datetime]]:
    """(due time of the new publication, moves of queued ones) for one channel."""
    future = [item for item in queue if item.due_at >= now]  # overdue ones are catch-up's
    if mode == "at":
        assert at is not None
        return at, slotmath.reflow(walls, tz, now, [*future, slotmath.QueueItem(NEW, at, pinned=True)])
    if mode == "now" or not walls:
        return now, {}
    pinned = {item.due_at for item in future if item.pinned}
    if mode == "next":
        first = slotmath.next_free_slot(walls, tz, now, pinned)
        unpinned = [item for item in future if not item.pinned]
        items = [slotmath.QueueItem(NEW, first), *unpinned, *[i for i in future if i.pinned]]
        return first, slotmath.reflow(walls, tz, now, items)
    last = max((item.due_at for item in future if not item.pinned), default=None)
    taken = {item.due_at for item in future}
    return slotmath.next_free_slot(walls, tz, now, taken, after=last), {}


# --- enqueue ------------------------------------------------------------------------------------

def _checked_times(mode: str, now: datetime, at: datetime | None, settings: Settings) -> tuple[datetime, datetime | None]:
    """(now, at) in UTC once the mode and times are valid; UsageError otherwise."""
    if mode not in MODES:
        raise UsageError(f"unknown queue mode {mode!r}: choose one of {', '.join(MODES)}")
    slotmath.require_aware(now, "now")
    now = now.astimezone(UTC)
    if mode != "at":
        return now, None
    if at is None:
        raise UsageError("mode 'at' needs a time")
    slotmath.require_aware(at, "at")
    at = at.astimezone(UTC)
    if at < now:
        raise UsageError(f"{at.astimezone(settings.tz):%Y-%m-%d %H:%M %Z} is in the past")
    return now, at

async def enqueue(
    session: AsyncSession, post: Post, now: datetime, *, settings: Settings,
    mode: Mode = "queue", at: datetime | None = None,
) -> list[Publication]:
    """Queue ``post`` on every matching channel; returns the publications created.

    Idempotent: a channel that already has a publication of this post is left alone (its
    row is not returned). Runs in the caller's transaction; flushes, never commits.
    """
    now, at = _checked_times(mode, now, at, settings)
    if post.deleted_at is not None:
        raise UsageError(f"post {post.id} is deleted and cannot be published")
    tz = settings.tz
    created: list[Publication] = []
    already_on = select(Publication.channel_id).where(Publication.post_id == post.id)
    already = set((await session.scalars(already_on)).all())
    for config, channel in await matching_channels(session, post, settings, lock=True):
        if channel.id in already:
            log.debug("post %s is already queued on channel %s; unchanged", post.id, config.name)
            continue
        items = await _queue_items(session, channel.id, config.slots, tz)
        due, moves = _due_for(mode, config.slots, tz, now, at, items)
        await _apply_moves(session, moves, f"post {post.id} queued ({mode}) on {config.name}")
        publication = Publication(
            post_id=post.id, channel_id=channel.id, post=post, channel=channel,
            state=PublicationState.PENDING, due_at=due, next_attempt_at=due,
            idempotency_key=new_idempotency_key(post.id, channel.id),
        )
        session.add(publication)
        created.append(publication)
        # DEBUG, formatted lazily: an import queues hundreds of posts (issue 11 item 9).
        log.debug("post %s queued on channel %s for %s (%s)", post.id, config.name, due, mode)
    if created:
        if post.status != PostStatus.PUBLISHED:
            post.status = PostStatus.SCHEDULED if mode == "at" else PostStatus.QUEUED
        post.scheduled_at = min(p.due_at for p in created if p.due_at is not None)
    await session.flush()
    return created


# --- catch-up, pause, resume ----------------------------------------------------------------------

@dataclass(frozen=True, slots=True)
class SlotMove:
    publication_id: int
    post_id: int
    channel: str
    old_due_at: datetime
    new_due_at: datetime


@dataclass(frozen=True, slots=True)
class CatchUpReport:
    late: tuple[int, ...]  # publication ids missed within the grace: published late, as they are
    moved: tuple[SlotMove, ...]  # missed beyond the grace, re-slotted (and the posts they pushed)


async def catch_up(
    session: AsyncSession, now: datetime, settings: Settings, *, only: str | None = None
) -> CatchUpReport:
    """Apply the catch-up policy to every unpaused channel's pending queue (or ``only`` one)."""
    slotmath.require_aware(now, "now")
    now = now.astimezone(UTC)
    grace = timedelta(minutes=settings.schedule.catch_up_grace_minutes)
    configs = [c for c in settings.channels if c.enabled and (only is None or c.name == only)]
    rows = await _channel_rows(session, [c.name for c in configs], lock=True)
    late: list[int] = []
    moved: list[SlotMove] = []
    for config in configs:
        channel = rows.get(config.name)
        if channel is None or channel.paused or not channel.enabled:
            continue
        items = await _queue_items(session, channel.id, config.slots, settings.tz)
        late += [i.key for i in items
                 if slotmath.catch_up_action(i.due_at, now, grace) is slotmath.CatchUpAction.PUBLISH_LATE]
        plan = slotmath.plan_catch_up(config.slots, settings.tz, now, grace, items)
        old_due = {i.key: i.due_at for i in items}
        for publication in await _apply_moves(session, plan, f"catch-up on {config.name}"):
            moved.append(SlotMove(publication.id, publication.post_id, config.name,
                                  old_due[publication.id], plan[publication.id]))
    await session.flush()
    return CatchUpReport(tuple(late), tuple(moved))


async def get_channel(session: AsyncSession, name: str) -> Channel:
    channel = await session.scalar(select(Channel).where(Channel.name == name))
    if channel is None:
        known = ", ".join((await session.scalars(select(Channel.name).order_by(Channel.name))).all())
        raise NotFound(f"unknown channel {name!r}" + (f"; known channels: {known}" if known else ""))
    return channel


async def pause(session: AsyncSession, channel_name: str) -> Channel:
    """Stop a channel's publications from being due; they keep their place in the queue."""
    channel = await get_channel(session, channel_name)
    if not channel.paused:
        channel.paused = True
        log.info("channel %s paused", channel_name)
    await session.flush()
    return channel


async def resume(session: AsyncSession, channel_name: str, now: datetime, settings: Settings) -> CatchUpReport:
    """Unpause a channel and re-slot what it missed while paused (catch-up policy)."""
    channel = await get_channel(session, channel_name)
    channel.paused = False
    await session.flush()
    log.info("channel %s resumed", channel_name)
    return await catch_up(session, now, settings, only=channel_name)


# --- listing ---------------------------------------------------------------------------------------

@dataclass(frozen=True, slots=True)
class QueueEntry:
    position: int
    publication_id: int
    post_id: int
    title: str
    state: str
    due_at: datetime  # aware UTC
    due_local: datetime  # the same instant in the configured time zone
    next_attempt_at: datetime | None
    overdue: bool


@dataclass(frozen=True, slots=True)
class ChannelQueue:
    name: str
    platform: str
    enabled: bool
    paused: bool
    slots: tuple[time, ...]
    entries: tuple[QueueEntry, ...]  # the first ``limit`` in due order
    total: int = 0  # everything waiting on the channel, listed or not


def _listed_on(channel_id: int) -> tuple[ColumnElement[bool], ...]:
    return Publication.channel_id == channel_id, Publication.state.in_(LISTED_STATES)


async def _first_entries(session: AsyncSession, channel_id: int, now: datetime, tz: ZoneInfo,
                         limit: int | None) -> list[QueueEntry]:
    """One query over the (channel_id, due_at) index, light columns only: a long queue stays cheap."""
    query = (
        select(Publication.id, Publication.post_id, Post.title, Publication.state, Publication.due_at,
               Publication.next_attempt_at, Publication.created_at)
        .join(Post, Post.id == Publication.post_id)
        .where(*_listed_on(channel_id))
        .order_by(Publication.due_at.nulls_last(), Publication.id)
        .limit(limit)
    )
    entries = []
    for position, (pid, post_id, title, state, due_at, next_at, created) in enumerate(
            (await session.execute(query)).all(), start=1):
        due = due_at or next_at or created
        entries.append(QueueEntry(position, pid, post_id, title, str(state), due, due.astimezone(tz), next_at,
                                  due <= now))
    return entries


async def queue_listing(session: AsyncSession, now: datetime, settings: Settings, *,
                        limit: int | None = None) -> list[ChannelQueue]:
    """Per configured channel, the first ``limit`` (None: all) of what waits to be sent, in due order."""
    rows = await _channel_rows(session, [c.name for c in settings.channels])
    counted = await session.execute(select(Publication.channel_id, func.count())
                                    .where(Publication.state.in_(LISTED_STATES)).group_by(Publication.channel_id))
    totals = {channel_id: count for channel_id, count in counted}
    result: list[ChannelQueue] = []
    for config in settings.channels:
        channel = rows.get(config.name)
        entries = [] if channel is None else await _first_entries(session, channel.id, now, settings.tz, limit)
        result.append(ChannelQueue(
            config.name, config.platform, config.enabled and (channel is None or channel.enabled),
            bool(channel and channel.paused), tuple(config.slots), tuple(entries),
            totals.get(channel.id, 0) if channel is not None else 0,
        ))
    return result


async def next_due_at(session: AsyncSession, now: datetime) -> datetime | None:
    """The earliest future attempt time on an enabled, unpaused channel: when the sweep should wake."""
    query = (
        select(Publication.next_attempt_at)
        .join(Channel, Channel.id == Publication.channel_id)
        .where(Publication.state.in_(outbox.SENDABLE), Publication.next_attempt_at > now,
               Channel.enabled.is_(True), Channel.paused.is_(False))
        .order_by(Publication.next_attempt_at)
        .limit(1)
    )
    return await session.scalar(query)


# --- moving, withdrawing and retrying one post's publications ------------------------------------

async def reschedule(
    session: AsyncSession, post: Post, now: datetime, *, settings: Settings,
    mode: Mode = "queue", at: datetime | None = None,
) -> list[SlotMove]:
    """Give ``post``'s unsent publications a new due time by the enqueue rules (same modes).

    Each one is placed as if queued afresh on its channel (the other posts move as ``next``
    and ``at`` move them); sent and in-flight ones are left alone. Runs in the caller's transaction.
    """
    now, at = _checked_times(mode, now, at, settings)
    configs = {c.name: c for c in settings.channels}
    unsent = (Publication.post_id == post.id, Publication.state.in_(outbox.SENDABLE), Publication.claimed_by.is_(None))
    names = (await session.scalars(select(Channel.name).join(Publication.channel).where(*unsent))).all()
    await _channel_rows(session, names, lock=True)  # channels first, like enqueue and catch-up: no deadlock
    query = select(Publication).where(*unsent).order_by(Publication.channel_id).with_for_update(of=Publication)
    moved: list[SlotMove] = []
    for publication in (await session.scalars(query)).unique().all():
        config = configs.get(publication.channel.name)
        if config is None:
            continue
        items = [i for i in await _queue_items(session, publication.channel_id, config.slots, settings.tz)
                 if i.key != publication.id]
        due, moves = _due_for(mode, config.slots, settings.tz, now, at, items)
        await _apply_moves(session, moves, f"post {post.id} rescheduled ({mode}) on {config.name}")
        old = publication.due_at or now
        publication.due_at = publication.next_attempt_at = due
        moved.append(SlotMove(publication.id, post.id, config.name, old, due))
        log.info("post %s moved on channel %s from %s to %s (%s)", post.id, config.name, old.isoformat(),
                 due.isoformat(), mode)
    if moved:
        if post.status != PostStatus.PUBLISHED:
            post.status = PostStatus.SCHEDULED if mode == "at" else PostStatus.QUEUED
        post.scheduled_at = min(m.new_due_at for m in moved)
    await session.flush()
    return moved


async def unschedule(session: AsyncSession, post: Post) -> list[tuple[int, int]]:
    """Withdraw ``post``'s publications that are not sent nor being sent; returns (publication id, channel id).

    The rows are deleted (not marked) so the post can be queued again later. The guarded
    DELETE is the arbiter against a worker's claim, as the claim's guarded UPDATE is. A
    ``retry`` row whose last try's outcome was unknown may have reached the platform: that
    message, if any, stays where it is.
    """
    result = await session.execute(
        delete(Publication)
        .where(Publication.post_id == post.id, Publication.state.in_(outbox.SENDABLE),
               Publication.claimed_by.is_(None))
        .returning(Publication.id, Publication.channel_id)
        .execution_options(synchronize_session=False)
    )
    withdrawn = [(int(pid), int(cid)) for pid, cid in result.all()]
    remaining = await session.scalar(select(func.count()).select_from(Publication).where(
        Publication.post_id == post.id, Publication.state.in_(LISTED_STATES)))
    if withdrawn and not remaining and post.status in (PostStatus.QUEUED, PostStatus.SCHEDULED):
        post.status, post.scheduled_at = PostStatus.DRAFT, None
    for publication_id, channel_id in withdrawn:
        log.info("publication %s (post %s, channel %s) withdrawn from the queue", publication_id, post.id, channel_id)
    await session.flush()
    return withdrawn


async def retry_dead(session: AsyncSession, post: Post, now: datetime) -> list[int]:
    """Send ``post``'s dead publications again from now on, with their attempts reset; returns their ids.

    Only sends that never went out: a dead row with a remote id is a delete that failed, and
    sending it again would duplicate the message. The idempotency key is kept.
    """
    result = await session.execute(
        update(Publication)
        .where(Publication.post_id == post.id, Publication.state == PublicationState.DEAD,
               Publication.remote_id.is_(None))
        .values(state=PublicationState.RETRY, attempts=0, next_attempt_at=now, claimed_by=None, claimed_at=None)
        .returning(Publication.id)
        .execution_options(synchronize_session=False)
    )
    revived = [int(pid) for pid in result.scalars().all()]
    for publication_id in revived:
        log.info("dead publication %s (post %s) sent again from %s", publication_id, post.id, now.isoformat())
    await session.flush()
    return revived
