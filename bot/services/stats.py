"""Statistics for authors: what went out, what waits, who reads, over the last 7 and 30 days.

Counted from the outbox rows, each by the time that says what happened to it:
a sent publication or delivery by ``sent_at``; a dead one by when it was due (publications:
``due_at``; deliveries, created when the post went out: ``created_at``). Days are calendar
days in the configured time zone, today included. Four queries whatever the volume: one
pass over each table, every number a ``count(*) FILTER (WHERE …)`` of that pass.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import ColumnElement, Select, func, select

from bot.errors import UsageError
from bot.publish.outbox import SENDABLE
from bot.services.context import Services
from bot.store.models import Delivery, DeliveryState, Follow, Publication, PublicationState, Subscriber, Tag

WINDOWS = (7, 30)
TOP_TAGS = 10


@dataclass(frozen=True, slots=True)
class Window:
    days: int
    posts_published: int  # posts with at least one publication sent
    publications_sent: int
    publications_dead: int
    deliveries_sent: int
    deliveries_failed: int  # dead: given up
    new_readers: int


@dataclass(frozen=True, slots=True)
class Day:
    day: date  # in the configured time zone
    publications_sent: int
    deliveries_sent: int


@dataclass(frozen=True, slots=True)
class TagFollows:
    tag: str  # display form
    followers: int  # active readers following it


@dataclass(frozen=True, slots=True)
class Stats:
    now: datetime
    timezone: str
    queue_length: int  # publications waiting to be sent
    queued_posts: int
    readers_active: int
    readers_inactive: int  # blocked the bot or left
    top_tags: tuple[TagFollows, ...]
    windows: tuple[Window, ...]  # 7 and 30 days
    days: tuple[Day, ...]  # oldest first

    def window(self, days: int) -> Window:
        return next(w for w in self.windows if w.days == days)


def local_days(now: datetime, tz: ZoneInfo, count: int) -> list[date]:
    today = now.astimezone(tz).date()
    return [today - timedelta(days=n) for n in range(count - 1, -1, -1)]


def day_start(day: date, tz: ZoneInfo) -> datetime:
    return datetime.combine(day, datetime.min.time(), tzinfo=tz)


def _between(column: Any, start: datetime, end: datetime | None = None) -> ColumnElement[bool]:
    return column >= start if end is None else (column >= start) & (column < end)


def _day_ranges(series: list[date], tz: ZoneInfo) -> list[tuple[datetime, datetime | None]]:
    """[start, end) of each local day; today's is open (a clock a little behind still counts)."""
    starts = [day_start(d, tz) for d in series]
    return [(start, starts[k + 1] if k + 1 < len(starts) else None) for k, start in enumerate(starts)]


def _counts(column: Any, starts: list[datetime], *where: ColumnElement[bool]) -> list[ColumnElement[int]]:
    return [func.count().filter(_between(column, start), *where) for start in starts]


def _per_day(column: Any, ranges: list[tuple[datetime, datetime | None]]) -> list[ColumnElement[int]]:
    return [func.count().filter(_between(column, start, end)) for start, end in ranges]


def _top_tags(top: int) -> Select[str, int]:
    return (select(Tag.display, func.count())
            .join(Follow, Follow.tag_id == Tag.id).join(Subscriber, Subscriber.id == Follow.subscriber_id)
            .where(Subscriber.active.is_(True))
            .group_by(Tag.id, Tag.display).order_by(func.count().desc(), Tag.display).limit(top))


async def stats(app: Services, now: datetime, *, days: int = 30, top: int = TOP_TAGS) -> Stats:
    """The numbers an author asks for; ``days`` (7 or 30) is the span of the per-day series."""
    if days not in WINDOWS:
        raise UsageError(f"--days must be 7 or 30 (got {days})")
    if not 1 <= top <= 100:
        raise UsageError(f"--top must be between 1 and 100 (got {top})")
    tz = app.settings.tz
    starts = [day_start(local_days(now, tz, n)[0], tz) for n in WINDOWS]
    series = local_days(now, tz, days)
    ranges = _day_ranges(series, tz)
    posted = func.count(func.distinct(Publication.post_id))
    waiting = Publication.state.in_(SENDABLE)
    async with app.sessions() as session:
        pubs = list((await session.execute(select(
            *(posted.filter(_between(Publication.sent_at, start)) for start in starts),
            *_counts(Publication.sent_at, starts),
            *_counts(Publication.due_at, starts, Publication.state == PublicationState.DEAD),
            *_per_day(Publication.sent_at, ranges),
            func.count().filter(waiting), posted.filter(waiting),
        ))).one())
        deliveries = list((await session.execute(select(
            *_counts(Delivery.sent_at, starts), *_counts(Delivery.created_at, starts, Delivery.state == DeliveryState.DEAD),
            *_per_day(Delivery.sent_at, ranges),
        ))).one())
        readers = list((await session.execute(select(
            func.count().filter(Subscriber.active.is_(True)), func.count().filter(Subscriber.active.is_(False)),
            *_counts(Subscriber.created_at, starts),
        ))).one())
        tags = (await session.execute(_top_tags(top))).all()
    w, d = len(WINDOWS), len(series)
    windows = tuple(Window(n, pubs[i], pubs[w + i], pubs[2 * w + i], deliveries[i], deliveries[w + i], readers[2 + i])
                    for i, n in enumerate(WINDOWS))
    per_day = tuple(Day(day, pubs[3 * w + k], deliveries[2 * w + k]) for k, day in enumerate(series))
    return Stats(now, tz.key, pubs[3 * w + d], pubs[3 * w + d + 1], readers[0], readers[1],
                 tuple(TagFollows(display, count) for display, count in tags), windows, per_day)
