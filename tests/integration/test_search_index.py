"""The search index as the store keeps it: built by its migration, fed by every path that writes posts."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from alembic import command
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.domain.search import parse
from bot.ingest.service import import_source
from bot.store import db
from bot.store import search as index

NOW = datetime(2026, 5, 4, 6, 0, tzinfo=UTC)
FEEDS = Path(__file__).parents[1] / "fixtures" / "feeds"


async def found(engine: AsyncEngine, query: str) -> list[int]:
    async with db.session_factory(engine)() as session:
        return list((await index.find(session, parse(query), offset=0, limit=50)).post_ids)


async def test_the_migration_indexes_posts_stored_before_it(empty_engine: AsyncEngine) -> None:
    await db.upgrade(empty_engine, "0002")
    # Plain SQL: the ORM models describe head, not revision 0002.
    async with empty_engine.begin() as conn:
        await conn.execute(text(
            "INSERT INTO posts (source, source_key, title, language, summary, body_html, body_markdown, content_hash, "
            "status, created_at, updated_at, published_at_estimated) VALUES ('manual', 'k1', "
            "'Téléconsultation : l’essor continue', 'fr', '', '', 'Les **médecins** généralistes s’y mettent.', '', "
            "'published', '2026-05-04 06:00:00+00:00', '2026-05-04 06:00:00+00:00', false)"))
        post_id = (await conn.execute(text("SELECT id FROM posts WHERE source_key = 'k1'"))).scalar_one()
        await conn.execute(text("INSERT INTO tags (key, display, created_at) "
                                "VALUES ('telemedecine', 'Télémédecine', '2026-05-04 06:00:00+00:00')"))
        tag_id = (await conn.execute(text("SELECT id FROM tags WHERE key = 'telemedecine'"))).scalar_one()
        await conn.execute(text("INSERT INTO post_tags (post_id, tag_id, position) VALUES (:p, :t, 0)"),
                           {"p": post_id, "t": tag_id})
    await db.upgrade(empty_engine)
    assert await found(empty_engine, "téléconsultation") == [post_id]
    assert await found(empty_engine, "medecins generalistes") == [post_id]
    assert await found(empty_engine, "#télémédecine essor") == [post_id]


async def test_the_migration_goes_down_and_up_again(engine: AsyncEngine) -> None:
    def down_then_up(connection) -> None:  # type: ignore[no-untyped-def]
        cfg = db.alembic_config()
        cfg.attributes["connection"] = connection
        command.downgrade(cfg, "0002")
        connection.execute(text("INSERT INTO posts (source, source_key, title, language, summary, body_html, "
                                "body_markdown, content_hash, status, created_at, updated_at, published_at_estimated) "
                                "VALUES ('manual', 'k', 'Une cohorte nationale', 'fr', '', '', '', '', 'published', "
                                "'2026-05-04 06:00:00+00:00', '2026-05-04 06:00:00+00:00', false)"))
        command.upgrade(cfg, "head")

    async with engine.begin() as conn:
        await conn.run_sync(down_then_up)
    assert len(await found(engine, "cohorte")) == 1


async def test_a_batch_import_is_searchable_at_once(engine: AsyncEngine) -> None:
    report = await import_source(db.session_factory(engine), str(FEEDS / "wordpress_rss20.xml"), now=NOW,
                                 policy="queue")
    assert report.added + report.archived >= 2
    therabot = await found(engine, "#Therabot")
    assert therabot and await found(engine, "chatbot anxiété") == therabot
    assert await found(engine, "dépression") == therabot
    assert await found(engine, '"mon espace santé"')
