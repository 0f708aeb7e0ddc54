"""Set-based queue operations: same results as the per-row code they replaced, bounded statements.

The scenarios' expected due times were captured by running ``play`` on the code before
the change (commit 75c4119, per-row enqueue and reflow): a differential test. Each
scenario is a list of steps on one fresh database; ``play`` returns, per channel, the
pending queue as (post number, local due time) in due order.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import event, func, select
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker

from bot.app import App
from bot.publish import queue
from bot.settings import load_settings
from bot.store.models import Post, Publication
from bot.store.repository import NewPost, add_post

PARIS_CHANNELS: list[dict[str, Any]] = [
    {"name": "esante-telegram", "platform": "telegram", "chat": "@esante_demo", "slots": ["09:00", "12:30", "18:00"]},
    {"name": "nuit", "platform": "telegram", "chat": "@esante_nuit", "slots": ["02:30", "03:30", "09:00"]},
    {"name": "direct", "platform": "telegram", "chat": "@esante_direct"},  # no slots
]
MAY = datetime(2026, 5, 4, 6, 0, tzinfo=UTC)  # Monday 08:00 in Paris
SPRING = datetime(2026, 3, 28, 22, 0, tzinfo=UTC)  # 23:00 the night before 02:00 → 03:00
AUTUMN = datetime(2026, 10, 24, 22, 0, tzinfo=UTC)  # 00:00 on the night 03:00 → 02:00

# (operation, post number, minutes after the scenario's start, mode or at-offset in minutes)
SCENARIOS: dict[str, tuple[datetime, list[tuple[Any, ...]]]] = {
    "share next pushes a dense queue": (MAY, [
        *[("enqueue", n, 0, "queue") for n in range(6)], ("enqueue", 10, 0, "next"), ("enqueue", 11, 5, "next")]),
    "a gap before the last is not refilled, the tail is": (MAY, [
        *[("enqueue", n, 0, "queue") for n in range(5)], ("unschedule", 2), ("enqueue", 6, 0, "queue"),
        ("unschedule", 6), ("unschedule", 4), ("enqueue", 7, 0, "queue"), ("enqueue", 8, 0, "next")]),
    "pinned posts keep their time, the queue flows around them": (MAY, [
        ("enqueue", 0, 0, "queue"), ("enqueue", 1, 0, ("at", 270)), ("enqueue", 2, 0, "queue"),
        ("enqueue", 3, 0, ("at", 1 + 24 * 60)), ("enqueue", 4, 0, "queue"), ("enqueue", 5, 0, "next"),
        ("enqueue", 6, 0, "now"), ("enqueue", 7, 0, "queue"), ("enqueue", 8, 0, "next")]),
    "share next across the spring-forward gap": (SPRING, [
        *[("enqueue", n, 0, "queue") for n in range(5)], ("enqueue", 9, 0, "next"), ("enqueue", 10, 200, "next"),
        ("enqueue", 11, 200, "queue")]),
    "share next across the autumn fold": (AUTUMN, [
        *[("enqueue", n, 0, "queue") for n in range(5)], ("enqueue", 9, 0, "next"), ("enqueue", 10, 170, "next"),
        ("enqueue", 11, 170, "queue")]),
    "catch-up after downtime, then queue and share next": (MAY, [
        *[("enqueue", n, 0, "queue") for n in range(6)], ("catch_up", 60 * 26), ("enqueue", 7, 60 * 26, "queue"),
        ("enqueue", 8, 60 * 26, "next")]),
    "pause, resume, reschedule": (MAY, [
        *[("enqueue", n, 0, "queue") for n in range(4)], ("pause", "esante-telegram"),
        ("resume", "esante-telegram", 60 * 30), ("reschedule", 3, 60 * 30, "next"), ("enqueue", 5, 60 * 30, "queue")]),
}


async def play(app: App, start: datetime, steps: list[tuple[Any, ...]]) -> dict[str, list[tuple[int, str]]]:
    """Run ``steps`` in one transaction; per channel, the pending queue as (post number, Paris time)."""
    settings, tz = app.settings, app.settings.tz
    async with app.sessions.begin() as session:
        posts: dict[int, Post] = {}
        for step in steps:
            operation, *args = step
            if operation == "enqueue":
                n, minutes, mode = args
                now = start + timedelta(minutes=minutes)
                posts[n] = await add_post(session, NewPost(source="differential", source_key=str(n),
                                                           title=f"#Relais n°{n} : l’#IA"))
                at = now + timedelta(minutes=mode[1]) if isinstance(mode, tuple) else None
                await queue.enqueue(session, posts[n], now, settings=settings,
                                    mode="at" if at else mode, at=at)
            elif operation == "unschedule":
                await queue.unschedule(session, posts[args[0]])
            elif operation == "catch_up":
                await queue.catch_up(session, start + timedelta(minutes=args[0]), settings)
            elif operation == "pause":
                await queue.pause(session, args[0])
            elif operation == "resume":
                await queue.resume(session, args[0], start + timedelta(minutes=args[1]), settings)
            elif operation == "reschedule":
                n, minutes, mode = args
                await queue.reschedule(session, posts[n], start + timedelta(minutes=minutes), settings=settings,
                                       mode=mode)
        numbers = {post.id: n for n, post in posts.items()}
        listing = await queue.queue_listing(session, start, settings)
        return {c.name: [(numbers[e.post_id], e.due_at.astimezone(tz).strftime("%m-%d %H:%M%z"))
                         for e in c.entries] for c in listing}


def test_the_scenarios_cover_what_the_issue_names() -> None:
    assert len(SCENARIOS) == len(EXPECTED) == 7


@pytest.fixture
async def app(database_url: str, engine: AsyncEngine) -> App:
    return await _app_with(database_url, engine, PARIS_CHANNELS)


@pytest.mark.parametrize("name", list(SCENARIOS))
async def test_same_order_and_due_times_as_the_per_row_code(app: App, name: str) -> None:
    start, steps = SCENARIOS[name]
    assert await play(app, start, steps) == EXPECTED[name]


# --- many channels, statement counts --------------------------------------------------------

def _many(count: int, **extra: Any) -> list[dict[str, Any]]:
    return [{"name": f"relais-{n}", "platform": "telegram", "chat": f"@relais_{n}", **extra} for n in range(count)]


async def _app_with(database_url: str, engine: AsyncEngine, channels: list[dict[str, Any]]) -> App:
    settings = load_settings(None, env={}, database_url=database_url, channels=channels)
    relais = App(settings=settings, engine=engine, sessions=async_sessionmaker(engine, expire_on_commit=False))
    await relais.sync_channels()
    return relais


@contextmanager
def statements(engine: AsyncEngine) -> Iterator[list[str]]:
    """The SQL statements (executemany counted once) the engine runs inside the block."""
    seen: list[str] = []

    def record(conn: Any, cursor: Any, sql: str, params: Any, context: Any, executemany: bool) -> None:
        seen.append(sql)

    event.listen(engine.sync_engine, "before_cursor_execute", record)
    try:
        yield seen
    finally:
        event.remove(engine.sync_engine, "before_cursor_execute", record)


async def _enqueue_counting(app: App, engine: AsyncEngine, n: int, mode: str, tags: tuple[str, ...]) -> tuple[int, int]:
    async with app.sessions.begin() as session:
        post = await add_post(session, NewPost(source="many", source_key=str(n), title=f"#Relais n°{n}", tags=tags))
        with statements(engine) as seen:
            created = await queue.enqueue(session, post, MAY, settings=app.settings, mode=mode)  # type: ignore[arg-type]
    return len(created), len(seen)


@pytest.mark.parametrize("mode", ["queue", "now"])
async def test_enqueue_on_many_channels_runs_the_same_statements_for_3_or_60(
    database_url: str, engine: AsyncEngine, mode: str
) -> None:
    channels = _many(60, slots=["09:00", "18:00"])
    for channel in channels[3:]:
        channel["tags"] = ["IA"]  # a post without #IA goes to the first 3 channels only
    app = await _app_with(database_url, engine, channels)
    assert (await _enqueue_counting(app, engine, 0, mode, ()))[0] == 3
    few = await _enqueue_counting(app, engine, 1, mode, ())  # on a queue that is not empty any more
    many = await _enqueue_counting(app, engine, 2, mode, ("IA",))
    assert few[0] == 3 and many[0] == 60
    assert few[1] == many[1] <= 6  # already-queued check, channels, last-queued probe, INSERT, post


async def test_enqueue_on_many_channels_makes_one_publication_each_and_is_idempotent(
    database_url: str, engine: AsyncEngine
) -> None:
    channels = _many(40, slots=["09:00", "18:00"])
    channels[7]["tags"] = ["santé mentale"]  # filters the post out
    channels[8]["enabled"] = False
    app = await _app_with(database_url, engine, channels)
    async with app.sessions.begin() as session:
        first = await add_post(session, NewPost(source="many", source_key="0", title="#IA", tags=("IA",)))
        second = await add_post(session, NewPost(source="many", source_key="1", title="#IA", tags=("IA",)))
        created = await queue.enqueue(session, first, MAY, settings=app.settings)
        assert len(created) == 38 and len({p.channel_id for p in created}) == 38
        assert [p.channel for p in created] == [c["name"] for c in channels if c["name"] not in ("relais-7", "relais-8")]
        assert {p.due_at for p in created} == {datetime(2026, 5, 4, 7, 0, tzinfo=UTC)}  # 09:00 Paris
        rows = (await session.scalars(select(Publication).where(Publication.post_id == first.id))).unique().all()
        assert sorted(p.id for p in created) == sorted(r.id for r in rows)
        assert all(r.next_attempt_at == r.due_at and r.state == "pending" for r in rows)
        assert await queue.enqueue(session, first, MAY, settings=app.settings) == []
        assert await queue.enqueue(session, first, MAY, settings=app.settings, mode="next") == []
        behind = await queue.enqueue(session, second, MAY, settings=app.settings)
        assert {p.due_at for p in behind} == {datetime(2026, 5, 4, 16, 0, tzinfo=UTC)}  # 18:00 Paris
        count = await session.scalar(select(func.count()).select_from(Publication))
        assert count == 76


async def test_share_next_on_a_long_queue_runs_a_bounded_number_of_statements(
    database_url: str, engine: AsyncEngine
) -> None:
    app = await _app_with(database_url, engine, _many(1, slots=["09:00", "12:30", "18:00"]))
    counts = {}
    for length in (5, 60):
        async with app.sessions.begin() as session:
            for n in range(length):
                post = await add_post(session, NewPost(source=f"long-{length}", source_key=str(n), title="#IA"))
                await queue.enqueue(session, post, MAY, settings=app.settings)
        async with app.sessions.begin() as session:
            urgent = await add_post(session, NewPost(source=f"urgent-{length}", source_key="0", title="#Urgent"))
            with statements(engine) as seen:
                await queue.enqueue(session, urgent, MAY, settings=app.settings, mode="next")
            counts[length] = len(seen)
            dues = [e.due_at for e in (await queue.queue_listing(session, MAY, app.settings))[0].entries]
            assert len(dues) == len(set(dues))
        async with app.sessions.begin() as session:  # empty the channel for the next length
            await session.execute(Publication.__table__.delete())
    assert counts[5] == counts[60] <= 7


# Captured on commit 75c4119 (before the set-based code) with ``play``; do not edit by hand.
EXPECTED: dict[str, dict[str, list[tuple[int, str]]]] = {
'share next pushes a dense queue': {'esante-telegram': [(11, '05-04 09:00+0200'),
                                                         (10, '05-04 12:30+0200'),
                                                         (0, '05-04 18:00+0200'),
                                                         (1, '05-05 09:00+0200'),
                                                         (2, '05-05 12:30+0200'),
                                                         (3, '05-05 18:00+0200'),
                                                         (4, '05-06 09:00+0200'),
                                                         (5, '05-06 12:30+0200')],
                                     'nuit': [(11, '05-04 09:00+0200'),
                                              (10, '05-05 02:30+0200'),
                                              (0, '05-05 03:30+0200'),
                                              (1, '05-05 09:00+0200'),
                                              (2, '05-06 02:30+0200'),
                                              (3, '05-06 03:30+0200'),
                                              (4, '05-06 09:00+0200'),
                                              (5, '05-07 02:30+0200')],
                                     'direct': [(0, '05-04 08:00+0200'),
                                                (1, '05-04 08:00+0200'),
                                                (2, '05-04 08:00+0200'),
                                                (3, '05-04 08:00+0200'),
                                                (4, '05-04 08:00+0200'),
                                                (5, '05-04 08:00+0200'),
                                                (10, '05-04 08:00+0200'),
                                                (11, '05-04 08:05+0200')]},
 'a gap before the last is not refilled, the tail is': {'esante-telegram': [(8, '05-04 09:00+0200'),
                                                                            (0, '05-04 12:30+0200'),
                                                                            (1, '05-04 18:00+0200'),
                                                                            (3, '05-05 09:00+0200'),
                                                                            (7, '05-05 12:30+0200')],
                                                        'nuit': [(8, '05-04 09:00+0200'),
                                                                 (0, '05-05 02:30+0200'),
                                                                 (1, '05-05 03:30+0200'),
                                                                 (3, '05-05 09:00+0200'),
                                                                 (7, '05-06 02:30+0200')],
                                                        'direct': [(0, '05-04 08:00+0200'),
                                                                   (1, '05-04 08:00+0200'),
                                                                   (3, '05-04 08:00+0200'),
                                                                   (7, '05-04 08:00+0200'),
                                                                   (8, '05-04 08:00+0200')]},
 'pinned posts keep their time, the queue flows around them': {'esante-telegram': [(6, '05-04 08:00+0200'),
                                                                                   (8, '05-04 09:00+0200'),
                                                                                   (1, '05-04 12:30+0200'),
                                                                                   (5, '05-04 18:00+0200'),
                                                                                   (3, '05-05 08:01+0200'),
                                                                                   (0, '05-05 09:00+0200'),
                                                                                   (2, '05-05 12:30+0200'),
                                                                                   (4, '05-05 18:00+0200'),
                                                                                   (7, '05-06 09:00+0200')],
                                                               'nuit': [(6, '05-04 08:00+0200'),
                                                                        (8, '05-04 09:00+0200'),
                                                                        (1, '05-04 12:30+0200'),
                                                                        (5, '05-05 02:30+0200'),
                                                                        (0, '05-05 03:30+0200'),
                                                                        (3, '05-05 08:01+0200'),
                                                                        (2, '05-05 09:00+0200'),
                                                                        (4, '05-06 02:30+0200'),
                                                                        (7, '05-06 03:30+0200')],
                                                               'direct': [(0, '05-04 08:00+0200'),
                                                                          (2, '05-04 08:00+0200'),
                                                                          (4, '05-04 08:00+0200'),
                                                                          (5, '05-04 08:00+0200'),
                                                                          (6, '05-04 08:00+0200'),
                                                                          (7, '05-04 08:00+0200'),
                                                                          (8, '05-04 08:00+0200'),
                                                                          (1, '05-04 12:30+0200'),
                                                                          (3, '05-05 08:01+0200')]},
 'share next across the spring-forward gap': {'esante-telegram': [(10, '03-29 09:00+0200'),
                                                                  (9, '03-29 12:30+0200'),
                                                                  (0, '03-29 18:00+0200'),
                                                                  (1, '03-30 09:00+0200'),
                                                                  (2, '03-30 12:30+0200'),
                                                                  (3, '03-30 18:00+0200'),
                                                                  (4, '03-31 09:00+0200'),
                                                                  (11, '03-31 12:30+0200')],
                                              'nuit': [(10, '03-29 03:30+0200'),
                                                       (9, '03-29 09:00+0200'),
                                                       (0, '03-30 02:30+0200'),
                                                       (1, '03-30 03:30+0200'),
                                                       (2, '03-30 09:00+0200'),
                                                       (3, '03-31 02:30+0200'),
                                                       (4, '03-31 03:30+0200'),
                                                       (11, '03-31 09:00+0200')],
                                              'direct': [(0, '03-28 23:00+0100'),
                                                         (1, '03-28 23:00+0100'),
                                                         (2, '03-28 23:00+0100'),
                                                         (3, '03-28 23:00+0100'),
                                                         (4, '03-28 23:00+0100'),
                                                         (9, '03-28 23:00+0100'),
                                                         (10, '03-29 03:20+0200'),
                                                         (11, '03-29 03:20+0200')]},
 'share next across the autumn fold': {'esante-telegram': [(10, '10-25 09:00+0100'),
                                                           (9, '10-25 12:30+0100'),
                                                           (0, '10-25 18:00+0100'),
                                                           (1, '10-26 09:00+0100'),
                                                           (2, '10-26 12:30+0100'),
                                                           (3, '10-26 18:00+0100'),
                                                           (4, '10-27 09:00+0100'),
                                                           (11, '10-27 12:30+0100')],
                                       'nuit': [(9, '10-25 02:30+0200'),
                                                (10, '10-25 03:30+0100'),
                                                (0, '10-25 09:00+0100'),
                                                (1, '10-26 02:30+0100'),
                                                (2, '10-26 03:30+0100'),
                                                (3, '10-26 09:00+0100'),
                                                (4, '10-27 02:30+0100'),
                                                (11, '10-27 03:30+0100')],
                                       'direct': [(0, '10-25 00:00+0200'),
                                                  (1, '10-25 00:00+0200'),
                                                  (2, '10-25 00:00+0200'),
                                                  (3, '10-25 00:00+0200'),
                                                  (4, '10-25 00:00+0200'),
                                                  (9, '10-25 00:00+0200'),
                                                  (10, '10-25 02:50+0200'),
                                                  (11, '10-25 02:50+0200')]},
 'catch-up after downtime, then queue and share next': {'esante-telegram': [(3, '05-05 09:00+0200'),
                                                                            (8, '05-05 12:30+0200'),
                                                                            (0, '05-05 18:00+0200'),
                                                                            (1, '05-06 09:00+0200'),
                                                                            (2, '05-06 12:30+0200'),
                                                                            (4, '05-06 18:00+0200'),
                                                                            (5, '05-07 09:00+0200'),
                                                                            (7, '05-07 12:30+0200')],
                                                        'nuit': [(3, '05-05 09:00+0200'),
                                                                 (8, '05-06 02:30+0200'),
                                                                 (0, '05-06 03:30+0200'),
                                                                 (1, '05-06 09:00+0200'),
                                                                 (2, '05-07 02:30+0200'),
                                                                 (4, '05-07 03:30+0200'),
                                                                 (5, '05-07 09:00+0200'),
                                                                 (7, '05-08 02:30+0200')],
                                                        'direct': [(0, '05-05 10:00+0200'),
                                                                   (1, '05-05 10:00+0200'),
                                                                   (2, '05-05 10:00+0200'),
                                                                   (3, '05-05 10:00+0200'),
                                                                   (4, '05-05 10:00+0200'),
                                                                   (5, '05-05 10:00+0200'),
                                                                   (7, '05-05 10:00+0200'),
                                                                   (8, '05-05 10:00+0200')]},
 'pause, resume, reschedule': {'esante-telegram': [(3, '05-05 18:00+0200'),
                                                   (0, '05-06 09:00+0200'),
                                                   (1, '05-06 12:30+0200'),
                                                   (2, '05-06 18:00+0200'),
                                                   (5, '05-07 09:00+0200')],
                               'nuit': [(0, '05-04 09:00+0200'),
                                        (1, '05-05 02:30+0200'),
                                        (2, '05-05 03:30+0200'),
                                        (3, '05-06 02:30+0200'),
                                        (5, '05-06 03:30+0200')],
                               'direct': [(0, '05-04 08:00+0200'),
                                          (1, '05-04 08:00+0200'),
                                          (2, '05-04 08:00+0200'),
                                          (3, '05-05 14:00+0200'),
                                          (5, '05-05 14:00+0200')]}}


@pytest.mark.parametrize("mode", ["next", ("at", 90)])
async def test_share_next_and_at_on_many_channels_run_the_same_statements_for_3_or_40(
    database_url: str, engine: AsyncEngine, mode: Any
) -> None:
    channels = _many(40, slots=["09:00", "12:30", "18:00"])
    for channel in channels[3:]:
        channel["tags"] = ["IA"]
    app = await _app_with(database_url, engine, channels)
    async with app.sessions.begin() as session:  # two queued posts on every channel
        for n in range(2):
            post = await add_post(session, NewPost(source="queued", source_key=str(n), title="#IA", tags=("IA",)))
            await queue.enqueue(session, post, MAY, settings=app.settings)
    counts = []
    for n, tags in enumerate([(), ("IA",)]):
        async with app.sessions.begin() as session:
            post = await add_post(session, NewPost(source="urgent", source_key=str(n), title="#Urgent", tags=tags))
            at = MAY + timedelta(minutes=mode[1] + n) if isinstance(mode, tuple) else None
            with statements(engine) as seen:
                created = await queue.enqueue(session, post, MAY, settings=app.settings,
                                              mode="at" if at else mode, at=at)
            counts.append((len(created), len(seen)))
    assert [c for c, _ in counts] == [3, 40]
    assert counts[0][1] == counts[1][1] <= 7  # already-queued check, channels, queues, UPDATE, INSERT, post
    async with app.sessions() as session:  # every channel still has one post per slot
        for channel in (await queue.queue_listing(session, MAY, app.settings)):
            dues = [e.due_at for e in channel.entries]
            assert len(dues) == len(set(dues)) == (4 if channel.name in ("relais-0", "relais-1", "relais-2") else 3)


async def _three_queued_on(size: int, database_url: str, engine: AsyncEngine) -> tuple[App, list[Post]]:
    """``size`` channels (twice a day) and nothing else queued but three posts, on every one of them."""
    app = await _app_with(database_url, engine, _many(size, slots=["09:00", "18:00"]))
    async with app.sessions.begin() as session:
        await session.execute(Publication.__table__.delete())
        posts = [await add_post(session, NewPost(source=f"three-{size}", source_key=str(n), title="#IA"))
                 for n in range(3)]
        for post in posts:
            await queue.enqueue(session, post, MAY, settings=app.settings)
    return app, posts


async def test_catch_up_on_many_channels_reads_and_writes_once(database_url: str, engine: AsyncEngine) -> None:
    counts = {}
    for size in (3, 30):
        app, _ = await _three_queued_on(size, database_url, engine)
        async with app.sessions.begin() as session:
            with statements(engine) as seen:
                report = await queue.catch_up(session, MAY + timedelta(days=2), app.settings)
        assert len(report.moved) == 3 * size  # every post missed its slot by more than the grace
        counts[size] = len(seen)
    assert counts[3] == counts[30] <= 3  # channels (locked), every queue, one UPDATE


async def test_a_publication_held_by_the_session_sees_its_new_due_time(app: App) -> None:
    async with app.sessions.begin() as session:
        first = await add_post(session, NewPost(source="held", source_key="0", title="#IA"))
        await queue.enqueue(session, first, MAY, settings=app.settings)
        held = (await session.scalars(select(Publication).where(Publication.post_id == first.id))).unique().all()
        before = {p.id: p.due_at for p in held}
        urgent = await add_post(session, NewPost(source="held", source_key="1", title="#Urgent"))
        await queue.enqueue(session, urgent, MAY, settings=app.settings, mode="next")
        slotted = [p for p in held if p.channel.name != "direct"]
        assert slotted and all(p.due_at > before[p.id] and p.next_attempt_at == p.due_at for p in slotted)
        stored = dict((await session.execute(select(Publication.id, Publication.due_at)
                                             .where(Publication.post_id == first.id))).all())
        assert {p.id: p.due_at for p in held} == stored


async def test_reschedule_on_many_channels_reads_and_writes_once(database_url: str, engine: AsyncEngine) -> None:
    counts = {}
    for size in (3, 30):
        app, posts = await _three_queued_on(size, database_url, engine)
        async with app.sessions.begin() as session:
            last = await session.get_one(Post, posts[-1].id)
            with statements(engine) as seen:
                moves = await queue.reschedule(session, last, MAY, settings=app.settings, mode="next")
            assert len(moves) == size and {m.new_due_at for m in moves} == {datetime(2026, 5, 4, 7, 0, tzinfo=UTC)}
            first = (await queue.queue_listing(session, MAY, app.settings))[0].entries
            assert [e.post_id for e in first] == [posts[2].id, posts[0].id, posts[1].id]
        counts[size] = len(seen)
    assert counts[3] == counts[30] <= 7  # names, locks, publications (+ their posts' tags), queues, ONE UPDATE, post
