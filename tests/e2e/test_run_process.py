"""`relais run` as a real process: it publishes, and SIGTERM stops it cleanly (exit 0)."""

from __future__ import annotations

import asyncio
import os
import sys

from bot.app import open_app
from tests.conftest import CHANNEL
from tests.e2e.conftest import statuses, terminate
from tests.e2e.test_run import queue_now


async def test_sigterm_finishes_work_and_exits_zero(e2e_config, e2e_settings, engine, database_url, sandbox,
                                                   mastodon) -> None:
    config, secrets = e2e_config
    async with open_app(e2e_settings) as app:
        await queue_now(app, [21, 22])
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot", "--config", str(config), "--database", database_url, "run", "--role", "all",
        env={**os.environ, **secrets}, stderr=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE,
    )
    try:
        for _ in range(300):
            if len(sandbox.messages(CHANNEL)) == 2 and len(statuses(mastodon)) == 2:
                break
            if process.returncode is not None:
                break
            await asyncio.sleep(0.05)
        assert len(sandbox.messages(CHANNEL)) == 2 and len(statuses(mastodon)) == 2
    finally:
        log = await terminate(process)

    assert process.returncode == 0, log
    assert "stopped" in log
    assert sandbox.token not in log and secrets["RELAIS_E2E_MASTODON_TOKEN"] not in log
