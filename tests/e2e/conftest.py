"""End-to-end fixtures: Relais' runtime against the Telegram sandbox and a real Mastodon API mock."""

from __future__ import annotations

import asyncio
import signal
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import httpx
import pytest
from mastodon_mock.testing import MockServer

from bot.app import App, open_app
from bot.samples import two_channel_config
from bot.sandbox import TelegramSandbox
from bot.settings import Settings, load_settings
from tests.conftest import CHANNEL

MASTODON_TOKEN = "alice_token"  # seeded by mastodon_mock for its account "alice"


@pytest.fixture(scope="session")
def mastodon_server() -> Iterator[MockServer]:
    with MockServer() as server:
        yield server


@pytest.fixture
def mastodon(mastodon_server: MockServer) -> MockServer:
    httpx.post(f"{mastodon_server.base_url}/api/v1/_mock/reset").raise_for_status()
    return mastodon_server


@pytest.fixture
def e2e_config(tmp_path: Path, sandbox: TelegramSandbox, mastodon: MockServer) -> tuple[Path, dict[str, str]]:
    """A configuration file for one sandbox channel and one Mastodon account, and its secrets' env."""
    config = tmp_path / "relais.toml"
    config.write_text(two_channel_config(sandbox.base_url, CHANNEL, mastodon.base_url, "RELAIS_E2E_MASTODON_TOKEN",
                                         mastodon_rate_limits=False), encoding="utf-8")
    return config, {"RELAIS_TELEGRAM__TOKEN": sandbox.token, "RELAIS_E2E_MASTODON_TOKEN": MASTODON_TOKEN}


@pytest.fixture
def e2e_settings(e2e_config: tuple[Path, dict[str, str]], database_url: str) -> Settings:
    config, env = e2e_config
    return load_settings(config, env=env, database_url=database_url)


@pytest.fixture
async def relais(e2e_settings: Settings, engine) -> AsyncIterator[App]:
    async with open_app(e2e_settings) as app:
        yield app


def statuses(server: MockServer) -> list[dict]:
    client = server.client("alice")
    return list(client.account_statuses(client.me()["id"], limit=40))


async def terminate(process: asyncio.subprocess.Process, timeout: float = 20) -> str:
    """SIGTERM a `relais run` child, wait for it to exit, return its stderr (killed if it hangs)."""
    try:
        process.send_signal(signal.SIGTERM)
        _, stderr = await asyncio.wait_for(process.communicate(), timeout)
        return stderr.decode()
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()
