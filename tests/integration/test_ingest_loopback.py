"""Polling a real HTTP server on loopback: gzip, redirect, ETag and 304, through real httpx."""

from __future__ import annotations

import gzip
from datetime import UTC, datetime, timedelta
from pathlib import Path

from aiohttp import web

from bot.ingest.service import poll
from bot.settings import FeedSettings
from tests.conftest import loopback_http

FEED = (Path(__file__).parents[1] / "fixtures" / "feeds" / "wordpress_rss20.xml").read_bytes()
NOW = datetime(2026, 3, 15, 12, tzinfo=UTC)


async def test_poll_a_real_server(sessions) -> None:
    hits: list[str | None] = []

    async def feed(request: web.Request) -> web.Response:
        hits.append(request.headers.get("If-None-Match"))
        if request.headers.get("If-None-Match") == '"v1"':
            return web.Response(status=304)
        return web.Response(body=gzip.compress(FEED), headers={
            "Content-Type": "application/rss+xml; charset=utf-8", "Content-Encoding": "gzip", "ETag": '"v1"'})

    async def moved(request: web.Request) -> web.Response:
        raise web.HTTPMovedPermanently("/feed/")

    app = web.Application()
    app.router.add_get("/feed/", feed)
    app.router.add_get("/old-feed", moved)
    async with loopback_http(app) as base_url:
        settings = FeedSettings(name="loopback", url=f"{base_url}/old-feed")
        first = await poll(sessions, settings, now=NOW)
        second = await poll(sessions, settings, now=NOW + timedelta(minutes=30))
    assert (first.added, first.error) == (2, None)
    assert second.not_modified and second.added == 0
    assert hits == [None, '"v1"']
