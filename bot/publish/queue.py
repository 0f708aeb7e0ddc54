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
from typing import Any, Literal, TypeVarTuple, cast
from zoneinfo import ZoneInfo

from sqlalchemy import (
    ColumnElement,
    Integer,
    Row,
    Select,
    String,
    Table,
    and_,
    delete,
    func,
    insert,
    literal,
    select,
    update,
)
from sqlalchemy import cast as sql_cast
from sqlalchemy.engine import Dialect
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm.attributes import set_committed_value

from bot.domain.tags import tag_key
from bot.errors import NotFound, UsageError
from bot.publish import outbox
from bot.schedule import slots as slotmath
from bot.settings import ChannelSettings, Settings
from bot.store import bulk
from bot.store.models import Channel, Post, PostStatus, Publication, PublicationState

log = logging.getLogger(__name__)
Ts = TypeVarTuple("Ts")
PUBLICATIONS: Table = Publication.__table__  # type: ignore[assignment]  # Core statements: no ORM bookkeeping

Mode = Literal["queue", "next", "now", "at"]
MODES: tuple[str, ...] = ("queue", "next", "now", "at")
LISTED_STATES = (PublicationState.PENDING, PublicationState.RETRY, PublicationState.SENDING)


def new_idempotency_key(post_id: int, channel_id: int, nonce: str | None = None) -> str:
    """Stored once on the row and reused on every retry (Mastodon's Idempotency-Key).

    The nonce keeps a key unique if a post is deleted and its id reused by another
    database (ids are not globally unique). One enqueue shares one nonce between its
    channels: each key still names its post and channel, so none is given twice.
    """
    return f"relais-{post_id}-{channel_id}-{nonce or secrets.token_hex(8)}"


# --- which channels ----------------------------------------------------------------------

def wants_post(config: ChannelSettings, tag_keys: set[str]) -> bool:
    """A channel's tag filter: empty = every post; else at least one tag in common."""
    return not config.tags or bool({tag_key(t) for t in config.tags} & tag_keys)


async def _channel_rows(
    session: AsyncSession, names: Sequence[str], *, lock: bool = False
) -> dict[str, Channel]:
    if not names:
        return {}
    query = select(Channel).where(bulk.in_values(_dialect(session), Channel.name, list(names))).order_by(Channel.id)
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


@dataclass(frozen=True, slots=True)
class Target:
    """A channel a post is queued on, as enqueue needs it (a row of three columns, not an ORM object)."""

    id: int
    name: str
    paused: bool


async def _targets(session: AsyncSession, post: Post, settings: Settings) -> list[tuple[ChannelSettings, Target]]:
    """:func:`matching_channels` in one Core SELECT … FOR UPDATE (the lock serializes enqueues per channel)."""
    await post.awaitable_attrs.post_tags
    keys = {tag.key for tag in post.tags}
    wanted = [c for c in settings.channels if c.enabled and wants_post(c, keys)]
    if not wanted:
        return []
    names = bulk.in_values(_dialect(session), Channel.name, [c.name for c in wanted])
    query = (select(Channel.id, Channel.name, Channel.paused).where(names, Channel.enabled.is_(True))
             .order_by(Channel.id).with_for_update())
    # a statement of its own, before the queue is read: a PostgreSQL statement that waited for a
    # lock still sees the queue as it was when it began, not the slot the lock holder just took
    rows = {name: Target(cid, name, paused) for cid, name, paused in await _rows(session, query)}
    return [(config, rows[config.name]) for config in wanted if config.name in rows]


async def publication_of(session: AsyncSession, post_id: int, channel_id: int) -> Publication | None:
    query = select(Publication).where(Publication.post_id == post_id, Publication.channel_id == channel_id)
    return await session.scalar(query)


# --- the channel's current queue --------------------------------------------------------------

def _dialect(session: AsyncSession) -> Dialect:
    return session.get_bind().dialect


def _pending_query(
    dialect: Dialect, channel_ids: Sequence[int], since: datetime | None,
) -> Select[int, datetime, PostStatus, int, int]:
    """The channels' pending publications, per channel in due order: ONE SELECT for any number of channels."""
    on = (Publication.channel_id == channel_ids[0] if len(channel_ids) == 1  # the plain form plans best
          else bulk.in_values(dialect, Publication.channel_id, channel_ids))
    query = (
        select(Publication.id, Publication.due_at, Post.status, Publication.post_id, Publication.channel_id)
        .join(Post, Post.id == Publication.post_id)
        .where(on, Publication.state == PublicationState.PENDING, Publication.due_at.is_not(None))
        .order_by(Publication.channel_id, Publication.due_at, Publication.id)
    )
    query = query if since is None else query.where(Publication.due_at >= since)
    return cast("Select[int, datetime, PostStatus, int, int]", query)  # due_at IS NOT NULL above


def _as_items(rows: Sequence[Any], walls: Sequence[time], tz: ZoneInfo) -> list[slotmath.QueueItem]:
    # pinned: scheduled at an exact time, or shared now (a time that is no slot)
    is_slot = slotmath.slot_test(walls, tz)
    return [slotmath.QueueItem(pid, due, pinned=status == PostStatus.SCHEDULED or not is_slot(due))
            for pid, due, status, *_ in rows]


async def _rows(session: AsyncSession, query: Select[*Ts]) -> Sequence[Row[*Ts]]:
    """Rows of plain columns through the session's connection: Core, so no ORM result processing per row."""
    return (await (await session.connection()).execute(query)).all()


async def _pending_rows(
    session: AsyncSession, channel_ids: Sequence[int], since: datetime | None,
) -> dict[int, list[Row[int, datetime, PostStatus, int, int]]]:
    """Channel id → its pending publications in due order (from ``since``), as light tuples: ONE SELECT for all."""
    queues: dict[int, list[Row[int, datetime, PostStatus, int, int]]] = {cid: [] for cid in channel_ids}
    if channel_ids:
        for row in await _rows(session, _pending_query(_dialect(session), channel_ids, since)):
            queues[row[4]].append(row)
    return queues


async def _queue_items(
    session: AsyncSession, channel_id: int, walls: Sequence[time], tz: ZoneInfo, *, since: datetime | None = None,
) -> list[slotmath.QueueItem]:
    """The channel's pending publications in due order (from ``since``), as light tuples: one SELECT."""
    return _as_items((await _pending_rows(session, [channel_id], since))[channel_id], walls, tz)


async def apply_moves(session: AsyncSession, moves: dict[int, datetime], why: str) -> None:
    """Give the publications in ``moves`` their new due times: ONE ``UPDATE … FROM`` whatever their number.

    The (id, due) pairs travel as one parameter (:mod:`bot.store.bulk`), not as an
    executemany: asyncpg runs an executemany as one Bind/Execute per row. Core, not the
    ORM's unit of work (a share next on a long queue moves every row); the rows this
    session already holds get the new values as committed state, so no caller reads a
    stale due time.
    """
    if not moves:
        return
    table = PUBLICATIONS
    moved = bulk.rows_table(_dialect(session), "moved", [("id", Integer()), ("due", table.c.due_at.type)],
                            list(moves.items()))
    await session.execute(
        update(table).where(table.c.id == moved.c.id).values(due_at=moved.c.due, next_attempt_at=moved.c.due),
        execution_options={"synchronize_session": False},
    )
    for loaded in list(session.identity_map.values()):  # the few objects loaded, not the many rows moved
        if isinstance(loaded, Publication) and loaded.id in moves:
            set_committed_value(loaded, "due_at", moves[loaded.id])
            set_committed_value(loaded, "next_attempt_at", moves[loaded.id])
    log.info("%d publication(s) moved: %s", len(moves), why)
    if log.isEnabledFor(logging.DEBUG):
        for pid, due in moves.items():
            log.debug("publication %s moved to %s: %s", pid, due.isoformat(), why)


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

@dataclass(frozen=True, slots=True)
class Queued:
    """A publication :func:`enqueue` created, as plain values (one post may go to thousands of channels)."""

    id: int
    post_id: int
    channel_id: int
    channel: str  # its name
    paused: bool  # the channel is paused: nothing goes out until it is resumed
    due_at: datetime  # aware UTC; next_attempt_at is the same instant
    idempotency_key: str
    state: PublicationState = PublicationState.PENDING


async def enqueue(
    session: AsyncSession, post: Post, now: datetime, *, settings: Settings,
    mode: Mode = "queue", at: datetime | None = None,
) -> list[Queued]:
    """Queue ``post`` on every matching channel; returns the publications created, in configuration order.

    Idempotent: a channel that already has a publication of this post is left alone (its
    row is not returned). Runs in the caller's transaction; flushes, never commits.
    Set-based: a bounded number of statements whatever the number of channels (see
    :func:`_due_times`), and the rows go in with one bulk INSERT.
    """
    now, at = _checked_times(mode, now, at, settings)
    if post.deleted_at is not None:
        raise UsageError(f"post {post.id} is deleted and cannot be published")
    already_on = select(Publication.channel_id).where(Publication.post_id == post.id)
    already = set((await session.scalars(already_on)).all())
    targets = [(config, channel) for config, channel in await _targets(session, post, settings)
               if channel.id not in already]
    if already:
        log.debug("post %s is already queued on %d channel(s); unchanged there", post.id, len(already))
    dues = await _due_times(session, targets, mode, now, at, settings.tz, f"post {post.id} queued ({mode})")
    created = await _insert_publications(session, post, [channel for _, channel in targets], dues)
    if created:
        if post.status != PostStatus.PUBLISHED:
            post.status = PostStatus.SCHEDULED if mode == "at" else PostStatus.QUEUED
        post.scheduled_at = min(dues.values())
        # one line per post, not per channel: an import queues hundreds of posts (issue 11 item 9)
        log.debug("post %s queued (%s) on %d channel(s), first at %s", post.id, mode, len(created), post.scheduled_at)
    await session.flush()
    return created


async def _due_times(
    session: AsyncSession, targets: Sequence[tuple[ChannelSettings, Target]], mode: str, now: datetime,
    at: datetime | None, tz: ZoneInfo, why: str,
) -> dict[int, datetime]:
    """Channel id → due time of the new publication, moving queued ones where the mode says so.

    "now" and channels without slots read nothing; "queue" reads, for all channels at
    once, only the last queued post and what is pinned after it; "next" and "at" read the
    future queues of all their channels in one SELECT, reflow each (one walk of its slots)
    and write every move in one UPDATE.
    """
    dues: dict[int, datetime] = {}
    after_last: list[tuple[ChannelSettings, Target]] = []
    reflowed: list[tuple[ChannelSettings, Target]] = []
    for config, channel in targets:
        if mode == "now" or not config.slots:
            dues[channel.id] = at if mode == "at" and at is not None else now
        else:
            (after_last if mode == "queue" else reflowed).append((config, channel))
    dues.update(await _after_last_queued(session, after_last, now, tz))
    queues = await _pending_rows(session, [channel.id for _, channel in reflowed], now)
    moves: dict[int, datetime] = {}
    for config, channel in reflowed:
        items = _as_items(queues[channel.id], config.slots, tz)
        dues[channel.id], moved = _due_for(mode, config.slots, tz, now, at, items)
        moves.update(moved)
    await apply_moves(session, moves, f"{why} on {len(reflowed)} channel(s)")
    return dues


async def _after_last_queued(
    session: AsyncSession, targets: Sequence[tuple[ChannelSettings, Target]], now: datetime, tz: ZoneInfo,
) -> dict[int, datetime]:
    """Add to queue: per channel, the first free slot after its last queued (not pinned) post.

    One statement for every channel: two indexed backward probes of ``(channel_id,
    due_at)`` per channel — the latest future pending publication of a post not scheduled
    at an exact time, and the latest of all. Only where they differ (posts pinned after the
    last queued one) a second statement reads those pinned instants, which are taken.
    Gaps before the last queued post are not refilled, as before. A last one that is no
    slot (the slots changed since, or it was shared now) is pinned by the queue's rules:
    that channel's queue is then read in full, as before.
    """
    if not targets:
        return {}
    pending = (Publication.channel_id == Channel.id, Publication.state == PublicationState.PENDING,
               Publication.due_at >= now)
    latest = select(Publication.due_at).where(*pending).order_by(Publication.due_at.desc()).limit(1)
    last_queued = latest.join(Post, Post.id == Publication.post_id).where(Post.status != PostStatus.SCHEDULED)
    dialect = _dialect(session)
    query = select(Channel.id, bulk.undecoded(last_queued.correlate(Channel).scalar_subquery()),
                   bulk.undecoded(latest.correlate(Channel).scalar_subquery())).where(
        bulk.in_values(dialect, Channel.id, [c.id for _, c in targets]))
    due = bulk.decoder(dialect, Publication.__table__.c.due_at.type)  # thousands of channels, a few distinct times
    rows = [(channel_id, due(last), due(top)) for channel_id, last, top in await _rows(session, query)]
    last_of = {channel_id: last for channel_id, last, _ in rows}
    taken: dict[int, set[datetime]] = {}
    above = [(channel_id, last or now) for channel_id, last, top in rows if top != last]
    if above:
        lasts = bulk.rows_table(dialect, "lasts", [("channel_id", Integer()), ("due", Publication.__table__.c.due_at.type)],
                                above)
        pinned = select(Publication.channel_id, Publication.due_at).join(
            lasts, and_(Publication.channel_id == lasts.c.channel_id, Publication.due_at > lasts.c.due)).where(
            Publication.state == PublicationState.PENDING, Publication.due_at >= now)
        for channel_id, pinned_at in cast(Sequence[tuple[int, datetime]], await _rows(session, pinned)):
            taken.setdefault(channel_id, set()).add(pinned_at)
    dues: dict[int, datetime] = {}
    # channels alike (same slots, same last post, nothing pinned after it) share one walk
    walked: dict[tuple[tuple[time, ...], datetime | None, frozenset[datetime]], datetime] = {}
    for config, channel in targets:
        last_due, walls = last_of.get(channel.id), tuple(config.slots)
        key = (walls, last_due, frozenset(taken.get(channel.id, ())))
        if key not in walked:
            if last_due is not None and not slotmath.is_slot(walls, tz, last_due):
                items = await _queue_items(session, channel.id, walls, tz, since=now)
                dues[channel.id], _ = _due_for("queue", walls, tz, now, None, items)
                continue
            walked[key] = slotmath.next_free_slot(walls, tz, now, key[2], after=last_due)
        dues[channel.id] = walked[key]
    return dues


async def _insert_publications(
    session: AsyncSession, post: Post, channels: Sequence[Target], dues: dict[int, datetime],
) -> list[Queued]:
    """One pending publication per channel: ONE ``INSERT … SELECT … RETURNING`` whatever their number.

    The (channel, due time) pairs travel as one parameter (:mod:`bot.store.bulk`) and the
    database builds the rows, idempotency keys included (:func:`new_idempotency_key`,
    spelled in SQL with the same nonce, so the keys are known here without reading them back).
    """
    if not channels:
        return []
    table = PUBLICATIONS
    new = bulk.rows_table(_dialect(session), "new", [("channel_id", Integer()), ("due", table.c.due_at.type)],
                          [(channel.id, dues[channel.id]) for channel in channels])
    nonce = secrets.token_hex(8)
    key = (literal(f"relais-{post.id}-", String) + sql_cast(new.c.channel_id, String)
           + literal(f"-{nonce}", String))  # new_idempotency_key(post.id, channel_id, nonce)
    rows = select(literal(post.id, Integer), new.c.channel_id, literal(PublicationState.PENDING, table.c.state.type),
                  new.c.due, new.c.due, key)
    inserted = await session.execute(insert(table).from_select(
        ["post_id", "channel_id", "state", "due_at", "next_attempt_at", "idempotency_key"], rows,
    ).returning(table.c.channel_id, table.c.id))
    ids: dict[int, int] = dict(cast(Sequence[tuple[int, int]], inserted.all()))
    return [Queued(ids[c.id], post.id, c.id, c.name, c.paused, dues[c.id], new_idempotency_key(post.id, c.id, nonce))
            for c in channels]


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
    active = [(config, rows[config.name]) for config in configs
              if config.name in rows and not rows[config.name].paused and rows[config.name].enabled]
    queues = await _pending_rows(session, [channel.id for _, channel in active], None)
    late: list[int] = []
    moved: list[SlotMove] = []
    moves: dict[int, datetime] = {}
    for config, channel in active:
        items = _as_items(queues[channel.id], config.slots, settings.tz)
        late += [i.key for i in items
                 if slotmath.catch_up_action(i.due_at, now, grace) is slotmath.CatchUpAction.PUBLISH_LATE]
        plan = slotmath.plan_catch_up(config.slots, settings.tz, now, grace, items)
        moves.update(plan)
        old = {pid: (post_id, due) for pid, due, _, post_id, _ in queues[channel.id]}
        moved += [SlotMove(pid, old[pid][0], config.name, old[pid][1], plan[pid])
                  for pid in sorted(plan, key=lambda key: (plan[key], key))]
    await apply_moves(session, moves, f"catch-up on {len(active)} channel(s)")
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
    publications = [p for p in (await session.scalars(query)).unique().all() if p.channel.name in configs]
    queues = await _pending_rows(session, [p.channel_id for p in publications], now)  # one SELECT, every channel
    moved: list[SlotMove] = []
    moves: dict[int, datetime] = {}
    for publication in publications:
        config = configs[publication.channel.name]
        items = [i for i in _as_items(queues[publication.channel_id], config.slots, settings.tz) if i.key != publication.id]
        due, others = _due_for(mode, config.slots, settings.tz, now, at, items)
        moves.update(others)
        moves[publication.id] = due
        moved.append(SlotMove(publication.id, post.id, config.name, publication.due_at or now, due))
        log.debug("post %s moved on channel %s from %s to %s (%s)", post.id, config.name,
                  moved[-1].old_due_at.isoformat(), due.isoformat(), mode)
    await apply_moves(session, moves, f"post {post.id} rescheduled ({mode}) on {len(moved)} channel(s)")
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
    if withdrawn:
        log.info("post %s withdrawn from the queue of %d channel(s)", post.id, len(withdrawn))
    for publication_id, channel_id in withdrawn:
        log.debug("publication %s (post %s, channel %s) withdrawn", publication_id, post.id, channel_id)
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
    if revived:
        log.info("post %s: %d dead publication(s) sent again from %s", post.id, len(revived), now.isoformat())
    await session.flush()
    return revived
