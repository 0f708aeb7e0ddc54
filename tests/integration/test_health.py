"""The health server against apps built here: /readyz says 503 and why when the database is
unreachable, the gauges read the database, and each app's metrics are its own."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest
from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from bot.health import serve_health
from bot.metrics import Metrics
from bot.services.status import status
from bot.settings import Settings, load_settings
from bot.store import db
from bot.store.models import FeedSource, Platform, Publication, PublicationState
from tests.e2e.test_run_health import parse, value
from tests.integration.publish.publish_support import make_channel

NOW = datetime(2026, 11, 30, 9, 0, tzinfo=UTC)


@dataclass
class Observed:
    settings: Settings
    engine: AsyncEngine
    sessions: async_sessionmaker[AsyncSession]
    metrics: Metrics


def observed(url: str) -> Observed:
    engine = db.create_engine(url)
    return Observed(load_settings(None, env={}, database_url=url), engine, db.session_factory(engine), Metrics())


async def get(app: Observed, path: str, *, timeout: float = 2.0) -> httpx.Response:
    async with serve_health(app, listen="127.0.0.1", port=0, clock=lambda: NOW, database_timeout=timeout) as base, \
            httpx.AsyncClient(base_url=base) as client:
        return await client.get(path)


@pytest.fixture
async def hanging_server() -> AsyncIterator[int]:
    """A TCP port that accepts connections and never answers (a database host that hangs)."""
    held: list[asyncio.StreamWriter] = []

    async def accept(_reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        held.append(writer)

    server = await asyncio.start_server(accept, "127.0.0.1", 0)
    yield server.sockets[0].getsockname()[1]
    for writer in held:
        writer.close()
    server.close()
    await server.wait_closed()


async def test_readyz_503_when_the_sqlite_file_cannot_be_opened(tmp_path: Path) -> None:
    app = observed(f"sqlite+aiosqlite:///{tmp_path / 'gone' / 'relais.db'}")
    try:
        response = await get(app, "/readyz")
        alive = await get(app, "/healthz")
        metrics = await get(app, "/metrics")
    finally:
        await app.engine.dispose()
    assert response.status_code == 503
    assert response.json()["ready"] is False and "unable to open database file" in response.json()["reason"]
    assert alive.status_code == 200  # liveness is the loop, not the database: restarting would not help
    assert metrics.status_code == 200 and value(parse(metrics.text), "relais_database_up") == 0


async def test_readyz_503_when_postgresql_refuses_and_the_password_stays_hidden() -> None:
    app = observed("postgresql+asyncpg://relais:hunter22@127.0.0.1:1/relais")
    try:
        response = await get(app, "/readyz")
    finally:
        await app.engine.dispose()
    assert response.status_code == 503
    reason = response.json()["reason"]
    assert "127.0.0.1:1" in reason and "hunter22" not in reason


async def test_readyz_503_when_the_database_does_not_answer_in_time(hanging_server: int) -> None:
    app = observed(f"postgresql+asyncpg://relais@127.0.0.1:{hanging_server}/relais")
    try:
        response = await get(app, "/readyz", timeout=0.2)
    finally:
        await app.engine.dispose()
    assert response.status_code == 503
    assert response.json() == {"ready": False, "reason": "database did not answer SELECT 1 within 0.2 s"}


async def queue_three(sessions: async_sessionmaker[AsyncSession], now: datetime = NOW) -> None:
    """One sent on Telegram an hour ago, one retrying on Mastodon due 10 minutes ago, one due tomorrow."""
    from bot.samples import numbered_article
    from bot.store import repository

    async with sessions.begin() as session:
        telegram = await make_channel(session, "telegram", Platform.TELEGRAM, "@sante_numerique")
        mastodon = await make_channel(session, "mastodon")
        posts = [await repository.add_post(session, numbered_article(n)) for n in (1, 2, 3)]
        rows = [
            Publication(post_id=posts[0].id, channel_id=telegram.id, state=PublicationState.SENT, due_at=now,
                        sent_at=now - timedelta(hours=1), idempotency_key="k1"),
            Publication(post_id=posts[1].id, channel_id=mastodon.id, state=PublicationState.RETRY,
                        due_at=now - timedelta(hours=2), next_attempt_at=now - timedelta(minutes=10),
                        idempotency_key="k2", last_error="Mastodon 503"),
            Publication(post_id=posts[2].id, channel_id=telegram.id, due_at=now + timedelta(days=1), idempotency_key="k3"),
        ]
        session.add_all(rows)
        session.add(FeedSource(name="blog", url="https://esante.example/feed/", failures=2, last_error="HTTP 503",
                               next_poll_at=now + timedelta(hours=1)))
    async with sessions.begin() as session:  # the failure's time, as the worker records it
        await session.execute(update(Publication).where(Publication.idempotency_key == "k2")
                              .values(updated_at=now - timedelta(minutes=30)))


async def test_the_snapshot_and_the_gauges_read_the_database(engine: AsyncEngine, sessions, settings) -> None:
    await queue_three(sessions)
    app = Observed(settings, engine, sessions, Metrics())
    snapshot = await status(app, NOW)
    assert snapshot.publications == {("telegram", "sent"): 1, ("telegram", "pending"): 1, ("mastodon", "retry"): 1}
    assert snapshot.queue_depth == {"telegram": 1, "mastodon": 1, "readers": 0}
    assert snapshot.oldest_due_seconds == 600  # the retry time counts, not the original slot
    assert snapshot.platforms["telegram"].last_success == NOW - timedelta(hours=1)
    assert snapshot.platforms["mastodon"].last_failure == NOW - timedelta(minutes=30)
    assert [(f.name, f.failures) for f in snapshot.failing_feeds] == [("blog", 2)]

    samples = parse((await get(app, "/metrics")).text)
    assert value(samples, "relais_oldest_due_seconds") == 600
    assert value(samples, "relais_queue_depth", queue="mastodon") == 1
    assert value(samples, "relais_publications", channel="telegram", state="pending") == 1
    assert value(samples, "relais_last_success_timestamp_seconds", platform="telegram") == (NOW - timedelta(hours=1)).timestamp()
    assert value(samples, "relais_database_up") == 1


def test_two_apps_count_apart() -> None:
    first, second = Metrics(), Metrics()
    first.observe_send("telegram", "esante", 0.2, "sent")
    first.count_feed_error("blog")
    second.count_retry("delivery")
    one, two = parse(first.exposition().decode()), parse(second.exposition().decode())
    assert value(one, "relais_send_seconds_count", platform="telegram", channel="esante", outcome="sent") == 1
    assert value(one, "relais_feed_fetch_errors_total", feed="blog") == 1
    assert value(two, "relais_feed_fetch_errors_total", feed="blog") == 0
    assert value(two, "relais_retries_total", kind="delivery") == 1
    assert value(one, "relais_retries_total", kind="delivery") == 0


def test_a_taken_port_is_a_clear_error(unused_tcp_port: int) -> None:
    async def twice() -> None:
        app = observed("sqlite+aiosqlite://")
        async with serve_health(app, listen="127.0.0.1", port=unused_tcp_port):
            async with serve_health(app, listen="127.0.0.1", port=unused_tcp_port):
                pass

    from bot.errors import ConfigError

    with pytest.raises(ConfigError, match=f"127.0.0.1:{unused_tcp_port}.*RELAIS_HEALTH__PORT"):
        asyncio.run(twice())
