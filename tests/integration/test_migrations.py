"""Migrations from the first revision to head, with data in every table, on SQLite and PostgreSQL.

The rows go in through plain SQL at the first revision (the schema an old install has), then
the database is upgraded one revision at a time in Alembic's order, whatever revisions exist:
a new migration is covered without touching this file. At every step each row written at the
start must still be there with the same values; at head, columns added since have their
defaults and the ORM reads the rows back. Downgrades are not part of the upgrade procedure
(docs/deploy.md: back up, then upgrade) and are not tested.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from alembic.script import ScriptDirectory
from sqlalchemy import MetaData, inspect, select, text
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.store import db
from bot.store.models import Base, Channel, Delivery, FeedSource, Post, Publication, PublicationState

T0 = datetime(2026, 11, 2, 7, 30, tzinfo=UTC)

# Every table of the first schema, with rows an installation of that version would hold.
ROWS: dict[str, list[dict[str, Any]]] = {
    "tags": [
        {"id": 1, "key": "santementale", "display": "SantéMentale", "created_at": T0},
        {"id": 2, "key": "ia", "display": "IA", "created_at": T0},
    ],
    "posts": [
        {"id": 1, "source": "blog", "source_key": "https://esante.example/therabot/", "url": "https://esante.example/therabot/",
         "title": "#Therabot : un #chatbot #IA qui améliore la #dépression, l’#anxiété…", "author": "Camille",
         "language": "fr", "summary": "Une étude « randomisée » 🧠", "body_html": "<p>Une étude</p>",
         "body_markdown": "Une étude", "image_url": None, "image_alt": None, "content_hash": "a" * 64,
         "status": "published", "created_at": T0, "updated_at": T0, "published_at": T0,
         "published_at_estimated": False, "scheduled_at": None, "deleted_at": None},
        {"id": 2, "source": "blog", "source_key": "https://esante.example/ordonnance/", "url": None,
         "title": "L’ordonnance numérique arrive", "author": None, "language": "fr", "summary": "", "body_html": "",
         "body_markdown": "", "image_url": "https://esante.example/ordonnance.png", "image_alt": "Une ordonnance",
         "content_hash": "b" * 64, "status": "queued", "created_at": T0, "updated_at": T0, "published_at": None,
         "published_at_estimated": True, "scheduled_at": T0, "deleted_at": None},
    ],
    "post_tags": [
        {"post_id": 1, "tag_id": 1, "position": 0},
        {"post_id": 1, "tag_id": 2, "position": 1},
    ],
    "channels": [
        {"id": 1, "name": "telegram-esante", "platform": "telegram", "target": "@sante_numerique", "enabled": True,
         "paused": False, "created_at": T0, "updated_at": T0},
        {"id": 2, "name": "mastodon-esante", "platform": "mastodon", "target": "https://mastodon.example",
         "enabled": True, "paused": True, "created_at": T0, "updated_at": T0},
    ],
    "publications": [
        {"id": 1, "post_id": 1, "channel_id": 1, "state": "sent", "due_at": T0, "attempts": 0, "next_attempt_at": None,
         "claimed_by": None, "claimed_at": None, "remote_id": "42", "remote_url": "https://t.me/sante_numerique/42",
         "last_error": None, "idempotency_key": "pub-1", "content_version": 1, "sent_version": 1, "needs_edit": False,
         "needs_delete": False, "sent_at": T0, "created_at": T0, "updated_at": T0},
        {"id": 2, "post_id": 2, "channel_id": 2, "state": "retry", "due_at": T0, "attempts": 2, "next_attempt_at": T0,
         "claimed_by": None, "claimed_at": None, "remote_id": None, "remote_url": None,
         "last_error": "Mastodon 503 Service Unavailable", "idempotency_key": "pub-2", "content_version": 2,
         "sent_version": None, "needs_edit": False, "needs_delete": False, "sent_at": None, "created_at": T0,
         "updated_at": T0},
    ],
    "subscribers": [
        {"id": 1, "telegram_user_id": 4242, "language": "fr", "notification_mode": "instant", "active": True,
         "created_at": T0},
        {"id": 2, "telegram_user_id": 5_000_000_000, "language": "en", "notification_mode": "digest", "active": False,
         "created_at": T0},
    ],
    "follows": [{"subscriber_id": 1, "tag_id": 1, "created_at": T0}],
    "deliveries": [
        {"id": 1, "post_id": 1, "subscriber_id": 1, "state": "sent", "attempts": 1, "next_attempt_at": None,
         "last_error": None, "created_at": T0, "sent_at": T0},
    ],
    "authors": [{"id": 1, "telegram_user_id": 4242, "role": "admin", "name": "Camille", "created_at": T0}],
    "feed_sources": [
        {"id": 1, "name": "blog", "url": "https://esante.example/feed/", "etag": '"abc"', "last_modified": None,
         "last_seen_at": T0, "last_polled_at": T0, "next_poll_at": T0, "failures": 3, "last_error": "HTTP 503",
         "content_digest": "c" * 64, "created_at": T0},
    ],
}


def revisions_in_order() -> list[str]:
    """Every revision, first to head (Alembic walks head → base)."""
    script = ScriptDirectory.from_config(db.alembic_config())
    return [rev.revision for rev in reversed(list(script.walk_revisions()))]


def plain(value: Any, dialect: str) -> Any:
    # The first schema's own storage: SQLite holds naive UTC text, PostgreSQL timestamptz.
    if isinstance(value, datetime) and dialect == "sqlite":
        return value.astimezone(UTC).replace(tzinfo=None).isoformat(sep=" ", timespec="microseconds")
    return value


async def insert_rows(engine: AsyncEngine) -> None:
    async with engine.begin() as conn:
        for table, rows in ROWS.items():
            columns = list(rows[0])
            statement = text(f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({', '.join(':' + c for c in columns)})")
            for row in rows:
                await conn.execute(statement, {c: plain(v, engine.dialect.name) for c, v in row.items()})
        if engine.dialect.name == "postgresql":  # explicit ids: move the sequences past them
            for table, rows in ROWS.items():
                if "id" in rows[0]:
                    await conn.execute(text(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), {len(rows)})"))


async def read_tables(engine: AsyncEngine) -> dict[str, list[dict[str, Any]]]:
    async with engine.connect() as conn:
        tables = await conn.run_sync(lambda c: inspect(c).get_table_names())
        found = {}
        for table in sorted(set(tables) - {"alembic_version"}):
            keys = ", ".join(ROWS[table][0]) if table in ROWS else "1"
            result = await conn.execute(text(f"SELECT * FROM {table} ORDER BY {keys}"))
            found[table] = [dict(row._mapping) for row in result]
    return found


def assert_survived(before: dict[str, list[dict[str, Any]]], after: dict[str, list[dict[str, Any]]], at: str) -> None:
    for table, rows in before.items():
        assert table in after, f"table {table} is gone at revision {at}"
        kept = [{column: row[column] for column in rows[0]} for row in after[table]]
        assert kept == rows, f"rows of {table} changed at revision {at}"


# Added columns a migration fills from existing rows on purpose (the rest must start empty):
# 0003_readers marks posts already sent as fanned out, so an upgrade notifies no reader of the archive.
BACKFILLED = {("posts", "fanned_out_at")}


def assert_new_columns_have_defaults(before: dict[str, list[dict[str, Any]]], after: dict[str, list[dict[str, Any]]]) -> None:
    metadata: MetaData = Base.metadata
    for table, rows in before.items():
        model = metadata.tables[table]
        for column in set(after[table][0]) - set(rows[0]):
            declared = model.columns[column]
            values = {row[column] for row in after[table]}
            if declared.server_default is not None:
                expected = str(declared.server_default.arg).strip("'")  # type: ignore[attr-defined]
                assert {str(v).lower() for v in values} <= {expected.lower(), "1" if expected == "true" else "0"}, \
                    f"{table}.{column}: {values} is not its default {expected}"
            elif (table, column) in BACKFILLED:
                continue
            elif declared.nullable:
                assert values == {None}, f"{table}.{column}: an added nullable column must start empty"
            else:
                assert None not in values, f"{table}.{column}: added NOT NULL, yet empty"


async def test_every_revision_in_order_keeps_the_rows_of_the_first_schema(empty_engine: AsyncEngine) -> None:
    revisions = revisions_in_order()
    first, head = revisions[0], db.head_revision()
    assert revisions[-1] == head

    await db.upgrade(empty_engine, first)
    async with empty_engine.connect() as conn:
        tables = await conn.run_sync(lambda c: set(inspect(c).get_table_names()) - {"alembic_version"})
    assert tables == set(ROWS), "every table of the first schema gets rows here"
    await insert_rows(empty_engine)
    start = await read_tables(empty_engine)
    assert {table: len(rows) for table, rows in start.items()} == {table: len(rows) for table, rows in ROWS.items()}

    for revision in revisions[1:]:
        previous, after = await db.upgrade(empty_engine, revision)
        assert (previous, after) == (revisions[revisions.index(revision) - 1], revision)
        assert_survived(start, await read_tables(empty_engine), revision)

    at_head = await read_tables(empty_engine)
    assert_new_columns_have_defaults(start, at_head)
    await db.check_schema(empty_engine)  # what every command checks first


async def test_the_orm_reads_an_upgraded_database(empty_engine: AsyncEngine) -> None:
    await db.upgrade(empty_engine, revisions_in_order()[0])
    await insert_rows(empty_engine)
    await db.upgrade(empty_engine)

    sessions = db.session_factory(empty_engine)
    async with sessions() as session:
        publications = (await session.scalars(select(Publication).order_by(Publication.id))).all()
        assert [(p.state, p.channel.name, p.post.title[:9]) for p in publications] == [
            (PublicationState.SENT, "telegram-esante", "#Therabot"),
            (PublicationState.RETRY, "mastodon-esante", "L’ordonna"),
        ]
        assert publications[0].sent_at == T0
        assert (await session.get(FeedSource, 1)).failures == 3  # type: ignore[union-attr]
        post = await session.get(Post, 1)
        assert post is not None and [tag.key for tag in post.tags] == ["santementale", "ia"]
        assert (await session.get(Channel, 2)).paused  # type: ignore[union-attr]
        assert (await session.scalar(select(Delivery.state))) == "sent"

    async with sessions.begin() as session:  # and writes after it: the sequences moved past the old ids
        session.add(Channel(name="autre", platform="telegram", target="@autre"))
    async with sessions() as session:
        assert (await session.scalar(select(Channel.id).where(Channel.name == "autre"))) == 3


@pytest.mark.parametrize("revision", revisions_in_order())
def test_each_revision_names_its_parent(revision: str) -> None:
    """A straight line, no branches: `relais db upgrade` goes to one head."""
    script = ScriptDirectory.from_config(db.alembic_config())
    assert len(script.get_heads()) == 1
    order = revisions_in_order()
    parent = script.get_revision(revision).down_revision
    assert parent == (order[order.index(revision) - 1] if order.index(revision) else None)
