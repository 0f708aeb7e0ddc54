"""Virtual time for code that takes a clock and a sleep function: tests never wait, nor depend on speed.

``clock()`` reads the virtual now; ``await clock.sleep(d)`` parks the caller until the driver
moves time to its wake-up. ``await clock.run(*coroutines)`` runs them to the end, jumping from
one wake-up to the next once every task is parked.
"""

from __future__ import annotations

import asyncio
import heapq
import itertools
from collections.abc import Callable, Coroutine
from typing import Any

SETTLE_ROUNDS = 10  # loop turns that let every woken task reach its next sleep (no real I/O here)


class VirtualClock:
    def __init__(self, start: float = 1000.0) -> None:
        self.now = start
        self._sleepers: list[tuple[float, int, asyncio.Future[None]]] = []
        self._order = itertools.count()
        self.lateness: Callable[[], float] = lambda: 0.0  # how late each wake-up comes (a busy loop)

    def __call__(self) -> float:
        return self.now

    async def sleep(self, delay: float) -> None:
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        heapq.heappush(self._sleepers, (self.now + max(delay, 0.0), next(self._order), future))
        await future

    def jump(self, seconds: float) -> None:
        """The process was not running for ``seconds``."""
        self.now += seconds

    async def _settle(self) -> None:
        for _ in range(SETTLE_ROUNDS):
            await asyncio.sleep(0)

    async def run(self, *coroutines: Coroutine[Any, Any, Any]) -> list[Any]:
        tasks = [asyncio.ensure_future(coroutine) for coroutine in coroutines]
        await self._settle()
        while not all(task.done() for task in tasks):
            if not self._sleepers:
                raise RuntimeError("every task waits on something other than the virtual clock")
            wake, _, future = heapq.heappop(self._sleepers)
            self.now = max(self.now, wake + self.lateness())
            future.set_result(None)
            await self._settle()
        return [task.result() for task in tasks]
