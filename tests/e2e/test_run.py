"""`relais run` end to end: queue → worker → Telegram sandbox and Mastodon mock, edits, deletes."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

from pydantic import SecretStr

from bot import runtime
from bot.samples import numbered_article as article
from bot.store import repository
from tests.conftest import CHANNEL, loopback_http
from tests.e2e.conftest import statuses


async def queue_now(app, numbers) -> list[int]:
    ids = []
    async with app.sessions.begin() as session:
        for number in numbers:
            post = await repository.add_post(session, article(number))
            await app.enqueue(session, post, datetime.now(UTC), mode="now")
            ids.append(post.id)
    return ids


async def test_run_once_publishes_edits_and_deletes_on_both_platforms(relais, sandbox, mastodon) -> None:
    ids = await queue_now(relais, [1, 2, 3])

    report = await runtime.run_once_now(relais, worker_id="e2e")
    assert (report.worker.sent, report.worker.dead, report.worker.retried) == (6, 0, 0)
    messages = sandbox.messages(CHANNEL)
    assert len(messages) == 3
    assert all("Lire la suite" in m.text and m.reply_markup for m in messages)
    assert any(url.startswith("https://t.me/") and "start=follow" in url for _, url in messages[0].url_buttons())
    toots = statuses(mastodon)
    assert len(toots) == 3 and all(t["language"] == "fr" for t in toots)

    again = await runtime.run_once_now(relais, worker_id="e2e")
    assert again.worker.sent == 0
    assert len(sandbox.messages(CHANNEL)) == 3 and len(statuses(mastodon)) == 3

    from bot.publish import outbox

    async with relais.sessions.begin() as session:
        post = await repository.get_post(session, ids[0])
        post.title = "#Therabot n°1 : l’étude corrigée"
        await outbox.request_edits(session, [post.id])
    edited = await runtime.run_once_now(relais, worker_id="e2e")
    assert edited.worker.edited == 2
    assert any("l’étude corrigée" in m.text for m in sandbox.messages(CHANNEL) if m.edited)
    assert any("corrigée" in t["content"] for t in statuses(mastodon))

    async with relais.sessions.begin() as session:
        await repository.delete_post(session, ids[1])
    deleted = await runtime.run_once_now(relais, worker_id="e2e")
    assert deleted.worker.deleted == 2
    assert len(sandbox.messages(CHANNEL, include_deleted=False)) == 2
    assert len(statuses(mastodon)) == 2


async def test_long_running_worker_publishes_what_is_queued_and_stops_cleanly(relais, sandbox, mastodon) -> None:
    stop = asyncio.Event()
    task = asyncio.create_task(runtime.run_forever(relais, role=runtime.Role.WORKER, stop=stop, worker_id="w1"))
    try:
        await queue_now(relais, [10, 11])
        for _ in range(100):
            if len(sandbox.messages(CHANNEL)) == 2 and len(statuses(mastodon)) == 2:
                break
            await asyncio.sleep(0.1)
        assert len(sandbox.messages(CHANNEL)) == 2
        assert len(statuses(mastodon)) == 2
    finally:
        stop.set()
        await asyncio.wait_for(task, 10)


async def test_updates_role_answers_start_in_the_users_language(relais, sandbox) -> None:
    user = sandbox.add_user(4242, "Camille", language_code="fr")
    english = sandbox.add_user(4343, "Sam", language_code="en")
    stop = asyncio.Event()
    task = asyncio.create_task(runtime.run_forever(relais, role=runtime.Role.UPDATES, stop=stop))
    try:
        sandbox.inject_message(user, "/start")
        sandbox.inject_message(english, "/help")
        for _ in range(100):
            if sandbox.messages(4242) and sandbox.messages(4343):
                break
            await asyncio.sleep(0.1)
        assert sandbox.last_message(4242).text.startswith("Bonjour\u00a0!")
        assert sandbox.last_message(4343).text.startswith("Commands:")
    finally:
        stop.set()
        await asyncio.wait_for(task, 10)


async def test_webhook_mode_checks_the_secret_token(e2e_settings, engine, sandbox, unused_tcp_port) -> None:
    import httpx

    from bot.app import open_app

    url = f"http://127.0.0.1:{unused_tcp_port}/telegram-hook"
    telegram = e2e_settings.telegram.model_copy(update={
        "mode": "webhook", "webhook_url": url, "webhook_port": unused_tcp_port,
        "webhook_secret": SecretStr("s3cret-hook-token"),
    })
    settings = e2e_settings.model_copy(update={"telegram": telegram})
    user = sandbox.add_user(4444, "Camille", language_code="fr")
    stop = asyncio.Event()
    async with open_app(settings) as app:
        task = asyncio.create_task(runtime.run_forever(app, role=runtime.Role.UPDATES, stop=stop))
        try:
            for _ in range(100):  # until PTB has registered the webhook
                if sandbox.state.webhook.get("url") == url:
                    break
                await asyncio.sleep(0.05)
            assert sandbox.state.webhook.get("url") == url
            sandbox.inject_message(user, "/start")
            for _ in range(100):
                if sandbox.messages(4444):
                    break
                await asyncio.sleep(0.05)
            assert sandbox.last_message(4444).text.startswith("Bonjour")
            async with httpx.AsyncClient() as client:
                forged = await client.post(url, json={"update_id": 999, "message": {}},
                                           headers={"X-Telegram-Bot-Api-Secret-Token": "wrong"})
            assert forged.status_code == 403
        finally:
            stop.set()
            await asyncio.wait_for(task, 10)


async def test_run_once_takes_a_feed_all_the_way_to_both_platforms(e2e_settings, engine, sandbox, mastodon) -> None:
    """Feed over HTTP → ingest → queue → worker → Telegram and Mastodon, in one `run --once`."""
    import re
    from pathlib import Path

    from aiohttp import web

    from bot.app import open_app
    from bot.settings import FeedSettings
    from tests.integration.publish.publish_support import PNG

    feed_text = (Path(__file__).parents[1] / "fixtures" / "feeds" / "wordpress_rss20.xml").read_text("utf-8")

    async def serve_feed(request: web.Request) -> web.Response:
        # the sample's images live on the blog's CDN; serve them from here (no network in tests)
        local = f"http://{request.host}/img/"
        body = re.sub(r"https://[a-z.]*esante\.example/[^\s\"<>]*?([\w-]+\.(?:jpg|png))", local + r"\1", feed_text)
        return web.Response(text=body, content_type="application/rss+xml")

    async def serve_image(request: web.Request) -> web.Response:
        return web.Response(body=PNG, content_type="image/png")

    server = web.Application()
    server.router.add_get("/feed/", serve_feed)
    server.router.add_get("/img/{name}", serve_image)
    async with loopback_http(server) as base_url:
        feed = FeedSettings(name="esante", url=f"{base_url}/feed/", policy="queue", first_import_max_age_days=100_000)
        settings = e2e_settings.model_copy(update={"feeds": [feed]})
        async with open_app(settings) as app:
            report = await runtime.run_once_now(app, worker_id="cron")
            again = await runtime.run_once_now(app, worker_id="cron")
    (imported,) = report.feeds
    assert imported.added >= 2 and imported.error is None
    assert report.worker.sent == 2 * imported.added and report.worker.dead == 0
    assert len(sandbox.messages(CHANNEL)) == imported.added
    assert len(statuses(mastodon)) == imported.added
    assert any("#Therabot" in m.text for m in sandbox.messages(CHANNEL))
    assert [len(s["media_attachments"]) for s in statuses(mastodon)] == [1, 1], statuses(mastodon)
    assert again.worker.sent == 0 and [r.added for r in again.feeds] in ([], [0])


async def test_a_rejected_token_is_one_clear_error(e2e_settings, engine, sandbox) -> None:
    """An unreachable Bot API only holds Telegram back (test_run_outage.py); a wrong token is fatal."""
    import pytest

    from bot.app import open_app
    from bot.errors import ConfigError

    wrong = e2e_settings.telegram.model_copy(update={"token": SecretStr("999:not-the-sandbox-token")})
    async with open_app(e2e_settings.model_copy(update={"telegram": wrong})) as app:
        with pytest.raises(ConfigError, match="telegram.token: rejected") as caught:
            await runtime.run_once_now(app)
    assert "not-the-sandbox-token" not in str(caught.value)
