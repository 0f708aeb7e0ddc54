"""Rate limits kept on our side, so the platforms never have to answer 429.

Telegram (https://core.telegram.org/bots/faq#my-bot-is-hitting-limits-how-do-i-avoid-this):
20 messages per minute per group or channel, about 1 per second per private chat, about 30
per second overall — or up to 1000 per second with ``allow_paid_broadcast`` (paid, opt-in).
Mastodon (https://docs.joinmastodon.org/api/rate-limits/): 300 requests per 5 minutes per
access token.

Each limit is a ``Pacer`` that lets a call through every ``period / count`` seconds (plus a
small margin): no bursts, so however the platform counts — fixed window, sliding window or
token bucket — ``count`` calls never land in one ``period``. Callers *wait*; nothing fails
here. Pacers read an injected clock and sleep through an injected function (the event
loop's by default), so tests drive them in virtual time. Pacers belong to one event loop:
build them in the composition root once the loop runs.
"""

from __future__ import annotations

import asyncio
import contextlib
import enum
import hashlib
from collections import deque
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass

SAFETY_MARGIN = 0.02  # 2 % slower than the published figure: clocks and windows differ a little
# A call whose answer nobody reports (``Pacer.acquire``) is taken to reach the platform within
# this many seconds of leaving: with 50 sends in flight, 20 ms was not enough for 30/s (12 × 429
# in 1200 messages, bench/publish_limits.py). Seconds, whatever the period.
ARRIVAL_JITTER = 0.04
# A call whose answer is reported (``Pacer.calling``) reached the platform before its answer
# left it: its answer less the fastest round trip seen, plus this slack for the two legs of
# that fastest round trip not being each the fastest (issue 12 item 3).
ANSWER_SLACK = 0.005
# A call still unanswered this long after it left is taken to have reached the platform by
# then: one hung request must not hold every later call for its whole timeout. The cost: a
# process stopped for longer than this while a send was in flight may draw one 429.
ANSWER_BOUND = 5.0
# A call may follow the previous one after this share of the interval, not less: a process
# that lost time (descheduled, late wake-ups) makes it up at twice the pace at most, within
# the window rule, never in a burst. At 0.1 the late wake-ups of a CPU-starved process ate the
# whole catch-up and every stall was lost for good (0.75–0.91 of the limit with a busy loop).
CATCH_UP = 0.5

Clock = Callable[[], float]  # seconds, monotonic
Sleep = Callable[[float], Awaitable[None]]


def loop_time() -> float:
    return asyncio.get_running_loop().time()


@dataclass(frozen=True, slots=True)
class Rate:
    count: int
    period: float  # seconds

    def limiter(self, margin: float = SAFETY_MARGIN, *, clock: Clock = loop_time,
                sleep: Sleep = asyncio.sleep) -> Pacer:
        return Pacer(self, margin, clock=clock, sleep=sleep)

    def share(self, fraction: float) -> Rate:
        """The same period with ``fraction`` of the count (at least one call)."""
        return Rate(max(1, round(self.count * fraction)), self.period)


@dataclass(slots=True)
class Call:
    """One call let through: when it left, and when its answer came (None while in flight)."""

    went: float
    answered: float | None = None
    reported: bool = True  # False: nobody will say when it was answered (``Pacer.acquire``)


class Pacer:
    """One call every ``period / count · (1 + margin)`` seconds, and never ``count + 1`` in a ``period``.

    Each caller books the next instant of a grid, ``max(previous + interval, now)``, and sleeps
    until then (GCRA's virtual scheduling), so a slightly late wake-up does not push the grid
    back (a capacity-one leaky bucket lost every event-loop delay for good: 3–5 % of the rate
    with a busy worker, bench/publish_limits.py). But the grid alone lets a process that was
    descheduled for a while catch up in a burst: every booked instant has passed when it
    resumes. So the times calls *actually* went rule too: a call waits until the previous one
    is ``interval · (1 − CATCH_UP)`` old.

    The platform counts calls when they *arrive*, and a call can arrive late: the first one
    opens the connection, a descheduled process writes it late, a busy server reads it late.
    So call ``count + 1`` waits until call 1 is surely in the platform's past: ``period`` after
    the latest instant call 1 can have arrived — its answer less the fastest round trip seen
    (``calling`` reports answers), or ``jitter`` after it left when nobody reports its answer
    (``acquire``). A call still in flight holds that wait, up to ``ANSWER_BOUND``.
    ``hold`` stops the pacer for a while (a 429 named it). A caller cancelled while it waits
    leaves its instant unused: a gap, never a burst.
    """

    def __init__(self, rate: Rate, margin: float = SAFETY_MARGIN, jitter: float = ARRIVAL_JITTER, *,
                 clock: Clock = loop_time, sleep: Sleep = asyncio.sleep, slack: float = ANSWER_SLACK,
                 bound: float = ANSWER_BOUND) -> None:
        self.rate, self.jitter, self.slack, self.bound = rate, jitter, slack, bound
        self.interval = rate.period / rate.count * (1 + margin)
        self._clock, self._sleep = clock, sleep
        self._next = float("-inf")  # the next free instant on the grid
        self._went: deque[Call] = deque()  # the last `count` calls, oldest first
        self._spilled = float("-inf")  # the latest arrival among calls older than those
        self._fastest = float("inf")  # the fastest round trip reported
        self._resume_at = float("-inf")  # nothing goes before this (a 429 named this pacer)
        self._waiting = 0

    def arrived_by(self, call: Call) -> float | None:
        """The latest instant ``call`` can have reached the platform; None while that is unknown."""
        if not call.reported:
            return call.went + self.jitter
        if call.answered is None:
            return None if self._clock() < call.went + self.bound else call.went + self.bound + self.slack
        answer = min(call.answered, call.went + self.bound)
        fastest = self._fastest if self._fastest != float("inf") else 0.0
        return max(call.went, answer - fastest) + self.slack

    def _window_opens(self) -> float | None:
        """When call ``count + 1`` may go: a period after the oldest counted call surely arrived."""
        arrived = self.arrived_by(self._went[0])
        return None if arrived is None else max(arrived, self._spilled) + self.rate.period

    def _earliest(self, slot: float) -> float | None:
        """The earliest instant a call booked at ``slot`` may go; None while a call in flight decides."""
        earliest = max(slot, self._resume_at)
        if self._went:
            earliest = max(earliest, self._went[-1].went + self.interval * (1 - CATCH_UP))
            if len(self._went) == self.rate.count:
                opens = self._window_opens()
                if opens is None:
                    return None
                earliest = max(earliest, opens)
        return earliest

    async def _book(self, reported: bool) -> Call:
        now = self._clock()
        slot = max(self._next, now)
        self._next = slot + self.interval
        self._waiting += 1
        try:
            while True:
                earliest = self._earliest(slot)
                wait = self.interval if earliest is None else earliest - now  # in flight: look again
                if wait <= 0:
                    break
                await self._sleep(wait)
                now = self._clock()
        finally:
            self._waiting -= 1
        return self._went_now(Call(now, reported=reported))

    def _went_now(self, call: Call) -> Call:
        if len(self._went) == self.rate.count:
            oldest = self._went.popleft()  # surely arrived: the window rule waited for it
            self._spilled = max(self._spilled, self.arrived_by(oldest) or oldest.went + self.bound)
        self._went.append(call)
        return call

    async def acquire(self) -> None:
        """Wait for this call's turn; the call is taken to arrive within ``jitter`` of now."""
        await self._book(reported=False)

    async def reserve(self) -> Call:
        """Wait for this call's turn; the caller must report ``answered(call)`` when the answer came."""
        return await self._book(reported=True)

    @contextlib.asynccontextmanager
    async def calling(self) -> AsyncIterator[Call]:
        """Wait for this call's turn, then make the call in the block: its answer is timed on exit."""
        call = await self.reserve()
        try:
            yield call
        finally:
            self.answered(call)

    def answered(self, call: Call) -> None:
        """The platform answered ``call`` now (or gave up on it: it may still have arrived)."""
        call.answered = self._clock()
        self._fastest = min(self._fastest, call.answered - call.went)

    def hold(self, seconds: float) -> None:
        """Let nothing through for ``seconds`` (the platform answered 429 with this retry_after)."""
        self._resume_at = max(self._resume_at, self._clock() + seconds)

    def held(self, now: float) -> bool:
        return self._resume_at > now

    def idle(self, now: float) -> bool:
        """True when a fresh pacer would behave the same: nobody waits, nothing recent counts."""
        if self._waiting or self._next > now or self.held(now):
            return False
        arrivals = [self.arrived_by(call) for call in self._went]
        return all(arrived is not None and arrived + self.rate.period <= now for arrived in arrivals)


TELEGRAM_PER_GROUP = Rate(20, 60)
TELEGRAM_PER_PRIVATE_CHAT = Rate(1, 1)
TELEGRAM_OVERALL = Rate(30, 1)
TELEGRAM_PAID_OVERALL = Rate(1000, 1)
MASTODON_PER_TOKEN = Rate(300, 300)
# Share of the overall budget only channel publications may use: reader notifications get
# the rest, so a fan-out to 100,000 readers never holds back a channel post.
PUBLICATION_RESERVE = 0.2
# Seconds without a publication after which deliveries may use the reserve too.
PUBLICATIONS_QUIET = 10.0
# Idle per-chat pacers are dropped this often (seconds), so memory follows the chats active
# in the last minute or so, not every reader ever notified.
EVICT_EVERY = 60.0


class Traffic(enum.StrEnum):
    """Who a message is for: each kind has its own share of the overall budget."""

    PUBLICATION = "publication"  # a channel or group post
    DELIVERY = "delivery"  # a notification to one reader's private chat


def is_private_chat(chat: str | int) -> bool:
    """Positive numeric ids are users; ``@name`` and negative ids are groups or channels."""
    try:
        return int(chat) > 0
    except (TypeError, ValueError):
        return False


class TelegramLimits:
    """Per-chat and overall Telegram limits; ``await acquire(chat, traffic)`` before each message.

    Publications draw on the overall budget alone; deliveries first on their own share of it
    (``1 − publication_reserve``), so the overall pacer never books deliveries faster than
    that and a publication always finds a free instant soon. The reserve is kept only while
    publications go out: when none went for ``publications_quiet`` seconds, deliveries draw on
    a pacer at the whole overall rate (a fan-out in a quiet hour is not held to 0.8 of the
    limit for channel posts that are not coming). A publication arriving then waits behind at
    most the deliveries that pacer let through, and from then on deliveries book on their share.
    """

    def __init__(self, *, allow_paid_broadcast: bool = False, per_group: Rate = TELEGRAM_PER_GROUP,
                 per_private_chat: Rate = TELEGRAM_PER_PRIVATE_CHAT, overall: Rate | None = None,
                 margin: float = SAFETY_MARGIN, publication_reserve: float = PUBLICATION_RESERVE,
                 publications_quiet: float = PUBLICATIONS_QUIET, clock: Clock = loop_time,
                 sleep: Sleep = asyncio.sleep, evict_every: float = EVICT_EVERY) -> None:
        self.allow_paid_broadcast = allow_paid_broadcast
        self._per_group, self._per_private, self._margin = per_group, per_private_chat, margin
        self._clock, self._sleep, self._evict_every = clock, sleep, evict_every
        overall = overall or (TELEGRAM_PAID_OVERALL if allow_paid_broadcast else TELEGRAM_OVERALL)
        self._overall = self._pacer(overall)
        self._deliveries = self._pacer(overall.share(1 - publication_reserve))
        self._deliveries_alone = self._pacer(overall)  # no publication lately: the whole budget
        self._publications_quiet = publications_quiet
        self._publication_at = float("-inf")  # when the last publication asked for its turn
        self._chats: dict[str, Pacer] = {}
        self._evicted_at: float | None = None  # first read at the first acquire (the loop runs then)

    def _pacer(self, rate: Rate) -> Pacer:
        return rate.limiter(self._margin, clock=self._clock, sleep=self._sleep)

    @property
    def chats_tracked(self) -> int:
        return len(self._chats)

    def _chat_limiter(self, chat: str | int) -> Pacer:
        key = str(chat)
        limiter = self._chats.get(key)
        if limiter is None:
            self._evict_idle()
            rate = self._per_private if is_private_chat(chat) else self._per_group
            limiter = self._chats[key] = self._pacer(rate)
        return limiter

    def _evict_idle(self) -> None:
        now = self._clock()
        if self._evicted_at is None:
            self._evicted_at = now
        if now - self._evicted_at < self._evict_every:
            return
        self._evicted_at = now
        for key in [key for key, pacer in self._chats.items() if pacer.idle(now)]:
            del self._chats[key]

    def _pacers(self, chat: str | int, traffic: Traffic) -> list[Pacer]:
        # The per-chat wait comes first so a busy chat never holds an overall slot it cannot use.
        now = self._clock()
        if traffic is Traffic.DELIVERY:
            alone = now - self._publication_at >= self._publications_quiet
            budget = [self._deliveries_alone if alone else self._deliveries]
        else:
            self._publication_at, budget = now, []
        return [self._chat_limiter(chat), *budget, self._overall]

    async def acquire(self, chat: str | int, traffic: Traffic = Traffic.PUBLICATION) -> None:
        """Wait for a message's turn when its answer will not be reported (see ``sending``)."""
        for pacer in self._pacers(chat, traffic):
            await pacer.acquire()

    @contextlib.asynccontextmanager
    async def sending(self, chat: str | int, traffic: Traffic = Traffic.PUBLICATION) -> AsyncIterator[None]:
        """Wait for a message's turn, then send it in the block: the limits learn when it was answered,
        so a message that reached Telegram late (a stalled process, a new connection) still counts."""
        calls = []
        try:
            for pacer in self._pacers(chat, traffic):
                calls.append((pacer, await pacer.reserve()))
            departed = self._clock()
            for _, call in calls:  # the chat's turn came before the overall one: time from departure
                call.went = departed
            yield
        finally:
            for pacer, call in calls:
                pacer.answered(call)

    def flooded(self, chat: str | int, seconds: float) -> None:
        """Telegram answered 429 in ``chat``: hold that chat; a second chat held too means a global flood.

        Telegram's 429 does not say which limit was hit. One chat over its own limit is that
        chat's business; 429s in two chats within one retry_after are the bot-wide limit, and
        then everything waits.
        """
        now = self._clock()
        others_held = any(pacer.held(now) for key, pacer in self._chats.items() if key != str(chat))
        self._chat_limiter(chat).hold(seconds)
        if others_held:
            self.hold(seconds)

    def hold(self, seconds: float) -> None:
        """Let nothing through, in any chat, for ``seconds``."""
        self._overall.hold(seconds)


class MastodonLimits:
    """One 300-per-5-minutes limiter per access token, shared by every account using it."""

    def __init__(self, rate: Rate = MASTODON_PER_TOKEN, margin: float = SAFETY_MARGIN, *,
                 clock: Clock = loop_time, sleep: Sleep = asyncio.sleep) -> None:
        self._rate, self._margin, self._clock, self._sleep = rate, margin, clock, sleep
        self._tokens: dict[str, Pacer] = {}

    def for_token(self, token: str) -> Pacer:
        key = hashlib.sha256(token.encode()).hexdigest()  # never keep the token itself around
        if key not in self._tokens:
            self._tokens[key] = self._rate.limiter(self._margin, clock=self._clock, sleep=self._sleep)
        return self._tokens[key]
