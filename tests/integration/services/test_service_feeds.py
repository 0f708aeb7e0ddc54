"""bot.services.feeds on a real database: the feed-options merge, imports with progress, polling over loopback HTTP."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from aiohttp import web
from services_support import make_app, make_settings, publications
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.app import App
from bot.ingest.decide import Policy
from bot.ingest.service import ImportReport
from bot.services import feeds
from bot.store.models import Post, PostStatus
from tests.conftest import loopback_http

FEEDS = Path(__file__).parents[2] / "fixtures" / "feeds"
NOW = datetime(2026, 3, 15, 12, tzinfo=UTC)
BLOG = {"name": "esante-blog", "url": "https://esante.example/feed/", "policy": "draft",
        "interval_minutes": 15, "first_import_max_age_days": 30}


class Recorder:
    def __init__(self) -> None:
        self.events: list[tuple[str, ...]] = []

    def started(self, location: str) -> None:
        self.events.append(("started", Path(location).name))

    def stored(self, location: str, done: int, total: int) -> None:
        self.events.append(("stored", Path(location).name, f"{done}/{total}"))

    def finished(self, location: str, report: ImportReport) -> None:
        self.events.append(("finished", Path(location).name, report.kind))


def test_a_configured_feed_brings_its_options_and_the_caller_overrides_them() -> None:
    settings = make_settings(feeds=[BLOG])
    assert feeds.feed_options(settings, BLOG["url"]) == {
        "name": "esante-blog", "policy": "draft", "max_age_days": 30, "interval": timedelta(minutes=15),
        "scheduled": True}
    assert feeds.feed_options(settings, BLOG["url"], policy=Policy.QUEUE, max_age_days=0) == {
        "name": "esante-blog", "policy": Policy.QUEUE, "max_age_days": 0, "interval": timedelta(minutes=15),
        "scheduled": True}
    assert feeds.feed_options(settings, "https://ailleurs.example/feed") == {}
    assert feeds.feed_options(settings, "autre.xml", max_age_days=3) == {"max_age_days": 3}


async def test_import_reports_progress_and_queues_through_the_enqueue_hook(app: App) -> None:
    recorder = Recorder()
    reports = await feeds.import_sources(app, [str(FEEDS / "atom10.xml"), str(FEEDS / "wxr_export.xml")], now=NOW,
                                         max_age_days=3650, progress=recorder)
    assert [(r.kind, r.added) for r in reports] == [("atom", 2), ("wxr", 2)]
    assert recorder.events == [
        ("started", "atom10.xml"), ("stored", "atom10.xml", "2/2"), ("finished", "atom10.xml", "atom"),
        ("started", "wxr_export.xml"), ("stored", "wxr_export.xml", "2/2"), ("finished", "wxr_export.xml", "wxr"),
    ]
    async with app.sessions() as session:
        queued = (await session.scalars(select(Post).where(Post.status == PostStatus.QUEUED))).all()
    assert len(queued) == 2  # the feed's entries; the WXR export's wait as drafts
    for post in queued:
        assert "esante-telegram" in await publications(app, post.id)


async def test_poll_due_polls_configured_feeds_over_http_and_queues_new_entries(database_url: str,
                                                                                engine: AsyncEngine) -> None:
    body = (FEEDS / "wordpress_rss20.xml").read_bytes()
    server = web.Application()

    async def feed(_: web.Request) -> web.Response:
        return web.Response(body=body, content_type="application/rss+xml")

    server.router.add_get("/feed/", feed)
    async with loopback_http(server) as base:
        app = make_app(database_url, engine, feeds=[{**BLOG, "url": f"{base}/feed/", "policy": "queue"}])
        await app.sync_channels()
        [report] = await feeds.poll_due(app, now=NOW)
        assert (report.source, report.added, report.queued, report.error) == ("esante-blog", 2, 2, None)
        assert await feeds.poll_due(app, now=NOW + timedelta(minutes=5)) == []  # not due yet
    async with app.sessions() as session:
        titles = {title: post_id for title, post_id in await session.execute(select(Post.title, Post.id))}
    therabot, dmp = titles["#Therabot : un #chatbot #IA qui améliore la #dépression, l’#anxiété…"], \
        titles["Le #DMP devient « Mon espace santé » : ce qui change pour vous"]
    assert set(await publications(app, therabot)) == {"esante-telegram", "sante-mentale"}  # tagged Santé mentale
    assert set(await publications(app, dmp)) == {"esante-telegram"}
