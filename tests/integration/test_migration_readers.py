"""Migration 0003_readers on a database with history: posts already out on a channel count as
fanned out (no notification storm for the archive), the others wait for the sweep."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import TextClause, bindparam, text
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.store import db
from bot.store.types import UTCDateTime

NOW = datetime(2026, 5, 4, 6, 0, tzinfo=UTC)


def sql(statement: str) -> TextClause:
    return text(statement).bindparams(bindparam("now", NOW, type_=UTCDateTime()))


async def test_posts_already_sent_are_marked_fanned_out(empty_engine: AsyncEngine) -> None:
    await db.upgrade(empty_engine, "0001")
    async with empty_engine.begin() as conn:
        for post_id in (1, 2):
            await conn.execute(sql(
                "INSERT INTO posts (id, source, source_key, title, language, summary, body_html, body_markdown, "
                "content_hash, status, created_at, updated_at, published_at_estimated) VALUES "
                f"({post_id}, 's', 'k{post_id}', 'Titre', 'fr', '', '', '', '', 'published', :now, :now, false)"))
        await conn.execute(sql("INSERT INTO channels (id, name, platform, target, enabled, paused, created_at, updated_at) "
                                "VALUES (1, 'c', 'telegram', '@c', true, false, :now, :now)"))
        await conn.execute(sql(
            "INSERT INTO publications (post_id, channel_id, state, attempts, idempotency_key, content_version, "
            "needs_edit, needs_delete, created_at, updated_at, sent_at) VALUES "
            "(1, 1, 'sent', 1, 'k', 1, false, false, :now, :now, :now), "
            "(2, 1, 'pending', 0, 'k2', 1, false, false, :now, :now, NULL)"))
        await conn.execute(sql("INSERT INTO subscribers (id, telegram_user_id, language, notification_mode, active, "
                                "created_at) VALUES (1, 3003, 'fr', 'instant', true, :now)"))
    await db.upgrade(empty_engine)
    async with empty_engine.connect() as conn:
        marks: dict[int, object] = dict((await conn.execute(text("SELECT id, fanned_out_at FROM posts ORDER BY id"))).all())
        reader = (await conn.execute(text("SELECT paused, digest_hour FROM subscribers"))).one()
    assert marks[1] is not None and marks[2] is None
    assert (bool(reader[0]), reader[1]) == (False, None)
