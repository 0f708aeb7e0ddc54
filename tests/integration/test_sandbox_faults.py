"""Rate limits and injected faults surface in python-telegram-bot as the real ones do."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest
import telegram
from telegram.error import BadRequest, NetworkError, RetryAfter, TimedOut

from bot.sandbox import RateLimits, TelegramSandbox
from tests.conftest import CHANNEL

# PTB 22 warns that RetryAfter.retry_after becomes a timedelta in v23; read it either way.
pytestmark = pytest.mark.filterwarnings("ignore::telegram.warnings.PTBDeprecationWarning")


def seconds(error: RetryAfter) -> float:
    value = error.retry_after
    return value.total_seconds() if isinstance(value, timedelta) else float(value)


@pytest.fixture(autouse=True)
def telegram_limits(sandbox: TelegramSandbox) -> None:
    sandbox.limits = RateLimits.telegram()
    sandbox.clock.freeze()  # windows move only with clock.advance(): no flakiness on a slow machine


async def test_limits_are_off_by_default() -> None:
    async with TelegramSandbox() as sandbox:
        sandbox.add_channel(CHANNEL)
        async with telegram.Bot(sandbox.token, base_url=sandbox.base_url) as bot:
            for number in range(40):
                await bot.send_message(CHANNEL, f"Article {number}")
        assert sandbox.rejected_429 == 0 and len(sandbox.messages(CHANNEL)) == 40


async def test_channel_limit_20_per_minute_gives_retry_after(sandbox: TelegramSandbox, bot: telegram.Bot) -> None:
    with pytest.raises(BadRequest):  # refused messages do not use up the limit
        await bot.send_message(CHANNEL, "<p>mal formé</p>", parse_mode="HTML")
    for number in range(20):
        await bot.send_message(CHANNEL, f"Article {number}")
    sandbox.clock.advance(15)
    with pytest.raises(RetryAfter) as caught:
        await bot.send_message(CHANNEL, "Article de trop")
    # the oldest of the 20 leaves the one-minute window 45 s from now
    assert seconds(caught.value) == 45
    assert sandbox.rejected_429 == 1 and len(sandbox.messages(CHANNEL)) == 20
    sandbox.clock.advance(45)
    await bot.send_message(CHANNEL, "Article 21")
    assert len(sandbox.messages(CHANNEL)) == 21


async def test_private_chat_one_per_second(sandbox: TelegramSandbox, bot: telegram.Bot) -> None:
    sandbox.add_user(1001, "Camille")
    await bot.send_message(1001, "Nouveau : #IA")
    with pytest.raises(RetryAfter) as caught:
        await bot.send_message(1001, "Encore un")
    assert seconds(caught.value) == 1
    sandbox.clock.advance(1)
    await bot.send_message(1001, "Encore un")


async def test_overall_30_per_second_and_paid_broadcast(sandbox: TelegramSandbox, bot: telegram.Bot) -> None:
    users = [sandbox.add_user(2000 + n, f"Lecteur {n}").id for n in range(40)]
    answers = await asyncio.gather(*(bot.send_message(u, "Nouvel article #santémentale") for u in users),
                                   return_exceptions=True)
    refused = [a for a in answers if isinstance(a, RetryAfter)]
    assert len(refused) == 10 and sandbox.rejected_429 == 10
    assert all(seconds(a) == 1 for a in refused)
    # in the same second, paid broadcasts are counted against 1000/s instead of 30/s
    others = [sandbox.add_user(3000 + n, f"Abonné {n}").id for n in range(40)]
    await asyncio.gather(*(bot.send_message(u, "Payant", allow_paid_broadcast=True) for u in others))
    assert sandbox.rejected_429 == 10 and len(sandbox.messages()) == 70


async def test_injected_5xx_surface_as_network_errors(sandbox: TelegramSandbox, bot: telegram.Bot) -> None:
    sandbox.faults.fail(502, method="sendMessage", times=2)
    for _ in range(2):
        with pytest.raises(NetworkError, match="Bad Gateway") as caught:
            await bot.send_message(CHANNEL, "Article")
        assert not isinstance(caught.value, TimedOut)
    await bot.get_me()  # other methods are not affected
    await bot.send_message(CHANNEL, "Article")
    assert len(sandbox.messages(CHANNEL)) == 1
    sandbox.faults.fail(500)  # any method
    with pytest.raises(NetworkError, match="Internal Server Error"):
        await bot.get_me()


async def test_delays_longer_than_the_client_timeout_are_timeouts(sandbox: TelegramSandbox, bot: telegram.Bot) -> None:
    sandbox.faults.delay(0.4, method="sendMessage")
    with pytest.raises(TimedOut):
        await bot.send_message(CHANNEL, "Jamais arrivé")
    # delayed before running: nothing was sent
    await asyncio.sleep(0.3)
    assert sandbox.messages(CHANNEL) == []
    sandbox.faults.delay(0.4, method="sendMessage", after=True)
    with pytest.raises(TimedOut):
        await bot.send_message(CHANNEL, "Arrivé quand même")
    # delayed after running: the client saw a timeout but the message is in the channel
    assert [m.text for m in sandbox.messages(CHANNEL)] == ["Arrivé quand même"]
