"""Rate limits and fault injection for the emulator, plus its movable clock.

Telegram's documented broadcasting limits (https://core.telegram.org/bots/faq#my-bot-is-hitting-limits-how-do-i-avoid-this
and https://core.telegram.org/bots/api#sendmessage ``allow_paid_broadcast``): about 1 message
per second in a private chat, 20 per minute in a group or channel, 30 per second overall,
up to 1000 per second overall with paid broadcasts. The emulator enforces them as exact
sliding windows so a client that stays under them never sees a 429, and one that does not
gets ``retry_after`` = whole seconds until its oldest counted message leaves the window.
"""

from __future__ import annotations

import math
import time
from collections import deque
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta


class SandboxClock:
    """Wall clock and monotonic clock that tests can move forward together, or freeze."""

    def __init__(self) -> None:
        self._offset = 0.0
        self._frozen: tuple[datetime, float] | None = None

    def now(self) -> datetime:
        base = self._frozen[0] if self._frozen else datetime.now(UTC)
        return base + timedelta(seconds=self._offset)

    def monotonic(self) -> float:
        return (self._frozen[1] if self._frozen else time.monotonic()) + self._offset

    def advance(self, delta: timedelta | float) -> None:
        self._offset += delta.total_seconds() if isinstance(delta, timedelta) else float(delta)

    def freeze(self) -> None:
        """Stop time where it is: only advance() moves it (rate-limit tests on slow machines)."""
        self._frozen = (datetime.now(UTC), time.monotonic())


@dataclass(frozen=True)
class RateLimits:
    """Limits per kind of chat; None = unlimited. Default: all off."""

    group_per_minute: int | None = None
    private_per_second: int | None = None
    overall_per_second: int | None = None
    paid_overall_per_second: int = 1000

    @classmethod
    def telegram(cls) -> RateLimits:
        return cls(group_per_minute=20, private_per_second=1, overall_per_second=30)


class _Window:
    def __init__(self, limit: int, period: float) -> None:
        self.limit, self.period = limit, period
        self.times: deque[float] = deque()

    def wait(self, now: float) -> float:
        while self.times and self.times[0] <= now - self.period:
            self.times.popleft()
        if len(self.times) < self.limit:
            return 0.0
        return self.times[0] + self.period - now


@dataclass
class RateLimiter:
    limits: RateLimits = field(default_factory=RateLimits)
    rejected: int = 0  # 429 answers given
    _chats: dict[int, _Window] = field(default_factory=dict)
    _overall: _Window | None = None
    _paid: _Window | None = None

    def _windows(self, chat_id: int, chat_type: str, paid: bool) -> list[_Window]:
        found = []
        per_chat = (self.limits.private_per_second, 1.0) if chat_type == "private" else (self.limits.group_per_minute, 60.0)
        if per_chat[0] is not None:
            if chat_id not in self._chats:
                self._chats[chat_id] = _Window(per_chat[0], per_chat[1])
            found.append(self._chats[chat_id])
        if paid:
            self._paid = self._paid or _Window(self.limits.paid_overall_per_second, 1.0)
            found.append(self._paid)
        elif self.limits.overall_per_second is not None:
            self._overall = self._overall or _Window(self.limits.overall_per_second, 1.0)
            found.append(self._overall)
        return found

    def check(self, chat_id: int, chat_type: str, paid: bool, now: float) -> int:
        """0 if one more message may go now, else the whole seconds to wait (a 429, counted)."""
        wait = max((w.wait(now) for w in self._windows(chat_id, chat_type, paid)), default=0.0)
        if wait > 0:
            self.rejected += 1
            return max(1, math.ceil(wait))
        return 0

    def record(self, chat_id: int, chat_type: str, paid: bool, now: float) -> None:
        """Count a message that was sent (refused requests do not use up the limits)."""
        for window in self._windows(chat_id, chat_type, paid):
            window.times.append(now)


@dataclass
class Fault:
    method: str | None  # lower-case Bot API method, None = every method
    times: int
    status: int | None = None
    description: str | None = None
    delay: float = 0.0
    after: bool = False  # delay the answer after the method ran (the message IS sent)


_REASONS = {500: "Internal Server Error", 502: "Bad Gateway", 503: "Service Unavailable", 504: "Gateway Timeout"}


@dataclass
class Faults:
    """Queued misbehaviours, consumed one request at a time in the order they were added."""

    pending: list[Fault] = field(default_factory=list)

    def fail(self, status: int = 500, *, method: str | None = None, times: int = 1,
             description: str | None = None) -> None:
        """Answer the next `times` calls (of `method`, or any) with this HTTP error."""
        text = description or _REASONS.get(status, "Internal Server Error")
        self.pending.append(Fault(method and method.lower(), times, status=status, description=text))

    def delay(self, seconds: float, *, method: str | None = None, times: int = 1, after: bool = False) -> None:
        """Hold the next `times` answers for `seconds` (longer than the client timeout = a timeout).

        With ``after=True`` the method runs first: the client times out although the message
        was sent, the case that makes at-most-once delivery impossible.
        """
        self.pending.append(Fault(method and method.lower(), times, delay=seconds, after=after))

    def take(self, method: str) -> Fault | None:
        for fault in self.pending:
            if fault.method in (None, method):
                fault.times -= 1
                if fault.times <= 0:
                    self.pending.remove(fault)
                return fault
        return None
