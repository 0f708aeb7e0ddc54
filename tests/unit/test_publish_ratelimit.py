"""Our limiters space calls so a window never holds more than the platform allows."""

from __future__ import annotations

import asyncio
import random
import time
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st
from telegram.error import RetryAfter

from bot.publish.outbox import RetryPolicy
from bot.publish.ratelimit import MastodonLimits, Pacer, Rate, TelegramLimits, is_private_chat

pytestmark = pytest.mark.filterwarnings("ignore::telegram.warnings.PTBDeprecationWarning")


async def _stamps(acquire, n: int) -> list[float]:
    loop = asyncio.get_running_loop()
    stamps = []
    for _ in range(n):
        await acquire()
        stamps.append(loop.time())
    return stamps


def _max_in_window(stamps: list[float], period: float) -> int:
    return max(sum(1 for s in stamps if start <= s < start + period) for start in stamps)


async def test_group_chats_get_their_own_budget_private_chats_a_tighter_one() -> None:
    limits = TelegramLimits(per_group=Rate(4, 0.2), per_private_chat=Rate(2, 0.2), overall=Rate(1000, 1))
    channel = await _stamps(lambda: limits.acquire("@canal_esante"), 9)
    private = await _stamps(lambda: limits.acquire(424242), 5)
    assert _max_in_window(channel, 0.2) <= 4
    assert _max_in_window(private, 0.2) <= 2
    # How close to the limit we run is measured in bench/publish_ratelimit.py, not asserted here.


async def test_the_overall_limit_spans_chats() -> None:
    limits = TelegramLimits(per_group=Rate(1000, 1), overall=Rate(5, 0.25))
    stamps = []
    loop = asyncio.get_running_loop()
    for i in range(10):
        await limits.acquire(f"@canal{i}")
        stamps.append(loop.time())
    assert _max_in_window(stamps, 0.25) <= 5


async def test_hold_after_a_429_pauses_everything() -> None:
    limits = TelegramLimits(overall=Rate(1000, 1))
    loop = asyncio.get_running_loop()
    limits.hold(0.15)
    start = loop.time()
    await limits.acquire("@canal")
    assert loop.time() - start >= 0.14


async def test_one_mastodon_limiter_per_token() -> None:
    limits = MastodonLimits(Rate(3, 0.3))
    assert limits.for_token("alice") is limits.for_token("alice")
    assert limits.for_token("alice") is not limits.for_token("bob")
    stamps = await _stamps(limits.for_token("alice").acquire, 6)
    assert _max_in_window(stamps, 0.3) <= 3


async def test_a_busy_event_loop_neither_slows_the_pace_nor_breaks_the_window() -> None:
    """Wake-ups made late by other work do not add up (they did with a capacity-one leaky bucket)."""
    rate = Rate(10, 0.1)
    pacer = Pacer(rate, margin=0.02, jitter=0.001)
    loop = asyncio.get_running_loop()
    done = asyncio.Event()

    async def busy_neighbour() -> None:
        while not done.is_set():
            time.sleep(0.004)  # holds the loop, as rendering or a database call would
            await asyncio.sleep(0)

    neighbour = asyncio.create_task(busy_neighbour())
    stamps = []
    try:
        for _ in range(41):
            await pacer.acquire()
            stamps.append(loop.time())
    finally:
        done.set()
        await neighbour
    # 40 intervals: 0.408 s. Restarting the interval at each late wake-up (a capacity-one leaky
    # bucket) took ≈ 0.8 s here; the window rule below may cost one late wake-up per period.
    assert stamps[-1] - stamps[0] < 40 * pacer.interval * 1.15
    # never count + 1 within one period plus the jitter allowance (less 1 µs: the stamp is read
    # just after acquire returns)
    assert all(later - earlier >= rate.period + 0.001 - 1e-6 for earlier, later in zip(stamps, stamps[10:], strict=False))


def test_private_chats() -> None:
    assert is_private_chat(424242) and is_private_chat("424242")
    assert not is_private_chat("@canal_esante") and not is_private_chat(-1001234567890)


@given(st.integers(min_value=1, max_value=40), st.integers(min_value=0, max_value=2**32))
def test_backoff_stays_within_half_and_full_ceiling(attempts, seed) -> None:
    policy = RetryPolicy(base=timedelta(seconds=30), cap=timedelta(hours=1))
    delay = policy.delay(attempts, random.Random(seed))
    ceiling = min(timedelta(hours=1), timedelta(seconds=30) * 2 ** (attempts - 1))
    assert ceiling / 2 <= delay <= ceiling


async def test_a_429_on_a_telegram_send_holds_every_chat_for_its_retry_after() -> None:
    from bot.publish.targets import Job, TelegramTarget
    from bot.store.models import Platform

    class Flooded:
        async def send(self, chat, render):
            raise RetryAfter(timedelta(seconds=0.2))

    limits = TelegramLimits(overall=Rate(1000, 1))
    job = Job(publication_id=1, post_id=1, channel="tg", platform=Platform.TELEGRAM, target="@canal_esante",
              attempts=1, idempotency_key="k", content_version=1, remote_id=None, sent_at=None,
              first_attempt_not_before=datetime.now(UTC))
    with pytest.raises(RetryAfter):
        await TelegramTarget(Flooded(), limits).send(job, None, datetime.now(UTC))
    loop = asyncio.get_running_loop()
    start = loop.time()
    await limits.acquire("@autre_canal")  # another chat: the hold is bot-wide, as Telegram's is
    assert loop.time() - start >= 0.15
