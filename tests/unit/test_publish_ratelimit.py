"""Our limiters space calls so a window never holds more than the platform allows.

Every test runs in virtual time (tests/virtual_time.py): the pacers take the clock and the
sleep function, so nothing here waits for real or depends on the machine's speed.
"""

from __future__ import annotations

import bisect
import random
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st
from telegram.error import RetryAfter

from bot.publish.outbox import RetryPolicy
from bot.publish.ratelimit import CATCH_UP, MastodonLimits, Pacer, Rate, TelegramLimits, Traffic, is_private_chat
from tests.virtual_time import VirtualClock

pytestmark = pytest.mark.filterwarnings("ignore::telegram.warnings.PTBDeprecationWarning")


@pytest.fixture
def clock() -> VirtualClock:
    return VirtualClock()


def limits(clock: VirtualClock, **kwargs) -> TelegramLimits:
    return TelegramLimits(clock=clock, sleep=clock.sleep, **kwargs)


async def _stamps(clock: VirtualClock, acquire, n: int) -> list[float]:
    stamps = []
    for _ in range(n):
        await acquire()
        stamps.append(clock())
    return stamps


def _max_in_window(stamps: list[float], period: float) -> int:
    """The most calls in any window [t, t + period) (stamps sorted)."""
    return max(bisect.bisect_left(stamps, start + period) - i for i, start in enumerate(stamps))


async def test_group_chats_get_their_own_budget_private_chats_a_tighter_one(clock) -> None:
    telegram = limits(clock, per_group=Rate(4, 0.2), per_private_chat=Rate(2, 0.2), overall=Rate(1000, 1))
    channel, private = await clock.run(_stamps(clock, lambda: telegram.acquire("@canal_esante"), 9),
                                       _stamps(clock, lambda: telegram.acquire(424242), 5))
    assert _max_in_window(channel, 0.2) <= 4
    assert _max_in_window(private, 0.2) <= 2
    # and no slower than the window allows: 4 calls per period plus the arrival jitter
    assert channel[-1] - channel[0] < 2 * (0.2 + 0.04) + 0.01


async def test_the_overall_limit_spans_chats(clock) -> None:
    telegram = limits(clock, per_group=Rate(1000, 1), overall=Rate(5, 0.25))

    async def one(chat: str) -> float:
        await telegram.acquire(chat)
        return clock()

    stamps = await clock.run(*(one(f"@canal{i}") for i in range(10)))
    assert _max_in_window(sorted(stamps), 0.25) <= 5


async def test_a_429_in_one_chat_pauses_that_chat_only(clock) -> None:
    telegram = limits(clock, overall=Rate(1000, 1))

    async def after(chat: str) -> float:
        await telegram.acquire(chat)
        return clock()

    start = clock()
    telegram.flooded("@canal", 0.15)
    other, flooded = await clock.run(after("@autre_canal"), after("@canal"))
    assert other == start and flooded >= start + 0.15


async def test_429s_in_two_chats_are_a_global_flood_and_pause_everything(clock) -> None:
    telegram = limits(clock, overall=Rate(1000, 1))
    start = clock()
    telegram.flooded("@canal", 0.15)
    telegram.flooded(424242, 0.3)
    [third] = await clock.run(telegram.acquire("@troisieme"))
    assert third is None and clock() >= start + 0.3


async def test_one_mastodon_limiter_per_token(clock) -> None:
    mastodon = MastodonLimits(Rate(3, 0.3), clock=clock, sleep=clock.sleep)
    assert mastodon.for_token("alice") is mastodon.for_token("alice")
    assert mastodon.for_token("alice") is not mastodon.for_token("bob")
    [stamps] = await clock.run(_stamps(clock, mastodon.for_token("alice").acquire, 6))
    assert _max_in_window(stamps, 0.3) <= 3


async def test_late_wake_ups_neither_slow_the_pace_nor_break_the_window(clock) -> None:
    """Wake-ups made late by other work do not add up (they did with a capacity-one leaky bucket)."""
    rate = Rate(10, 0.1)
    pacer = Pacer(rate, margin=0.02, jitter=0.001, clock=clock, sleep=clock.sleep)
    rng = random.Random(7)
    clock.lateness = lambda: rng.uniform(0, 0.004)  # the loop is held, as rendering or a database call would
    [stamps] = await clock.run(_stamps(clock, pacer.acquire, 41))
    # 40 intervals: 0.408 s; restarting the interval at each late wake-up took ≈ 0.49 s here
    assert stamps[-1] - stamps[0] < 40 * pacer.interval * 1.1
    assert all(later - earlier >= rate.period + 0.001 for earlier, later in zip(stamps, stamps[10:], strict=False))


async def test_a_descheduled_process_does_not_catch_up_in_a_burst(clock) -> None:
    pacer = Pacer(Rate(30, 1), clock=clock, sleep=clock.sleep)

    async def one() -> float:
        await pacer.acquire()
        return clock()

    async def stall() -> None:
        await clock.sleep(0.2)
        clock.jump(0.5)  # the process is stopped for half a second with sends booked

    *stamps, _ = await clock.run(*(one() for _ in range(30)), stall())
    gaps = [b - a for a, b in zip(sorted(stamps), sorted(stamps)[1:], strict=False)]
    assert min(gaps) >= pacer.interval * (1 - CATCH_UP) - 1e-9
    assert _max_in_window(sorted(stamps), 1.0) <= 30


def _recorder(clock: VirtualClock, telegram: TelegramLimits):
    """``send(chat, traffic, at)``: wait until ``at``, take the turn; ``sent``: when each kind went."""
    sent: dict[str, list[float]] = {"delivery": [], "publication": []}

    async def send(chat: str | int, traffic: Traffic, at: float) -> None:
        await clock.sleep(at)
        await telegram.acquire(chat, traffic)
        sent[traffic.value].append(clock())

    return send, sent


async def test_deliveries_never_starve_channel_publications(clock) -> None:
    """A fan-out to 300 readers is under way; channel posts still go out within their reserved share."""
    telegram = limits(clock, overall=Rate(30, 1), publication_reserve=0.2)
    send, sent = _recorder(clock, telegram)
    start = clock()
    readers = [send(600_000 + n, Traffic.DELIVERY, 0) for n in range(300)]
    posts = [send(f"@canal{n}", Traffic.PUBLICATION, 5.0) for n in range(10)]
    await clock.run(*readers, *posts)
    # 10 posts on the 6/s left to publications take 10/6 s at worst; queued behind 300
    # deliveries on one budget they took more than 5 s
    assert max(sent["publication"]) - (start + 5.0) < 10 / 6 + 0.1
    everything = sorted(sent["delivery"] + sent["publication"])
    assert _max_in_window(everything, 1.0) <= 30
    assert len(sent["delivery"]) == 300


async def test_paid_broadcast_raises_the_overall_ceiling(clock) -> None:
    telegram = limits(clock, allow_paid_broadcast=True)

    async def one(reader: int) -> float:
        await telegram.acquire(reader, Traffic.DELIVERY)
        return clock()

    stamps = await clock.run(*(one(700_000 + n) for n in range(1200)))
    per_second = _max_in_window(sorted(stamps), 1.0)
    assert 30 < per_second <= 1000  # well past the free 30/s; no publication: the whole paid ceiling


async def test_a_fan_out_in_a_quiet_hour_uses_the_whole_budget(clock) -> None:
    """No channel post for a while: deliveries are not held to their share for posts that are not coming."""
    telegram = limits(clock, overall=Rate(30, 1), publication_reserve=0.2, publications_quiet=10)

    async def one(reader: int) -> float:
        await telegram.acquire(reader, Traffic.DELIVERY)
        return clock()

    stamps = sorted(await clock.run(*(one(610_000 + n) for n in range(300))))
    assert stamps[-1] - stamps[0] < 300 / 30 * 1.05  # 300 at the overall 30/s, not the share's 24/s
    assert _max_in_window(stamps, 1.0) <= 30


async def test_while_publications_go_out_deliveries_keep_to_their_share(clock) -> None:
    telegram = limits(clock, overall=Rate(30, 1), publication_reserve=0.2, publications_quiet=10)
    send, sent = _recorder(clock, telegram)
    start = clock()
    posts = [send(f"@canal{n}", Traffic.PUBLICATION, n * 0.5) for n in range(40)]  # one every 0.5 s for 20 s
    readers = [send(620_000 + n, Traffic.DELIVERY, 1.0 + n / 1000) for n in range(600)]  # booked once posts flow
    await clock.run(*posts, *readers)
    deliveries = sorted(sent["delivery"])
    assert _max_in_window([t for t in deliveries if t < start + 20], 1.0) <= 24  # the share, while posts go out
    assert _max_in_window(sorted(deliveries + sent["publication"]), 1.0) <= 30
    assert max(b - a for a, b in zip(sorted(sent["publication"]), sorted(sent["publication"])[1:], strict=False)) < 1


async def test_idle_per_chat_pacers_are_evicted(clock) -> None:
    telegram = limits(clock, overall=Rate(100_000, 1), evict_every=60)
    await clock.run(*(telegram.acquire(800_000 + n, Traffic.DELIVERY) for n in range(1000)))
    assert telegram.chats_tracked == 1000
    await clock.run(telegram.acquire("@canal_esante"))  # a minute has not passed: nothing evicted yet
    assert telegram.chats_tracked == 1001
    telegram.flooded(800_000, 300)  # a held chat is not idle
    clock.jump(30)
    await clock.run(telegram.acquire("@canal_esante"))  # 20 per minute: its last minute still counts
    clock.jump(31)
    await clock.run(telegram.acquire(900_000, Traffic.DELIVERY))
    assert telegram.chats_tracked == 3  # the held reader, the channel and the new reader
    clock.jump(61)
    await clock.run(telegram.acquire(900_001, Traffic.DELIVERY))
    assert telegram.chats_tracked == 2  # the held reader (still held) and the new one


def test_private_chats() -> None:
    assert is_private_chat(424242) and is_private_chat("424242")
    assert not is_private_chat("@canal_esante") and not is_private_chat(-1001234567890)


@given(st.integers(min_value=1, max_value=40), st.integers(min_value=0, max_value=2**32))
def test_backoff_stays_within_half_and_full_ceiling(attempts, seed) -> None:
    policy = RetryPolicy(base=timedelta(seconds=30), cap=timedelta(hours=1))
    delay = policy.delay(attempts, random.Random(seed))
    ceiling = min(timedelta(hours=1), timedelta(seconds=30) * 2 ** (attempts - 1))
    assert ceiling / 2 <= delay <= ceiling


async def test_a_429_on_a_telegram_send_holds_the_chat_for_its_retry_after(clock) -> None:
    from bot.format.model import TelegramRender
    from bot.publish.targets import Job, TelegramTarget
    from bot.store.models import Platform

    class Flooded:
        async def send(self, chat, render):
            raise RetryAfter(timedelta(seconds=0.2))

    telegram = limits(clock, overall=Rate(1000, 1))
    job = Job(publication_id=1, post_id=1, channel="tg", platform=Platform.TELEGRAM, target="@canal_esante",
              attempts=1, idempotency_key="k", content_version=1, remote_id=None, sent_at=None,
              first_attempt_not_before=datetime.now(UTC))
    with pytest.raises(RetryAfter):
        await TelegramTarget(Flooded(), telegram).send(job, TelegramRender("Un #test"), datetime.now(UTC))
    start = clock()
    await clock.run(telegram.acquire("@autre_canal"))
    assert clock() < start + 0.01  # another chat goes at once
    await clock.run(telegram.acquire("@canal_esante"))
    assert clock() >= start + 0.2
