"""Reader notifications as rows: the fan-out of a published post, the daily digests, blocked readers.

A post is fanned out once, when it is first ``sent`` on any channel: every active, unpaused,
instant-mode reader following any of its tags gets ONE ``deliveries`` row (the unique
(post, subscriber) pair makes a repeat a no-op). The rows are made by set-based
``INSERT … SELECT … ON CONFLICT DO NOTHING`` statements over ranges of subscriber ids, so no
reader is ever loaded in memory; ``posts.fanned_out_at`` is set in the same transaction. A
crash before the commit leaves the post unmarked, and the next sweep does it again.

Digest readers get, once per local day (``settings.timezone``) at their hour, one ``digest``
delivery listing the posts fanned out since their previous digest hour that match their
follows and that they have not had yet (``digest_items``). ``subscribers.digest_sent_on``
marks the day done, even when there was nothing to send; a unique (subscriber, day) index
makes a second digest impossible.

The rows are sent by the outbox (bot/publish); bot.services.delivery_render says what to send.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any

from sqlalchemy import Select, exists, func, literal, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from bot.schedule.slots import local_to_utc
from bot.services.context import Services
from bot.settings import Settings
from bot.store.models import (
    Delivery,
    DeliveryKind,
    DeliveryState,
    DigestItem,
    Follow,
    NotificationMode,
    Post,
    PostTag,
    Publication,
    PublicationState,
    Subscriber,
)
from bot.store.types import UTCDateTime

FAN_OUT_BATCH = 2000  # subscriber ids per INSERT … SELECT
MAX_DIGEST_POSTS = 50
BLOCKED = "the reader blocked the bot"


@dataclass(frozen=True, slots=True)
class FanOut:
    post_id: int
    deliveries: int  # rows created by this call (0 when another sweep made them)


@dataclass(frozen=True, slots=True)
class Digest:
    subscriber_id: int
    day: date
    posts: int  # 0: nothing new today, no delivery made


# -- fan-out --------------------------------------------------------------------------------------

def _insert(session: AsyncSession) -> Any:
    return (postgresql.insert if session.get_bind().dialect.name == "postgresql" else sqlite.insert)(Delivery)


def _instant_readers(post_id: int, after: int, upto: int, now: datetime) -> Select[*tuple[Any, ...]]:
    """The delivery rows to insert, as a SELECT with a WHERE (SQLite needs one before ON CONFLICT)."""
    follows_a_tag = exists().where(Follow.subscriber_id == Subscriber.id, Follow.tag_id == PostTag.tag_id,
                                   PostTag.post_id == post_id)
    return select(
        literal(post_id), Subscriber.id, literal(DeliveryState.PENDING.value), literal(0), literal(now, UTCDateTime()),
        literal(now, UTCDateTime()), literal(DeliveryKind.POST.value),
    ).where(Subscriber.id > after, Subscriber.id <= upto, Subscriber.active.is_(True), Subscriber.paused.is_(False),
            Subscriber.notification_mode == NotificationMode.INSTANT, follows_a_tag)


async def _batch_end(session: AsyncSession, after: int, batch: int) -> int | None:
    ids = select(Subscriber.id).where(Subscriber.id > after).order_by(Subscriber.id).limit(batch).subquery()
    return await session.scalar(select(func.max(ids.c.id)))


async def _fan_out_post(session: AsyncSession, post_id: int, now: datetime, batch: int) -> int:
    created, after = 0, 0
    while (upto := await _batch_end(session, after, batch)) is not None:
        statement = _insert(session).from_select(
            ["post_id", "subscriber_id", "state", "attempts", "due_at", "created_at", "kind"],
            _instant_readers(post_id, after, upto, now),
        ).on_conflict_do_nothing(index_elements=["post_id", "subscriber_id"])
        created += max((await session.execute(statement)).rowcount or 0, 0)  # type: ignore[attr-defined]
        after = upto
    await session.execute(update(Post).where(Post.id == post_id, Post.fanned_out_at.is_(None)).values(fanned_out_at=now))
    return created


def _due_posts(limit: int) -> Select[Any]:
    sent = exists().where(Publication.post_id == Post.id, Publication.state == PublicationState.SENT)
    return (select(Post.id).where(Post.fanned_out_at.is_(None), Post.deleted_at.is_(None), sent)
            .order_by(Post.id).limit(limit))


async def fan_out_due(app: Services, now: datetime, limit: int = 20, *, batch: int = FAN_OUT_BATCH
                      ) -> tuple[FanOut, ...]:
    """Create the deliveries of up to ``limit`` posts sent on a channel and not fanned out yet.

    One transaction per post: its deliveries and its ``fanned_out_at`` commit together.
    """
    async with app.sessions() as session:
        post_ids = (await session.scalars(_due_posts(limit))).all()
    done = []
    for post_id in post_ids:
        async with app.sessions.begin() as session:
            done.append(FanOut(post_id, await _fan_out_post(session, post_id, now, batch)))
    return tuple(done)


# -- digests --------------------------------------------------------------------------------------

def _digest_readers(hour: int, today: date, limit: int) -> Select[Any]:
    return (select(Subscriber).where(
        Subscriber.notification_mode == NotificationMode.DIGEST, Subscriber.active.is_(True),
        Subscriber.paused.is_(False), Subscriber.digest_hour.is_not(None), Subscriber.digest_hour <= hour,
        (Subscriber.digest_sent_on.is_(None)) | (Subscriber.digest_sent_on < today),
    ).order_by(Subscriber.id).limit(limit))


def _digest_posts(subscriber_id: int, since: datetime, now: datetime) -> Select[Any]:
    followed = exists().where(PostTag.post_id == Post.id, Follow.tag_id == PostTag.tag_id,
                              Follow.subscriber_id == subscriber_id)
    delivered = exists().where(Delivery.post_id == Post.id, Delivery.subscriber_id == subscriber_id)
    listed = exists().where(DigestItem.post_id == Post.id, DigestItem.delivery_id == Delivery.id,
                            Delivery.subscriber_id == subscriber_id)
    return (select(Post.id).where(Post.fanned_out_at > since, Post.fanned_out_at <= now, Post.deleted_at.is_(None),
                                  followed, ~delivered, ~listed)
            .order_by(Post.fanned_out_at.desc(), Post.id.desc()).limit(MAX_DIGEST_POSTS))


async def _make_digest(session: AsyncSession, reader: Subscriber, today: date, now: datetime, settings: Settings) -> Digest:
    assert reader.digest_hour is not None  # selected so
    since = local_to_utc(today - timedelta(days=1), time(reader.digest_hour), settings.tz)
    post_ids = (await session.scalars(_digest_posts(reader.id, since, now))).all()
    reader.digest_sent_on = today
    if post_ids:
        delivery = Delivery(post_id=post_ids[0], subscriber_id=reader.id, kind=DeliveryKind.DIGEST, digest_day=today,
                            state=DeliveryState.PENDING, attempts=0, due_at=now, created_at=now)
        session.add(delivery)
        await session.flush()
        session.add_all(DigestItem(delivery_id=delivery.id, post_id=pid, position=i) for i, pid in enumerate(post_ids))
    return Digest(reader.id, today, len(post_ids))


async def digest_due(app: Services, now: datetime, limit: int = 200) -> tuple[Digest, ...]:
    """Make today's digest of up to ``limit`` digest readers whose hour has come (one transaction each)."""
    local = now.astimezone(app.settings.tz)
    async with app.sessions() as session:
        ids = (await session.scalars(_digest_readers(local.hour, local.date(), limit).with_only_columns(Subscriber.id))).all()
    made = []
    for subscriber_id in ids:
        async with app.sessions.begin() as session:
            reader = await session.scalar(_digest_readers(local.hour, local.date(), 1).where(Subscriber.id == subscriber_id)
                                          .with_for_update())
            if reader is not None:  # not made meanwhile by another worker
                made.append(await _make_digest(session, reader, local.date(), now, app.settings))
    return tuple(made)


# -- blocked readers and the scheduler ------------------------------------------------------------

async def mark_blocked(app: Services, subscriber_id: int, *, now: datetime) -> int:
    """A 403 from the reader's chat: inactive at once, and their waiting deliveries dead (never retried).

    Returns how many waiting deliveries were given up. ``/start`` makes the reader active again.
    """
    async with app.sessions.begin() as session:
        await session.execute(update(Subscriber).where(Subscriber.id == subscriber_id).values(active=False))
        waiting = (update(Delivery).where(Delivery.subscriber_id == subscriber_id,
                                          Delivery.state.in_([DeliveryState.PENDING, DeliveryState.RETRY]))
                   .values(state=DeliveryState.DEAD, last_error=BLOCKED, next_attempt_at=None))
        return max((await session.execute(waiting)).rowcount or 0, 0)  # type: ignore[attr-defined]


@dataclass(frozen=True, slots=True)
class Sweep:
    fanned_out: tuple[FanOut, ...]
    digests: tuple[Digest, ...]


def notify_sweep(app: Services) -> Callable[[datetime], Awaitable[Sweep]]:
    """The scheduler job (every sweep): fan out newly sent posts, then make the digests that are due.

    With the job-spec scheduler: ``JobSpec("notify", Every(settings.schedule.sweep_seconds), notify_sweep(app))``.
    """

    async def sweep(now: datetime) -> Sweep:
        return Sweep(await fan_out_due(app, now), await digest_due(app, now))

    return sweep


def blocked_hook(app: Services) -> Callable[[int, datetime], Awaitable[int]]:
    """The worker's ``Deliveries.on_blocked``: :func:`mark_blocked` at the first 403."""

    async def blocked(subscriber_id: int, now: datetime) -> int:
        return await mark_blocked(app, subscriber_id, now=now)

    return blocked
