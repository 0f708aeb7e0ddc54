"""The limiter under load (issue 12 item 3): late arrivals, stalls and 429s, in virtual time.

A strict platform counts a message when it *arrives*. Here each send has an outbound leg
(until the platform counts it) and a return leg (until our process sees the answer); the
clock jumps when the process is descheduled. Whatever the legs and the stalls, no sliding
window on the platform's side may hold more than the limit, and no two sends may leave
closer than the pacer's catch-up spacing (no burst after a stall). Nothing here waits for
real: ``tests/virtual_time.py`` drives the pacers' injected clock and sleep.
"""

from __future__ import annotations

import bisect
import itertools
from dataclasses import dataclass, field

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.errors import RetryableError
from bot.publish.ratelimit import ANSWER_BOUND, ANSWER_SLACK, CATCH_UP, Pacer, Rate, TelegramLimits, Traffic
from bot.publish.targets import paced
from tests.virtual_time import VirtualClock

EPSILON = 1e-9


def _max_in_window(stamps: list[float], period: float) -> int:
    """The most arrivals a platform counting over (t − period, t] ever holds (stamps sorted)."""
    stamps = sorted(stamps)
    return max(bisect.bisect_right(stamps, stamp) - bisect.bisect_right(stamps, stamp - period) for stamp in stamps)


@dataclass
class Platform:
    """Counts arrivals; each send's legs say how long it travels each way."""

    clock: VirtualClock
    arrivals: list[float] = field(default_factory=list)
    departures: list[float] = field(default_factory=list)

    async def send(self, outbound: float, back: float) -> None:
        self.departures.append(self.clock())
        await self.clock.sleep(outbound)
        self.arrivals.append(self.clock())
        await self.clock.sleep(back)


async def _stall(clock: VirtualClock, at: float, seconds: float) -> None:
    await clock.sleep(at)
    clock.jump(seconds)  # the process is stopped with sends booked and in flight


@st.composite
def schedules(draw: st.DrawFn) -> tuple[list[tuple[float, float]], list[tuple[float, float]]]:
    """Legs for each send (one clean round trip among the first ones) and stalls (start, length),
    shorter together than ``ANSWER_BOUND`` (past it, a send in flight is taken to have arrived)."""
    leg = st.one_of(st.just(0.001), st.floats(min_value=0.001, max_value=0.3))
    legs = draw(st.lists(st.tuples(leg, leg), min_size=12, max_size=40))
    legs[1] = (0.001, 0.001)  # a clean round trip before any stall: the rule's one assumption
    stall = st.tuples(st.floats(min_value=0.2, max_value=3), st.floats(min_value=0.01, max_value=(ANSWER_BOUND - 0.5) / 3))
    stalls = draw(st.lists(stall, max_size=3))
    return legs, stalls


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(schedules())
async def test_late_arrivals_and_stalls_never_fill_a_window_nor_burst(schedule) -> None:
    legs, stalls = schedule
    clock = VirtualClock()
    rate = Rate(5, 0.5)
    pacer = Pacer(rate, clock=clock, sleep=clock.sleep)
    platform = Platform(clock)

    async def one(outbound: float, back: float) -> None:
        async with pacer.calling():
            await platform.send(outbound, back)

    await clock.run(*(one(*leg) for leg in legs), *(_stall(clock, *stall) for stall in stalls))
    assert _max_in_window(platform.arrivals, rate.period) <= rate.count
    departures = sorted(platform.departures)
    assert all(b - a >= pacer.interval * (1 - CATCH_UP) - EPSILON for a, b in itertools.pairwise(departures))


async def test_a_slow_first_connection_delays_the_next_window_not_the_platform() -> None:
    """The first send opens the connection and arrives late; counted from when it left, send 31
    would reach Telegram within a second of it (the 429 at t ≈ 1.04 s in bench/publish_limits.py)."""
    clock = VirtualClock()
    rate = Rate(30, 1)
    pacer = Pacer(rate, clock=clock, sleep=clock.sleep)
    platform = Platform(clock)

    async def one(index: int) -> None:
        async with pacer.calling():
            await platform.send(0.1 if index == 0 else 0.001, 0.001)

    await clock.run(*(one(i) for i in range(61)))
    assert _max_in_window(platform.arrivals, 1.0) <= 30
    # the cost is that late arrival once, not a second per window
    assert platform.departures[-1] - platform.departures[0] < 2 * (1.0 + ANSWER_SLACK) + 0.1 + 0.01


async def test_answers_cost_only_their_latency_beyond_the_fastest_round_trip() -> None:
    """A steady 80 ms round trip: the window rule subtracts it, so the pace stays the grid's
    (counted from departures plus a fixed 40 ms, three windows took 3.12 s; from answers, 3.24 s)."""
    clock = VirtualClock()
    pacer = Pacer(Rate(30, 1), clock=clock, sleep=clock.sleep)
    platform = Platform(clock)

    async def one() -> None:
        async with pacer.calling():
            await platform.send(0.04, 0.04)

    await clock.run(*(one() for _ in range(91)))
    assert _max_in_window(platform.arrivals, 1.0) <= 30
    assert platform.departures[-1] - platform.departures[0] < 90 * pacer.interval + 0.001


async def test_a_call_in_flight_holds_the_window_until_answered_or_the_bound() -> None:
    clock = VirtualClock()
    rate = Rate(2, 0.2)
    pacer = Pacer(rate, clock=clock, sleep=clock.sleep)
    hung, answered = await clock.run(pacer.reserve(), pacer.reserve())
    clock.jump(0.01)
    pacer.answered(answered)
    [third] = await clock.run(_went_after(clock, pacer))
    assert third >= hung.went + ANSWER_BOUND  # never answered: taken to have arrived at the bound
    [slow] = await clock.run(pacer.reserve())
    clock.jump(0.5)
    pacer.answered(slow)  # answered late: it may have arrived just before its answer
    [fourth, fifth] = await clock.run(_went_after(clock, pacer), _went_after(clock, pacer))
    assert fifth >= slow.answered - 0.01 + rate.period  # its answer less the fastest round trip (0.01)
    assert fourth < fifth


async def _went_after(clock: VirtualClock, pacer: Pacer) -> float:
    call = await pacer.reserve()
    pacer.answered(call)
    return call.went


async def test_a_private_chat_counts_from_departure_not_from_its_own_turn() -> None:
    """The chat's turn comes, then the overall budget makes the message wait: the chat's next
    message is spaced from when the first one left, so the wait is not taken for latency."""
    clock = VirtualClock()
    telegram = TelegramLimits(clock=clock, sleep=clock.sleep, overall=Rate(1, 0.5), per_private_chat=Rate(1, 1))
    platform = Platform(clock)

    async def one(chat: int) -> None:
        async with telegram.sending(chat, Traffic.DELIVERY):
            await platform.send(0.001, 0.001)

    await clock.run(one(500_001), one(500_002), one(500_001), one(500_001))
    reader = [platform.arrivals[i] for i in (0, 2, 3)]
    assert min(b - a for a, b in itertools.pairwise(reader)) > 1.0


async def test_a_429_from_the_lean_sender_holds_that_chat_only() -> None:
    clock = VirtualClock()
    telegram = TelegramLimits(clock=clock, sleep=clock.sleep, overall=Rate(1000, 1))

    async def flood() -> None:
        raise RetryableError("Telegram: Too Many Requests: retry after 5", retry_after=5)

    with pytest.raises(RetryableError):
        await clock.run(paced(telegram, "@canal_esante", Traffic.PUBLICATION, flood))
    start = clock()
    other, flooded = await clock.run(_sent_at(clock, telegram, "@autre_canal"), _sent_at(clock, telegram, "@canal_esante"))
    assert other < start + 0.01
    assert flooded >= start + 5


async def test_429s_from_two_chats_hold_the_global_budget_for_its_retry_after() -> None:
    clock = VirtualClock()
    telegram = TelegramLimits(clock=clock, sleep=clock.sleep, overall=Rate(1000, 1))

    async def flood() -> None:
        raise RetryableError("Telegram: Too Many Requests: retry after 3", retry_after=3)

    for chat in ("@canal_esante", 424242):
        with pytest.raises(RetryableError):
            await clock.run(paced(telegram, chat, Traffic.PUBLICATION, flood))
    start = clock()
    [third] = await clock.run(_sent_at(clock, telegram, "@troisieme_canal"))
    assert start + 3 - 0.01 <= third < start + 3 + 0.1  # held for the retry_after, then at once


async def _sent_at(clock: VirtualClock, telegram: TelegramLimits, chat: str | int) -> float:
    async def record() -> float:
        return clock()

    return await paced(telegram, chat, Traffic.PUBLICATION, record)
