"""How close our limiters run to each platform limit, and whether a strict platform would 429.

For every limit we push calls through the limiter as fast as the limiter lets them, with
time scaled so calls are INTERVAL apart at the limit (a 60 s window for 20 calls becomes
20·INTERVAL; the algorithm does not care, the event loop's timer resolution does), then:
  achieved ÷ configured  — long-run rate over the published limit (target ≥ 0.95)
  429s                   — calls a strict sliding-window platform would refuse (target 0)
Baseline, same run: PTB's AIORateLimiter shape, ``AsyncLimiter(count, period)`` (bursty).
Telegram's pacers are driven as Relais sends to Telegram (``Pacer.calling``: each answer timed,
here at once); Mastodon's as its publisher does (``Pacer.acquire``: arrival within the jitter).

    PYTHONPATH=. /work/main/.venv/bin/python bench/publish_ratelimit.py
"""

from __future__ import annotations

import asyncio
from collections import deque

from aiolimiter import AsyncLimiter
from report import at_least, at_most, emit

from bot.publish.ratelimit import (
    ANSWER_SLACK,
    ARRIVAL_JITTER,
    MASTODON_PER_TOKEN,
    TELEGRAM_OVERALL,
    TELEGRAM_PER_GROUP,
    TELEGRAM_PER_PRIVATE_CHAT,
    Pacer,
    Rate,
)

INTERVAL = 0.1  # seconds between calls at the limit, in the bench
WINDOWS = 1  # measure over this many windows


def refused(stamps: list[float], count: int, period: float) -> int:
    """Calls a platform allowing ``count`` per sliding ``period`` would refuse (429)."""
    window: deque[float] = deque()
    refusals = 0
    for stamp in stamps:
        while window and window[0] <= stamp - period:
            window.popleft()
        if len(window) >= count:
            refusals += 1
            continue
        window.append(stamp)
    return refusals


async def drive(limiter: AsyncLimiter | Pacer, duration: float, *, answered: bool = False) -> list[float]:
    loop = asyncio.get_running_loop()
    end = loop.time() + duration
    stamps = []
    while loop.time() < end:
        if answered and isinstance(limiter, Pacer):
            async with limiter.calling():
                stamps.append(loop.time())
            continue
        await limiter.acquire()
        stamps.append(loop.time())
    return stamps


async def measure(name: str, rate: Rate, *, answered: bool = False) -> tuple[str, float, int, float, int]:
    scaled = Rate(rate.count, rate.count * INTERVAL)
    # the allowances (seconds) are scaled with time too, or they would dwarf a 0.1 s period
    scale = scaled.period / rate.period
    pacer = Pacer(scaled, jitter=ARRIVAL_JITTER * scale, slack=ANSWER_SLACK * scale)
    ours, baseline = await asyncio.gather(
        drive(pacer, WINDOWS * scaled.period, answered=answered),
        drive(AsyncLimiter(scaled.count, scaled.period), WINDOWS * scaled.period),
    )
    configured = scaled.count / scaled.period

    def achieved(stamps: list[float]) -> float:
        return (len(stamps) - 1) / (stamps[-1] - stamps[0]) / configured

    return (name, achieved(ours), refused(ours, scaled.count, scaled.period),
            achieved(baseline), refused(baseline, scaled.count, scaled.period))


async def main() -> None:
    rows = await asyncio.gather(
        measure("telegram per group/channel 20/min", TELEGRAM_PER_GROUP, answered=True),
        measure("telegram per private chat 1/s", TELEGRAM_PER_PRIVATE_CHAT, answered=True),
        measure("telegram overall 30/s", TELEGRAM_OVERALL, answered=True),
        measure("mastodon per token 300/5min", MASTODON_PER_TOKEN),
    )
    print(f"{'limit':38} {'ours rate÷limit':>16} {'ours 429':>9} {'bursty rate÷limit':>18} {'bursty 429':>11}")
    for name, ours, ours_429, base, base_429 in rows:
        print(f"{name:38} {ours:16.3f} {ours_429:9d} {base:18.3f} {base_429:11d}")
    for name, ours, ours_429, base, base_429 in rows:
        emit(f"pacer.{name.split()[0]}.{name.split()[-1]}", f"pacer alone, {name}: rate ÷ limit", ours, "× limit",
             baseline=base, baseline_label="aiolimiter AsyncLimiter (bursty)", target=at_least(0.95), ours_429=ours_429,
             bursty_429=base_429)
    emit("pacer.429", "pacer alone: calls a strict sliding window would refuse (all four limits)",
         sum(row[2] for row in rows), "calls", baseline=sum(row[4] for row in rows),
         baseline_label="aiolimiter AsyncLimiter (bursty)", target=at_most(0))


if __name__ == "__main__":
    asyncio.run(main())
