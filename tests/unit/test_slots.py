"""Pure slot arithmetic: DST in both directions, gaps, folds, queue reflow, catch-up."""

from __future__ import annotations

import itertools
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.schedule.slots import (
    CatchUpAction,
    QueueItem,
    catch_up_action,
    is_gap,
    is_slot,
    local_to_utc,
    naive_to_utc,
    next_free_slot,
    plan_catch_up,
    reflow,
    slot_times,
)

PARIS = ZoneInfo("Europe/Paris")
NINE = time(9, 0)

# Zones with unusual transitions: 30-minute DST (Lord_Howe), a skipped calendar day
# (Apia, 2011-12-30), southern-hemisphere DST, none at all, a half-hour offset.
ZONES = [
    "Europe/Paris", "America/New_York", "Australia/Lord_Howe", "Pacific/Apia",
    "America/Santiago", "UTC", "Asia/Kolkata", "America/St_Johns",
]

zones = st.sampled_from(ZONES).map(ZoneInfo)
instants = st.datetimes(
    min_value=datetime(2000, 1, 1), max_value=datetime(2037, 12, 31), timezones=st.just(UTC)
)
wall_times = st.lists(st.times(), min_size=1, max_size=5)


def local(instant: datetime) -> datetime:
    return instant.astimezone(PARIS)


# --- DST, Europe/Paris ----------------------------------------------------------------

@pytest.mark.parametrize(
    ("start", "utc_hours"),
    [
        (datetime(2026, 3, 27, tzinfo=UTC), [8, 8, 7, 7, 7]),  # 27, 28 CET; 29 March CEST
        (datetime(2026, 10, 23, tzinfo=UTC), [7, 7, 8, 8, 8]),  # 23, 24 CEST; 25 October CET
    ],
)
def test_nine_o_clock_stays_nine_o_clock_across_both_changes(start: datetime, utc_hours: list[int]) -> None:
    times = slot_times([NINE], PARIS, start, 5)
    assert [local(t).time() for t in times] == [NINE] * 5
    assert [t.hour for t in times] == utc_hours  # the UTC instant moves, not the wall time


def test_slot_in_the_spring_forward_gap_is_shifted_forward_like_a_wall_clock() -> None:
    day = date(2026, 3, 29)  # last Sunday of March: 02:00 → 03:00
    assert is_gap(day, time(2, 30), PARIS)
    times = slot_times([time(2, 30)], PARIS, datetime(2026, 3, 28, 12, tzinfo=UTC), 2)
    assert times[0] == datetime(2026, 3, 29, 1, 30, tzinfo=UTC)
    assert local(times[0]).time() == time(3, 30)
    assert local(times[1]).time() == time(2, 30)  # the next day is back to normal


def test_two_slots_merged_by_the_gap_are_one_slot() -> None:
    times = slot_times([time(2, 30), time(3, 30)], PARIS, datetime(2026, 3, 29, tzinfo=UTC), 3)
    assert times == [
        datetime(2026, 3, 29, 1, 30, tzinfo=UTC),  # 02:30 shifted = 03:30, one slot
        datetime(2026, 3, 30, 0, 30, tzinfo=UTC),
        datetime(2026, 3, 30, 1, 30, tzinfo=UTC),
    ]


def test_slot_in_the_fall_back_fold_is_the_first_occurrence_once() -> None:
    start = datetime(2026, 10, 24, 12, tzinfo=UTC)
    times = slot_times([time(2, 30)], PARIS, start, 2)
    assert times[0] == datetime(2026, 10, 25, 0, 30, tzinfo=UTC)  # 02:30 CEST, not 02:30 CET
    assert local(times[0]).utcoffset() == timedelta(hours=2)
    assert times[1] == datetime(2026, 10, 26, 1, 30, tzinfo=UTC)
    # A sweep started between the two 02:30s does not get a second 02:30 that day.
    between = datetime(2026, 10, 25, 0, 45, tzinfo=UTC)
    assert next_free_slot([time(2, 30)], PARIS, between) == datetime(2026, 10, 26, 1, 30, tzinfo=UTC)


def test_naive_input_is_read_in_the_configured_zone() -> None:
    assert naive_to_utc(datetime(2026, 12, 1, 9, 0), PARIS) == datetime(2026, 12, 1, 8, 0, tzinfo=UTC)
    assert naive_to_utc(datetime(2026, 7, 1, 9, 0), PARIS) == datetime(2026, 7, 1, 7, 0, tzinfo=UTC)
    aware = datetime(2026, 7, 1, 9, 0, tzinfo=ZoneInfo("America/New_York"))
    assert naive_to_utc(aware, PARIS) == datetime(2026, 7, 1, 13, 0, tzinfo=UTC)


# --- next free slot ---------------------------------------------------------------------

def test_channel_without_slots_is_due_immediately() -> None:
    now = datetime(2026, 5, 4, 10, 17, 3, tzinfo=UTC)
    assert next_free_slot([], PARIS, now, {now}) == now


def test_next_free_slot_skips_taken_ones_and_never_goes_before_now() -> None:
    now = datetime(2026, 5, 4, 10, 0, tzinfo=UTC)  # 12:00 Paris
    slots = [NINE, time(12, 30), time(18, 0)]
    first = next_free_slot(slots, PARIS, now)
    assert local(first).time() == time(12, 30)
    second = next_free_slot(slots, PARIS, now, {first})
    assert local(second).time() == time(18, 0)
    third = next_free_slot(slots, PARIS, now, {first, second})
    assert local(third) == datetime(2026, 5, 5, 9, 0, tzinfo=PARIS)


def test_slot_exactly_now_is_free_and_due() -> None:
    now = local_to_utc(date(2026, 5, 4), NINE, PARIS)
    assert next_free_slot([NINE], PARIS, now) == now
    assert is_slot([NINE], PARIS, now) and not is_slot([NINE], PARIS, now + timedelta(seconds=1))


# --- reflow: share next and catch-up ------------------------------------------------------

def test_share_next_takes_the_first_slot_and_pushes_the_queue_back_one_slot_each() -> None:
    now = datetime(2026, 5, 4, 6, 0, tzinfo=UTC)  # 08:00 Paris
    slots = [NINE, time(18, 0)]
    s0, s1, s2, s3 = slot_times(slots, PARIS, now, 4)
    queue = [QueueItem(1, s0), QueueItem(2, s1), QueueItem(3, s3)]
    moved = reflow(slots, PARIS, now, [QueueItem(0, s0), *queue])
    assert moved == {1: s1, 2: s2}  # item 3 sits after a free slot: it does not move


def test_reflow_never_gives_a_pinned_instant_away() -> None:
    now = datetime(2026, 5, 4, 6, 0, tzinfo=UTC)
    s0, s1, s2 = slot_times([NINE], PARIS, now, 3)
    moved = reflow([NINE], PARIS, now, [QueueItem(0, s0), QueueItem(9, s1, pinned=True), QueueItem(1, s0)])
    assert moved == {1: s2}


@pytest.mark.parametrize(
    ("late_by", "expected"),
    [
        (timedelta(minutes=-5), CatchUpAction.ON_TIME),
        (timedelta(0), CatchUpAction.PUBLISH_LATE),
        (timedelta(minutes=59), CatchUpAction.PUBLISH_LATE),
        (timedelta(minutes=60), CatchUpAction.PUBLISH_LATE),
        (timedelta(minutes=60, seconds=1), CatchUpAction.RESLOT),
        (timedelta(days=3), CatchUpAction.RESLOT),
    ],
)
def test_catch_up_table(late_by: timedelta, expected: CatchUpAction) -> None:
    now = datetime(2026, 5, 4, 12, 0, tzinfo=UTC)
    assert catch_up_action(now - late_by, now, timedelta(minutes=60)) is expected


def test_plan_catch_up_publishes_within_grace_and_reslots_the_rest_in_queue_order() -> None:
    slots = [NINE, time(12, 30), time(18, 0)]
    yesterday = slot_times(slots, PARIS, datetime(2026, 5, 3, tzinfo=UTC), 3)
    today_nine = local_to_utc(date(2026, 5, 4), NINE, PARIS)
    now = today_nine + timedelta(minutes=20)
    today_1230, today_18 = slot_times(slots, PARIS, now, 2)
    items = [QueueItem(1, yesterday[1]), QueueItem(2, yesterday[2]), QueueItem(3, today_nine),
             QueueItem(4, today_1230)]
    moved = plan_catch_up(slots, PARIS, now, timedelta(minutes=60), items)
    assert 3 not in moved  # missed by 20 min: published late, keeps its due time
    assert moved[1] == today_1230 and moved[2] == today_18  # missed long ago: next free slots
    assert moved[4] > today_18  # the waiting post is pushed back one slot, not dropped
    assert plan_catch_up([], PARIS, now, timedelta(0), items[:2]) == {1: now, 2: now}


# --- properties across zones and dates -----------------------------------------------------

@settings(max_examples=300, deadline=None)
@given(zone=zones, start=instants, walls=wall_times, count=st.integers(1, 12))
def test_slots_increase_land_on_configured_wall_times_and_skip_none(zone, start, walls, count) -> None:
    times = slot_times(walls, zone, start, count)
    assert len(times) == count
    assert all(a < b for a, b in itertools.pairwise(times))
    assert times[0] >= start
    configured = {w.replace(fold=0) for w in walls}
    for instant in times:
        wall = instant.astimezone(zone)
        if wall.time().replace(fold=0) not in configured:
            # only a wall time that does not exist that day may be shifted
            assert any(is_gap(wall.date(), w, zone) for w in configured)
    # completeness: every configured wall time of every day in the range is there (or merged)
    day = start.astimezone(zone).date()
    while day <= times[-1].astimezone(zone).date():
        for w in configured:
            instant = local_to_utc(day, w, zone)
            if start <= instant <= times[-1]:
                assert instant in times
        day += timedelta(days=1)


@settings(max_examples=200, deadline=None)
@given(zone=zones, now=instants, walls=wall_times, taken_count=st.integers(0, 8), data=st.data())
def test_next_free_slot_is_a_free_slot_never_before_now(zone, now, walls, taken_count, data) -> None:
    candidates = slot_times(walls, zone, now, 10)
    taken = set(data.draw(st.lists(st.sampled_from(candidates), max_size=taken_count)))
    slot = next_free_slot(walls, zone, now, taken)
    assert slot >= now and slot not in taken and is_slot(walls, zone, slot)
    assert all(c in taken for c in candidates if c < slot)


@settings(max_examples=200, deadline=None)
@given(zone=zones, now=instants, walls=wall_times, data=st.data())
def test_reflow_keeps_order_and_never_shares_a_slot(zone, now, walls, data) -> None:
    horizon = slot_times(walls, zone, now - timedelta(days=2), 30)
    dues = data.draw(st.lists(st.sampled_from(horizon), min_size=1, max_size=10))
    pinned_flags = data.draw(st.lists(st.booleans(), min_size=len(dues), max_size=len(dues)))
    items = [QueueItem(i, due, pinned=p) for i, (due, p) in enumerate(zip(dues, pinned_flags, strict=True))]
    moved = reflow(walls, zone, now, items)
    final = [moved.get(i.key, i.due_at) for i in items if not i.pinned]
    pinned_times = {i.due_at for i in items if i.pinned}
    assert all(t >= now for t in final)
    assert all(a < b for a, b in itertools.pairwise(final))  # order kept, no shared slot
    assert not pinned_times & set(final)
    assert all(is_slot(walls, zone, moved[k]) for k in moved)
