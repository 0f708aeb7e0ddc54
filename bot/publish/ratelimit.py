"""Rate limits kept on our side, so the platforms never have to answer 429.

Telegram (https://core.telegram.org/bots/faq#my-bot-is-hitting-limits-how-do-i-avoid-this):
20 messages per minute per group or channel, about 1 per second per private chat, about 30
per second overall — or up to 1000 per second with ``allow_paid_broadcast`` (paid, opt-in).
Mastodon (https://docs.joinmastodon.org/api/rate-limits/): 300 requests per 5 minutes per
access token.

Each limit is an aiolimiter ``AsyncLimiter`` of capacity one that lets a call through every
``period / count`` seconds (plus a small margin): no bursts, so however the platform counts —
fixed window, sliding window or token bucket — ``count`` calls never land in one ``period``.
Callers *wait*; nothing fails here. Limiters belong to one event loop: build them in the
composition root once the loop runs.
"""

from __future__ import annotations

import asyncio
import hashlib
import time
from dataclasses import dataclass
from typing import Any

from aiolimiter import AsyncLimiter
from telegram.error import RetryAfter
from telegram.ext import BaseRateLimiter

SAFETY_MARGIN = 0.02  # 2 % slower than the published figure: clocks and windows differ a little


@dataclass(frozen=True, slots=True)
class Rate:
    count: int
    period: float  # seconds

    def limiter(self, margin: float = SAFETY_MARGIN) -> AsyncLimiter:
        return AsyncLimiter(1, self.period / self.count * (1 + margin))


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
        self._chats: dict[str, AsyncLimiter] = {}
        self._resume_at = 0.0  # monotonic time before which nothing goes (after a RetryAfter)

    def _chat_limiter(self, chat: str | int) -> AsyncLimiter:
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


class TelegramRateLimiter(BaseRateLimiter[int]):
    """The same limits for every Bot API call of an ``Application``/``ExtBot`` (handlers too).

    Unlike PTB's ``AIORateLimiter`` it also spaces private chats at one message per second.
    A RetryAfter is not retried here (the outbox owns retries); it holds every call for the
    time Telegram asked and propagates.
    """

    def __init__(self, limits: TelegramLimits) -> None:
        self.limits = limits

    async def initialize(self) -> None:
        """Nothing to open."""

    async def shutdown(self) -> None:
        """Nothing to close."""

    async def process_request(self, callback: Any, args: Any, kwargs: dict[str, Any], endpoint: str,
                              data: dict[str, Any], rate_limit_args: int | None) -> Any:
        chat = data.get("chat_id")
        if chat is not None:
            await self.limits.acquire(chat)
        try:
            return await callback(*args, **kwargs)
        except RetryAfter as exc:
            self.limits.hold(exc._retry_after.total_seconds())  # noqa: SLF001 - int-or-timedelta shim
            raise


class MastodonLimits:
    """One 300-per-5-minutes limiter per access token, shared by every account using it."""

    def __init__(self, rate: Rate = MASTODON_PER_TOKEN, margin: float = SAFETY_MARGIN) -> None:
        self._rate, self._margin = rate, margin
        self._tokens: dict[str, AsyncLimiter] = {}

    def for_token(self, token: str) -> AsyncLimiter:
        key = hashlib.sha256(token.encode()).hexdigest()  # never keep the token itself around
        if key not in self._tokens:
            self._tokens[key] = self._rate.limiter(self._margin)
        return self._tokens[key]
