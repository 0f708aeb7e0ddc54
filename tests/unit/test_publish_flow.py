"""Continuous claiming: the cap on sends in flight holds, and a slow send never holds back the others.

Driven by events, never by wall time: each "send" waits for the test to release it.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.publish.flow import Flow


@dataclass(frozen=True)
class Row:
    id: int
    lane: str


class Platform:
    """Rows waiting to be claimed and sends that finish when the test says so."""

    def __init__(self, rows: list[Row]) -> None:
        self.due = list(rows)
        self.claims: list[int] = []
        self.sent: list[int] = []
        self.in_flight: dict[int, asyncio.Event] = {}
        self.most_in_flight = 0

    async def claim(self, limit: int) -> list[Row]:
        batch, self.due = self.due[:limit], self.due[limit:]
        self.claims.append(len(batch))
        return batch

    async def send(self, row: Row) -> None:
        self.in_flight[row.id] = done = asyncio.Event()
        self.most_in_flight = max(self.most_in_flight, len(self.in_flight))
        await done.wait()
        del self.in_flight[row.id]
        self.sent.append(row.id)

    def answer(self, row_id: int) -> None:
        self.in_flight[row_id].set()


async def settle() -> None:
    for _ in range(20):
        await asyncio.sleep(0)


async def test_a_slow_send_does_not_hold_back_the_others_and_claims_go_on() -> None:
    rows = [Row(0, "lent")] + [Row(n, f"lecteur {n}") for n in range(1, 13)]
    platform = Platform(rows)
    flow = Flow(platform.claim, platform.send, lambda row: row.lane, cap=4, low_water=2)
    task = asyncio.create_task(flow.run())
    await settle()
    assert sorted(platform.in_flight) == [0, 1, 2, 3]
    for row_id in range(1, 13):  # every other send answers; row 0 never does (yet)
        await settle()
        platform.answer(row_id)
    await settle()
    assert platform.sent == list(range(1, 13)) and list(platform.in_flight) == [0]
    assert not task.done()
    platform.answer(0)
    assert await task == 13
    assert flow.peak <= 4 and max(platform.claims) <= 4


async def test_rows_of_one_lane_go_one_at_a_time_in_claim_order() -> None:
    rows = [Row(n, "canal") for n in range(5)]
    platform = Platform(rows)
    flow = Flow(platform.claim, platform.send, lambda row: row.lane, cap=10)
    task = asyncio.create_task(flow.run())
    for row_id in range(5):
        await settle()
        assert list(platform.in_flight) == [row_id]
        platform.answer(row_id)
    assert await task == 5 and platform.sent == [0, 1, 2, 3, 4]


@settings(max_examples=40, deadline=None)
@given(lanes=st.lists(st.integers(0, 6), min_size=1, max_size=40), cap=st.integers(1, 8),
       order=st.randoms(use_true_random=False))
def test_in_flight_never_exceeds_the_cap(lanes: list[int], cap: int, order) -> None:
    async def scenario() -> None:
        platform = Platform([Row(n, f"lane {lane}") for n, lane in enumerate(lanes)])
        flow = Flow(platform.claim, platform.send, lambda row: row.lane, cap=cap)
        task = asyncio.create_task(flow.run())
        while not task.done():
            await settle()
            assert flow.in_flight <= cap and len(platform.in_flight) <= cap
            if platform.in_flight:
                platform.answer(order.choice(sorted(platform.in_flight)))
        await task
        assert sorted(platform.sent) == list(range(len(lanes))) and flow.peak <= cap

    asyncio.run(scenario())


def test_a_cap_below_one_is_refused() -> None:
    with pytest.raises(ValueError, match="at least 1"):
        Flow(Platform([]).claim, Platform([]).send, str, cap=0)
