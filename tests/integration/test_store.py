"""Store round trips and migrations, on SQLite and (with RELAIS_TEST_DATABASE_URL) PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import inspect, select
from sqlalchemy.exc import IntegrityError

from bot.errors import NotFound, SchemaBehind
from bot.store import db, repository
from bot.store.models import Base, Channel, Platform, Post, PostStatus, Publication, PublicationState, Tag
from bot.store.repository import NewPost
from bot.store.search import include_name

THERABOT = NewPost(
    source="https://esante.example/feed",
    source_key="https://esante.example/?p=42",
    title="#Therabot : un #chatbot #IA qui améliore la #dépression, l’#anxiété…",
    url="https://esante.example/therabot",
    author="Claire",
    language="fr",
    summary="Une étude « randomisée » montre des effets\u00a0!",
    body_html="<p>Une étude « randomisée » montre des effets\u00a0! 🧠</p>",
    body_markdown="Une étude « randomisée » montre des effets\u00a0! 🧠",
    image_url="https://esante.example/img/therabot.jpg",
    image_alt="Un robot qui écoute",
    tags=("Therabot", "chatbot", "IA", "dépression", "anxiété", "Santé mentale"),
    status=PostStatus.QUEUED,
    published_at=datetime(2025, 3, 30, 7, 15, tzinfo=timezone(timedelta(hours=2))),
)


async def test_empty_database_migrates_to_head_and_has_every_table(empty_engine) -> None:
    before, after = await db.upgrade(empty_engine)
    assert before is None and after == db.head_revision()
    async with empty_engine.connect() as conn:
        tables = set(await conn.run_sync(lambda c: inspect(c).get_table_names()))
    assert set(Base.metadata.tables) <= tables


async def test_upgrade_twice_is_a_no_op(engine) -> None:
    before, after = await db.upgrade(engine)
    assert before == after == db.head_revision()


async def test_migrations_match_the_models(engine) -> None:
    """A model change without a migration is a bug: autogenerate must find nothing to do."""
    async with engine.connect() as conn:
        diff = await conn.run_sync(
            lambda c: compare_metadata(
                MigrationContext.configure(c, opts={"compare_type": False, "include_name": include_name}), Base.metadata)
        )
    assert diff == []


async def test_schema_check_refuses_an_empty_database_and_names_the_fix(empty_engine) -> None:
    with pytest.raises(SchemaBehind, match="relais db upgrade"):
        await db.check_schema(empty_engine)


async def test_schema_check_accepts_head(engine) -> None:
    await db.check_schema(engine)


async def test_post_round_trip_keeps_every_field_and_aware_utc_times(sessions) -> None:
    async with sessions.begin() as session:
        post_id = (await repository.add_post(session, THERABOT)).id
    async with sessions() as session:
        post = await repository.get_post(session, post_id)
        assert post.title == THERABOT.title
        assert post.summary == THERABOT.summary and "\u00a0" in post.summary
        assert post.body_html == THERABOT.body_html
        assert post.image_alt == "Un robot qui écoute"
        assert post.status is PostStatus.QUEUED
        assert post.published_at == datetime(2025, 3, 30, 5, 15, tzinfo=UTC)
        assert post.published_at.tzinfo is not None
        assert post.created_at.tzinfo is not None
        assert [t.display for t in post.tags] == list(THERABOT.tags)
        assert post.content_hash == THERABOT.computed_hash() and len(post.content_hash) == 64


async def test_same_tag_in_five_spellings_is_stored_once_with_first_display(sessions) -> None:
    async with sessions.begin() as session:
        tags = await repository.get_or_create_tags(session, ["Santé", "santé", "SANTÉ", "sante", "Sante\u0301"])
        assert len(tags) == 1
        again = await repository.get_or_create_tags(session, ["SANTE", "e-santé", "esante"])
    async with sessions() as session:
        rows = (await session.scalars(select(Tag).order_by(Tag.key))).all()
        assert [(t.key, t.display) for t in rows] == [("e-sante", "e-santé"), ("esante", "esante"), ("sante", "Santé")]
    assert again[0].id == tags[0].id


async def test_source_and_key_are_unique_together(sessions) -> None:
    async with sessions.begin() as session:
        await repository.add_post(session, THERABOT)
    with pytest.raises(IntegrityError):
        async with sessions.begin() as session:
            await repository.add_post(session, THERABOT)
    async with sessions() as session:
        assert await repository.count_posts(session) == 1


async def test_replacing_tags_keeps_order_and_drops_old_links(sessions) -> None:
    async with sessions.begin() as session:
        post = await repository.add_post(session, THERABOT)
        await repository.set_post_tags(session, post, ["IA", "e-santé", "ia"])
        post_id = post.id
    async with sessions() as session:
        post = await repository.get_post(session, post_id)
        assert [t.display for t in post.tags] == ["IA", "e-santé"]


async def test_deleted_post_is_hidden_but_kept(sessions) -> None:
    async with sessions.begin() as session:
        post_id = (await repository.add_post(session, THERABOT)).id
    async with sessions.begin() as session:
        await repository.delete_post(session, post_id)
    async with sessions() as session:
        with pytest.raises(NotFound):
            await repository.get_post(session, post_id)
        assert await session.get(Post, post_id) is not None
        assert await repository.list_posts(session) == []


async def test_publication_round_trip_and_uniqueness(sessions) -> None:
    async with sessions.begin() as session:
        post = await repository.add_post(session, THERABOT)
        channel = await repository.sync_channel(session, "tg", Platform.TELEGRAM, "@esante_demo", True)
        session.add(Publication(post_id=post.id, channel_id=channel.id, idempotency_key="k1",
                                next_attempt_at=datetime(2026, 1, 1, tzinfo=UTC)))
    async with sessions() as session:
        publication = await session.scalar(select(Publication))
        assert publication.state is PublicationState.PENDING
        assert publication.next_attempt_at == datetime(2026, 1, 1, tzinfo=UTC)
        assert publication.channel.name == "tg"
        assert publication.post.title == THERABOT.title
    with pytest.raises(IntegrityError):
        async with sessions.begin() as session:
            session.add(Publication(post_id=post.id, channel_id=channel.id, idempotency_key="k2"))


async def test_sync_channel_updates_by_name(sessions) -> None:
    async with sessions.begin() as session:
        await repository.sync_channel(session, "tg", Platform.TELEGRAM, "@old_name", True)
    async with sessions.begin() as session:
        await repository.sync_channel(session, "tg", Platform.TELEGRAM, "@new_name", False)
    async with sessions() as session:
        rows = (await session.scalars(select(Channel))).all()
        assert [(c.name, c.target, c.enabled) for c in rows] == [("tg", "@new_name", False)]


async def test_naive_datetimes_are_refused(sessions) -> None:
    with pytest.raises(Exception, match="naive datetime"):
        async with sessions.begin() as session:
            await repository.add_post(session, NewPost(source="s", source_key="k", title="t",
                                                       published_at=datetime(2025, 1, 1)))


async def test_locked_sqlite_database_is_a_clear_error_and_writes_nothing(tmp_path) -> None:
    import sqlite3

    from bot.errors import DatabaseUnavailable

    url = f"sqlite+aiosqlite:///{tmp_path / 'locked.db'}"
    engine = db.create_engine(url, busy_timeout_ms=50)
    await db.upgrade(engine)
    holder = sqlite3.connect(tmp_path / "locked.db")
    holder.execute("BEGIN EXCLUSIVE")
    try:
        with pytest.raises(DatabaseUnavailable, match="database is locked"):
            async with db.connected(engine), db.session_factory(engine).begin() as session:
                await repository.add_post(session, THERABOT)
    finally:
        holder.rollback()
        holder.close()
    async with db.session_factory(engine)() as session:
        assert await repository.count_posts(session) == 0
    await engine.dispose()
