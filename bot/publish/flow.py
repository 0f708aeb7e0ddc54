"""Continuous claiming: keep up to ``cap`` rows in flight, claim more once fewer than ``low_water`` are.

A worker that claims a batch and waits for its slowest send before claiming the next one
sends nothing while that one send hangs, and keeps fewer sends in flight than a real network
needs (rate × round-trip time: 100 in flight for 1000/s at 100 ms). Here a producer claims
whenever the rows in flight drop to the low-water mark, and each lane (a channel, a reader)
works its rows in claim order, one at a time, lanes concurrently (issue 12 item 1).
"""

from __future__ import annotations

import asyncio
import contextlib
from collections import deque
from collections.abc import Awaitable, Callable, Sequence
from typing import Any

Claim = Callable[[int], Awaitable[Sequence[Any]]]  # up to n rows, already marked `sending`
Step = Callable[[Any], Awaitable[None]]  # send one row and record its outcome; never raises


class Flow:
    """One pass over what is due: claim, dispatch to lanes, claim again, until a claim comes back empty."""

    def __init__(self, claim: Claim, step: Step, lane: Callable[[Any], str], *, cap: int,
                 low_water: int | None = None) -> None:
        if cap < 1:
            raise ValueError(f"in-flight cap must be at least 1, not {cap}")
        self._claim, self._step, self._lane = claim, step, lane
        self.cap = cap
        self.low_water = cap // 2 if low_water is None else min(low_water, cap - 1)
        self.claimed = 0  # rows this pass took (only those in flight are kept: memory stays flat)
        self.in_flight = 0  # claimed and not finished (queued in a lane or being sent)
        self.peak = 0
        self._lanes: dict[str, deque[Any]] = {}
        self._tasks: set[asyncio.Task[None]] = set()
        self._room = asyncio.Event()
        self.left: list[Any] = []  # after a cancellation: the rows that were not finished

    async def run(self) -> int:
        """Work until nothing due is left to claim and every lane is done; the number of rows claimed."""
        try:
            while True:
                while self.in_flight > self.low_water:
                    self._room.clear()
                    await self._room.wait()
                rows = await self._claim(self.cap - self.in_flight)
                if not rows:
                    break
                self.claimed += len(rows)
                for row in rows:
                    self._dispatch(row)
            while self._tasks:
                await asyncio.gather(*self._tasks)
        except asyncio.CancelledError:
            self.left = self.unfinished()  # before the lanes unwind: what the caller must give back
            for task in self._tasks:
                task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await asyncio.gather(*self._tasks, return_exceptions=True)
            raise
        return self.claimed

    def unfinished(self) -> list[Any]:
        """Rows claimed and not done: queued in a lane, or being sent (the head of each lane)."""
        return [row for queued in self._lanes.values() for row in queued]

    def _dispatch(self, row: Any) -> None:
        self.in_flight += 1
        self.peak = max(self.peak, self.in_flight)
        name = self._lane(row)
        queued = self._lanes.get(name)
        if queued is not None:  # the lane's task is running: it takes this row after the others
            queued.append(row)
            return
        self._lanes[name] = deque([row])
        task = asyncio.create_task(self._work(name))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _work(self, name: str) -> None:
        queued = self._lanes[name]
        try:
            while queued:
                try:
                    await self._step(queued[0])
                finally:
                    queued.popleft()
                    self.in_flight -= 1
                    if self.in_flight <= self.low_water:
                        self._room.set()
        finally:
            del self._lanes[name]
