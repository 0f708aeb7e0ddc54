"""The one-pass ``reflow`` and the one-conversion ``is_slot`` against the definitions they replaced.

``reference_reflow`` and ``reference_is_slot`` are the per-item versions (one slot walk per
moved item, every wall time converted per check) as they stood before the queue was made
set-based; hypothesis checks that the fast ones answer the same on the DST-rich zones.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, time, timedelta, tzinfo
from zoneinfo import ZoneInfo

from hypothesis import given, settings
from hypothesis import strategies as st

from bot.schedule.slots import QueueItem, is_slot, local_to_utc, next_free_slot, reflow, slot_test, slot_times

ZONES = ["Europe/Paris", "America/New_York", "Australia/Lord_Howe", "Pacific/Apia", "America/Santiago", "UTC"]
zones = st.sampled_from(ZONES).map(ZoneInfo)
instants = st.datetimes(min_value=datetime(2000, 1, 1), max_value=datetime(2037, 12, 31), timezones=st.just(UTC))
# wall times near the usual DST transitions (00:00–03:59) half of the time
wall_times = st.lists(st.one_of(st.times(), st.builds(time, st.integers(0, 3), st.sampled_from([0, 30]))),
                      min_size=1, max_size=5)


def reference_is_slot(slots: Sequence[time], tz: tzinfo, instant: datetime) -> bool:
    day = instant.astimezone(tz).date()
    return any(local_to_utc(day, wall, tz) == instant for wall in slots)


def reference_slot_times(slots: Sequence[time], tz: tzinfo, start: datetime, count: int) -> list[datetime]:
    """The day-by-day walk converting every wall time afresh (before the per-day cache)."""
    walls, result, last = sorted({s.replace(tzinfo=None, fold=0) for s in slots}), [], None
    day = start.astimezone(tz).date() - timedelta(days=1)
    while len(result) < count:
        for wall in walls:
            instant = local_to_utc(day, wall, tz)
            if instant >= start and (last is None or instant > last) and len(result) < count:
                last = instant
                result.append(instant)
        day += timedelta(days=1)
    return result


def reference_reflow(slots: Sequence[time], tz: tzinfo, start: datetime, items: Sequence[QueueItem]) -> dict[int, datetime]:
    pinned = {item.due_at for item in items if item.pinned}
    moved: dict[int, datetime] = {}
    previous: datetime | None = None
    for item in items:
        if item.pinned:
            continue
        due = item.due_at
        if not (due >= start and (previous is None or due > previous) and due not in pinned):
            due = next_free_slot(slots, tz, start, pinned, after=previous)
            moved[item.key] = due
        previous = due if slots else previous
    return moved


@settings(max_examples=300, deadline=None)
@given(zone=zones, now=instants, walls=wall_times, data=st.data())
def test_reflow_moves_exactly_as_the_per_item_walk(zone, now, walls, data) -> None:
    horizon = slot_times(walls, zone, now - timedelta(days=2), 40)
    off_grid = [t + timedelta(minutes=7) for t in horizon[:5]]
    dues = data.draw(st.lists(st.sampled_from(horizon + off_grid), min_size=1, max_size=25))
    flags = data.draw(st.lists(st.booleans(), min_size=len(dues), max_size=len(dues)))
    ordered = sorted(zip(dues, flags, strict=True), key=lambda pair: pair[0]) if data.draw(st.booleans()) else \
        list(zip(dues, flags, strict=True))
    items = [QueueItem(i, due, pinned=pinned) for i, (due, pinned) in enumerate(ordered)]
    assert reflow(walls, zone, now, items) == reference_reflow(walls, zone, now, items)
    assert reflow([], zone, now, items) == reference_reflow([], zone, now, items)


@settings(max_examples=300, deadline=None)
@given(zone=zones, now=instants, walls=wall_times, shift=st.sampled_from([0, 0, 1, 30, 60, -60]))
def test_is_slot_answers_as_the_all_walls_check(zone, now, walls, shift) -> None:
    for instant in slot_times(walls, zone, now, 12):
        candidate = instant + timedelta(minutes=shift)
        assert is_slot(walls, zone, candidate) == reference_is_slot(walls, zone, candidate)


def test_the_gap_and_the_fold_on_both_paths() -> None:
    paris = ZoneInfo("Europe/Paris")
    walls = [time(2, 30), time(3, 30), time(9, 0)]
    spring = datetime(2026, 3, 29, 1, 30, tzinfo=UTC)  # 02:30 shifted to 03:30 CEST, merged with 03:30
    second_half_past_two = datetime(2026, 10, 25, 1, 30, tzinfo=UTC)  # 02:30 CET, the fold's second occurrence
    assert is_slot(walls, paris, spring) and is_slot([time(2, 30)], paris, spring)
    assert not is_slot(walls, paris, second_half_past_two)
    assert is_slot(walls, paris, datetime(2026, 10, 25, 0, 30, tzinfo=UTC))  # the first 02:30 (CEST)


@settings(max_examples=300, deadline=None)
@given(zone=zones, now=instants, walls=wall_times, count=st.integers(1, 60))
def test_cached_days_give_the_slots_of_the_uncached_walk(zone, now, walls, count) -> None:
    assert slot_times(walls, zone, now, count) == reference_slot_times(walls, zone, now, count)


@settings(max_examples=200, deadline=None)
@given(zone=zones, now=instants, walls=wall_times, shifts=st.lists(st.sampled_from([0, 0, 1, 30, 60, -60, 1440]),
                                                                    min_size=1, max_size=30))
def test_one_slot_test_for_a_whole_queue_answers_as_each_check(zone, now, walls, shifts) -> None:
    """One ``slot_test`` serves a queue read (its per-day memo is shared by every instant of the queue)."""
    horizon = slot_times(walls, zone, now, len(shifts))
    candidates = [instant + timedelta(minutes=shift) for instant, shift in zip(horizon, shifts, strict=True)]
    test = slot_test(walls, zone)
    assert [test(c) for c in candidates] == [reference_is_slot(walls, zone, c) for c in candidates]
