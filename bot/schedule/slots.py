"""Pure slot arithmetic: posting slots in local wall time → aware UTC instants.

No database, no clock: every function takes ``now`` (aware) and data, returns data.

A channel's slots are local wall times (``09:00``, ``18:00``) in one IANA zone. They stay
at 09:00 local on both sides of a daylight-saving change, so their UTC instant moves.
Two wall times are special, and handled like a wall clock would:

* **gap** (spring forward: 02:30 on the last Sunday of March does not exist in
  Europe/Paris): the slot is shifted forward by the gap, to 03:30 local. That is
  ``zoneinfo``'s ``fold=0`` reading (PEP 495: the offset before the transition). If two
  slots of a day land on one instant this way (02:30 and 03:30), they are one slot.
* **fold** (fall back: 02:30 on the last Sunday of October happens twice): the slot is the
  first occurrence (summer time), and only that one: one slot per day per wall time.

A channel without slots publishes as soon as a post is queued: its next slot is ``now``.
"""

from __future__ import annotations

import enum
import functools
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta, tzinfo

# 400 days of slots: more than a year, so a bounded search never loops forever even if
# the "taken" set were absurdly large; a queue this long is a misconfiguration.
MAX_SEARCH_DAYS = 400


@functools.lru_cache(maxsize=1024)
def _walls(slots: tuple[time, ...]) -> tuple[time, ...]:
    """A channel's slots as sorted naive wall times, computed once per distinct configuration."""
    return tuple(sorted({s.replace(tzinfo=None, fold=0) for s in slots}))


def require_aware(value: datetime, name: str) -> None:
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(f"{name} must be an aware datetime, got naive {value!r}")


def local_to_utc(day: date, wall: time, tz: tzinfo) -> datetime:
    """The UTC instant of wall time ``wall`` on ``day`` in ``tz``.

    Gap → shifted forward by the gap; fold → first occurrence (both by ``fold=0``).
    """
    local = datetime.combine(day, wall.replace(tzinfo=None, fold=0), tzinfo=tz)
    return local.astimezone(UTC)


@functools.lru_cache(maxsize=4096)
def _day_instants(walls: tuple[time, ...], tz: tzinfo, day: date) -> tuple[tuple[datetime, ...], frozenset[datetime]]:
    """``local_to_utc`` of each wall time on ``day``, in wall order, and as a set.

    Cached per day: a reflow or a queue read of 1,000 posts asks for the same few weeks
    of slots again and again (the conversions were most of their time).
    """
    instants = tuple(local_to_utc(day, wall, tz) for wall in walls)
    return instants, frozenset(instants)


def naive_to_utc(value: datetime, tz: tzinfo) -> datetime:
    """Interpret a naive datetime typed by a person in ``tz``; aware values are converted."""
    if value.tzinfo is not None and value.utcoffset() is not None:
        return value.astimezone(UTC)
    return local_to_utc(value.date(), value.time(), tz)


def is_gap(day: date, wall: time, tz: tzinfo) -> bool:
    """Whether ``wall`` on ``day`` does not exist in ``tz`` (spring-forward gap)."""
    instant = local_to_utc(day, wall, tz)
    back = instant.astimezone(tz)
    return (back.date(), back.time().replace(fold=0)) != (day, wall.replace(tzinfo=None, fold=0))


def iter_slots(slots: Iterable[time], tz: tzinfo, start: datetime) -> Iterator[datetime]:
    """Slot instants (aware UTC) at or after ``start``, strictly increasing, unbounded.

    Empty ``slots`` → nothing. Bounded to MAX_SEARCH_DAYS days after ``start``.
    """
    require_aware(start, "start")
    walls = _walls(tuple(slots))
    if not walls:
        return
    first_day = start.astimezone(tz).date() - timedelta(days=1)  # the day before covers offsets
    last: datetime | None = None
    for offset in range(MAX_SEARCH_DAYS + 2):
        for instant in _day_instants(walls, tz, first_day + timedelta(days=offset))[0]:
            if instant < start or (last is not None and instant <= last):
                continue  # before start, or a gap slot merged into the next wall time
            last = instant
            yield instant


def slot_times(slots: Iterable[time], tz: tzinfo, start: datetime, count: int) -> list[datetime]:
    """The first ``count`` slot instants at or after ``start`` (aware UTC, increasing)."""
    result: list[datetime] = []
    if count <= 0:
        return result
    for instant in iter_slots(slots, tz, start):
        result.append(instant)
        if len(result) == count:
            break
    return result


def next_slot_after(slots: Sequence[time], tz: tzinfo, after: datetime) -> datetime | None:
    """The first slot instant strictly after ``after``; None without slots."""
    for instant in iter_slots(slots, tz, after):
        if instant > after:
            return instant
    return None


def next_free_slot(
    slots: Sequence[time], tz: tzinfo, now: datetime, taken: Iterable[datetime] = (),
    *, after: datetime | None = None,
) -> datetime:
    """The first slot at or after ``now`` (and strictly after ``after``) not in ``taken``.

    Without slots the answer is ``now``: such a channel publishes as soon as it can.
    """
    require_aware(now, "now")
    if not slots:
        return now.astimezone(UTC)
    occupied = {t.astimezone(UTC) for t in taken}
    begin = max(now, after) if after is not None else now  # start the walk there, not at now
    for instant in iter_slots(slots, tz, begin):
        if after is not None and instant <= after:
            continue
        if instant not in occupied:
            return instant
    raise ValueError(f"no free slot within {MAX_SEARCH_DAYS} days")  # pragma: no cover - absurd queue


def is_slot(slots: Sequence[time], tz: tzinfo, instant: datetime) -> bool:
    """Whether ``instant`` is one of the channel's slot instants."""
    return slot_test(slots, tz)(instant)


def slot_test(slots: Sequence[time], tz: tzinfo) -> Callable[[datetime], bool]:
    """:func:`is_slot` for many instants of one channel: its slots resolved once, each day's instants once."""
    walls = _walls(tuple(slots))
    days: dict[date, frozenset[datetime]] = {}

    def test(instant: datetime) -> bool:
        require_aware(instant, "instant")
        day = instant.astimezone(tz).date()
        if day not in days:
            days[day] = _day_instants(walls, tz, day)[1]
        # a fold's second occurrence is no slot; a wall time in a spring-forward gap lands shifted on its day
        return instant in days[day]

    return test


@dataclass(frozen=True, slots=True)
class QueueItem:
    """One pending publication of a channel's queue, as the pure functions see it.

    ``pinned``: scheduled at an exact time by a person (``--at``, ``--now``): never moved
    by other posts, only by the catch-up policy once it is overdue.
    """

    key: int
    due_at: datetime
    pinned: bool = False


def reflow(
    slots: Sequence[time], tz: tzinfo, start: datetime, items: Sequence[QueueItem],
) -> dict[int, datetime]:
    """Lay queue items, in order, onto slots at or after ``start``, pushing only on conflict.

    Each unpinned item keeps its due time if that is still at or after ``start`` and later
    than the previous item's; otherwise it takes the next free slot after the previous one.
    Pinned items keep their time and their instants are never given to another item.
    Returns the new due time of every unpinned item whose due time changed.
    """
    require_aware(start, "start")
    pinned = {item.due_at for item in items if item.pinned}
    free_slots = _FreeSlots(slots, tz, pinned)
    moved: dict[int, datetime] = {}
    previous: datetime | None = None
    for item in items:
        if item.pinned:
            continue
        due = item.due_at
        keep = due >= start and (previous is None or due > previous) and due not in pinned
        if not keep:
            due = free_slots.first(start, after=previous)
            moved[item.key] = due
        previous = due if slots else previous
    return moved


class _FreeSlots:
    """``next_free_slot`` for a run of queries whose bounds never go back, walking the slots once.

    A reflow asks, item after item, for the first free slot after the previous item's: one
    iterator serves them all, restarted only when a kept item jumped far ahead of it (so a
    queue is walked in one pass over its slots, not one walk per moved item).
    """

    def __init__(self, slots: Sequence[time], tz: tzinfo, taken: set[datetime]) -> None:
        self.slots, self.tz, self.taken = slots, tz, taken
        self.walk: Iterator[datetime] | None = None
        self.head: datetime | None = None

    def first(self, now: datetime, *, after: datetime | None) -> datetime:
        if not self.slots:
            return now.astimezone(UTC)
        begin = max(now, after) if after is not None else now
        if self.walk is None or self.head is None or self.head < begin:
            self.walk = iter_slots(self.slots, self.tz, begin)
            self.head = None
        while self.head is None or self.head < begin or (after is not None and self.head <= after) \
                or self.head in self.taken:
            self.head = next(self.walk, None)
            if self.head is None:
                raise ValueError(f"no free slot within {MAX_SEARCH_DAYS} days")  # pragma: no cover - absurd queue
        return self.head


class CatchUpAction(enum.StrEnum):
    ON_TIME = "on_time"  # not due yet: nothing to do
    PUBLISH_LATE = "publish_late"  # missed by less than the grace: send now
    RESLOT = "reslot"  # missed by more: the queue moves on, the post takes the next free slot


def catch_up_action(due_at: datetime, now: datetime, grace: timedelta) -> CatchUpAction:
    """What to do with a pending publication after downtime. Nothing is ever dropped."""
    require_aware(due_at, "due_at")
    require_aware(now, "now")
    if due_at > now:
        return CatchUpAction.ON_TIME
    if now - due_at <= grace:
        return CatchUpAction.PUBLISH_LATE
    return CatchUpAction.RESLOT


def plan_catch_up(
    slots: Sequence[time], tz: tzinfo, now: datetime, grace: timedelta, items: Sequence[QueueItem],
) -> dict[int, datetime]:
    """New due times for a channel's pending queue (in due order) after downtime.

    Items missed within ``grace`` stay as they are (they are due: published late). Items
    missed by more are re-slotted in their queue order onto the next free slots, before
    the items still waiting, which are pushed back only where a slot is needed.
    Returns key → new due time for the items that move.
    """
    actions = {i.key: catch_up_action(i.due_at, now, grace) for i in items}
    overdue = [QueueItem(i.key, i.due_at) for i in items if actions[i.key] is CatchUpAction.RESLOT]
    waiting = [i for i in items if actions[i.key] is CatchUpAction.ON_TIME]
    if not overdue:
        return {}
    if not slots:
        return {i.key: now.astimezone(UTC) for i in overdue}
    return reflow(slots, tz, now, [*overdue, *waiting])
