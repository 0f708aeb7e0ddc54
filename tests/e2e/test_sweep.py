"""One scheduler wake publishes a whole backlog, batch after batch, not one batch per interval."""

from __future__ import annotations

from contextlib import AsyncExitStack

from conftest import CHANNEL, statuses
from test_run import queue_now

from bot import runtime


async def test_one_sweep_publishes_every_due_publication_in_batches(relais, sandbox, mastodon) -> None:
    await queue_now(relais, range(20, 25))  # 5 posts × 2 channels = 10 publications
    async with AsyncExitStack() as stack:
        publishing = await runtime.open_publishing(stack, relais, worker_id="sweep")
        publishing.batch = 3

        report = await publishing.sweep()
        assert (report.sent, report.retried, report.dead) == (10, 0, 0)
        assert report.claimed == 10  # over four passes of at most 3
        assert len(sandbox.messages(CHANNEL)) == 5 and len(statuses(mastodon)) == 5

        again = await publishing.sweep()
        assert (again.sent, again.claimed) == (0, 0)


async def test_a_sweep_stops_when_a_batch_is_not_full(relais, sandbox, mastodon) -> None:
    await queue_now(relais, [30])  # 2 publications, batch of 2: one full pass, then an empty one
    async with AsyncExitStack() as stack:
        publishing = await runtime.open_publishing(stack, relais, worker_id="sweep")
        publishing.batch = 2
        report = await publishing.sweep()
    assert (report.sent, report.claimed) == (2, 2)
    assert len(sandbox.messages(CHANNEL)) == 1 and len(statuses(mastodon)) == 1
