"""Fixtures for tests that talk to the Telegram sandbox with the real python-telegram-bot."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
import telegram
from telegram.request import HTTPXRequest

from bot.cli import main
from bot.publish.telegram import TelegramPublisher
from bot.sandbox import TelegramSandbox
from bot.settings import load_settings


@pytest.fixture
async def bot(sandbox: TelegramSandbox) -> AsyncIterator[telegram.Bot]:
    """A PTB Bot on the sandbox; a short read timeout so injected delays become TimedOut fast."""
    request = HTTPXRequest(connection_pool_size=64, read_timeout=0.3)
    async with telegram.Bot(sandbox.token, base_url=sandbox.base_url, request=request) as client:
        yield client


@pytest.fixture
async def publisher(sandbox: TelegramSandbox) -> AsyncIterator[TelegramPublisher]:
    """The Telegram publisher on the sandbox (reader deliveries go through it)."""
    settings = load_settings(env={"RELAIS_TELEGRAM__TOKEN": sandbox.token,
                                  "RELAIS_TELEGRAM__API_BASE_URL": sandbox.base_url})
    bot = telegram.Bot(sandbox.token, base_url=settings.telegram.api_base_url, request=HTTPXRequest(read_timeout=2))
    async with TelegramPublisher.from_settings(settings, bot=bot) as running:
        yield running


@pytest.fixture
def relais(database_url: str, empty_engine, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture):
    """`relais …` in-process through the real entry point, on the test database."""
    monkeypatch.delenv("RELAIS_CONFIG", raising=False)
    monkeypatch.delenv("RELAIS_DATABASE_URL", raising=False)

    def call(*args: str) -> tuple[int, str, str]:
        code = main(["--database", database_url, *args])
        out, err = capsys.readouterr()
        return code, out, err

    return call
