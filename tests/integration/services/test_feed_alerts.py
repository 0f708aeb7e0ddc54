"""Admins told in the chat when a feed has been failing for a day: the streak kept by real polls over
loopback HTTP, one notice per admin per streak, sent by the real python-telegram-bot to the Bot API
emulator (French, or English for an admin known to read English; a blocked admin stops nobody)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from aiohttp import web
from services_support import ADMIN, make_app
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.app import App
from bot.chat.notify import notify_failing_feeds, plain_feed_error
from bot.publish.telegram import TelegramPublisher
from bot.sandbox import TelegramSandbox
from bot.services import access, feeds, readers
from bot.store.models import AuthorRole, FeedSource
from tests.conftest import loopback_http

pytestmark = pytest.mark.filterwarnings("ignore::telegram.warnings.PTBDeprecationWarning")
FEEDS = Path(__file__).parents[2] / "fixtures" / "feeds"
NOW = datetime(2026, 3, 15, 12, tzinfo=UTC)
ENGLISH_ADMIN = 4004


class Blog:
    """A loopback blog whose feed answers 503 while ``down``."""

    def __init__(self) -> None:
        self.down = False
        self.body = (FEEDS / "wordpress_rss20.xml").read_bytes()

    async def feed(self, _: web.Request) -> web.Response:
        if self.down:
            return web.Response(status=503, text="maintenance")
        return web.Response(body=self.body, content_type="application/rss+xml")


@asynccontextmanager
async def blog_app(database_url: str, engine: AsyncEngine) -> AsyncIterator[tuple[App, Blog]]:
    blog, server = Blog(), web.Application()
    server.router.add_get("/feed/", blog.feed)
    async with loopback_http(server) as base:
        feed = {"name": "esante-blog", "url": f"{base}/feed/", "policy": "draft", "interval_minutes": 15}
        yield make_app(database_url, engine, feeds=[feed]), blog


async def source(app: App) -> FeedSource:
    async with app.sessions() as session:
        row = await session.scalar(select(FeedSource).where(FeedSource.name == "esante-blog"))
    assert row is not None
    return row


async def poll(app: App, when: datetime) -> None:
    """Poll the feed at ``when`` (at its next poll time at the latest, so a backed-off feed is due)."""
    async with app.sessions() as session:
        due = await session.scalar(select(FeedSource.next_poll_at).where(FeedSource.name == "esante-blog"))
    assert await feeds.poll_due(app, now=max(when, due or when))


def local(app: App, moment: datetime) -> str:
    return f"{moment.astimezone(app.settings.tz):%Y-%m-%d %H:%M %Z}"


async def fail_until(app: App, blog: Blog, start: datetime, end: datetime) -> None:
    """The feed down from ``start`` to ``end``, polled at its backed-off pace."""
    blog.down, when = True, start
    while when <= end:
        await poll(app, when)
        when = max(when + timedelta(minutes=1), (await source(app)).next_poll_at or when)


async def test_the_streak_starts_at_the_first_failure_and_ends_at_the_next_success(database_url: str,
                                                                                   engine: AsyncEngine) -> None:
    async with blog_app(database_url, engine) as (app, blog):
        await poll(app, NOW)
        assert (await source(app)).failing_since is None
        await fail_until(app, blog, NOW + timedelta(hours=1), NOW + timedelta(hours=5))
        row = await source(app)
        assert row.failures > 1 and row.failing_since == NOW + timedelta(hours=1)  # kept by the later failures
        assert row.last_error is not None and "503" in row.last_error
        blog.down = False
        await poll(app, NOW + timedelta(hours=6))
        row = await source(app)
        assert (row.failures, row.failing_since, row.failure_notified_at) == (0, None, None)


async def test_admins_hear_once_per_day_long_streak(database_url: str, engine: AsyncEngine, sandbox: TelegramSandbox,
                                                    publisher: TelegramPublisher) -> None:
    sandbox.add_user(ADMIN)
    async with blog_app(database_url, engine) as (app, blog):
        bot = publisher.bot
        await poll(app, NOW)
        start = NOW + timedelta(hours=1)
        await fail_until(app, blog, start, start + timedelta(days=2))
        assert await notify_failing_feeds(app, bot, start + timedelta(hours=23, minutes=59)) == 0  # not a day yet
        assert await notify_failing_feeds(app, bot, start + timedelta(days=1)) == 1
        (notice,) = sandbox.messages(ADMIN)
        assert notice.text is not None
        assert f"Le flux «\u00a0esante-blog\u00a0» est en échec depuis le {local(app, start)}" in notice.text
        assert "le site est en panne (erreur du serveur) (HTTP 503 Service Unavailable)" in notice.text
        next_poll = (await source(app)).next_poll_at
        assert next_poll is not None and f"Prochain essai\u00a0: {local(app, next_poll)}." in notice.text
        assert await notify_failing_feeds(app, bot, start + timedelta(days=2)) == 0  # not again this streak
        assert len(sandbox.messages(ADMIN)) == 1

        blog.down = False
        await poll(app, start + timedelta(days=2, hours=1))
        assert (await source(app)).failing_since is None
        again = start + timedelta(days=3)
        await fail_until(app, blog, again, again + timedelta(days=1))
        since = (await source(app)).failing_since
        assert since is not None and since >= again
        assert await notify_failing_feeds(app, bot, since + timedelta(hours=12)) == 0
        assert await notify_failing_feeds(app, bot, since + timedelta(days=1)) == 1  # a new streak, a new notice
        assert len(sandbox.messages(ADMIN)) == 2
        assert f"depuis le {local(app, since)}" in (sandbox.messages(ADMIN)[-1].text or "")


async def test_a_blocked_admin_stops_nobody_and_an_english_admin_reads_english(
        database_url: str, engine: AsyncEngine, sandbox: TelegramSandbox, publisher: TelegramPublisher) -> None:
    sandbox.add_user(ADMIN)
    sandbox.block(ADMIN)  # the configuration's admin blocked the bot: 403
    sandbox.add_user(ENGLISH_ADMIN, "Sam", language_code="en")
    async with blog_app(database_url, engine) as (app, blog):
        await access.grant(app, ENGLISH_ADMIN, AuthorRole.ADMIN, by=ADMIN)  # an admin from the database
        await readers.start(app, ENGLISH_ADMIN, "en")
        await fail_until(app, blog, NOW, NOW + timedelta(hours=2))
        last = NOW + timedelta(days=1, hours=1)
        assert await notify_failing_feeds(app, publisher.bot, last) == 1
        (notice,) = sandbox.messages(ENGLISH_ADMIN)
        assert notice.text is not None and f"The feed “esante-blog” has been failing since {local(app, NOW)}" in notice.text
        assert "the site is down (server error)" in notice.text
        assert sandbox.messages(ADMIN) == []
        assert (await source(app)).failure_notified_at == last  # told: the next sweep does not repeat it
        assert await feeds.failing_feeds_to_tell(app, last + timedelta(hours=1)) == []


async def test_only_configured_feeds_are_told_of(app: App) -> None:
    since = NOW - timedelta(days=2)
    async with app.sessions.begin() as session:
        session.add(FeedSource(name="import-unique", url="https://ailleurs.example/feed", failures=3,
                               failing_since=since, last_error="timed out"))
    assert await feeds.failing_feeds_to_tell(app, NOW) == []  # a one-off import: nobody polls it again


@pytest.mark.parametrize(("error", "words"), [
    ("timed out", "le site n’a pas répondu à temps"),
    ("HTTP 404 Not Found", "l’adresse du flux n’existe plus"),
    ("HTTP 410 Gone", "l’adresse du flux n’existe plus"),
    ("HTTP 403 Forbidden", "le site refuse l’accès"),
    ("HTTP 502 Bad Gateway", "le site est en panne"),
    ("ConnectError: [Errno 111] Connection refused", "le site est injoignable"),
    ("not a feed: no RSS, Atom or WXR document found", "ce que le site renvoie n’est pas un flux lisible"),
])
def test_a_poll_error_reads_as_plain_words_with_the_raw_text_after_it(error: str, words: str) -> None:
    said = plain_feed_error(error, "fr")
    assert said.startswith(words) and said.endswith(f"({error})")
