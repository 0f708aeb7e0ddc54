"""Two imports of one feed at once, on two engines (two connections, real concurrency on
SQLite and PostgreSQL): both finish, the store holds each post once (issue 11 item 4)."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

from bot.ingest import service, store
from bot.store import db
from bot.store.models import FeedSource, Post

FEED = Path(__file__).parents[1] / "fixtures" / "feeds" / "wordpress_rss20.xml"
NOW = datetime(2026, 3, 15, 12, tzinfo=UTC)


def _meet_after_first_read(monkeypatch: pytest.MonkeyPatch, parties: int) -> None:
    """Hold every import after its first read of the stored posts until all have read: each
    then believes the posts are new, the interleaving that made one import die before."""
    original: Callable[..., Awaitable[Any]] = store.stored_hashes
    arrived: list[int] = []
    all_read = asyncio.Event()

    async def stored_hashes(*args: Any, **kwargs: Any) -> Any:
        found = await original(*args, **kwargs)
        if not all_read.is_set():
            arrived.append(1)
            if len(arrived) == parties:
                all_read.set()
            await asyncio.wait_for(all_read.wait(), timeout=30)
        return found

    monkeypatch.setattr(store, "stored_hashes", stored_hashes)


async def test_two_concurrent_imports_of_one_feed_both_finish_without_duplicates(
        database_url: str, engine, monkeypatch: pytest.MonkeyPatch) -> None:
    second = db.create_engine(database_url)
    try:
        _meet_after_first_read(monkeypatch, parties=2)
        reports = await asyncio.gather(*(
            service.import_source(db.session_factory(e), str(FEED), now=NOW, policy="queue", max_age_days=100000)
            for e in (engine, second)))
    finally:
        await second.dispose()
    assert [r.error for r in reports] == [None, None]
    assert sorted((r.added, r.unchanged) for r in reports) == [(0, 2), (2, 0)]  # the second saw the first's rows
    async with db.session_factory(engine)() as session:
        assert await session.scalar(select(func.count()).select_from(Post)) == 2
        assert await session.scalar(select(func.count()).select_from(FeedSource)) == 1


async def test_concurrent_first_contact_creates_the_source_once(database_url: str, engine) -> None:
    engines = [engine, db.create_engine(database_url), db.create_engine(database_url)]
    try:
        cursors = await asyncio.gather(*(service._cursor_validators(db.session_factory(e), "carnet", "https://c.example/")
                                         for e in engines))
    finally:
        for extra in engines[1:]:
            await extra.dispose()
    assert cursors == [(None, None, None)] * 3
