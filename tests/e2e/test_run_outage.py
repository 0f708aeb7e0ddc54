"""A platform that is down holds back its own channels only (issue 11 item 2).

The Bot API is pointed at a closed loopback port (nothing listens); mastodon_mock is up.
Later a Telegram sandbox starts on that very port, as the Bot API coming back would.
"""

from __future__ import annotations

import asyncio
import json
import logging
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from bot import runtime
from bot.app import open_app
from bot.cli import main
from bot.errors import PARTIAL_FAILURE
from bot.sandbox import TelegramSandbox
from bot.settings import Settings
from bot.store.models import Platform, Publication, PublicationState
from tests.conftest import CHANNEL
from tests.e2e.conftest import statuses
from tests.e2e.test_run import queue_now

pytestmark = pytest.mark.filterwarnings("ignore::telegram.warnings.PTBDeprecationWarning")


def telegram_at(settings: Settings, port: int) -> Settings:
    telegram = settings.telegram.model_copy(update={"api_base_url": f"http://127.0.0.1:{port}/bot"})
    return settings.model_copy(update={"telegram": telegram})


async def _states(app) -> dict[Platform, set[PublicationState]]:
    async with app.sessions() as session:
        rows = (await session.scalars(select(Publication))).all()
    found: dict[Platform, set[PublicationState]] = {}
    for row in rows:
        found.setdefault(row.channel.platform, set()).add(row.state)
    return found


async def test_run_once_publishes_mastodon_while_telegram_is_down_then_telegram_when_it_is_back(
        e2e_settings, engine, sandbox, mastodon, unused_tcp_port) -> None:
    async with open_app(telegram_at(e2e_settings, unused_tcp_port)) as app:
        await queue_now(app, [31, 32])
        report = await runtime.run_once_now(app, worker_id="cron")
        assert report.worker.sent == 2 and report.worker.dead == 0
        assert report.held_back == ("telegram",) and report.partial
        assert len(statuses(mastodon)) == 2
        assert await _states(app) == {Platform.MASTODON: {PublicationState.SENT},
                                      Platform.TELEGRAM: {PublicationState.PENDING}}  # untouched, no attempt used
        async with TelegramSandbox(port=unused_tcp_port) as back:
            back.add_channel(CHANNEL, "Santé numérique")
            again = await runtime.run_once_now(app, worker_id="cron")
            assert again.worker.sent == 2 and again.held_back == () and not again.partial
            assert len(back.messages(CHANNEL)) == 2
    assert len(statuses(mastodon)) == 2  # nothing sent twice


async def test_the_outage_is_logged_once_and_retried_with_backoff(e2e_settings, unused_tcp_port, caplog) -> None:
    from bot.publish.telegram import TelegramPublisher

    caplog.set_level(logging.DEBUG, logger="bot.runtime")
    settings = telegram_at(e2e_settings, unused_tcp_port)
    publisher = TelegramPublisher.from_settings(settings)
    link = runtime.TelegramLink(publisher, settings, channels=1)
    start = datetime(2026, 3, 30, 7, 0, tzinfo=UTC)
    try:
        assert not await link.connect(start)
        assert link.next_try is not None and start + timedelta(seconds=2.5) <= link.next_try <= start + timedelta(seconds=5)
        tries = link.failures
        for share in (0.1, 0.5, 0.99):  # every sweep before the next try: no request, no log line
            assert not await link.connect(start + (link.next_try - start) * share)
        assert link.failures == tries
        assert not await link.connect(start + timedelta(minutes=1))  # tried again, failed again
        assert link.failures == 2
        warnings = [r for r in caplog.records if r.levelno >= logging.WARNING]
        assert len(warnings) == 1 and f"127.0.0.1:{unused_tcp_port}" in warnings[0].getMessage()
        assert "retrying with backoff" in warnings[0].getMessage()
        async with TelegramSandbox(port=unused_tcp_port):
            assert await link.connect(start + timedelta(hours=1))
        assert "reachable again" in caplog.records[-1].getMessage()
    finally:
        await publisher.stop()


async def test_a_worker_starts_with_telegram_down_and_publishes_mastodon(e2e_settings, engine, mastodon,
                                                                        unused_tcp_port) -> None:
    async with open_app(telegram_at(e2e_settings, unused_tcp_port)) as app:
        await queue_now(app, [41, 42])
        stop = asyncio.Event()
        task = asyncio.create_task(runtime.run_forever(app, role=runtime.Role.WORKER, stop=stop, worker_id="w1"))
        try:
            deadline = asyncio.get_running_loop().time() + 30  # a hang guard, not a speed check
            while len(statuses(mastodon)) < 2:
                assert not task.done(), task.exception()
                assert asyncio.get_running_loop().time() < deadline
                await asyncio.sleep(0.05)
        finally:
            stop.set()
            await asyncio.wait_for(task, 30)
        assert (await _states(app))[Platform.TELEGRAM] == {PublicationState.PENDING}


async def test_cli_run_once_exits_3_when_a_platform_is_held_back_or_a_post_is_given_up(
        e2e_config, e2e_settings, engine, database_url, mastodon, unused_tcp_port, monkeypatch, capsys) -> None:
    config, secrets = e2e_config
    for name, value in secrets.items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("RELAIS_TELEGRAM__API_BASE_URL", f"http://127.0.0.1:{unused_tcp_port}/bot")
    async with open_app(e2e_settings) as app:
        await queue_now(app, [51])
    argv = ["--config", str(config), "--database", database_url, "run", "--once", "--json"]
    code = await asyncio.to_thread(main, argv)
    summary = json.loads(capsys.readouterr().out)
    assert code == PARTIAL_FAILURE == 3
    assert summary["partial"] is True and summary["held_back"] == ["telegram"]
    assert summary["worker"]["sent"] == 1 and len(statuses(mastodon)) == 1
    async with TelegramSandbox(port=unused_tcp_port):  # back, but the channel does not exist: 400, given up
        code = await asyncio.to_thread(main, argv)
    summary = json.loads(capsys.readouterr().out)
    assert code == 3 and summary["held_back"] == [] and summary["worker"]["dead"] == 1
    assert "chat not found" in summary["worker"]["errors"][0]["message"].lower()
    async with TelegramSandbox(port=unused_tcp_port):
        assert await asyncio.to_thread(main, argv) == 0  # nothing left to do: success
