"""bot.services.queue_moves on a real database: a post swaps places with its neighbour, nothing else moves."""

from __future__ import annotations

from datetime import timedelta

from services_support import NOW, paris, publications

from bot.app import App
from bot.services import posts, publishing
from bot.services.queue_moves import Direction, Swap, move


async def _queued(app: App, *titles: str) -> list[int]:
    ids = [(await posts.create(app, title, now=NOW)).post.id for title in titles]  # on esante-telegram only
    for post_id in ids:
        await publishing.enqueue(app, post_id, NOW)
    return ids


async def _dues(app: App, post_ids: list[int], channel: str) -> list[tuple[int, object, object]]:
    return [(pid, (await publications(app, pid))[channel].due_at, (await publications(app, pid))[channel].next_attempt_at)
            for pid in post_ids]


async def test_a_post_moved_up_takes_its_neighbours_slot_and_gives_its_own(app: App) -> None:
    first, second, third = await _queued(app, "L’#anxiété 😟", "Le #sommeil « réparateur »", "La #méditation")
    assert [due for _, due, _ in await _dues(app, [first, second, third], "esante-telegram")] == [
        paris(4, 9), paris(4, 12, 30), paris(4, 18)]
    swaps = await move(app, third, Direction.UP, NOW)
    assert swaps == [Swap("esante-telegram", second, paris(4, 12, 30))]
    after = await _dues(app, [first, second, third], "esante-telegram")
    assert after == [(first, paris(4, 9), paris(4, 9)), (second, paris(4, 18), paris(4, 18)),
                     (third, paris(4, 12, 30), paris(4, 12, 30))]


async def test_the_first_stays_first_and_overdue_posts_take_no_part(app: App) -> None:
    first, second = await _queued(app, "L’#anxiété 😟", "Le #sommeil « réparateur »")
    assert await move(app, first, Direction.UP, NOW) == [Swap("esante-telegram", None, paris(4, 9))]
    later = paris(4, 10)  # the first one's slot has passed: only the second still waits
    assert await move(app, second, Direction.UP, later) == [Swap("esante-telegram", None, paris(4, 12, 30))]
    assert await move(app, second, Direction.DOWN, NOW - timedelta(hours=1)) == [
        Swap("esante-telegram", None, paris(4, 12, 30))]
