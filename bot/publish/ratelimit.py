"""Rate limits kept on our side, so the platforms never have to answer 429.

Telegram (https://core.telegram.org/bots/faq#my-bot-is-hitting-limits-how-do-i-avoid-this):
20 messages per minute per group or channel, about 1 per second per private chat, about 30
per second overall — or up to 1000 per second with ``allow_paid_broadcast`` (paid, opt-in).
Mastodon (https://docs.joinmastodon.org/api/rate-limits/): 300 requests per 5 minutes per
access token.

Each limit is a ``Pacer`` that lets a call through every ``period / count`` seconds (plus a
small margin): no bursts, so however the platform counts — fixed window, sliding window or
token bucket — ``count`` calls never land in one ``period``. Callers *wait*; nothing fails
here. Pacers belong to one event loop: build them in the composition root once the loop runs.
"""

from __future__ import annotations

import asyncio
import hashlib
import time
from collections import deque
from dataclasses import dataclass

SAFETY_MARGIN = 0.02  # 2 % slower than the published figure: clocks and windows differ a little
# A request can reach the platform this much later than one sent after it (event loop, GC,
# loopback or network): with 50 sends in flight, 20 ms was not enough for 30/s (12 × 429 in
# 1200 messages, bench/publish_limits.py). Seconds, whatever the period.
ARRIVAL_JITTER = 0.04


@dataclass(frozen=True, slots=True)
class Rate:
    count: int
    period: float  # seconds

    def limiter(self, margin: float = SAFETY_MARGIN) -> Pacer:
        return Pacer(self, margin)


class Pacer:
    """One call every ``period / count · (1 + margin)`` seconds, and never ``count + 1`` in a ``period``.

    Each caller books the next instant of a fixed grid, ``max(previous + interval, now)``, and
    sleeps until then (GCRA's virtual scheduling), so a late wake-up does not push the grid
    back. A leaky bucket of capacity one (aiolimiter's ``AsyncLimiter(1, interval)``, used
    before) restarts the interval from the moment the caller actually resumes: every
    event-loop delay was lost for good, 3–5 % of the rate with a busy worker, under the 0.95
    target (bench/publish_limits.py). The grid alone could bring two calls closer by their
    wake-up jitter, so the times calls really went are kept too: call ``count + 1`` waits
    until call 1 is ``period + jitter`` old, so the platform's window holds even when calls
    arrive there up to ``jitter`` seconds out of step.
    A caller cancelled while it waits leaves its instant unused: a gap, never a burst.
    """

    def __init__(self, rate: Rate, margin: float = SAFETY_MARGIN, jitter: float = ARRIVAL_JITTER) -> None:
        self.rate, self.jitter = rate, jitter
        self.interval = rate.period / rate.count * (1 + margin)
        self._next = float("-inf")  # loop time of the next free instant on the grid
        self._went: deque[float] = deque(maxlen=rate.count)  # loop times of the last `count` calls

    async def acquire(self) -> None:
        loop = asyncio.get_running_loop()
        now = loop.time()
        slot = max(self._next, now)
        self._next = slot + self.interval
        while True:
            wait = slot - now
            if len(self._went) == self.rate.count:
                wait = max(wait, self._went[0] + self.rate.period + self.jitter - now)
            if wait <= 0:
                break
            await asyncio.sleep(wait)
            now = loop.time()
        self._went.append(now)


TELEGRAM_PER_GROUP = Rate(20, 60)
TELEGRAM_PER_PRIVATE_CHAT = Rate(1, 1)
TELEGRAM_OVERALL = Rate(30, 1)
TELEGRAM_PAID_OVERALL = Rate(1000, 1)
MASTODON_PER_TOKEN = Rate(300, 300)


def is_private_chat(chat: str | int) -> bool:
    """Positive numeric ids are users; ``@name`` and negative ids are groups or channels."""
    try:
        return int(chat) > 0
    except (TypeError, ValueError):
        return False


class TelegramLimits:
    """Per-chat and overall Telegram limits; ``await acquire(chat)`` before each message."""

    def __init__(self, *, allow_paid_broadcast: bool = False, per_group: Rate = TELEGRAM_PER_GROUP,
                 per_private_chat: Rate = TELEGRAM_PER_PRIVATE_CHAT, overall: Rate | None = None,
                 margin: float = SAFETY_MARGIN) -> None:
        self.allow_paid_broadcast = allow_paid_broadcast
        self._per_group, self._per_private, self._margin = per_group, per_private_chat, margin
        overall = overall or (TELEGRAM_PAID_OVERALL if allow_paid_broadcast else TELEGRAM_OVERALL)
        self._overall = overall.limiter(margin)
        self._chats: dict[str, Pacer] = {}
        self._resume_at = 0.0  # monotonic time before which nothing goes (after a RetryAfter)

    def _chat_limiter(self, chat: str | int) -> Pacer:
        key = str(chat)
        limiter = self._chats.get(key)
        if limiter is None:
            rate = self._per_private if is_private_chat(chat) else self._per_group
            limiter = self._chats[key] = rate.limiter(self._margin)
        return limiter

    async def acquire(self, chat: str | int) -> None:
        # The per-chat wait comes first so a busy channel never holds an overall slot it cannot use.
        await self._chat_limiter(chat).acquire()
        await self._overall.acquire()
        delay = self._resume_at - time.monotonic()
        if delay > 0:
            await asyncio.sleep(delay)

    def hold(self, seconds: float) -> None:
        """Telegram answered 429 anyway: let nothing through for ``seconds``."""
        self._resume_at = max(self._resume_at, time.monotonic() + seconds)


class MastodonLimits:
    """One 300-per-5-minutes limiter per access token, shared by every account using it."""

    def __init__(self, rate: Rate = MASTODON_PER_TOKEN, margin: float = SAFETY_MARGIN) -> None:
        self._rate, self._margin = rate, margin
        self._tokens: dict[str, Pacer] = {}

    def for_token(self, token: str) -> Pacer:
        key = hashlib.sha256(token.encode()).hexdigest()  # never keep the token itself around
        if key not in self._tokens:
            self._tokens[key] = self._rate.limiter(self._margin)
        return self._tokens[key]
