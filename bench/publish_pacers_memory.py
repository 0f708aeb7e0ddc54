"""Memory of the per-chat pacers after notifying 100,000 readers: flat with eviction.

Drives ``TelegramLimits.acquire(reader, Traffic.DELIVERY)`` for N distinct readers, one after
the other, in virtual time (a clock that the sleep function moves forward, so the run takes
seconds of CPU, not N / rate seconds of waiting), with paid broadcast (1000 msg/s overall).
Prints the per-chat pacers still held and the traced memory at the end: with eviction both
are bounded by rate × ``EVICT_EVERY`` (the chats active in the last minute), whatever N. Baseline in the
same run: the same limits with eviction off (``evict_every`` = infinity), as before.

    PYTHONPATH=. .venv/bin/python bench/publish_pacers_memory.py [N]   (default 100000)
"""

from __future__ import annotations

import asyncio
import sys
import tracemalloc

from report import emit

from bot.publish.ratelimit import TelegramLimits, Traffic


class SteppingClock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.now += max(seconds, 0.0)


async def notify(readers: int, evict_every: float) -> tuple[int, float, float]:
    clock = SteppingClock()
    limits = TelegramLimits(allow_paid_broadcast=True, clock=clock, sleep=clock.sleep, evict_every=evict_every)
    tracemalloc.start()
    for reader in range(readers):
        await limits.acquire(1_000_000 + reader, Traffic.DELIVERY)
    current, _ = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return limits.chats_tracked, current / 2**20, clock.now


def main() -> None:
    readers = int(sys.argv[1]) if len(sys.argv) > 1 else 100_000
    evicting = asyncio.run(notify(readers, 60.0))
    keeping = asyncio.run(notify(readers, float("inf")))
    print(f"{readers} readers notified at the paid-broadcast ceiling ({evicting[2]:.0f} s of virtual time)")
    print(f"{'':24} {'pacers held':>12} {'memory MiB':>11}")
    print(f"{'eviction (ours)':24} {evicting[0]:>12} {evicting[1]:>11.1f}")
    print(f"{'no eviction (baseline)':24} {keeping[0]:>12} {keeping[1]:>11.1f}")
    print(f"ratio ours / baseline: pacers {evicting[0] / keeping[0]:.3f}, memory {evicting[1] / keeping[1]:.3f}")
    emit("pacers.memory", f"per-chat pacers after notifying {readers:,} readers: traced memory", evicting[1], "MiB",
         baseline=keeping[1], baseline_label="no eviction", readers=readers, pacers_held=evicting[0],
         pacers_without_eviction=keeping[0])


if __name__ == "__main__":
    main()
